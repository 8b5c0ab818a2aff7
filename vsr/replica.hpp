// One VSR replica as a pure state machine (paper "Viewstamped Replication Revisited",
// Liskov & Cowling 2012). Inputs: step(message) and tick(). Outputs: take_output().
// No clock, no IO, no randomness: everything that varies enters through arguments.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <variant>
#include <vector>

#include "vsr/config.hpp"
#include "vsr/message.hpp"
#include "vsr/output.hpp"
#include "vsr/state_machine.hpp"
#include "vsr/telemetry.hpp"

namespace vsr {

/// The highest view a message may name; a message naming a higher one is rejected
/// (RejectReason::view_overflow). Honest clusters move up at most one view per
/// view-change timeout, so they never come near it, and a replica in any view up to it
/// can still count 2^63 views on without wrapping.
inline constexpr ViewNumber max_view{std::uint64_t{1} << 63};

/// Normal status (§4.1). `acked` is used by the primary only: acked[r] is the highest op
/// replica r has durably acknowledged in this view. A backup acknowledges in op order,
/// so acked[r] = k means r holds every op up to k; this is the per-replica, per-view
/// PrepareOk bookkeeping, and it needs nothing per op.
struct NormalStatus {
  std::vector<OpNumber> acked;
  std::uint32_t resend_ticks = 0;  // primary: ticks since the last Prepare resend
};

/// A log fetch in progress (GetEntries / Entries): the entries of a log this replica
/// knows only by its chained checksum `anchor` at op `next`, fetched backwards, one run
/// at a time, each checked against the checksum below it, until this replica's own log
/// has that checksum at `next` (so holds the same ops 1..next), or its log's base lies
/// in the fetched chain with the chain's checksum there (Replica::fetch_done), or `next`
/// is 0. A donor whose log is compacted below the run asked offers its checkpoint
/// instead (a snapshot, accepted only if the chain holds its op with its checksum).
struct LogFetch {
  OpNumber next{};
  std::uint64_t anchor = empty_log_checksum;
  std::vector<std::vector<LogEntry>> runs;  // fetched, highest run first, each in op order
  std::vector<LogEntry> suffix;             // the chosen answer's suffix, above the runs
  ReplicaIndex source{};                    // the replica asked last
  std::uint32_t resend_ticks = 0;           // since the last GetEntries
  std::uint32_t idle_ticks = 0;             // since the last run arrived

  /// The chain's checksum at op `k`, if next ≤ k ≤ the top of the suffix.
  [[nodiscard]] std::optional<std::uint64_t> chain_at(OpNumber k) const;
  /// The fetched entries (ops next+1 ..) followed by the suffix.
  [[nodiscard]] std::vector<LogEntry> entries() const;
};

/// A snapshot being received (GetSnapshot / SnapshotChunk): a donor's checkpoint at op
/// `op`, assembled in offset order, installed only once whole and verified
/// (Replica::try_install_snapshot).
struct SnapshotFetch {
  OpNumber op{};
  std::uint64_t checksum = empty_log_checksum;  // the log's chained checksum at op
  std::uint64_t state_hash = 0;
  std::uint64_t total_bytes = 0;
  Bytes data;  // the chunks received so far: bytes 0 .. data.size()
  ReplicaIndex source{};
  std::uint32_t resend_ticks = 0;  // since the last GetSnapshot or chunk
  std::uint32_t idle_ticks = 0;    // since the last chunk
};

/// View change (§4.2).
struct ViewChangeStatus {
  std::set<ReplicaIndex> start_votes;             // StartViewChange senders, self included
  std::map<ReplicaIndex, DoViewChange> do_votes;  // new primary only
  bool do_view_change_sent = false;
  std::uint32_t ticks = 0;         // since this view change began, or its fetch last progressed
  std::uint32_t resend_ticks = 0;  // since the last resend
  // New primary only, once a quorum of votes chose a log it cannot prove it holds:
  std::optional<DoViewChange> chosen;  // the vote whose log it adopts
  CommitNumber chosen_commit{};        // the highest commit number among the votes
  std::optional<LogFetch> fetch;       // the chosen log's prefix it is fetching
};

/// Recovery after total state loss (§4.3).
struct RecoveringStatus {
  Nonce nonce{};
  std::map<ReplicaIndex, RecoveryResponse> responses;
  std::uint32_t resend_ticks = 0;
  std::optional<RecoveryResponse> chosen;  // the primary's answer it recovers from
  std::optional<LogFetch> fetch;           // the prefix of that answer's log it is fetching
};

/// Waiting for the log of a view this replica joined late (§5.2); the log was cut
/// back to the commit number first, since the suffix cannot be shown to match.
struct StateTransferStatus {
  std::uint32_t ticks = 0;
  std::uint32_t resend_ticks = 0;
};

using Status = std::variant<NormalStatus, ViewChangeStatus, RecoveringStatus, StateTransferStatus>;


class Replica {
 public:
  /// A member of a brand new cluster: view 0, normal status, empty log.
  static Replica fresh(const Config& config, std::unique_ptr<StateMachine> machine);
  /// Restart after a crash, from what the disk holds. Re-executes the log up to the
  /// stored commit number (not reported in `committed`).
  static Replica restart(const Config& config, std::unique_ptr<StateMachine> machine,
                         const PersistedState& disk);
  /// Restart after total state loss: runs the recovery protocol (§4.3) with `nonce`,
  /// which the driver must draw fresh for each recovery.
  static Replica recovering(const Config& config, std::unique_ptr<StateMachine> machine,
                            Nonce nonce);

  /// Handles one message from a peer or a client. A message whose claims no honest
  /// sender makes (see RejectReason: a view past max_view, a new log that drops an
  /// executed op, entry views out of order, inconsistent sizes, an unknown sender, a log
  /// past max_log_bytes) changes nothing and is reported as vsr.protocol.message.rejected.
  /// VR does not tolerate lying peers: a lie it cannot check is outside the fault model.
  /// A message this replica does not handle in its view, status and role (one of an
  /// older view, say, or a Prepare while recovering) is ignored: it changes nothing.
  void step(const Message& message);
  /// Advances this replica's clock by one tick.
  void tick();
  /// Moves out everything produced since the last call.
  Output take_output();
  /// The same, into `into` (cleared first): a driver that passes the same Output
  /// back each time lets both sides reuse their buffers' capacity.
  void take_output(Output& into);

  /// Throws AssertionError when an internal invariant is broken.
  void check_invariants() const;

  [[nodiscard]] const Config& config() const { return config_; }
  [[nodiscard]] ReplicaIndex index() const { return config_.self; }
  [[nodiscard]] ViewNumber view() const { return view_; }
  [[nodiscard]] ViewNumber last_normal_view() const { return last_normal_view_; }
  [[nodiscard]] OpNumber op() const { return OpNumber(log_base_.value + log_.size()); }
  /// Where the log starts: ops 1..log_base() are compacted away (covered by the
  /// checkpoint at checkpoint_op() ≥ log_base()); log() holds ops log_base()+1..op().
  [[nodiscard]] OpNumber log_base() const { return log_base_; }
  [[nodiscard]] CommitNumber commit() const { return commit_; }
  /// The op of the latest checkpoint this replica took or restarted from (0: none).
  [[nodiscard]] OpNumber checkpoint_op() const { return checkpoint_op_; }
  /// That checkpoint's state hash (0: none).
  [[nodiscard]] std::uint64_t checkpoint_state_hash() const { return checkpoint_state_hash_; }
  [[nodiscard]] StatusKind status() const;
  [[nodiscard]] bool is_primary() const { return config_.primary_of(view_) == config_.self; }
  /// Primary of its view and in normal status: the replica acts as primary.
  [[nodiscard]] bool is_acting_primary() const { return is_primary() && is_normal(); }
  /// Ops log_base()+1 .. op().
  [[nodiscard]] const std::vector<LogEntry>& log() const { return log_; }
  /// The sum of encoded_entry_size over the log; never above max_log_bytes.
  [[nodiscard]] std::size_t log_bytes() const { return log_bytes_; }
  /// Precondition: log_base() < op ≤ op().
  [[nodiscard]] const LogEntry& entry(OpNumber op) const;
  /// The chained checksum of op `op` (empty_log_checksum for op 0). Precondition:
  /// log_base() ≤ op ≤ op().
  [[nodiscard]] std::uint64_t checksum_at(OpNumber op) const;
  [[nodiscard]] const std::map<ClientId, ClientSession>& client_table() const {
    return client_table_;
  }
  [[nodiscard]] const StateMachine& machine() const { return *machine_; }
  /// The op of the latest snapshot this replica installed (0: none), for the simulator's
  /// snapshot-matches-donor check.
  [[nodiscard]] OpNumber installed_snapshot_op() const { return installed_snapshot_op_; }
  /// Digest of the replicated state: the state machine plus the client table.
  [[nodiscard]] std::uint64_t state_hash() const;

 private:
  Replica(const Config& config, std::unique_ptr<StateMachine> machine);

  [[nodiscard]] bool is_normal() const { return std::holds_alternative<NormalStatus>(status_); }
  [[nodiscard]] bool is_recovering() const {
    return std::holds_alternative<RecoveringStatus>(status_);
  }
  [[nodiscard]] bool is_transferring() const {
    return std::holds_alternative<StateTransferStatus>(status_);
  }
  /// In normal status in `view`.
  [[nodiscard]] bool is_normal_in(ViewNumber view) const { return view == view_ && is_normal(); }
  [[nodiscard]] OpNumber commit_op() const { return to_op(commit_); }

  // --- claims no honest sender makes (step's contract) ---
  /// The first such claim `m` makes by itself, whatever this replica's state.
  [[nodiscard]] std::optional<RejectReason> check_claims(const Message& m) const;
  /// Whether the entries, appended after the first `keep` ops of the log, keep entry
  /// views non-decreasing and the log within max_log_bytes; the reason if not.
  [[nodiscard]] std::optional<RejectReason> check_append(OpNumber keep,
                                                         std::span<const LogEntry> entries) const;
  void reject(std::optional<ReplicaIndex> sender, RejectReason why);

  // --- messages this replica does not handle (step's contract) ---
  /// Why step ignores a message that makes no false claim.
  enum class IgnoreReason : std::uint8_t {
    older_view,    // its view is older than this replica's
    other_view,    // not this replica's view, for a type that must be
    own_message,   // names this replica as sender, for a type it never sends itself
    wrong_role,    // the sender (or this receiver) lacks the role the type needs
    wrong_status,  // this replica's status does not handle the type
  };
  /// Whether this replica, in its view, status and role, handles `m`; the reason if not.
  /// Pure: the one place for the checks every handler would otherwise repeat.
  [[nodiscard]] std::optional<IgnoreReason> why_ignore(const Message& m) const;
  /// Drops a message step does not handle (counting its probes); it changes nothing else.
  void ignore(const Message& m, IgnoreReason why);

  // --- handlers, one per message type a replica handles (a Reply it never does) ---
  // Each may rely on what step checked first (see step in replica.cpp).
  void on_request(const Request& m);
  void on_prepare(const Prepare& m);
  void on_prepare_ok(const PrepareOk& m);
  void on_commit(const Commit& m);
  void on_start_view_change(const StartViewChange& m);
  void on_do_view_change(const DoViewChange& m);
  void on_start_view(const StartView& m);
  void on_get_state(const GetState& m);
  void on_new_state(const NewState& m);
  void on_recovery(const Recovery& m);
  void on_recovery_response(const RecoveryResponse& m);
  void on_get_entries(const GetEntries& m);
  void on_entries(const Entries& m);
  void on_get_snapshot(const GetSnapshot& m);
  void on_snapshot_chunk(const SnapshotChunk& m);

  // --- ticks, per status ---
  void tick_primary(NormalStatus& s);
  void tick_backup();
  void tick_view_change(ViewChangeStatus& s);
  void tick_state_transfer(StateTransferStatus& s);
  void tick_recovering(RecoveringStatus& s);

  // --- normal operation (§4.1) ---
  void prepare(const Request& m);
  void resend_prepares(const NormalStatus& s);
  void send_heartbeat();
  void acknowledge();
  void advance_commit(CommitNumber target);
  void try_commit_as_primary(NormalStatus& s);
  void execute_committed(bool report);
  void maybe_take_checkpoint();
  void restore_checkpoint(const Checkpoint& cp);
  void execute(OpNumber op, bool report);
  bool try_answer_from_client_table(const Request& m);
  void execute_register(OpNumber op, const LogEntry& e, bool report);
  // --- sessions (Request, Config::max_client_sessions) ---
  [[nodiscard]] bool session_holds(ClientId client, SessionNumber session) const;
  void answer_evicted(const Request& m);
  void open_session(ClientId client, RequestNumber request, SessionNumber session);

  // --- view change (§4.2) ---
  void start_view_change(ViewNumber view);
  void maybe_send_do_view_change(ViewChangeStatus& s);
  void send_do_view_change();
  void try_become_primary(ViewChangeStatus& s);
  void become_primary(ViewChangeStatus& s);
  void finish_view_change(ViewChangeStatus& s);
  /// Drops a vote that claims what no honest replica does, and chooses again.
  void drop_vote(ViewChangeStatus& s, ReplicaIndex voter, RejectReason why);
  void send_start_view(ReplicaIndex to);
  void enter_normal(ViewNumber view);

  // --- repair, state transfer (§5.2), recovery (§4.3) ---
  void ensure_repair_requested();
  void request_repair();
  /// The prefix of the log known to match the current view's log.
  [[nodiscard]] OpNumber matching_prefix() const;
  void join_by_state_transfer(ViewNumber view);
  void finish_recovery(RecoveringStatus& s);
  void complete_recovery(RecoveringStatus& s);
  [[nodiscard]] const RecoveryResponse* response_to_recover_from(const RecoveringStatus& s) const;

  // --- log fetch (GetEntries / Entries) ---
  /// `suffix`: the chosen answer's entries above `next` (kept in the fetch, see LogFetch).
  void start_fetch(std::optional<LogFetch>& fetch, OpNumber next, std::uint64_t anchor,
                   std::span<const LogEntry> suffix, ReplicaIndex source);
  void request_entries(const LogFetch& fetch);
  /// Takes `m` into `fetch` if it is the run that fetch waits for; whether it was.
  bool take_entries(LogFetch& fetch, const Entries& m);
  /// Resends the request, to the next replica in turn, when it has waited long enough.
  void tick_fetch(LogFetch& fetch);
  /// Whether this replica's own log now holds the rest: ops 1..fetch.next as wanted, or
  /// (a compacted log) its base lies in the fetched chain with the chain's checksum.
  [[nodiscard]] bool fetch_done(const LogFetch& fetch) const;
  /// Where this log joins a done fetch's chain (fetch.next, or this log's base above
  /// it), and the chain's entries after that op.
  [[nodiscard]] std::pair<OpNumber, std::vector<LogEntry>> fetched_tail(const LogFetch& fetch) const;

  // --- snapshots (GetSnapshot / SnapshotChunk) ---
  /// Sends chunk `offset` of this replica's checkpoint to `to`.
  void send_snapshot_chunk(ReplicaIndex to, std::uint64_t offset);
  /// Whether this replica, in its status, wants the checkpoint at op `op` whose chain
  /// checksum is `checksum`: it would move it forward and belongs to the log it needs.
  /// `source`: the replica that sent it (a backup takes one only from its primary).
  [[nodiscard]] bool wants_snapshot(OpNumber op, std::uint64_t checksum, ReplicaIndex source) const;
  void request_snapshot_chunk();
  void tick_snapshot();
  /// Installs the assembled snapshot if it is whole and has its state hash; refuses it
  /// (and fetches again) otherwise. Then continues the path that asked for it.
  void try_install_snapshot();
  void install_snapshot(const Checkpoint& cp);
  void after_snapshot_installed();
  void refuse_snapshot(ReplicaIndex source);

  // --- log and persistence ---
  void append(const LogEntry& e);
  void truncate(OpNumber to);
  /// Whether this replica's log has op `k` with chained checksum `checksum` (op 0: the
  /// empty log's), so holds the same ops 1..k as the log that checksum came from (or, at
  /// or above a compacted base, their checkpoint). False below the base: it cannot tell.
  [[nodiscard]] bool matches_at(OpNumber k, std::uint64_t checksum) const {
    return k >= log_base_ && k <= op() && checksum_at(k) == checksum;
  }
  /// Ops from+1 .. to of the log. Precondition: log_base() ≤ from ≤ to ≤ op().
  [[nodiscard]] std::vector<LogEntry> entries_between(OpNumber from, OpNumber to) const;
  /// Where the suffix this replica ships (DoViewChange, StartView, RecoveryResponse)
  /// starts, less one: its last max_pipeline_ops entries, or fewer, to fit a message.
  [[nodiscard]] OpNumber suffix_base() const;
  /// Where a run of at most `max_entries` entries ending at `last` starts, less one, so
  /// that the run fits a message. Precondition: 1 ≤ last ≤ op().
  [[nodiscard]] OpNumber run_base(OpNumber last, std::uint64_t max_entries) const;
  /// How many ops this log shares with the log made of ops 1..base of this one followed
  /// by `entries`. Precondition: base ≤ op().
  [[nodiscard]] OpNumber common_prefix(OpNumber base, std::span<const LogEntry> entries) const;
  /// Whether a log ending at `op` with `suffix` as its last entries cannot hold every
  /// op this replica executed, unchanged, judged from what can be checked without its
  /// prefix (a new view's log must, §4.2; a fetched prefix is checked once it arrives).
  [[nodiscard]] bool surely_drops_executed(OpNumber op, std::span<const LogEntry> suffix) const;
  /// Replaces the log after op `base` with `entries`, writing only from the first
  /// entry that differs. Preconditions: base ≤ op(), the entries continue the chain at
  /// base, check_append(base, entries) passed, and every executed op is kept.
  void replace_suffix(OpNumber base, std::span<const LogEntry> entries);
  /// Compaction: drops the entries up to `to` (≤ the checkpoint just taken).
  void discard_prefix(OpNumber to);
  void persist_state();
  void rebuild_in_flight();

  // --- output helpers ---
  void send(ReplicaIndex to, Message m);
  void send_durable(ReplicaIndex to, Message m);
  void broadcast(const Message& m, bool durable);
  void emit(EventKind kind, std::int32_t peer = -1, std::uint64_t detail = 0);
  /// Records a fact for the drivers (vsr/facts.hpp), beside the event emitted for it.
  void note(const Fact& fact) { out_.facts.push_back(fact); }
  /// Counts one pass over a protocol path (vsr/probe.hpp) into this input's output.
  void hit(Probe p) { ++out_.probes[static_cast<std::size_t>(p)]; }
  void set_status(Status s);
  void start_leadership();
  void stop_leadership();
  /// Reports (event and fact) that a view change to view_ started.
  void report_view_change_started();
  /// Reports (event and fact) that the view change ended, the replica now in view_.
  void report_view_change_completed(std::int32_t peer, std::uint64_t duration_ticks);

  Config config_;
  std::unique_ptr<StateMachine> machine_;
  ViewNumber view_{};
  ViewNumber last_normal_view_{};
  CommitNumber commit_{};
  OpNumber executed_{};
  OpNumber checkpoint_op_{};  // the op of the latest checkpoint taken or restored
  std::uint64_t checkpoint_state_hash_ = 0;  // its state hash
  Bytes checkpoint_blob_;     // that checkpoint's snapshot blob (vsr/snapshot.hpp), for donors
  std::uint64_t checkpoint_checksum_ = empty_log_checksum;  // the log's checksum at its op
  OpNumber log_base_{};       // log_ holds ops log_base_+1 .. op()
  std::uint64_t log_base_checksum_ = empty_log_checksum;  // the chained checksum of op log_base_
  std::vector<LogEntry> log_;
  std::size_t log_bytes_ = 0;  // sum of encoded_entry_size over log_
  std::optional<SnapshotFetch> snapshot_;  // a snapshot being received
  OpNumber installed_snapshot_op_{};
  Status status_;
  std::map<ClientId, ClientSession> client_table_;
  std::map<ClientId, RequestNumber> in_flight_;  // primary: requests prepared, not executed
  std::uint64_t now_ticks_ = 0;
  std::uint32_t idle_ticks_ = 0;     // primary: since it last sent a Prepare or Commit
  std::uint32_t silence_ticks_ = 0;  // backup: since it last heard its primary
  std::uint32_t repair_ticks_ = 0;   // since the last GetState (repair pending if > 0)
  bool repair_pending_ = false;
  CommitNumber last_commit_sent_{};
  std::uint64_t status_since_ticks_ = 0;
  std::uint64_t leadership_since_ticks_ = 0;
  Output out_;
};

}  // namespace vsr
