// Telemetry events the replica and the client put into their output batches.
// Names follow Erlang :telemetry style ("vsr.protocol.prepare.sent"), stable across
// versions: traces and dashboards key on them.
#pragma once

#include <cstdint>
#include <string_view>

#include "vsr/types.hpp"

namespace vsr {

enum class StatusKind : std::uint8_t { normal, view_change, recovering, state_transfer };

std::string_view status_name(StatusKind s);

#define VSR_TELEMETRY_EVENTS(X)                                                         \
  X(client_request_start, "vsr.client.request.start")                                   \
  X(client_request_stop, "vsr.client.request.stop")                                     \
  X(client_request_resend, "vsr.client.request.resend")                                 \
  X(request_received, "vsr.protocol.request.received")                                  \
  X(request_duplicate, "vsr.client_table.duplicate")                                    \
  X(prepare_sent, "vsr.protocol.prepare.sent")                                          \
  X(prepare_received, "vsr.protocol.prepare.received")                                  \
  X(prepare_ok_sent, "vsr.protocol.prepare_ok.sent")                                    \
  X(prepare_ok_received, "vsr.protocol.prepare_ok.received")                            \
  X(commit_sent, "vsr.protocol.commit.sent")                                            \
  X(commit_received, "vsr.protocol.commit.received")                                    \
  X(heartbeat_sent, "vsr.protocol.heartbeat.sent")                                      \
  X(heartbeat_received, "vsr.protocol.heartbeat.received")                              \
  X(log_append, "vsr.log.append")                                                       \
  X(log_truncate, "vsr.log.truncate")                                                   \
  X(quorum_reached, "vsr.protocol.quorum.reached")                                      \
  X(commit_advance, "vsr.commit.advance")                                               \
  X(status_change, "vsr.replica.status.change")                                         \
  X(primary_timeout, "vsr.view_change.primary_timeout")                                 \
  X(view_change_start, "vsr.view_change.start")                                         \
  X(view_change_vote, "vsr.view_change.vote")                                           \
  X(view_change_complete, "vsr.view_change.complete")                                   \
  X(do_view_change_sent, "vsr.view_change.do_view_change.sent")                         \
  X(do_view_change_received, "vsr.view_change.do_view_change.received")                 \
  X(state_transfer_requested, "vsr.state_transfer.requested")                           \
  X(state_transfer_sent, "vsr.state_transfer.sent")                                     \
  X(state_transfer_received, "vsr.state_transfer.received")                             \
  X(recovery_start, "vsr.recovery.start")                                               \
  X(recovery_complete, "vsr.recovery.complete")                                         \
  X(leadership_start, "vsr.leadership.start")                                           \
  X(leadership_stop, "vsr.leadership.stop")                                             \
  X(apply_start, "vsr.state_machine.apply.start")                                       \
  X(apply_stop, "vsr.state_machine.apply.stop")                                         \
  X(restart, "vsr.replica.restart")

enum class EventKind : std::uint8_t {
#define VSR_X(id, name) id,
  VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
};

inline constexpr std::size_t event_kind_count = 0
#define VSR_X(id, name) +1
    VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
    ;

/// The stable dotted name of an event kind.
std::string_view event_name(EventKind k);

/// One telemetry event. Every event carries the emitter's replica, view, status, op
/// and commit numbers at the moment of the event (for client events: the client's
/// believed view; replica = the index it sent to, op/commit = 0).
/// `peer`: the other replica involved, or -1. `detail`: event-specific, documented in
/// docs/TELEMETRY.md (e.g. a span's duration_ticks, an op number, a count).
struct TelemetryEvent {
  EventKind kind{};
  ReplicaIndex replica{};
  ViewNumber view{};
  StatusKind status{};
  OpNumber op{};
  CommitNumber commit{};
  std::int32_t peer = -1;
  std::uint64_t detail = 0;
};

}  // namespace vsr
