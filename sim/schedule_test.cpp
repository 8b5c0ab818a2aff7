#include "sim/schedule.hpp"

#include <doctest/doctest.h>

#include "sim/simulator.hpp"

using namespace vsr::sim;

namespace {
RunOptions recording(std::uint64_t seed, FaultLevel faults) {
  RunOptions o;
  o.seed = seed;
  o.faults = faults;
  o.duration_us = 2'000'000;
  o.record_schedule = true;
  return o;
}
FaultStep at(std::uint64_t at_us, FaultStep f) {
  f.at_us = at_us;
  return f;
}
}  // namespace

TEST_CASE("schedule: replaying a recorded run gives the same trace hash and verdict") {
  std::size_t faults_seen = 0;
  std::size_t ops_seen = 0;
  for (FaultLevel level : {FaultLevel::normal, FaultLevel::harsh}) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      CAPTURE(seed);
      RunResult original = run_simulation(recording(seed, level));
      const Schedule& s = original.schedule;
      faults_seen += s.faults.size();
      ops_seen += s.op_count();
      CHECK(s.params.seed == seed);
      CHECK(s.duration_us == 2'000'000);
      RunOptions replay;
      replay.schedule = &s;
      replay.record_schedule = true;
      RunResult again = run_simulation(replay);
      CHECK(again.trace_hash == original.trace_hash);
      CHECK(again.verdict == original.verdict);
      CHECK(again.schedule == s);  // what the replay did is what was planned
    }
  }
  CHECK(faults_seen > 20);  // the comparison covered faults, not just quiet runs
  CHECK(ops_seen > 1000);
}

TEST_CASE("schedule: recording does not change the run") {
  RunOptions plain = recording(7, FaultLevel::harsh);
  plain.record_schedule = false;
  CHECK(run_simulation(plain).trace_hash == run_simulation(recording(7, FaultLevel::harsh)).trace_hash);
  CHECK(run_simulation(plain).schedule.faults.empty());
}

TEST_CASE("schedule: a replay follows an edited schedule") {
  RunResult original = run_simulation(recording(3, FaultLevel::none));
  Schedule s = original.schedule;
  REQUIRE(s.op_count() > 10);
  for (auto& steps : s.clients) steps.resize(std::min<std::size_t>(steps.size(), 2));
  s.faults.push_back(at(500'000, FaultStep::of(FaultStep::Kind::crash, 1)));
  s.faults.push_back(at(900'000, FaultStep::of(FaultStep::Kind::restart, 1)));
  RunOptions replay;
  replay.schedule = &s;
  replay.record_schedule = true;
  replay.keep_history = true;
  RunResult r = run_simulation(replay);
  CHECK(r.verdict == RunVerdict::passed);
  CHECK(r.history.ops.size() == 2 * s.clients.size());
  CHECK(r.stats.crashes == 1);
  REQUIRE(r.schedule.faults.size() == 2);
  CHECK(r.schedule.faults[0].at_us == 500'000);
  CHECK(r.schedule.faults[1].kind == FaultStep::Kind::restart);
}
