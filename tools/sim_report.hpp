// Metrics and coverage reports of `vsr-sim run` and `vsr-sim sweep` (text and JSON),
// and `vsr-sim compare` of two sweeps' JSON (base vs change).
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulator.hpp"

namespace vsr::sim {

/// Latency percentiles (nearest rank, sim/latency.hpp's precision) in simulated
/// microseconds; zeros when empty.
struct Percentiles {
  std::uint64_t p50 = 0, p90 = 0, p99 = 0, max = 0;
};
Percentiles percentiles(const LatencyHistogram& latencies);

/// One seed's metrics, as `sweep --json` records them and `compare` reads them.
struct SeedMetrics {
  std::uint64_t ops = 0;  // answered (ok or definite fail)
  double ops_per_s = 0;   // answered ops per simulated second of the whole run
  Percentiles latency_us;
  double messages_per_op = 0;  // messages sent per committed op
  double bytes_per_op = 0;     // wire bytes sent per committed op
  std::uint64_t view_changes = 0;
  std::uint64_t repairs = 0;
  std::uint64_t state_transfers = 0;
  std::uint64_t no_primary_us = 0;
  std::uint64_t max_message_bytes = 0;  // the largest message sent, encoded
  std::uint64_t max_log_entries = 0;    // the most log entries a replica held at once
};
SeedMetrics seed_metrics(const RunStats& s);
nlohmann::json to_json(const SeedMetrics& m);

/// The full metrics of one run (vsr-sim run): printed, and as JSON.
void print_metrics(std::ostream& out, const RunStats& s);
nlohmann::json metrics_json(const RunStats& s);

/// What a sweep exercised: probes, message types, faults and telemetry events, summed.
struct Coverage {
  std::uint64_t runs = 0;
  std::array<std::uint64_t, vsr::probe_count> probes{};
  std::array<std::uint64_t, vsr::message_type_count> messages{};
  std::array<std::uint64_t, vsr::event_kind_count> telemetry{};
  std::uint64_t crashes = 0, wipes = 0, partitions = 0, pauses = 0, clogs = 0, drops = 0;
  std::uint64_t storage_torn = 0, storage_corrupted = 0, storage_latent = 0, storage_misdirected = 0, storage_sync_cut = 0;
  std::uint64_t storage_batches_durable = 0, storage_syncs = 0;  // group commit
  LatencyHistogram latency_us;
  std::uint64_t lin_largest_segment = 0;  // ops in the largest segment the streaming check took
  std::uint64_t lin_unknown_runs = 0;     // runs where a bound left some key unchecked
  std::uint64_t ops = 0, simulated_us = 0, messages_sent = 0, bytes_sent = 0, commits = 0;
  std::uint64_t max_message_bytes = 0, max_log_entries = 0;  // maxima over the runs
  std::uint64_t view_changes = 0, view_change_us_total = 0, view_change_us_max = 0;
  std::uint64_t repairs = 0, state_transfers = 0, no_primary_us = 0, no_primary_longest_us = 0;

  void add(const RunStats& s);
  /// Probes no run reached.
  std::vector<std::string> missed_probes() const;
};
void print_coverage(std::ostream& out, const Coverage& c);
nlohmann::json coverage_json(const Coverage& c);

struct CompareOptions {
  /// Compare sweeps whose recorded settings (faults, replicas, clients, duration_us,
  /// liveness_us) differ, with a warning, instead of refusing.
  bool allow_mismatch = false;
};

/// `vsr-sim compare BASE.json HEAD.json`: returns the exit code (0 nothing worse,
/// 1 seeds newly fail, 2 unreadable or unusable input, 3 a metric got significantly worse).
/// Unusable: not JSON (the error gives the byte offset), a seed listed twice in one file,
/// no seed in both files, or settings that differ (unless `allow_mismatch`).
int compare_sweeps(const std::string& base_path, const std::string& head_path, std::ostream& out,
                   std::ostream& err, const CompareOptions& options = {});

}  // namespace vsr::sim
