// Facts: what a replica's input changed that a driver acts on (metrics, crash timing,
// narration, logs), as typed values in the output batch (Output::facts). Telemetry
// (Output::events) reports the same moments for observation only: traces, counters,
// dashboards. A driver never decodes a TelemetryEvent's `detail` to decide something.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "vsr/telemetry.hpp"
#include "vsr/types.hpp"

namespace vsr {

/// A moment in `view`: a fact type of its own for each tag.
template <class Tag>
struct InView {
  ViewNumber view{};
  auto operator<=>(const InView&) const = default;
};

/// The end of a span (docs/TELEMETRY.md, "Spans") that lasted `duration_ticks`; the
/// replica is in `view` when it ends. A fact type of its own for each tag.
template <class Tag>
struct SpanEnded {
  ViewNumber view{};
  std::uint64_t duration_ticks = 0;
  auto operator<=>(const SpanEnded&) const = default;
};

/// The status changed kind (vsr.replica.status.change).
struct StatusChanged {
  StatusKind from{};
  StatusKind to{};
  auto operator<=>(const StatusChanged&) const = default;
};

/// The replica began acting as primary of `view` (vsr.leadership.start).
using LeadershipStarted = InView<struct LeadershipStartedTag>;

/// The replica stopped acting as primary of `view`, which it led for `duration_ticks`
/// (vsr.leadership.stop).
using LeadershipStopped = SpanEnded<struct LeadershipStoppedTag>;

/// The replica started a view change to `view`, or resumed one at restart
/// (vsr.view_change.start).
using ViewChangeStarted = InView<struct ViewChangeStartedTag>;

/// The view change the replica was in ended after `duration_ticks`: it joined `view`,
/// as its primary, from its StartView, or by state transfer (vsr.view_change.complete).
using ViewChangeCompleted = SpanEnded<struct ViewChangeCompletedTag>;

/// The replica sent (or re-sent) its DoViewChange for `view` to `to`, the view's primary
/// (vsr.view_change.do_view_change.sent).
struct DoViewChangeSent {
  ViewNumber view{};
  ReplicaIndex to{};
  auto operator<=>(const DoViewChangeSent&) const = default;
};

/// The replica asked `from`, its view's primary, for the log after `after_op` (a
/// GetState; vsr.state_transfer.requested).
struct StateTransferRequested {
  ReplicaIndex from{};
  OpNumber after_op{};
  auto operator<=>(const StateTransferRequested&) const = default;
};

/// The replica entered state transfer to join `view` late (vsr.state_transfer.start).
using StateTransferStarted = InView<struct StateTransferStartedTag>;

/// The replica took a NewState of `entries` log entries from `from`
/// (vsr.state_transfer.received).
struct StateTransferReceived {
  ReplicaIndex from{};
  std::uint64_t entries = 0;
  auto operator<=>(const StateTransferReceived&) const = default;
};

/// The recovery protocol ended after `duration_ticks`: the replica is normal in `view`
/// (vsr.recovery.complete).
using RecoveryCompleted = SpanEnded<struct RecoveryCompletedTag>;

/// The replica dropped a message that makes a claim no honest sender makes (see
/// Replica::step). `sender`: the replica the message names as its sender (possibly one
/// outside the cluster); none for a client's Request (vsr.protocol.message.rejected).
struct MessageRejected {
  std::optional<ReplicaIndex> sender;
  RejectReason reason{};
  auto operator<=>(const MessageRejected&) const = default;
};

using Fact = std::variant<StatusChanged, LeadershipStarted, LeadershipStopped, ViewChangeStarted,
                          ViewChangeCompleted, DoViewChangeSent, StateTransferRequested,
                          StateTransferStarted, StateTransferReceived, RecoveryCompleted,
                          MessageRejected>;

}  // namespace vsr
