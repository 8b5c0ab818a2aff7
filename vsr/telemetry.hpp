// Telemetry events the replica and the client put into their output batches.
// Names follow Erlang :telemetry style ("vsr.protocol.prepare.sent"), stable across
// versions: traces and dashboards key on them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vsr/json_writer.hpp"
#include "vsr/types.hpp"

namespace vsr {

enum class StatusKind : std::uint8_t { normal, view_change, recovering, state_transfer };

std::string_view status_name(StatusKind s);

// X(id, name, role, detail): `role` is `point` (a single moment), or `start` / `stop`
// of the span named by the name minus its last segment (Erlang :telemetry.span style:
// "vsr.leadership.start" and "vsr.leadership.stop" bracket the span "vsr.leadership");
// `detail` names what TelemetryEvent::detail holds. Every span has exactly one start
// kind and one stop kind, and every stop's detail is `duration_ticks`.
// docs/TELEMETRY.md documents every row; vsr/telemetry_test.cpp checks they agree.
// New kinds go at the end: the simulator's trace hash mixes the enum's values.
#define VSR_TELEMETRY_EVENTS(X)                                                          \
  X(client_request_start, "vsr.client.request.start", start, request)                    \
  X(client_request_stop, "vsr.client.request.stop", stop, duration_ticks)                \
  X(client_request_resend, "vsr.client.request.resend", point, request)                  \
  X(request_received, "vsr.protocol.request.received", point, client)                    \
  X(request_duplicate, "vsr.client_table.duplicate", point, request)                     \
  X(prepare_sent, "vsr.protocol.prepare.sent", point, op)                                \
  X(prepare_received, "vsr.protocol.prepare.received", point, op)                        \
  X(prepare_ok_sent, "vsr.protocol.prepare_ok.sent", point, op)                          \
  X(prepare_ok_received, "vsr.protocol.prepare_ok.received", point, op)                  \
  X(commit_sent, "vsr.protocol.commit.sent", point, commit)                              \
  X(commit_received, "vsr.protocol.commit.received", point, commit)                      \
  X(heartbeat_sent, "vsr.protocol.heartbeat.sent", point, commit)                        \
  X(heartbeat_received, "vsr.protocol.heartbeat.received", point, commit)                \
  X(log_append, "vsr.log.append", point, op)                                             \
  X(log_truncate, "vsr.log.truncate", point, op)                                         \
  X(quorum_reached, "vsr.protocol.quorum.reached", point, op)                            \
  X(commit_advance, "vsr.commit.advance", point, commit)                                 \
  X(status_change, "vsr.replica.status.change", point, status)                           \
  X(primary_timeout, "vsr.view_change.primary_timeout", point, silence_ticks)            \
  X(view_change_start, "vsr.view_change.start", start, view)                             \
  X(view_change_vote, "vsr.view_change.vote", point, view)                               \
  X(view_change_complete, "vsr.view_change.complete", stop, duration_ticks)              \
  X(do_view_change_sent, "vsr.view_change.do_view_change.sent", point, view)             \
  X(do_view_change_received, "vsr.view_change.do_view_change.received", point, view)     \
  X(state_transfer_requested, "vsr.state_transfer.requested", point, op)                 \
  X(state_transfer_sent, "vsr.state_transfer.sent", point, count)                        \
  X(state_transfer_received, "vsr.state_transfer.received", point, count)                \
  X(recovery_start, "vsr.recovery.start", start, nonce)                                  \
  X(recovery_complete, "vsr.recovery.complete", stop, duration_ticks)                    \
  X(leadership_start, "vsr.leadership.start", start, view)                               \
  X(leadership_stop, "vsr.leadership.stop", stop, duration_ticks)                        \
  X(apply_start, "vsr.state_machine.apply.start", start, op)                             \
  X(apply_stop, "vsr.state_machine.apply.stop", stop, duration_ticks)                    \
  X(restart, "vsr.replica.restart", point, op)                                           \
  X(state_transfer_start, "vsr.state_transfer.start", start, view)                       \
  X(state_transfer_stop, "vsr.state_transfer.stop", stop, duration_ticks)               \
  X(message_rejected, "vsr.protocol.message.rejected", point, reason)

enum class EventKind : std::uint8_t {
#define VSR_X(id, name, role, detail) id,
  VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
};

inline constexpr std::size_t event_kind_count = 0
#define VSR_X(id, name, role, detail) +1
    VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
    ;

/// Why a replica rejected a message (the `detail` of vsr.protocol.message.rejected).
/// Each names a claim the replica can check against the message itself or its own
/// state, which an honest peer or client never makes; docs/TELEMETRY.md lists them.
/// X(id, number): numbers are stable (they appear in traces); new reasons go last.
#define VSR_REJECT_REASONS(X)                                                            \
  X(view_overflow, 1)       /* a view above max_view: counting on from it could wrap */ \
  X(drops_executed, 2)      /* a new log lacks or changes an op this replica executed */ \
  X(views_out_of_order, 3)  /* entry views decrease, or exceed the view they belong to */ \
  X(inconsistent, 4)        /* sizes disagree: log length vs op, commit above op */      \
  X(unknown_replica, 5)     /* the sender's index is not in the cluster */             \
  X(log_full, 6)            /* the log would outgrow max_log_bytes (vsr/codec.hpp) */   \
  X(bad_checksum, 7)        /* an entry's chained checksum is not the one that follows its parent */ \
  X(too_large, 8)           /* a request whose entry would not fit Config::max_message_bytes */ \
  X(bad_snapshot, 9)        /* a snapshot chunk whose data fails its checksum, or a whole snapshot that does not decode or has not its state hash */

enum class RejectReason : std::uint8_t {
#define VSR_X(id, number) id = number,
  VSR_REJECT_REASONS(VSR_X)
#undef VSR_X
};

/// The reason's snake_case name ("view_overflow"), or "unknown".
std::string_view reject_reason_name(RejectReason r);

/// The stable dotted name of an event kind.
std::string_view event_name(EventKind k);

/// An event kind's role: "point", "start" or "stop" (see VSR_TELEMETRY_EVENTS).
std::string_view event_role(EventKind k);

/// What an event kind's `detail` holds, e.g. "op", "view", "duration_ticks".
std::string_view event_detail(EventKind k);

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

/// One event as the JSON object the simulator's trace and the Maelstrom node's stderr
/// carry (no newline): {"t_us":..,"ev":"telemetry","name":..,"replica":..,"view":..,
/// "status":..,"op":..,"commit":..,"peer":..,"detail":..}. `t_us` is the driver's clock
/// in microseconds; the field order is fixed (traces are hashed and diffed). Pure.
std::string telemetry_json(const TelemetryEvent& e, std::uint64_t t_us);

/// Calls f(key, value) for each field of `e`, in the order of telemetry_json: the one
/// list of its fields, for every writer and hasher of telemetry events.
template <typename F>
void for_each_field(const TelemetryEvent& e, F&& f) {
  f("name", e.kind);
  f("replica", e.replica);
  f("view", e.view);
  f("status", e.status);
  f("op", e.op);
  f("commit", e.commit);
  f("peer", e.peer);
  f("detail", e.detail);
}

/// JSON fields of telemetry enums are their names (json_writer.hpp, put_json).
inline void put_json(JsonObject& o, std::string_view key, EventKind k) { o.str(key, event_name(k)); }
inline void put_json(JsonObject& o, std::string_view key, StatusKind s) { o.str(key, status_name(s)); }

/// The keys telemetry_json writes after "t_us" and "ev", in order (for the reference test).
inline constexpr std::string_view telemetry_json_fields[] = {
    "name", "replica", "view", "status", "op", "commit", "peer", "detail"};

}  // namespace vsr
