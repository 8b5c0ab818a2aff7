// Shrinking a failing run: delta debugging over its recorded schedule
// (sim/schedule.hpp). Each candidate is replayed; it is kept only while the run still
// fails with the same failure class (verdict and check name).
//
// The passes, repeated until a whole round changes nothing (or the run budget ends):
//   1. cut the fault phase just after the failure, then halve it while it fails;
//   2. fewer replicas (down to 1) and fewer client slots;
//   3. ddmin over the faults, then over the operations;
//   4. a calmer network and disk: no drops, duplicates, long tails, clog stalls or
//      slow disk writes; the shortest delays; no clock drift.
// A candidate that no longer fails under the schedule's seed is also tried under a
// few other seeds (ShrinkOptions::reseeds): the seed draws only what a schedule leaves
// random (message fates, disk latencies, drift, tick phases), and a removal that moves
// the timing hands the critical messages other fates, so the failure often returns
// under fresh ones. The shrunk schedule may therefore carry another seed than the
// original; it names its seed and replays exactly like any schedule.
// Deterministic: no wall clock, and the other seeds are a fixed chain from the
// candidate's, so the same failing seed always shrinks to the same schedule.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/schedule.hpp"
#include "sim/simulator.hpp"

namespace vsr::sim {

/// What makes two failures "the same": the verdict and the failed check's name.
struct FailureClass {
  RunVerdict verdict = RunVerdict::passed;
  std::string check;
  bool operator==(const FailureClass&) const = default;
};

FailureClass failure_class(const RunResult& r);

/// Replays a candidate schedule. The default runs run_simulation.
using ScheduleRunner = std::function<RunResult(const Schedule&)>;

struct ShrinkOptions {
  std::uint32_t max_runs = 5000;  // budget of candidate replays
  /// Other seeds tried for a candidate that no longer fails under its own (0: the
  /// shrunk schedule keeps the original seed). See the file comment.
  std::uint32_t reseeds = 3;
};

struct ShrinkSize {
  std::uint64_t events = 0;  // simulator events of the run
  std::size_t faults = 0;
  std::size_t ops = 0;
  std::uint32_t replicas = 0;
  std::uint32_t clients = 0;
  std::uint64_t duration_us = 0;
};

struct ShrinkResult {
  bool reproduced = false;  // the recorded schedule failed the same way when replayed
  FailureClass target;
  Schedule minimal;
  RunResult minimal_run;
  ShrinkSize before;
  ShrinkSize after;
  std::uint32_t runs = 0;  // candidate replays made
};

ShrinkSize size_of(const Schedule& s, const RunResult& r);

/// Shrinks `recorded` (the schedule of a run that failed with class `target`).
ShrinkResult shrink(const Schedule& recorded, const FailureClass& target, const ScheduleRunner& run,
                    const ShrinkOptions& options = {});

/// A runner over run_simulation with `base`'s checking options (linearizability on or
/// off); the schedule supplies everything else.
ScheduleRunner simulation_runner(const RunOptions& base = {});

}  // namespace vsr::sim
