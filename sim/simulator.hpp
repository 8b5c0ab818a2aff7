// The deterministic simulator: one seed → one whole run of a cluster of real replicas
// and clients under the seed's faults, checked after every event, with a verdict, a
// trace hash, and (optionally) a JSON-lines trace and the client history.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "sim/history.hpp"
#include "sim/latency.hpp"
#include "sim/schedule.hpp"
#include "sim/swarm.hpp"
#include "sim/system.hpp"
#include "vsr/message.hpp"
#include "vsr/probe.hpp"
#include "vsr/telemetry.hpp"

namespace vsr::sim {

struct RunOptions {
  /// The system under test (sim/system.hpp); null runs a replayed schedule's system
  /// (found by name, sim/systems.hpp), else the KV store. Not owned; must outlive the call.
  const System* system = nullptr;
  std::uint64_t seed = 1;
  FaultLevel faults = FaultLevel::normal;
  std::optional<std::uint32_t> replicas;  // override the drawn cluster size
  std::optional<std::uint32_t> clients;   // override the drawn client count
  std::uint64_t duration_us = 10'000'000;   // the fault phase
  std::uint64_t liveness_us = 20'000'000;   // bound on the liveness phase
  std::ostream* trace = nullptr;            // JSON lines, when set
  std::size_t context_lines = 0;            // recent trace lines kept for a failure report
  bool check_linearizability = true;
  /// Keep the whole client history in RunResult::history (`--history`, tests; KV
  /// only). Without it the history is checked as it is recorded (sim/kv_model.hpp) and
  /// forgotten, so a run's memory does not grow with its length.
  bool keep_history = false;
  bool idle = false;  // clients issue nothing (measures an idle cluster)
  /// Tape mode (fuzz_sim; `vsr-sim run --input FILE`): these bytes make every random
  /// choice of the run (swarm, network, faults, workload, clocks, disk, nonces) until
  /// they run out, then the seed's streams take over (prng.hpp, Tape).
  std::optional<std::vector<std::uint8_t>> input;
  /// Replays this schedule (sim/schedule.hpp) instead of drawing the seed's swarm,
  /// faults and workload: `seed`, `faults`, `replicas`, `clients`, `duration_us`,
  /// `liveness_us` and `input` are ignored; `system` must be the schedule's (by name).
  /// Not owned; must outlive the call.
  const Schedule* schedule = nullptr;
  /// Records the run's decisions into RunResult::schedule.
  bool record_schedule = false;
};

/// Exit codes of `vsr-sim`, one per failure class.
enum class RunVerdict : int {
  passed = 0,
  safety = 3,            // a safety invariant broke
  not_linearizable = 4,  // the client history is not linearizable
  liveness = 5,          // the liveness phase did not finish or converge in its bound
  crash = 6,             // an assertion in the protocol fired, or an exception escaped
};

std::string_view to_string(RunVerdict v);

struct RunStats {
  std::uint64_t ops_ok = 0;
  std::uint64_t ops_failed = 0;   // definite failures (Answer::fail: a cas precondition, a missing key)
  std::uint64_t ops_info = 0;     // abandoned by the client: indeterminate
  std::uint64_t final_view = 0;
  std::uint64_t view_changes = 0;  // completed, summed over replicas' telemetry
  std::uint64_t crashes = 0;
  std::uint64_t wipes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t pauses = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t events = 0;
  std::uint64_t simulated_us = 0;
  std::uint64_t final_commit = 0;
  std::uint64_t input_bytes_used = 0;  // tape mode: bytes of the input the run consumed
  std::uint64_t clogs = 0;

  // Metrics and coverage. None of them enters the trace hash.
  LatencyHistogram latency_us;  // invoke -> complete of every answered op
  std::array<std::uint64_t, vsr::message_type_count> messages_by_type{};  // sent, by Message index
  std::uint64_t bytes_sent = 0;             // encoded frame bytes of every message sent
  std::uint64_t max_message_bytes = 0;      // the largest message sent, encoded
  std::uint64_t max_log_entries = 0;        // the most log entries any replica held at once
  std::array<std::uint64_t, vsr::event_kind_count> telemetry{};  // events by EventKind
  std::array<std::uint64_t, vsr::probe_count> probes{};          // probe hits by Probe
  std::uint64_t view_change_us_total = 0;   // completed view changes' durations (ticks x tick_us)
  std::uint64_t view_change_us_max = 0;
  std::uint64_t repairs = 0;                // GetState requests (gap repair and state transfer)
  std::uint64_t state_transfers = 0;        // entries into state-transfer status
  std::uint64_t no_primary_us = 0;          // time with no up, unpaused, normal primary
  std::uint64_t no_primary_windows = 0;
  std::uint64_t no_primary_longest_us = 0;
  // Storage faults that struck (sim/storage_faults.hpp), summed over replicas.
  std::uint64_t storage_torn = 0;         // writes torn at a crash
  std::uint64_t storage_corrupted = 0;    // bit flips at rest
  std::uint64_t storage_latent = 0;       // latent sector errors
  std::uint64_t storage_misdirected = 0;  // journal writes landed elsewhere
  std::uint64_t storage_sync_cut = 0;     // crashes in the middle of a sync
  // Group commit: output batches made durable, and the storage syncs that did it.
  std::uint64_t storage_batches_durable = 0;
  std::uint64_t storage_syncs = 0;
  // The streaming linearizability check (sim/lin_stream.hpp).
  std::uint64_t lin_segments = 0;          // segments checked
  std::uint64_t lin_largest_segment = 0;   // ops in the largest
  std::uint64_t lin_most_carried = 0;      // most configurations handed between segments
  std::string lin_unknown;                 // keys a bound left unchecked, with why ("" if none)
};

struct RunResult {
  RunVerdict verdict = RunVerdict::passed;
  std::string check;   // the failed check's name
  std::string detail;  // what exactly
  std::uint64_t failed_at_us = 0;
  std::vector<std::string> context;  // last trace lines before the failure (if asked)
  SwarmParams params;
  RunStats stats;
  std::uint64_t trace_hash = 0;
  History history;     // with RunOptions::keep_history; else empty
  Schedule schedule;  // with RunOptions::record_schedule: the run's decisions
};

/// The shape of a run driven by an input tape, shared by fuzz_sim and `vsr-sim
/// run|replay --input` (flags override it there): harsh faults (the tape can still
/// draw any rate down to zero), a 1 s fault phase, seed 1 for the fallback streams.
inline constexpr FaultLevel tape_faults = FaultLevel::harsh;
inline constexpr std::uint64_t tape_duration_us = 1'000'000;

/// Runs one seed. Never throws: protocol assertions become RunVerdict::crash.
RunResult run_simulation(const RunOptions& options);

}  // namespace vsr::sim
