// The run's metrics (RunStats in sim/simulator.hpp): what the replicas' output batches
// report (telemetry and probe counts, view-change durations, repairs), the network's
// message counts, and the windows without a primary. Observation only: nothing here
// enters the trace hash or steers the run.
#pragma once

#include <algorithm>
#include <cstdint>

#include "sim/simulator.hpp"
#include "vsr/facts.hpp"
#include "vsr/host.hpp"
#include "vsr/message.hpp"
#include "vsr/output.hpp"
#include "vsr/telemetry.hpp"

namespace vsr::sim {

class Metrics {
 public:
  /// Counts into `stats`, which must outlive this; a replica tick lasts `tick_us`.
  Metrics(RunStats& stats, std::uint64_t tick_us) : stats_(&stats), tick_us_(tick_us) {}

  /// One replica output batch.
  void observe(const Output& out);
  /// A replica restarted: the storage.* probes its recovery hit.
  void observe_restart(const RestartReport& report);
  /// One client telemetry event.
  void observe_client(const TelemetryEvent& e) { ++stats_->telemetry[static_cast<std::size_t>(e.kind)]; }
  void sent(const Message& m);
  /// A replica holds `entries` log entries in memory now.
  void log_held(std::uint64_t entries) { stats_->max_log_entries = std::max(stats_->max_log_entries, entries); }
  void delivered() { ++stats_->messages_delivered; }
  void dropped() { ++stats_->messages_dropped; }

  /// Whether an up, unpaused, normal primary exists at `now_us`: opens or closes a
  /// window without one. With `closing` (the run ended), an open window closes.
  void primary_present(bool present, std::uint64_t now_us);

 private:
  void observe_fact(const Fact& f);

  RunStats* stats_;
  std::uint64_t tick_us_;
  bool primary_present_ = false;
  std::uint64_t no_primary_since_us_ = 0;
};

}  // namespace vsr::sim
