#include "vsr/config.hpp"

#include <fmt/format.h>

#include "vsr/codec.hpp"

namespace vsr {

namespace {

Result<void> check_positive(std::uint32_t value, const char* name) {
  if (value == 0) return Error{fmt::format("config: {} must be at least 1 tick", name)};
  return outcome::success();
}

Result<void> check_timeouts(const Timeouts& t) {
  BOOST_OUTCOME_TRY(check_positive(t.heartbeat_ticks, "heartbeat_ticks"));
  BOOST_OUTCOME_TRY(check_positive(t.primary_silence_ticks, "primary_silence_ticks"));
  BOOST_OUTCOME_TRY(check_positive(t.view_change_timeout_ticks, "view_change_timeout_ticks"));
  BOOST_OUTCOME_TRY(check_positive(t.view_change_resend_ticks, "view_change_resend_ticks"));
  BOOST_OUTCOME_TRY(check_positive(t.repair_resend_ticks, "repair_resend_ticks"));
  BOOST_OUTCOME_TRY(check_positive(t.prepare_resend_ticks, "prepare_resend_ticks"));
  BOOST_OUTCOME_TRY(check_positive(t.recovery_resend_ticks, "recovery_resend_ticks"));
  if (t.primary_silence_ticks <= t.heartbeat_ticks) {
    return Error{fmt::format(
        "config: primary_silence_ticks ({}) must exceed heartbeat_ticks ({}), or backups "
        "would suspect a healthy primary",
        t.primary_silence_ticks, t.heartbeat_ticks)};
  }
  return outcome::success();
}

}  // namespace

Result<Config> Config::make(std::uint32_t replica_count, ReplicaIndex self, Timeouts timeouts) {
  if (replica_count < 1 || replica_count > max_replica_count) {
    return Error{fmt::format("config: replica_count {} is outside 1..{}", replica_count,
                             max_replica_count)};
  }
  if (self.value >= replica_count) {
    return Error{fmt::format("config: self index {} is not below replica_count {}", self,
                             replica_count)};
  }
  BOOST_OUTCOME_TRY(check_timeouts(timeouts));
  Config c;
  c.replica_count = replica_count;
  c.self = self;
  c.timeouts = timeouts;
  BOOST_OUTCOME_TRY(c.validate());
  return c;
}

Result<void> Config::validate() const {
  if (replica_count < 1 || replica_count > max_replica_count || self.value >= replica_count) {
    return Error{fmt::format("config: replica {} of {} is not a member of a valid cluster", self,
                             replica_count)};
  }
  BOOST_OUTCOME_TRY(check_timeouts(timeouts));
  if (max_repair_entries < 1) return Error{"config: max_repair_entries must be at least 1"};
  if (max_pipeline_ops < 1) return Error{"config: max_pipeline_ops must be at least 1"};
  if (journal_ring_slots < 4 || journal_ring_slots > (1u << 20)) {
    return Error{fmt::format("config: journal_ring_slots {} is outside 4..2^20", journal_ring_slots)};
  }
  if (log_retention_ops > (1u << 30)) {
    return Error{fmt::format("config: log_retention_ops {} is above 2^30", log_retention_ops)};
  }
  static_assert(min_message_bytes == 4 * whole_log_overhead_bytes);
  if (max_message_bytes < min_message_bytes || max_message_bytes > max_frame_bytes) {
    return Error{fmt::format("config: max_message_bytes {} is outside {}..{}", max_message_bytes,
                             min_message_bytes, max_frame_bytes)};
  }
  return outcome::success();
}

Timeouts lan_timeouts() {
  Timeouts t;
  t.heartbeat_ticks = 5;
  t.primary_silence_ticks = 30;
  t.view_change_timeout_ticks = 50;
  t.view_change_resend_ticks = 10;
  t.repair_resend_ticks = 10;
  t.prepare_resend_ticks = 10;
  t.recovery_resend_ticks = 20;
  return t;
}

}  // namespace vsr
