// The replica's output batch (etcd's Ready): everything one input produced, for the
// driver (simulator, Maelstrom node, server) to carry out. See Output for the rules.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "vsr/facts.hpp"
#include "vsr/message.hpp"
#include "vsr/probe.hpp"
#include "vsr/telemetry.hpp"

namespace vsr {

/// The replica state that must survive a crash besides the log (paper §4 plus disk:
/// a replica must never return to a lower view, nor forget its last normal view).
/// `commit` is a lower bound of the commit number, kept so a restart re-executes less.
struct DurableState {
  ViewNumber view{};
  ViewNumber last_normal_view{};
  CommitNumber commit{};
  auto operator<=>(const DurableState&) const = default;
};

/// The client table (§4, step 2 and 6): per client, its latest executed request and the
/// reply. Part of the replicated state: rebuilt from the executed log prefix, or taken
/// from a checkpoint.
/// `session` is the session's number (0: an implicit one, Request), `last_op` the op
/// that last executed a request of it: the least recently used session is the one with
/// the lowest (Config::max_client_sessions).
struct ClientSession {
  RequestNumber request{};
  Bytes reply;
  SessionNumber session{};
  OpNumber last_op{};
  auto operator<=>(const ClientSession&) const = default;
};

/// A checkpoint (issue 15; VRR §5 "the state as of some op"): the replicated state
/// (state machine and client table) after executing every op up to `op`, taken every
/// Config::checkpoint_interval_ops executed ops. Every replica that executed op `op`
/// takes the same one (the same ops, applied in order by a deterministic machine).
struct Checkpoint {
  OpNumber op{};
  std::uint64_t checksum = empty_log_checksum;  // the log's chained checksum at `op`
  std::uint64_t state_hash = 0;                 // Replica::state_hash() after `op`
  Bytes machine;                                // StateMachine::snapshot() after `op`
  std::map<ClientId, ClientSession> clients;    // the client table after `op`
  auto operator<=>(const Checkpoint&) const = default;
};

/// Where a compacted log starts: op `op` (its entries are gone, ops 1..op are covered by
/// a checkpoint) and that op's chained checksum, which the next entry chains to.
struct LogBase {
  OpNumber op{};
  std::uint64_t checksum = empty_log_checksum;
  auto operator<=>(const LogBase&) const = default;
};

/// Writes to carry out, in this order: (0) if `reset_log` is set, the stored log
/// becomes empty with that base (a snapshot was installed: its checkpoint is in this
/// batch); (1) if `truncate_to` is set, drop every log entry whose op is greater;
/// (2) append `append`, whose first entry is op `append_first` (always the op right
/// after the stored log's last); (3) if `state` is set, store it; (4) if `checkpoint` is
/// set, store it in place of the stored one (its op is at most the stored log's last,
/// after (0)-(2)); (5) if `discard_to` is set, drop every entry up to its op, which
/// becomes the stored log's base (compaction: its op is at most the checkpoint's, and
/// that checkpoint is stored by (4) of this batch or an earlier one). A batch's writes
/// become durable together or, on a crash, not at all: so a disk never holds a
/// discarded prefix without the checkpoint that covers it.
struct PersistDelta {
  std::optional<LogBase> reset_log;
  std::optional<OpNumber> truncate_to;
  OpNumber append_first{};
  std::vector<LogEntry> append;
  std::optional<DurableState> state;
  std::optional<Checkpoint> checkpoint;
  std::optional<LogBase> discard_to;

  [[nodiscard]] bool empty() const {
    return !reset_log && !truncate_to && append.empty() && !state && !checkpoint && !discard_to;
  }
  /// Records "the log is now empty with base `base`" (a snapshot install), which
  /// supersedes every log write recorded before it in this batch.
  void reset(LogBase base);
  /// Records "drop every entry after `to`", cancelling pending appends beyond it.
  void truncate(OpNumber to);
  /// Records "entry is op `op`". Precondition: op follows the previous append, if any.
  void add(OpNumber op, const LogEntry& entry);
  /// Exchanges contents with `other` field by field (no allocation, no element moved).
  void swap(PersistDelta& other) noexcept;
};

/// What a replica restarted from its disk gets back.
struct PersistedState {
  DurableState state;
  LogBase log_base;           // ops up to log_base.op are compacted away
  std::vector<LogEntry> log;  // log[k] is op log_base.op+k+1
  std::optional<Checkpoint> checkpoint;  // the latest one stored, if any

  bool operator==(const PersistedState&) const = default;
  /// The stored log's last op.
  [[nodiscard]] OpNumber last_op() const { return OpNumber(log_base.op.value + log.size()); }
};

/// Applies a delta to stored state: the reference semantics for every log store.
void apply_delta(PersistedState& stored, const PersistDelta& delta);

/// An operation the replica executed, in op order, with its result.
struct Committed {
  OpNumber op{};
  ClientId client{};
  RequestNumber request{};
  Bytes result;
  Bytes operation;  // the op's operation (its entry may be compacted away by now)
};

/// The output of one input (step or tick). Ordering rules for the driver:
/// - `persist` first; it must become durable before anything in `send_after_persist`
///   leaves. Persists of successive batches complete in batch order.
/// - `send_now` may leave at once, in any order relative to the persist.
/// - `send_after_persist` leaves only once this batch's persist (and all earlier
///   batches' persists) is durable. It holds PrepareOk, StartViewChange, DoViewChange,
///   StartView and similar promises about durable state.
/// - A message whose `to` is the replica itself must be delivered back to it (never
///   dropped by a real driver): that is how a primary counts its own PrepareOk and a
///   new primary its own DoViewChange, both only once durable.
/// - `committed` lists executed operations in op order (state reconstruction at restart
///   is not listed, nor are register requests, which open a session and apply nothing). Replies to clients are already in `send_now` (primary only).
/// - `facts` (vsr/facts.hpp) are what drivers act on, typed, in the order they happened;
///   each has its telemetry event in `events`. Drivers decide from `facts`, never from
///   `events`.
/// - `events` are telemetry, in the order they happened: for observation only (traces,
///   counters), never decoded to decide something.
/// - `probes` count the protocol paths (vsr/probe.hpp) this input took.
struct Output {
  PersistDelta persist;
  std::vector<Outgoing> send_now;
  std::vector<Outgoing> send_after_persist;
  std::vector<Committed> committed;
  std::vector<Fact> facts;
  std::vector<TelemetryEvent> events;
  ProbeCounts probes{};

  [[nodiscard]] bool empty() const {
    return persist.empty() && send_now.empty() && send_after_persist.empty() &&
           committed.empty() && facts.empty() && events.empty();
  }
  /// Empties every field, keeping the vectors' capacity for reuse.
  void clear();
  /// Exchanges contents with `other` field by field: the same result as std::swap,
  /// for a fraction of its cost (no temporary Output is built and destroyed).
  void swap(Output& other) noexcept;
};

}  // namespace vsr
