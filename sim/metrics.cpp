#include "sim/metrics.hpp"

#include <algorithm>
#include <cstring>
#include <variant>

#include "vsr/codec.hpp"

namespace vsr::sim {

namespace {

/// Whether any probe was hit: most batches hit none, and one compare of the whole
/// array with zeros is cheaper than adding (at -O2 as well as -O3).
bool any_hit(const ProbeCounts& probes) {
  static constexpr ProbeCounts none{};
  return std::memcmp(probes.data(), none.data(), sizeof(ProbeCounts)) != 0;
}

}  // namespace

void Metrics::observe(const Output& out) {
  RunStats& st = *stats_;
  if (any_hit(out.probes)) {
    for (std::size_t p = 0; p < vsr::probe_count; ++p) st.probes[p] += out.probes[p];
  }
  for (const TelemetryEvent& e : out.events) ++st.telemetry[static_cast<std::size_t>(e.kind)];
  for (const Fact& f : out.facts) observe_fact(f);
}

void Metrics::observe_restart(const RestartReport& report) {
  ProbeCounts hits{};
  count_storage_probes(report, hits);
  for (std::size_t p = 0; p < vsr::probe_count; ++p) stats_->probes[p] += hits[p];
}

void Metrics::observe_fact(const Fact& f) {
  RunStats& st = *stats_;
  if (const auto* done = std::get_if<ViewChangeCompleted>(&f)) {
    ++st.view_changes;
    std::uint64_t us = done->duration_ticks * tick_us_;
    st.view_change_us_total += us;
    st.view_change_us_max = std::max(st.view_change_us_max, us);
  }
  if (std::holds_alternative<StateTransferRequested>(f)) ++st.repairs;
  if (std::holds_alternative<StateTransferStarted>(f)) ++st.state_transfers;
}

void Metrics::sent(const Message& m) {
  ++stats_->messages_sent;
  ++stats_->messages_by_type[m.index()];
  std::uint64_t bytes = encoded_size(m);
  stats_->bytes_sent += bytes;
  stats_->max_message_bytes = std::max(stats_->max_message_bytes, bytes);
}

void Metrics::primary_present(bool present, std::uint64_t now_us) {
  if (present == primary_present_) return;
  primary_present_ = present;
  if (!present) {
    no_primary_since_us_ = now_us;
    return;
  }
  std::uint64_t window = now_us - no_primary_since_us_;
  if (window == 0) return;
  stats_->no_primary_us += window;
  ++stats_->no_primary_windows;
  stats_->no_primary_longest_us = std::max(stats_->no_primary_longest_us, window);
}

}  // namespace vsr::sim
