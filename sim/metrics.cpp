#include "sim/metrics.hpp"

#include <algorithm>

#include "vsr/codec.hpp"

namespace vsr::sim {

void Metrics::observe(const Output& out) {
  for (std::size_t p = 0; p < vsr::probe_count; ++p) stats_->probes[p] += out.probes[p];
  for (const TelemetryEvent& e : out.events) observe_event(e);
}

void Metrics::observe_event(const TelemetryEvent& e) {
  RunStats& st = *stats_;
  ++st.telemetry[static_cast<std::size_t>(e.kind)];
  if (e.kind == vsr::EventKind::view_change_complete) {
    ++st.view_changes;
    std::uint64_t us = e.detail * tick_us_;
    st.view_change_us_total += us;
    st.view_change_us_max = std::max(st.view_change_us_max, us);
  }
  if (e.kind == vsr::EventKind::state_transfer_requested) ++st.repairs;
  if (e.kind == vsr::EventKind::state_transfer_start) ++st.state_transfers;
}

void Metrics::sent(const Message& m) {
  ++stats_->messages_sent;
  ++stats_->messages_by_type[m.index()];
  stats_->bytes_sent += encoded_size(m);
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
