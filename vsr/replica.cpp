// Paper references (§) are to "Viewstamped Replication Revisited", Liskov & Cowling,
// MIT-CSAIL-TR-2012-021. Deviations from the paper are marked "Deviation:".
#include "vsr/replica.hpp"

#include <algorithm>

#include "vsr/assert.hpp"
#include "vsr/codec.hpp"
#include "vsr/snapshot.hpp"

namespace vsr {

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;  // clang 14 lacks aggregate deduction

std::size_t log_size_bytes(std::span<const LogEntry> log) {
  std::size_t bytes = 0;
  for (const LogEntry& e : log) bytes += encoded_entry_size(e);
  return bytes;
}

/// Entry views never decrease along `log` (append asserts it of every log), and none
/// exceeds `view`, the view the log belongs to.
bool views_in_order(std::span<const LogEntry> log, ViewNumber view) {
  for (std::size_t k = 0; k < log.size(); ++k) {
    if (log[k].view > view || (k > 0 && log[k].view < log[k - 1].view)) return false;
  }
  return true;
}

/// What a log suffix ending at `op` after a parent of checksum `parent` (DoViewChange,
/// StartView, RecoveryResponse) claims by itself.
std::optional<RejectReason> suffix_claim(const std::vector<LogEntry>& log, std::uint64_t parent,
                                         ViewNumber view, OpNumber op, CommitNumber commit) {
  if (log.size() > op.value || commit > to_commit(op)) return RejectReason::inconsistent;
  if (log.size() == op.value && parent != empty_log_checksum) return RejectReason::inconsistent;
  if (!views_in_order(log, view)) return RejectReason::views_out_of_order;
  if (!chain_valid(parent, OpNumber(op.value - log.size() + 1), log)) {
    return RejectReason::bad_checksum;
  }
  return std::nullopt;
}

// The content each message type claims by itself, beyond its view and sender (the
// codec's check_message, again for drivers that step messages without decoding them).
std::optional<RejectReason> content_claim(const auto&) { return std::nullopt; }

std::optional<RejectReason> content_claim(const Prepare& m) {
  if (m.op.value == 0 || m.commit >= to_commit(m.op)) return RejectReason::inconsistent;
  if (m.entry.view > m.view) return RejectReason::views_out_of_order;
  return std::nullopt;
}

std::optional<RejectReason> content_claim(const DoViewChange& m) {
  if (m.last_normal_view > m.view) return RejectReason::views_out_of_order;
  return suffix_claim(m.log, m.parent, m.view, m.op, m.commit);
}

std::optional<RejectReason> content_claim(const StartView& m) {
  return suffix_claim(m.log, m.parent, m.view, m.op, m.commit);
}

std::optional<RejectReason> content_claim(const Entries& m) {
  const std::uint64_t n = m.entries.size();
  if (n == 0 || n > m.last.value || (n == m.last.value && m.parent != empty_log_checksum)) {
    return RejectReason::inconsistent;
  }
  if (!views_in_order(m.entries, max_view)) return RejectReason::views_out_of_order;
  if (!chain_valid(m.parent, OpNumber(m.last.value - n + 1), m.entries)) {
    return RejectReason::bad_checksum;
  }
  return std::nullopt;
}

std::optional<RejectReason> content_claim(const NewState& m) {
  const std::uint64_t n = m.entries.size();
  if (m.first_op.value == 0 || m.commit > to_commit(m.op) ||
      (n > 0 && (n > m.op.value || m.first_op.value - 1 > m.op.value - n))) {
    return RejectReason::inconsistent;
  }
  if (!views_in_order(m.entries, m.view)) return RejectReason::views_out_of_order;
  // The entries chain among themselves; check_append links the first to the receiver's log.
  if (n > 1 && !chain_valid(m.entries[0].checksum, m.first_op.next(), std::span(m.entries).subspan(1))) {
    return RejectReason::bad_checksum;
  }
  return std::nullopt;
}

std::optional<RejectReason> content_claim(const SnapshotChunk& m) {
  if (m.offset > m.total_bytes || m.data.size() > m.total_bytes - m.offset ||
      (m.data.empty() && m.total_bytes > 0)) {
    return RejectReason::inconsistent;
  }
  return std::nullopt;
}

std::optional<RejectReason> content_claim(const RecoveryResponse& m) {
  if (m.has_log) return suffix_claim(m.log, m.parent, m.view, m.op, m.commit);
  if (m.op.value != 0 || m.commit.value != 0 || !m.log.empty() || m.parent != empty_log_checksum) {
    return RejectReason::inconsistent;
  }
  return std::nullopt;
}

template <class M, class... Ts>
inline constexpr bool is_one_of = (std::is_same_v<M, Ts> || ...);

// Who sends each message type, and who handles it (§4, §5): Replica::why_ignore's table.

/// Types that must be of the receiver's own view. The others may come from a newer view,
/// which they make the receiver move to: it joins it (Prepare, Commit, StartView), changes
/// to it (StartViewChange, DoViewChange) or recovers into it (RecoveryResponse).
template <class M>
inline constexpr bool of_receivers_view = is_one_of<M, PrepareOk, GetState, NewState>;

/// Types only the primary of the message's view sends (§4.1, §4.2 step 4, §5.2).
template <class M>
inline constexpr bool sent_by_primary = is_one_of<M, Prepare, Commit, StartView, NewState>;

/// Types a replica never sends itself: one naming the receiver as its sender is ignored.
/// (It sends itself PrepareOk and DoViewChange. It sends itself no Prepare, Commit or
/// StartViewChange either, but one naming it is handled as from any other replica.)
template <class M>
inline constexpr bool never_sent_to_self =
    is_one_of<M, StartView, GetState, NewState, Recovery, RecoveryResponse, GetEntries, Entries,
              GetSnapshot, SnapshotChunk>;

/// Whether a replica in `status`, the primary of its view or not, handles type M.
template <class M>
bool handled_in(StatusKind status, bool primary) {
  using enum StatusKind;
  if constexpr (is_one_of<M, Request, PrepareOk>) {
    return status == normal && primary;  // the primary orders requests, counts acks (§4.1)
  } else if constexpr (is_one_of<M, Reply>) {
    return false;  // replies are for clients
  } else if constexpr (is_one_of<M, GetState, Recovery>) {
    return status == normal;  // only a normal replica answers (§5.2, §4.3)
  } else if constexpr (is_one_of<M, NewState>) {
    return !primary && (status == normal || status == state_transfer);  // repairing, joining
  } else if constexpr (is_one_of<M, RecoveryResponse>) {
    return status == recovering;
  } else if constexpr (is_one_of<M, GetEntries, GetSnapshot>) {
    return status != recovering;  // any replica with the entry answers: the checksum vouches
  } else if constexpr (is_one_of<M, Entries>) {
    return status == view_change || status == recovering;  // a new primary, a recoverer fetch
  } else if constexpr (is_one_of<M, SnapshotChunk>) {
    return !(status == normal && primary);  // any replica may lag; on_snapshot_chunk decides
  } else {
    static_assert(is_one_of<M, Prepare, Commit, StartViewChange, DoViewChange, StartView>);
    return status != recovering;  // §4.3: a recovering replica takes no part in the protocol
  }
}

/// The status alternative `S`, which the caller knows `status` holds.
template <class S>
S& status_as(Status& status) {
  auto* s = std::get_if<S>(&status);
  VSR_ASSERT(s != nullptr, "the replica is not in the status this path requires");
  return *s;
}

}  // namespace

// ---------------------------------------------------------------- construction

Replica::Replica(const Config& config, std::unique_ptr<StateMachine> machine)
    : config_(config), machine_(std::move(machine)), status_(NormalStatus{}) {
  VSR_ASSERT(machine_ != nullptr);
  const auto valid = config_.validate();
  VSR_ASSERT(valid.has_value(), valid.has_error() ? valid.error().message : "");
}

Replica Replica::fresh(const Config& config, std::unique_ptr<StateMachine> machine) {
  Replica r(config, std::move(machine));
  r.status_ = NormalStatus{std::vector<OpNumber>(config.replica_count), 0};
  if (r.is_primary()) r.start_leadership();
  return r;
}

Replica Replica::restart(const Config& config, std::unique_ptr<StateMachine> machine,
                         const PersistedState& disk) {
  Replica r(config, std::move(machine));
  r.view_ = disk.state.view;
  r.last_normal_view_ = disk.state.last_normal_view;
  r.log_base_ = disk.log_base.op;
  r.log_base_checksum_ = disk.log_base.checksum;
  r.log_ = disk.log;
  r.log_bytes_ = log_size_bytes(r.log_);
  r.commit_ = std::min(disk.state.commit, to_commit(r.op()));
  VSR_ASSERT(r.log_base_.value == 0 || disk.checkpoint.has_value(),
             "a compacted stored log has the checkpoint that covers its discarded prefix");
  if (disk.checkpoint) r.restore_checkpoint(*disk.checkpoint);
  r.execute_committed(/*report=*/false);
  r.emit(EventKind::restart, -1, r.op().value);
  if (r.last_normal_view_ == r.view_ && !r.is_primary()) {
    r.enter_normal(r.view_);
  } else if (r.is_primary()) {
    // Deviation (the paper has no disk): a primary restarting from disk must not lead
    // its old view again. Prepares it sent before its crash may live on at backups
    // under op numbers its disk no longer holds; reusing those numbers for new ops
    // would fork the log. It moves to the next view, whose primary picks the log.
    // This holds too when its disk says the view never became normal: it may have led
    // the view (Prepares, NewStates sent) while that write was in flight, and forming
    // the same view a second time could pick a different log.
    r.status_ = ViewChangeStatus{};
    r.hit(Probe::restart_primary_moves_on);
    r.start_view_change(r.view_.next());
  } else {
    // It was changing views when it crashed: resume that view change (its vote for
    // this view is durable, so it may vote again for the same view).
    ViewChangeStatus s;
    s.start_votes.insert(config.self);
    r.set_status(std::move(s));
    r.hit(Probe::restart_resumes_view_change);
    // The crash ended the old view-change span; this one starts afresh (docs/TELEMETRY.md).
    r.report_view_change_started();
    r.broadcast(StartViewChange{r.view_, config.self}, /*durable=*/false);
  }
  return r;
}

/// Resumes from a stored checkpoint instead of re-executing the ops it covers. The
/// checkpoint was stored in the same batch as, or after, every write it depends on (the
/// log up to its op, a commit number at least its op: batches are durable in order).
void Replica::restore_checkpoint(const Checkpoint& cp) {
  VSR_ASSERT(cp.op >= log_base_ && cp.op <= op() && checksum_at(cp.op) == cp.checksum &&
                 cp.op <= commit_op(),
             "a stored checkpoint belongs to the stored log's committed prefix, at or above its base");
  const auto restored = machine_->restore(cp.machine);
  VSR_ASSERT(restored.has_value(), "a stored checkpoint's snapshot restores");
  client_table_ = cp.clients;
  executed_ = cp.op;
  checkpoint_op_ = cp.op;
  checkpoint_state_hash_ = cp.state_hash;
  checkpoint_checksum_ = cp.checksum;
  checkpoint_blob_ = encode_snapshot(cp.machine, cp.clients);
  VSR_ASSERT(state_hash() == cp.state_hash, "a restored checkpoint has its state hash");
  hit(Probe::restart_from_checkpoint);
}

Replica Replica::recovering(const Config& config, std::unique_ptr<StateMachine> machine,
                            Nonce nonce) {
  Replica r(config, std::move(machine));
  r.set_status(RecoveringStatus{nonce, {}, 0, std::nullopt, std::nullopt});
  r.emit(EventKind::recovery_start, -1, nonce.value);
  r.broadcast(Recovery{nonce, config.self}, /*durable=*/false);
  return r;
}

// ---------------------------------------------------------------- inputs

/// Every message passes the same checks, here, once, before its handler (as ScyllaDB's
/// fsm::step checks the term once): its claims (check_claims: one no honest sender makes
/// is rejected), then whether this replica handles it at all in its view and status
/// (why_ignore: if not, it is ignored). So every handler may rely on: the sender, if any,
/// is a replica of the cluster; the message's view is not older than this replica's (and
/// is its view for PrepareOk, GetState and NewState); sender and receiver have the roles
/// the type needs; this replica is in a status that handles the type.
void Replica::step(const Message& message) {
  if (const auto why = check_claims(message)) return reject(claimed_sender(message), *why);
  // Every client request is reported on arrival, handled or not (a backup drops it, §4.1).
  if (const auto* r = std::get_if<Request>(&message)) emit(EventKind::request_received, -1, r->client.value);
  if (const auto why = why_ignore(message)) return ignore(message, *why);
  std::visit(Overloaded{
                 [this](const Request& m) { on_request(m); },
                 [this](const Prepare& m) { on_prepare(m); },
                 [this](const PrepareOk& m) { on_prepare_ok(m); },
                 [](const Reply&) {},  // never reached: why_ignore turns every Reply away
                 [this](const Commit& m) { on_commit(m); },
                 [this](const StartViewChange& m) { on_start_view_change(m); },
                 [this](const DoViewChange& m) { on_do_view_change(m); },
                 [this](const StartView& m) { on_start_view(m); },
                 [this](const GetState& m) { on_get_state(m); },
                 [this](const NewState& m) { on_new_state(m); },
                 [this](const Recovery& m) { on_recovery(m); },
                 [this](const RecoveryResponse& m) { on_recovery_response(m); },
                 [this](const GetEntries& m) { on_get_entries(m); },
                 [this](const Entries& m) { on_entries(m); },
                 [this](const GetSnapshot& m) { on_get_snapshot(m); },
                 [this](const SnapshotChunk& m) { on_snapshot_chunk(m); },
             },
             message);
}

void Replica::tick() {
  ++now_ticks_;
  tick_snapshot();
  std::visit(Overloaded{
                 [this](NormalStatus& s) {
                   if (is_primary()) {
                     tick_primary(s);
                   } else {
                     tick_backup();
                   }
                 },
                 [this](ViewChangeStatus& s) { tick_view_change(s); },
                 [this](StateTransferStatus& s) { tick_state_transfer(s); },
                 [this](RecoveringStatus& s) { tick_recovering(s); },
             },
             status_);
}

Output Replica::take_output() {
  Output o = std::move(out_);
  out_ = Output{};
  return o;
}

void Replica::take_output(Output& into) {
  into.clear();
  into.swap(out_);
}

// ---------------------------------------------------------------- claims no honest sender makes

std::optional<RejectReason> Replica::check_claims(const Message& message) const {
  const std::optional<RejectReason> why = std::visit(
      [this](const auto& m) -> std::optional<RejectReason> {
        if constexpr (requires { m.view; }) {
          if (m.view > max_view) return RejectReason::view_overflow;
        }
        if constexpr (requires { m.replica; }) {
          if (m.replica.value >= config_.replica_count) return RejectReason::unknown_replica;
        }
        return content_claim(m);
      },
      message);
  if (why) return why;
  // No replica sends a message above max_message_bytes (a client's request is judged by
  // its entry, in on_request).
  if (!std::holds_alternative<Request>(message) &&
      encoded_size(message) > config_.max_message_bytes) {
    return RejectReason::too_large;
  }
  return std::nullopt;
}

std::optional<RejectReason> Replica::check_append(OpNumber keep,
                                                  std::span<const LogEntry> entries) const {
  VSR_ASSERT(keep >= log_base_ && keep <= op(), "check_append: keep outside the log");
  std::size_t bytes = log_bytes_;
  for (OpNumber k = keep.next(); k <= op(); k = k.next()) bytes -= encoded_entry_size(entry(k));
  // At the base the entry is compacted away: its view is not known, the checksum chain
  // still ties the entries to it.
  ViewNumber last = keep == log_base_ ? ViewNumber{} : entry(keep).view;
  std::uint64_t parent = checksum_at(keep);
  OpNumber k = keep;
  for (const LogEntry& e : entries) {
    if (e.view < last) return RejectReason::views_out_of_order;
    last = e.view;
    k = k.next();
    parent = entry_checksum(k, e, parent);
    if (e.checksum != parent) return RejectReason::bad_checksum;
    bytes += encoded_entry_size(e);
    if (bytes > max_log_bytes) return RejectReason::log_full;
  }
  return std::nullopt;
}

/// Drops a message that makes a claim no honest sender makes, and reports it (event and
/// fact). `sender`: the replica the message names; none for a client. The message
/// changes nothing else.
void Replica::reject(std::optional<ReplicaIndex> sender, RejectReason why) {
  emit(EventKind::message_rejected, sender ? sender->value : -1, static_cast<std::uint64_t>(why));
  note(MessageRejected{sender, why});
}

// ---------------------------------------------------------------- messages this replica does not handle

std::optional<Replica::IgnoreReason> Replica::why_ignore(const Message& message) const {
  return std::visit(
      [this](const auto& m) -> std::optional<IgnoreReason> {
        using M = std::decay_t<decltype(m)>;
        if constexpr (requires { m.view; }) {
          if (m.view < view_) return IgnoreReason::older_view;  // that view is over here (§4.2)
          if (of_receivers_view<M> && m.view != view_) return IgnoreReason::other_view;
        }
        if constexpr (never_sent_to_self<M>) {
          if (m.replica == config_.self) return IgnoreReason::own_message;
        }
        if constexpr (sent_by_primary<M>) {
          if (m.replica != config_.primary_of(m.view)) return IgnoreReason::wrong_role;
        }
        if constexpr (std::is_same_v<M, DoViewChange>) {  // it goes to the new view's primary
          if (config_.primary_of(m.view) != config_.self) return IgnoreReason::wrong_role;
        }
        if (!handled_in<M>(status(), is_primary())) return IgnoreReason::wrong_status;
        return std::nullopt;
      },
      message);
}

/// Counts the protocol paths (probes) of an ignored message; it changes nothing else.
void Replica::ignore(const Message& m, IgnoreReason why) {
  const bool from_primary = std::holds_alternative<Prepare>(m) || std::holds_alternative<Commit>(m);
  if (why == IgnoreReason::older_view && from_primary) hit(Probe::prepare_stale_view_ignored);
  if (why == IgnoreReason::wrong_status && std::holds_alternative<Recovery>(m)) {
    hit(Probe::recovery_refused);  // §4.3: only normal replicas answer; the recoverer retries
  }
}

// ---------------------------------------------------------------- accessors

StatusKind Replica::status() const {
  return std::visit(Overloaded{
                        [](const NormalStatus&) { return StatusKind::normal; },
                        [](const ViewChangeStatus&) { return StatusKind::view_change; },
                        [](const RecoveringStatus&) { return StatusKind::recovering; },
                        [](const StateTransferStatus&) { return StatusKind::state_transfer; },
                    },
                    status_);
}

const LogEntry& Replica::entry(OpNumber op) const {
  VSR_ASSERT(op > log_base_ && op <= this->op(), "entry: op out of range");
  return log_[op.value - log_base_.value - 1];
}

std::uint64_t Replica::checksum_at(OpNumber op) const {
  VSR_ASSERT(op >= log_base_, "checksum_at: op below the log's base");
  return op == log_base_ ? log_base_checksum_ : entry(op).checksum;
}

namespace {
/// The replicated state's digest: the state machine's hash and the client table.
std::uint64_t state_hash_of(const StateMachine& machine,
                            const std::map<ClientId, ClientSession>& clients) {
  std::uint64_t h = machine.state_hash();
  for (const auto& [client, session] : clients) {
    h = hash_combine(h, hash_combine(client.value, session.request.value));
    h = hash_combine(h, hash_bytes(session.reply.data(), session.reply.size()));
    h = hash_combine(h, hash_combine(session.session.value, session.last_op.value));
  }
  return h;
}
}  // namespace

std::uint64_t Replica::state_hash() const { return state_hash_of(*machine_, client_table_); }

// ---------------------------------------------------------------- normal operation (§4.1)

void Replica::on_request(const Request& m) {
  if (m.request.value == 0) return;  // request numbers start at 1
  if (m.session != register_session && m.session.value > executed_.value) {
    return;  // its session opened at an op not executed here yet: the client resends
  }
  if (!session_holds(m.client, m.session)) return answer_evicted(m);
  if (try_answer_from_client_table(m)) return;
  auto in_flight = in_flight_.find(m.client);
  if (in_flight != in_flight_.end() && m.request <= in_flight->second) return;  // preparing
  if (op().value - commit_.value >= config_.max_pipeline_ops) {
    hit(Probe::pipeline_full);  // dropped: the client resends once the pipeline drains
    return;
  }
  LogEntry e{view_, m.client, m.request, m.operation, 0, m.session};
  e.checksum = entry_checksum(op().next(), e, checksum_at(op()));
  // Every message that carries entries must fit max_message_bytes with at least this one.
  if (encoded_entry_size(e) + whole_log_overhead_bytes > config_.max_message_bytes) {
    return reject(std::nullopt, RejectReason::too_large);
  }
  if (const auto why = check_append(op(), std::span(&e, 1))) return reject(std::nullopt, *why);
  prepare(m);
}

/// The client table check (§4.1 step 2). True when the request needs no new op: it is
/// older than the client's latest (dropped) or equal to it (the cached reply is resent).
bool Replica::try_answer_from_client_table(const Request& m) {
  auto it = client_table_.find(m.client);
  if (it == client_table_.end() || m.request > it->second.request) return false;
  hit(m.request == it->second.request ? Probe::client_table_cached_reply : Probe::client_table_old_request);
  if (m.request == it->second.request) {
    emit(EventKind::request_duplicate, -1, m.request.value);
    out_.send_now.push_back({m.client, Reply{view_, m.client, m.request, it->second.reply,
                                             config_.self, it->second.session}});
  }
  return true;
}

/// Whether a request of `client` naming `session` may run in its session: a register
/// request always may (it opens one); session 0 while the table is unbounded (the paper's
/// implicit session) or names the client's implicit session; any other the client's
/// current session. Depends only on the client table, so every replica judges alike.
bool Replica::session_holds(ClientId client, SessionNumber session) const {
  if (session == register_session) return true;
  auto it = client_table_.find(client);
  if (it == client_table_.end()) return session.value == 0 && config_.max_client_sessions == 0;
  return it->second.session == session;
}

/// Answers a request whose session the table no longer holds: it is not executed.
void Replica::answer_evicted(const Request& m) {
  hit(Probe::session_request_after_eviction);
  out_.send_now.push_back(
      {m.client, Reply{view_, m.client, m.request, {}, config_.self, m.session, /*evicted=*/true}});
}

/// Opens `client`'s new session `session` (executing its register request at op
/// `session`), evicting the least recently used session when the table is full. Every
/// replica evicts the same one: the table and the op order are replicated.
void Replica::open_session(ClientId client, RequestNumber request, SessionNumber session) {
  const std::uint32_t bound = config_.max_client_sessions;
  if (bound != 0 && !client_table_.contains(client) && client_table_.size() >= bound) {
    auto oldest = client_table_.begin();
    for (auto it = client_table_.begin(); it != client_table_.end(); ++it) {
      if (it->second.last_op < oldest->second.last_op) oldest = it;
    }
    client_table_.erase(oldest);
    hit(Probe::session_evicted);
  }
  client_table_[client] = ClientSession{request, {}, session, OpNumber(session.value)};
}

void Replica::prepare(const Request& m) {
  // The uncommitted window (§4.1 "pipelining", bounded here): the primary numbers op k
  // only while its commit number is at least k - P (P = max_pipeline_ops; on_request
  // checked it). Its commit number only ever holds committed ops, and a log's prefix up
  // to an entry is the prefix of the log of the primary that numbered the entry (logs
  // match up to any common entry, §4.2's correctness argument). So in any replica's log
  // whose last op is n, every op at most n - P is committed in the cluster, whatever
  // view changes handed the ops on: an op inherited from a view change keeps the bound
  // it was numbered under. A new primary may hold more than P ops above its own commit
  // number (it learns commits late), but then it numbers none until they commit.
  VSR_ASSERT(op().value - commit_.value < config_.max_pipeline_ops,
             "the primary numbers an op only within the uncommitted window");
  LogEntry e{view_, m.client, m.request, m.operation, 0, m.session};
  e.checksum = entry_checksum(op().next(), e, checksum_at(op()));
  append(e);
  in_flight_[m.client] = m.request;
  Prepare p{view_, op(), commit_, std::move(e), config_.self};
  broadcast(p, /*durable=*/false);
  emit(EventKind::prepare_sent, -1, op().value);
  last_commit_sent_ = commit_;
  idle_ticks_ = 0;
  // The primary's own PrepareOk, delivered back only once the entry is durable.
  send_durable(config_.self, PrepareOk{view_, op(), config_.self});
}

/// From the primary of its view (step checked it). A replica not normal in that view
/// joins it instead (a Prepare proves the view formed); a normal backup appends the entry
/// if it is the next one, and acknowledges its log.
void Replica::on_prepare(const Prepare& m) {
  if (!is_normal_in(m.view)) return join_by_state_transfer(m.view);
  if (is_primary()) return;  // names this replica, which sends itself no Prepare
  if (m.op == op().next()) {
    if (const auto why = check_append(op(), std::span(&m.entry, 1))) return reject(m.replica, *why);
  }
  emit(EventKind::prepare_received, m.replica.value, m.op.value);
  silence_ticks_ = 0;
  if (m.op == op().next()) {
    append(m.entry);
    acknowledge();
  } else if (m.op <= op()) {
    acknowledge();  // a resend: the PrepareOk was probably lost
  } else {
    hit(Probe::repair_gap_detected);
    ensure_repair_requested();  // a gap: ops op()+1 .. m.op-1 are missing
  }
  advance_commit(m.commit);
}

/// A backup's PrepareOk for its whole log (it holds every op up to op() of this view),
/// sent only once those entries are durable.
void Replica::acknowledge() {
  VSR_ASSERT(!is_primary(), "only a backup acknowledges to its primary");
  send_durable(config_.primary_of(view_), PrepareOk{view_, op(), config_.self});
  emit(EventKind::prepare_ok_sent, config_.primary_of(view_).value, op().value);
}

/// At the acting primary of the PrepareOk's view (step checked it).
void Replica::on_prepare_ok(const PrepareOk& m) {
  emit(EventKind::prepare_ok_received, m.replica.value, m.op.value);
  auto& s = status_as<NormalStatus>(status_);
  VSR_ASSERT(m.replica.value < s.acked.size(), "step admits only senders of the cluster");
  OpNumber& acked = s.acked[m.replica.value];
  acked = std::max(acked, std::min(m.op, op()));
  try_commit_as_primary(s);
}

/// Commits the highest op that a quorum of distinct replicas has acknowledged.
void Replica::try_commit_as_primary(NormalStatus& s) {
  std::vector<OpNumber> acked = s.acked;
  std::sort(acked.begin(), acked.end(), std::greater<>());
  OpNumber quorum_op = acked[config_.quorum() - 1];
  if (quorum_op <= commit_op()) return;
  if (quorum_op.value > commit_op().value + 1) hit(Probe::commit_jumps_past_pipeline);
  emit(EventKind::quorum_reached, -1, quorum_op.value);
  advance_commit(to_commit(quorum_op));
}

/// From the primary of its view (step checked it): as on_prepare, a replica not normal in
/// that view joins it; a normal backup learns the commit number (§4.1 step 7).
void Replica::on_commit(const Commit& m) {
  if (!is_normal_in(m.view)) return join_by_state_transfer(m.view);
  if (is_primary()) return;  // names this replica, which sends itself no Commit
  silence_ticks_ = 0;
  emit(m.commit > commit_ ? EventKind::commit_received : EventKind::heartbeat_received,
       m.replica.value, m.commit.value);
  advance_commit(m.commit);
}

/// Raises the commit number towards `target`, never past the ops this replica holds,
/// and executes what became committed. A backup that learns of commits beyond its log
/// repairs the gap.
void Replica::advance_commit(CommitNumber target) {
  CommitNumber reachable = std::min(target, to_commit(op()));
  if (reachable > commit_) {
    commit_ = reachable;
    emit(EventKind::commit_advance, -1, commit_.value);
    persist_state();
    execute_committed(/*report=*/true);
  }
  if (target > to_commit(op()) && !is_primary()) ensure_repair_requested();
}

void Replica::execute_committed(bool report) {
  while (executed_ < commit_op()) {
    execute(executed_.next(), report);
    maybe_take_checkpoint();
  }
}

/// Takes a checkpoint after every checkpoint_interval_ops executed ops (issue 15): the
/// state machine's snapshot and the client table after op executed_, for the driver to
/// store (PersistDelta::checkpoint). Every replica takes the same one at the same op:
/// both depend only on the executed prefix, which committed ops fix (§4.2).
void Replica::maybe_take_checkpoint() {
  const std::uint32_t interval = config_.checkpoint_interval_ops;
  if (interval == 0 || executed_.value % interval != 0 || executed_ <= checkpoint_op_) return;
  checkpoint_op_ = executed_;
  checkpoint_state_hash_ = state_hash();
  checkpoint_checksum_ = checksum_at(executed_);
  Checkpoint cp{executed_, checkpoint_checksum_, checkpoint_state_hash_, machine_->snapshot(),
                client_table_};
  checkpoint_blob_ = encode_snapshot(cp.machine, cp.clients);
  out_.persist.checkpoint = std::move(cp);
  hit(Probe::checkpoint_taken);
  // Compaction, in the batch that stores the checkpoint (PersistDelta, step 5): the
  // disk never holds the shorter log without the checkpoint that covers what it lost.
  const std::uint32_t keep = config_.log_retention_ops;
  if (executed_.value > keep && OpNumber(executed_.value - keep) > log_base_) {
    discard_prefix(OpNumber(executed_.value - keep));
  }
}

/// Drops ops log_base_+1 .. to from the log: they are committed and executed, and the
/// checkpoint just taken (at executed_ ≥ to) covers them. The base keeps their chain's
/// checksum, so later entries still chain to it and peers still match against it.
void Replica::discard_prefix(OpNumber to) {
  VSR_ASSERT(to > log_base_ && to <= checkpoint_op_ && checkpoint_op_ <= executed_,
             "only a prefix covered by the checkpoint is discarded");
  const std::uint64_t checksum = checksum_at(to);
  const auto cut = static_cast<std::ptrdiff_t>(to.value - log_base_.value);
  log_bytes_ -= log_size_bytes(std::span(log_).first(static_cast<std::size_t>(cut)));
  log_.erase(log_.begin(), log_.begin() + cut);
  log_base_ = to;
  log_base_checksum_ = checksum;
  out_.persist.discard_to = LogBase{to, checksum};
  hit(Probe::prefix_discarded);
}

/// Executes one committed op (§4.1 step 5 / §4.2): applies it unless the client table
/// shows this request already executed, records the reply, and — as primary — answers
/// the client. Deviation: the duplicate check also runs here, at execution, so a
/// request that reached the log twice (e.g. retried across a view change) still runs
/// once; the check depends only on the log prefix, so every replica skips alike.
void Replica::execute(OpNumber op_number, bool report) {
  VSR_ASSERT(op_number == executed_.next(), "ops execute in op order, each once");
  const LogEntry& e = entry(op_number);
  executed_ = op_number;
  auto known = client_table_.find(e.client);
  if (e.request.value == 0 || (known != client_table_.end() && e.request <= known->second.request)) {
    if (report) emit(EventKind::request_duplicate, -1, e.request.value);
    return;
  }
  // Sessions are checked again here, at execution, for the same reason as duplicates:
  // the table may have changed between prepare and execute (an eviction), and the check
  // depends only on the log prefix, so every replica skips alike.
  if (e.session == register_session) return execute_register(op_number, e, report);
  if (!session_holds(e.client, e.session)) {
    if (report && is_acting_primary()) {
      answer_evicted(Request{e.client, e.request, {}, e.session});
    }
    return;
  }
  ClientSession& session = client_table_[e.client];
  if (report) emit(EventKind::apply_start, -1, op_number.value);
  session.request = e.request;
  session.last_op = op_number;
  session.reply = machine_->apply(e.operation);
  // Apply is synchronous within one input, so the span lasts 0 ticks.
  if (report) emit(EventKind::apply_stop, -1, 0);
  auto in_flight = in_flight_.find(e.client);
  if (in_flight != in_flight_.end() && in_flight->second <= e.request) in_flight_.erase(in_flight);
  if (!report) return;
  out_.committed.push_back({op_number, e.client, e.request, session.reply, e.operation});
  if (is_acting_primary()) {
    out_.send_now.push_back({e.client, Reply{view_, e.client, e.request, session.reply,
                                             config_.self, session.session}});
  }
}

/// Executes a register request (Request): opens the client's session numbered by its op.
/// Not listed in Output::committed, which lists operations: a register applies none. A
/// copy of it may open a session again (after the first was evicted, when the table no
/// longer shows it ran); that only evicts the client's newer session, which is safe.
void Replica::execute_register(OpNumber op_number, const LogEntry& e, bool report) {
  const SessionNumber session(op_number.value);
  open_session(e.client, e.request, session);
  auto in_flight = in_flight_.find(e.client);
  if (in_flight != in_flight_.end() && in_flight->second <= e.request) in_flight_.erase(in_flight);
  if (!report) return;
  if (is_acting_primary()) {
    out_.send_now.push_back(
        {e.client, Reply{view_, e.client, e.request, {}, config_.self, session}});
  }
}

void Replica::tick_primary(NormalStatus& s) {
  if (++idle_ticks_ >= config_.timeouts.heartbeat_ticks) send_heartbeat();
  if (op() > commit_op() && ++s.resend_ticks >= config_.timeouts.prepare_resend_ticks) {
    s.resend_ticks = 0;
    resend_prepares(s);
  }
}

void Replica::send_heartbeat() {
  idle_ticks_ = 0;
  broadcast(Commit{view_, commit_, config_.self}, /*durable=*/false);
  emit(commit_ > last_commit_sent_ ? EventKind::commit_sent : EventKind::heartbeat_sent, -1,
       commit_.value);
  last_commit_sent_ = commit_;
}

/// Re-sends, to each backup that has not acknowledged them, the Prepares it lacks
/// (at most max_repair_entries each): drops must not stall the pipeline.
void Replica::resend_prepares(const NormalStatus& s) {
  for (std::uint32_t r = 0; r < config_.replica_count; ++r) {
    if (r == config_.self.value) continue;
    OpNumber from = std::max(s.acked[r], commit_op()).next();
    for (std::uint32_t k = 0; k < config_.max_repair_entries && from <= op(); ++k) {
      hit(Probe::prepare_resent);
      send(ReplicaIndex(static_cast<std::uint8_t>(r)),
           Prepare{view_, from, commit_, entry(from), config_.self});
      from = from.next();
    }
  }
  idle_ticks_ = 0;
}

void Replica::tick_backup() {
  if (repair_pending_ && ++repair_ticks_ >= config_.timeouts.repair_resend_ticks) request_repair();
  if (++silence_ticks_ >= config_.timeouts.primary_silence_ticks) {
    emit(EventKind::primary_timeout, config_.primary_of(view_).value, silence_ticks_);
    start_view_change(view_.next());
  }
}

// ---------------------------------------------------------------- view change (§4.2)

/// Step 1: moves to `view` (> current), votes for it, and tells everyone. The new view
/// number is made durable before the vote leaves, so a restart cannot return to an
/// older view and acknowledge its primary.
void Replica::start_view_change(ViewNumber view) {
  VSR_ASSERT(view > view_);
  stop_leadership();
  view_ = view;
  ViewChangeStatus s;
  s.start_votes.insert(config_.self);
  set_status(std::move(s));
  persist_state();
  report_view_change_started();
  broadcast(StartViewChange{view_, config_.self}, /*durable=*/true);
  maybe_send_do_view_change(std::get<ViewChangeStatus>(status_));
}

/// A vote for a view at least this replica's (step checked it): a newer view starts this
/// replica's own view change to it (§4.2 step 1).
void Replica::on_start_view_change(const StartViewChange& m) {
  if (m.view > view_) start_view_change(m.view);
  auto* s = std::get_if<ViewChangeStatus>(&status_);
  if (s == nullptr) return;  // normal or transferring in this view: its view change is over
  if (s->start_votes.insert(m.replica).second) {
    emit(EventKind::view_change_vote, m.replica.value, view_.value);
  }
  maybe_send_do_view_change(*s);
}

/// Step 2: once a quorum (self included) wants this view, send DoViewChange.
void Replica::maybe_send_do_view_change(ViewChangeStatus& s) {
  if (s.do_view_change_sent || s.start_votes.size() < config_.quorum()) return;
  s.do_view_change_sent = true;
  send_do_view_change();
}

/// Durable before it leaves: the new primary may build its log on this one.
void Replica::send_do_view_change() {
  ReplicaIndex primary = config_.primary_of(view_);
  const OpNumber base = suffix_base();
  send_durable(primary, DoViewChange{view_, last_normal_view_, op(), commit_,
                                     entries_between(base, op()), config_.self, checksum_at(base)});
  emit(EventKind::do_view_change_sent, primary.value, view_.value);
  note(DoViewChangeSent{view_, primary});
}

/// A vote to this replica, the primary of the vote's view, at least its own (step checked
/// both): a newer view starts its view change; in view change it counts the vote (§4.2 step 3).
void Replica::on_do_view_change(const DoViewChange& m) {
  if (m.view > view_) start_view_change(m.view);
  emit(EventKind::do_view_change_received, m.replica.value, m.view.value);
  if (is_normal()) {
    // Already primary of this view: the sender missed StartView.
    if (m.replica != config_.self) {
      hit(Probe::view_change_late_do_view_change);
      send_start_view(m.replica);
    }
    return;
  }
  auto* s = std::get_if<ViewChangeStatus>(&status_);
  if (s == nullptr) return;
  s->do_votes.insert_or_assign(m.replica, m);
  try_become_primary(*s);
}

/// f+1 DoViewChanges "including itself" (§4.2 step 3). Its own comes back only once its
/// vote for this view is durable, so a crash cannot make it forget this view and form
/// it again, with another log, after a restart.
void Replica::try_become_primary(ViewChangeStatus& s) {
  if (s.chosen.has_value()) return;  // chosen already; fetching its log
  if (s.do_votes.size() >= config_.quorum() && s.do_votes.contains(config_.self)) {
    become_primary(s);
  }
}

/// Step 3: the new primary takes the log with the highest last-normal view, then the
/// highest op number, and the highest commit number among the quorum.
///
/// Deviation: a DoViewChange carries only its sender's last entries and the checksum of
/// the entry before them (message.hpp), so the new primary may not see the chosen log
/// whole. It still adopts exactly that log, as the paper says: it keeps its own ops
/// 1..base only if its entry at base (the op below the chosen suffix) has the chosen
/// log's checksum there, which by the checksum chain means its ops 1..base are that
/// log's (up to a hash collision, outside VR's fault model); otherwise it fetches the
/// chosen log's entries below the suffix, backwards, each run checked against the
/// checksum of the run above, until its own log matches (finish_view_change). Which
/// log is chosen does not depend on how much was shipped, and the new primary enters
/// the view, and sends StartView, only once it holds the whole chosen log. The suffix
/// length only decides how often a fetch is needed: in a log ending at n, every op at
/// most n - max_pipeline_ops is committed (prepare()), and a replica that executed up
/// to it holds those ops unchanged, so a new primary that is not far behind needs none.
void Replica::become_primary(ViewChangeStatus& s) {
  VSR_ASSERT(s.do_votes.size() >= config_.quorum() && s.do_votes.contains(config_.self),
             "a new primary needs a quorum of votes, its own among them");
  VSR_ASSERT(!s.chosen.has_value(), "a view change chooses its log once");
  const DoViewChange* best = nullptr;
  CommitNumber commit = commit_;
  for (const auto& [replica, dvc] : s.do_votes) {
    if (best == nullptr || std::pair(dvc.last_normal_view, dvc.op) >
                               std::pair(best->last_normal_view, best->op)) {
      best = &dvc;
    }
    commit = std::max(commit, dvc.commit);
  }
  VSR_ASSERT(best != nullptr);
  // A lie (the log a quorum chooses holds every committed op): drop that vote and
  // choose again among the rest, if they still make a quorum with this replica's own.
  if (surely_drops_executed(best->op, best->log)) {
    return drop_vote(s, best->replica, RejectReason::drops_executed);
  }
  for (const auto& [replica, dvc] : s.do_votes) {
    if (dvc.op > best->op) hit(Probe::view_change_longer_log_from_older_view);
  }
  if (commit > commit_ && commit > best->commit) hit(Probe::view_change_commit_raised_by_vote);
  s.chosen = *best;
  s.chosen_commit = commit;
  const OpNumber base(best->op.value - best->log.size());
  // A compacted log may join the chosen one inside its suffix (fetch_done).
  start_fetch(s.fetch, base, best->parent, best->log, best->replica);
  if (fetch_done(*s.fetch)) return finish_view_change(s);
  hit(Probe::view_change_new_primary_fetches);
  s.ticks = 0;  // the fetch's progress keeps the view change alive (tick_view_change)
}

/// Adopts the chosen log once this replica holds its prefix (its own, fetched, or a
/// checkpoint installed from a snapshot), and enters the new view as its primary.
///
/// Compaction (issue 15) keeps this correct although the logs compared start at
/// different bases: the chosen log is chosen by (last_normal_view, op) and identified
/// by chained checksums (become_primary), never by where a replica's log starts, so a
/// compacted replica votes for exactly the log it would have voted for whole. What a
/// replica discards is at most its checkpoint's op, which it executed, so committed:
/// committed ops are in every later view's log (§4.2), so no view change can need to
/// choose differently below any checkpoint. The new primary then holds the chosen log
/// as: its own ops up to where its log joins the chosen chain (its base, if compacted,
/// with the chain's checksum there, or the fetch's end), or, when no donor still holds
/// the entries below, a donor's checkpoint at an op c whose chain checksum the fetched
/// chain has at c (the same log's first c ops, as state) followed by the chain above c.
void Replica::finish_view_change(ViewChangeStatus& s) {
  VSR_ASSERT(s.chosen.has_value() && s.fetch && fetch_done(*s.fetch),
             "the new primary adopts the chosen log only once it holds it whole");
  const DoViewChange chosen = std::move(*s.chosen);  // `s` dies when the status changes
  const auto [keep, tail] = fetched_tail(*s.fetch);
  if (!s.fetch->runs.empty()) hit(Probe::view_change_fetch_completed);
  if (common_prefix(keep, tail) < executed_) {
    return drop_vote(s, chosen.replica, RejectReason::drops_executed);
  }
  if (const auto why = check_append(keep, tail)) return drop_vote(s, chosen.replica, *why);
  CommitNumber commit = s.chosen_commit;
  std::uint64_t duration_ticks = now_ticks_ - status_since_ticks_;
  replace_suffix(keep, tail);
  commit = std::min(commit, to_commit(op()));
  enter_normal(view_);
  advance_commit(commit);
  report_view_change_completed(-1, duration_ticks);
}

void Replica::drop_vote(ViewChangeStatus& s, ReplicaIndex voter, RejectReason why) {
  reject(voter, why);
  s.do_votes.erase(voter);
  s.chosen.reset();
  s.fetch.reset();
  try_become_primary(s);
}

void Replica::send_start_view(ReplicaIndex to) {
  VSR_ASSERT(to != config_.self && is_acting_primary(), "the primary sends StartView to backups");
  const OpNumber base = suffix_base();
  send_durable(to, StartView{view_, op(), commit_, entries_between(base, op()), config_.self,
                             checksum_at(base)});
}

/// Enters normal status in `view` (after a view change, restart, state transfer or
/// recovery), resetting the per-view bookkeeping.
void Replica::enter_normal(ViewNumber view) {
  VSR_ASSERT(view >= view_, "a replica never returns to an older view");
  view_ = view;
  last_normal_view_ = view;
  set_status(NormalStatus{std::vector<OpNumber>(config_.replica_count), 0});
  persist_state();
  silence_ticks_ = 0;
  idle_ticks_ = 0;
  repair_pending_ = false;
  if (is_primary()) {
    start_leadership();
    rebuild_in_flight();
    for (std::uint32_t r = 0; r < config_.replica_count; ++r) {
      if (r != config_.self.value) send_start_view(ReplicaIndex(static_cast<std::uint8_t>(r)));
    }
    send_durable(config_.self, PrepareOk{view_, op(), config_.self});
  } else {
    in_flight_.clear();
    acknowledge();
  }
}

/// Step 5: a backup adopts the new primary's log and acknowledges its uncommitted ops.
/// From the primary of a view at least this replica's (step checked it). Deviation: the
/// StartView carries a suffix of that log (message.hpp); a backup whose own entry below
/// it has another checksum, or which lacks that entry, cannot prove its prefix is the
/// new log's, so it joins the view by state transfer (§5.2) instead, which keeps only
/// its executed ops and fetches the rest from the primary.
void Replica::on_start_view(const StartView& m) {
  if (is_normal_in(m.view)) return;  // already in it
  if (surely_drops_executed(m.op, m.log)) {
    return reject(m.replica, RejectReason::drops_executed);
  }
  // The new log as a chain: its parent's checksum below its suffix (fetch_done also
  // accepts a compacted log whose base lies in the suffix with the suffix's checksum).
  const LogFetch chain{OpNumber(m.op.value - m.log.size()), m.parent, {}, m.log, m.replica, 0, 0};
  if (!fetch_done(chain)) {
    if (is_transferring() && m.view == view_) return;  // already joining it
    hit(Probe::start_view_prefix_unproven);
    return join_by_state_transfer(m.view);
  }
  const auto [base, tail] = fetched_tail(chain);
  if (common_prefix(base, tail) < executed_) return reject(m.replica, RejectReason::drops_executed);
  if (const auto why = check_append(base, tail)) return reject(m.replica, *why);
  const bool was_view_change = status() == StatusKind::view_change;
  std::uint64_t duration_ticks = now_ticks_ - status_since_ticks_;
  stop_leadership();
  replace_suffix(base, tail);
  enter_normal(m.view);
  // Only a view-change span ends here; a normal or transferring replica skips views.
  if (was_view_change) report_view_change_completed(m.replica.value, duration_ticks);
  advance_commit(m.commit);
}

void Replica::tick_view_change(ViewChangeStatus& s) {
  ++s.ticks;
  if (s.fetch) tick_fetch(*s.fetch);
  if (s.ticks >= config_.timeouts.view_change_timeout_ticks) {
    hit(Probe::view_change_timed_out);
    start_view_change(view_.next());  // stalled: try the next view (§4.2)
    return;
  }
  if (++s.resend_ticks < config_.timeouts.view_change_resend_ticks) return;
  s.resend_ticks = 0;
  broadcast(StartViewChange{view_, config_.self}, /*durable=*/true);
  if (s.do_view_change_sent) send_do_view_change();
}

// ---------------------------------------------------------------- repair and state transfer (§5.2)

/// Asks for the missing ops unless a request is already out (its resend timer runs).
void Replica::ensure_repair_requested() {
  if (!repair_pending_) request_repair();
}

/// Asks the primary, now, for every op of this view's log after the prefix known to match
/// it: the whole log in normal status, the committed prefix in state transfer.
void Replica::request_repair() {
  repair_pending_ = true;
  repair_ticks_ = 0;
  if (snapshot_) return;  // receiving the primary's checkpoint (tick_snapshot resends)
  ReplicaIndex primary = config_.primary_of(view_);
  const OpNumber known = matching_prefix();
  send(primary, GetState{view_, known, config_.self});
  emit(EventKind::state_transfer_requested, primary.value, known.value);
  note(StateTransferRequested{primary, known});
}

OpNumber Replica::matching_prefix() const {
  return is_transferring() ? commit_op() : op();
}

/// Joins `view`, which formed without this replica (it heard from the view's primary while
/// not normal in it), late (§5.2); one already transferring into `view` keeps waiting.
/// The log after the commit number may disagree with the view's log, so only the
/// committed prefix counts, and the rest is fetched from the view's primary. Deviation:
/// the suffix is not cut here (the paper sets op-number to commit-number) but only once
/// the view's log arrives (on_new_state), in the same batch that makes `view` the last
/// normal view. Until then it is still this replica's log of its last normal view, in
/// which it may have acknowledged ops that committed; a DoViewChange showing that view
/// with the suffix cut would disown them, and a view change could lose a committed op.
void Replica::join_by_state_transfer(ViewNumber view) {
  VSR_ASSERT(view >= view_ && !is_normal_in(view) && !is_recovering(),
             "only a replica behind `view`, not recovering, joins it");
  if (view == view_ && is_transferring()) return;
  if (view > view_) hit(Probe::state_transfer_from_newer_view);
  stop_leadership();
  const bool was_view_change = status() == StatusKind::view_change;
  const std::uint64_t duration_ticks = now_ticks_ - status_since_ticks_;
  if (view > view_) view_ = view;
  persist_state();
  // Hearing from the primary of a view at least this one means that view formed: the
  // view-change span ends, and the replica joins the view by state transfer.
  if (was_view_change) report_view_change_completed(config_.primary_of(view_).value, duration_ticks);
  set_status(StateTransferStatus{});
  request_repair();
}

/// From another replica of this view, to this normal one (step checked it).
void Replica::on_get_state(const GetState& m) {
  if (m.op == OpNumber(~std::uint64_t{0})) return;  // m.op.next() would wrap to op 0
  // The ops it lacks are compacted away here: it gets the checkpoint (committed, so a
  // prefix of this view's log) and asks again from there (on_snapshot_chunk).
  if (m.op < log_base_) return send_snapshot_chunk(m.replica, 0);
  NewState ns{view_, m.op.next(), op(), commit_, {}, config_.self};
  std::size_t bytes = whole_log_overhead_bytes;  // the NewState must fit max_message_bytes
  for (OpNumber k = m.op.next(); k <= op() && ns.entries.size() < config_.max_repair_entries;
       k = k.next()) {
    bytes += encoded_entry_size(entry(k));
    if (bytes > config_.max_message_bytes) break;
    ns.entries.push_back(entry(k));
  }
  emit(EventKind::state_transfer_sent, m.replica.value, ns.entries.size());
  send(m.replica, std::move(ns));
}

/// From the primary of this view, to this backup repairing a gap or joining the view
/// (step checked it).
void Replica::on_new_state(const NewState& m) {
  const bool transferring = is_transferring();
  // The entries this replica appends: those after the ops it keeps.
  const OpNumber keep = matching_prefix();
  if (m.first_op > keep.next()) return;  // not contiguous
  const std::size_t held = keep.value + 1 - m.first_op.value;
  if (held < m.entries.size()) {
    if (const auto why = check_append(keep, std::span(m.entries).subspan(held))) {
      return reject(m.replica, *why);
    }
  }
  // Joining the view: the unproven suffix gives way to the view's log (see
  // join_by_state_transfer), in the batch that also records the view as last normal.
  if (transferring && op() > commit_op()) {
    hit(Probe::state_transfer_suffix_truncated);
    truncate(commit_op());
  }
  for (std::size_t i = 0; i < m.entries.size(); ++i) {
    OpNumber k(m.first_op.value + i);
    if (k == op().next()) append(m.entries[i]);
  }
  emit(EventKind::state_transfer_received, m.replica.value, m.entries.size());
  note(StateTransferReceived{m.replica, m.entries.size()});
  repair_pending_ = false;
  if (transferring) {
    enter_normal(view_);  // also acknowledges the log
  } else {
    if (op() >= m.op) hit(Probe::repair_gap_filled);
    acknowledge();
  }
  silence_ticks_ = 0;
  advance_commit(m.commit);
  if (op() < m.op) ensure_repair_requested();
}

void Replica::tick_state_transfer(StateTransferStatus& s) {
  ++s.ticks;
  if (s.ticks >= config_.timeouts.primary_silence_ticks) {
    start_view_change(view_.next());
    return;
  }
  if (++s.resend_ticks >= config_.timeouts.repair_resend_ticks) {
    s.resend_ticks = 0;
    request_repair();
  }
}

// ---------------------------------------------------------------- recovery (§4.3)

/// From another replica, to this normal one (step checked it).
void Replica::on_recovery(const Recovery& m) {
  RecoveryResponse r{view_, m.nonce, false, OpNumber{}, CommitNumber{}, {}, config_.self};
  if (is_primary()) {
    const OpNumber base = suffix_base();
    r.has_log = true;
    r.op = op();
    r.commit = commit_;
    r.log = entries_between(base, op());
    r.parent = checksum_at(base);
  }
  send(m.replica, std::move(r));
}

/// From another replica, to this recovering one (step checked it).
void Replica::on_recovery_response(const RecoveryResponse& m) {
  auto& s = status_as<RecoveringStatus>(status_);
  if (m.nonce != s.nonce) return;  // an answer to an earlier recovery
  if (s.chosen) return;            // recovering from a chosen answer already
  auto [it, inserted] = s.responses.try_emplace(m.replica, m);
  if (!inserted && m.view >= it->second.view) it->second = m;
  if (const RecoveryResponse* primary = response_to_recover_from(s)) {
    s.chosen = *primary;
    finish_recovery(s);
  }
}

/// The response to recover from, once there is one: when f+1 replicas answered (so some
/// answer comes from every view-change quorum) and the primary of the highest view among
/// them sent its log. Null until then.
const RecoveryResponse* Replica::response_to_recover_from(const RecoveringStatus& s) const {
  if (s.responses.size() < config_.max_faulty() + 1) return nullptr;
  ViewNumber highest{};
  for (const auto& [replica, r] : s.responses) highest = std::max(highest, r.view);
  auto primary = s.responses.find(config_.primary_of(highest));
  if (primary == s.responses.end() || !primary->second.has_log ||
      primary->second.view != highest) {
    return nullptr;
  }
  return &primary->second;
}

/// Recovers from the chosen answer: at once when it carries the primary's whole log,
/// else once the rest of that log is fetched (deviation: the answer carries a suffix,
/// message.hpp). The replica stays recovering, taking no part in the protocol, until it
/// holds the primary's whole log (§4.3).
void Replica::finish_recovery(RecoveringStatus& s) {
  VSR_ASSERT(s.chosen.has_value() && !s.fetch, "recovery starts from one chosen answer");
  const RecoveryResponse& r = *s.chosen;
  const OpNumber base(r.op.value - r.log.size());
  start_fetch(s.fetch, base, r.parent, r.log, r.replica);
  if (fetch_done(*s.fetch)) return complete_recovery(s);
  hit(Probe::recovery_fetches);
}

void Replica::complete_recovery(RecoveringStatus& s) {
  VSR_ASSERT(is_recovering() && s.chosen && s.fetch && fetch_done(*s.fetch),
             "a recovering replica recovers once it holds the primary's whole log");
  const RecoveryResponse r = std::move(*s.chosen);  // the status is replaced below
  const auto [keep, tail] = fetched_tail(*s.fetch);
  if (const auto why = check_append(keep, tail)) {
    reject(r.replica, *why);  // no honest primary's log: recover afresh
    s.chosen.reset();
    s.fetch.reset();
    s.responses.clear();
    return;
  }
  std::uint64_t started = status_since_ticks_;
  replace_suffix(keep, tail);
  enter_normal(r.view);
  advance_commit(r.commit);
  emit(EventKind::recovery_complete, r.replica.value, now_ticks_ - started);
  note(RecoveryCompleted{view_, now_ticks_ - started});
}

void Replica::tick_recovering(RecoveringStatus& s) {
  if (s.fetch) {
    tick_fetch(*s.fetch);
    if (s.fetch->idle_ticks < config_.timeouts.view_change_timeout_ticks) return;
    // No replica holds the chosen log any more (its uncommitted tail may have been
    // replaced by a view change): ask everyone again.
    s.chosen.reset();
    s.fetch.reset();
    s.responses.clear();
    s.resend_ticks = config_.timeouts.recovery_resend_ticks;
  }
  if (++s.resend_ticks < config_.timeouts.recovery_resend_ticks) return;
  s.resend_ticks = 0;
  hit(Probe::recovery_retried);
  broadcast(Recovery{s.nonce, config_.self}, /*durable=*/false);
}

// ---------------------------------------------------------------- log fetch (GetEntries / Entries)

/// Starts fetching the log whose op `next` has checksum `anchor`, from `source` first;
/// nothing to fetch when this replica's own log already matches there.
void Replica::start_fetch(std::optional<LogFetch>& fetch, OpNumber next, std::uint64_t anchor,
                          std::span<const LogEntry> suffix, ReplicaIndex source) {
  fetch = LogFetch{next, anchor, {}, std::vector<LogEntry>(suffix.begin(), suffix.end()), source, 0, 0};
  if (!fetch_done(*fetch)) request_entries(*fetch);
}

std::optional<std::uint64_t> LogFetch::chain_at(OpNumber k) const {
  if (k == next) return anchor;
  if (k < next) return std::nullopt;
  std::uint64_t first = next.value + 1;  // the op of the lowest run's first entry
  auto in = [&](const std::vector<LogEntry>& entries) -> std::optional<std::uint64_t> {
    if (k.value < first + entries.size()) return entries[k.value - first].checksum;
    first += entries.size();
    return std::nullopt;
  };
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) {
    if (auto c = in(*run)) return c;
  }
  return in(suffix);
}

std::vector<LogEntry> LogFetch::entries() const {
  std::vector<LogEntry> all;
  for (auto run = runs.rbegin(); run != runs.rend(); ++run) all.insert(all.end(), run->begin(), run->end());
  all.insert(all.end(), suffix.begin(), suffix.end());
  return all;
}

bool Replica::fetch_done(const LogFetch& fetch) const {
  if (matches_at(fetch.next, fetch.anchor)) return true;
  // A compacted log holds no entry at fetch.next; it matches the chain if the chain
  // has its base's checksum at its base (so the same ops 1..base, §4.2's prefix rule).
  return log_base_ > fetch.next && fetch.chain_at(log_base_) == log_base_checksum_;
}

std::pair<OpNumber, std::vector<LogEntry>> Replica::fetched_tail(const LogFetch& fetch) const {
  VSR_ASSERT(fetch_done(fetch), "fetched_tail: the fetch is not done");
  std::vector<LogEntry> all = fetch.entries();
  if (matches_at(fetch.next, fetch.anchor)) return {fetch.next, std::move(all)};
  all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(log_base_.value - fetch.next.value));
  return {log_base_, std::move(all)};
}

void Replica::request_entries(const LogFetch& fetch) {
  VSR_ASSERT(fetch.source != config_.self, "a replica fetches from the others");
  send(fetch.source, GetEntries{fetch.next, fetch.anchor, config_.self});
}

/// From any replica but a recovering one (step checked it): answers when its own log
/// has the asked entry, with the run of entries that ends there.
void Replica::on_get_entries(const GetEntries& m) {
  if (m.last.value == 0) return;
  // Compacted away here (or unknowable below the base): offer the checkpoint, which the
  // fetcher takes only if its chain has the checkpoint's checksum at its op.
  if (m.last <= log_base_) return send_snapshot_chunk(m.replica, 0);
  if (!matches_at(m.last, m.checksum)) return;  // not this log
  const OpNumber base = run_base(m.last, config_.max_repair_entries);
  hit(Probe::fetch_served);
  send(m.replica, Entries{m.last, checksum_at(base), entries_between(base, m.last), config_.self});
}

/// To a new primary or a recovering replica (step checked it; the run chains to its
/// parent). A run for another fetch, or an older request, is ignored.
void Replica::on_entries(const Entries& m) {
  if (auto* s = std::get_if<ViewChangeStatus>(&status_); s != nullptr && s->fetch) {
    if (!take_entries(*s->fetch, m)) return;
    s->ticks = 0;
    if (fetch_done(*s->fetch)) finish_view_change(*s);
  } else if (auto* r = std::get_if<RecoveringStatus>(&status_); r != nullptr && r->fetch) {
    if (!take_entries(*r->fetch, m)) return;
    if (fetch_done(*r->fetch)) complete_recovery(*r);
  }
}

bool Replica::take_entries(LogFetch& fetch, const Entries& m) {
  // The run must end at the op the fetch waits for, with the checksum it wants there;
  // the run's own chain (content_claim) then vouches for every entry and its parent.
  if (fetch_done(fetch) || m.last != fetch.next || m.entries.back().checksum != fetch.anchor) {
    return false;
  }
  fetch.runs.push_back(m.entries);
  fetch.next = OpNumber(m.last.value - m.entries.size());
  fetch.anchor = m.parent;
  fetch.idle_ticks = 0;
  fetch.resend_ticks = 0;
  if (!fetch_done(fetch)) request_entries(fetch);
  return true;
}

void Replica::tick_fetch(LogFetch& fetch) {
  ++fetch.idle_ticks;
  if (snapshot_) return;  // receiving a donor's checkpoint instead (tick_snapshot)
  if (fetch_done(fetch) || ++fetch.resend_ticks < config_.timeouts.repair_resend_ticks) return;
  fetch.resend_ticks = 0;
  // The next replica in turn: any that holds the entry may answer.
  do {
    fetch.source = ReplicaIndex(static_cast<std::uint8_t>((fetch.source.value + 1) % config_.replica_count));
  } while (fetch.source == config_.self);
  request_entries(fetch);
}

// ---------------------------------------------------------------- snapshots (GetSnapshot / SnapshotChunk)

namespace {
/// The most bytes of a SnapshotChunk frame beyond its data (69, rounded up).
constexpr std::size_t snapshot_chunk_overhead_bytes = 2 * whole_log_overhead_bytes;
}  // namespace

void Replica::send_snapshot_chunk(ReplicaIndex to, std::uint64_t offset) {
  VSR_ASSERT(checkpoint_op_.value > 0 && offset < checkpoint_blob_.size(),
             "a replica sends chunks of a checkpoint it holds");
  std::size_t room = config_.max_message_bytes - snapshot_chunk_overhead_bytes;
  if (config_.snapshot_chunk_bytes > 0) room = std::min<std::size_t>(room, config_.snapshot_chunk_bytes);
  const std::size_t size = std::min<std::size_t>(room, checkpoint_blob_.size() - offset);
  const auto first = checkpoint_blob_.begin() + static_cast<std::ptrdiff_t>(offset);
  Bytes data(first, first + static_cast<std::ptrdiff_t>(size));
  const std::uint64_t data_checksum = hash_bytes(data.data(), data.size());
  hit(Probe::snapshot_sent);
  send(to, SnapshotChunk{checkpoint_op_, checkpoint_checksum_, checkpoint_state_hash_,
                         checkpoint_blob_.size(), offset, std::move(data), data_checksum,
                         config_.self});
}

/// From any replica but a recovering one (step checked it).
void Replica::on_get_snapshot(const GetSnapshot& m) {
  if (checkpoint_op_.value == 0) return;
  if (m.op == checkpoint_op_ && m.offset < checkpoint_blob_.size()) {
    return send_snapshot_chunk(m.replica, m.offset);
  }
  if (checkpoint_op_ > m.op) send_snapshot_chunk(m.replica, 0);  // a newer one: the asker decides
}

bool Replica::wants_snapshot(OpNumber op, std::uint64_t checksum, ReplicaIndex source) const {
  if (op <= executed_) return false;  // never un-execute: it would move nothing forward
  return std::visit(
      Overloaded{
          // A backup behind its primary's log base: its log is a prefix of the view's
          // log, and the checkpoint, committed, is too; so is the log made of it. Only
          // the view's primary is asked (GetState), and only its answer is taken.
          [&](const NormalStatus&) {
            return !is_primary() && op > this->op() && source == config_.primary_of(view_);
          },
          // Joining a view: only its committed prefix counts (join_by_state_transfer).
          [&](const StateTransferStatus&) { return source == config_.primary_of(view_); },
          // A fetch takes the checkpoint only of the log it fetches.
          [&](const ViewChangeStatus& s) {
            return s.fetch && !fetch_done(*s.fetch) && s.fetch->chain_at(op) == checksum;
          },
          [&](const RecoveringStatus& s) {
            return s.fetch && !fetch_done(*s.fetch) && s.fetch->chain_at(op) == checksum;
          },
      },
      status_);
}

/// To any replica but an acting primary (step checked it): takes the chunk if it is the
/// next one of a checkpoint it wants; bad data is refused, and asked for again.
void Replica::on_snapshot_chunk(const SnapshotChunk& m) {
  if (hash_bytes(m.data.data(), m.data.size()) != m.data_checksum) {
    return refuse_snapshot(m.replica);
  }
  const bool same = snapshot_ && snapshot_->op == m.op && snapshot_->checksum == m.checksum &&
                    snapshot_->state_hash == m.state_hash && snapshot_->total_bytes == m.total_bytes;
  if (!same) {
    if (m.offset != 0 || !wants_snapshot(m.op, m.checksum, m.replica)) return;
    if (snapshot_ && snapshot_->op > m.op) return;  // assembling a newer one already
    snapshot_ = SnapshotFetch{m.op, m.checksum, m.state_hash, m.total_bytes, {}, m.replica, 0, 0};
  }
  SnapshotFetch& f = *snapshot_;
  if (m.offset != f.data.size()) return;  // a duplicate, or not the next chunk
  f.data.insert(f.data.end(), m.data.begin(), m.data.end());
  f.source = m.replica;
  f.resend_ticks = 0;
  f.idle_ticks = 0;
  // Progress keeps the path that asked for the snapshot alive.
  if (auto* v = std::get_if<ViewChangeStatus>(&status_)) v->ticks = 0;
  if (auto* t = std::get_if<StateTransferStatus>(&status_)) t->ticks = 0;
  if (auto* r = std::get_if<RecoveringStatus>(&status_); r != nullptr && r->fetch) r->fetch->idle_ticks = 0;
  if (f.data.size() < f.total_bytes) return request_snapshot_chunk();
  try_install_snapshot();
}

void Replica::request_snapshot_chunk() {
  const SnapshotFetch& f = *snapshot_;
  send(f.source, GetSnapshot{f.op, f.data.size(), config_.self});
}

void Replica::tick_snapshot() {
  if (!snapshot_) return;
  if (++snapshot_->idle_ticks >= config_.timeouts.view_change_timeout_ticks) {
    snapshot_.reset();  // the donor went silent: the asking path's own resends start again
    return;
  }
  if (++snapshot_->resend_ticks < config_.timeouts.repair_resend_ticks) return;
  snapshot_->resend_ticks = 0;
  request_snapshot_chunk();
}

/// The whole blob is checked before anything changes: it must decode, restore, and
/// give the checkpoint's state hash with its client table; the machine's own state is
/// saved first and put back if not, so a refused snapshot leaves no trace.
void Replica::try_install_snapshot() {
  SnapshotFetch f = std::move(*snapshot_);
  snapshot_.reset();
  if (!wants_snapshot(f.op, f.checksum, f.source)) return;  // no longer needed here
  auto state = decode_snapshot(f.data);
  if (!state) return refuse_snapshot(f.source);
  const Bytes saved = machine_->snapshot();
  if (!machine_->restore(state.value().machine)) return refuse_snapshot(f.source);
  if (state_hash_of(*machine_, state.value().clients) != f.state_hash) {
    const auto back = machine_->restore(saved);
    VSR_ASSERT(back.has_value(), "a machine restores its own snapshot");
    return refuse_snapshot(f.source);
  }
  checkpoint_blob_ = std::move(f.data);
  install_snapshot(Checkpoint{f.op, f.checksum, f.state_hash, std::move(state.value().machine),
                              std::move(state.value().clients)});
  after_snapshot_installed();
}

void Replica::refuse_snapshot(ReplicaIndex source) {
  snapshot_.reset();
  hit(Probe::snapshot_refused);
  reject(source, RejectReason::bad_snapshot);
}

/// Adopts checkpoint `cp` (its machine state already restored): the replicated state
/// after op cp.op, which is committed. The log becomes empty with base cp.op, and one
/// batch stores the checkpoint, the emptied log and the commit number together.
void Replica::install_snapshot(const Checkpoint& cp) {
  VSR_ASSERT(cp.op > executed_, "a snapshot moves the replica forward");
  client_table_ = cp.clients;
  executed_ = cp.op;
  commit_ = to_commit(cp.op);
  checkpoint_op_ = cp.op;
  checkpoint_state_hash_ = cp.state_hash;
  checkpoint_checksum_ = cp.checksum;
  log_.clear();
  log_bytes_ = 0;
  log_base_ = cp.op;
  log_base_checksum_ = cp.checksum;
  in_flight_.clear();
  installed_snapshot_op_ = cp.op;
  out_.persist.reset(LogBase{cp.op, cp.checksum});
  out_.persist.checkpoint = cp;
  persist_state();
  hit(Probe::snapshot_installed);
  emit(EventKind::commit_advance, -1, commit_.value);
}

/// Continues the path that wanted the snapshot.
void Replica::after_snapshot_installed() {
  if (auto* v = std::get_if<ViewChangeStatus>(&status_)) {
    VSR_ASSERT(v->fetch && fetch_done(*v->fetch), "the checkpoint joins the fetched chain");
    hit(Probe::view_change_by_snapshot);
    return finish_view_change(*v);
  }
  if (auto* r = std::get_if<RecoveringStatus>(&status_)) {
    VSR_ASSERT(r->fetch && fetch_done(*r->fetch), "the checkpoint joins the fetched chain");
    hit(Probe::recovery_by_snapshot);
    return complete_recovery(*r);
  }
  hit(Probe::state_transfer_by_snapshot);
  if (is_transferring()) {
    enter_normal(view_);  // the log is a committed prefix of this view's (on_new_state)
  } else {
    acknowledge();
  }
  request_repair();  // the ops after the checkpoint
}

// ---------------------------------------------------------------- log and persistence

void Replica::append(const LogEntry& e) {
  VSR_ASSERT(log_.empty() || log_.back().view <= e.view, "log entry views must not decrease");
  VSR_ASSERT(e.checksum == entry_checksum(op().next(), e, checksum_at(op())),
             "every appended entry continues the log's checksum chain");
  log_.push_back(e);
  log_bytes_ += encoded_entry_size(e);
  VSR_ASSERT(log_bytes_ <= max_log_bytes, "the log outgrew max_log_bytes");
  out_.persist.add(op(), e);
  emit(EventKind::log_append, -1, op().value);
}

std::vector<LogEntry> Replica::entries_between(OpNumber from, OpNumber to) const {
  VSR_ASSERT(log_base_ <= from && from <= to && to <= op(), "entries_between: ops outside the log");
  return std::vector(log_.begin() + static_cast<std::ptrdiff_t>(from.value - log_base_.value),
                     log_.begin() + static_cast<std::ptrdiff_t>(to.value - log_base_.value));
}

void Replica::truncate(OpNumber to) {
  VSR_ASSERT(to >= executed_ && to >= log_base_, "never cut an executed op");
  log_bytes_ -= log_size_bytes(std::span(log_).subspan(to.value - log_base_.value));
  log_.resize(to.value - log_base_.value);
  out_.persist.truncate(to);
  emit(EventKind::log_truncate, -1, to.value);
}

OpNumber Replica::suffix_base() const {
  std::size_t bytes = whole_log_overhead_bytes;
  OpNumber base = op();
  while (base > log_base_ && op().value - base.value < config_.max_pipeline_ops) {
    bytes += encoded_entry_size(entry(base));
    if (bytes > config_.max_message_bytes) break;
    base = base.prev();
  }
  return base;
}

OpNumber Replica::run_base(OpNumber last, std::uint64_t max_entries) const {
  VSR_ASSERT(last > log_base_ && last <= op(), "run_base: op out of range");
  std::size_t bytes = whole_log_overhead_bytes + encoded_entry_size(entry(last));
  OpNumber base = last.prev();  // one entry always fits (on_request)
  while (base > log_base_ && last.value - base.value < max_entries) {
    bytes += encoded_entry_size(entry(base));
    if (bytes > config_.max_message_bytes) break;
    base = base.prev();
  }
  return base;
}

OpNumber Replica::common_prefix(OpNumber base, std::span<const LogEntry> entries) const {
  VSR_ASSERT(base >= log_base_ && base <= op(), "common_prefix: base outside the log");
  OpNumber k = base;
  while (k < op() && k.value - base.value < entries.size() &&
         entry(k.next()) == entries[k.value - base.value]) {
    k = k.next();
  }
  return k;
}

bool Replica::surely_drops_executed(OpNumber op, std::span<const LogEntry> suffix) const {
  if (op < executed_) return true;
  const OpNumber base(op.value - suffix.size());
  if (executed_ > base) {  // the suffix shows the executed op: compare the checksums
    return suffix[executed_.value - base.value - 1].checksum != checksum_at(executed_);
  }
  // Below the suffix: equal if this log matches at base; otherwise only a fetch tells.
  return false;
}

/// Replaces the log after `base` with `entries`, writing only from the first entry that
/// differs. The executed prefix must be unchanged: committed ops survive view changes (§4.2).
void Replica::replace_suffix(OpNumber base, std::span<const LogEntry> entries) {
  VSR_ASSERT(base >= log_base_ && base <= op() && chain_valid(checksum_at(base), base.next(), entries),
             "a new suffix continues the prefix it keeps");
  const OpNumber same = common_prefix(base, entries);
  VSR_ASSERT(same >= executed_, "a new log must keep every executed op");
  if (same < op()) truncate(same);
  for (std::size_t k = same.value - base.value; k < entries.size(); ++k) append(entries[k]);
}

void Replica::persist_state() {
  out_.persist.state = DurableState{view_, last_normal_view_, commit_};
}

/// A new primary must not prepare a request again that its log already holds
/// uncommitted (it may commit in this view).
void Replica::rebuild_in_flight() {
  in_flight_.clear();
  for (OpNumber k = executed_.next(); k <= op(); k = k.next()) {
    const LogEntry& e = entry(k);
    RequestNumber& r = in_flight_[e.client];
    r = std::max(r, e.request);
  }
}

// ---------------------------------------------------------------- output helpers

void Replica::send(ReplicaIndex to, Message m) {
  VSR_ASSERT(encoded_size(m) <= config_.max_message_bytes, "a message outgrew max_message_bytes");
  out_.send_now.push_back({to, std::move(m)});
}

void Replica::send_durable(ReplicaIndex to, Message m) {
  VSR_ASSERT(encoded_size(m) <= config_.max_message_bytes, "a message outgrew max_message_bytes");
  out_.send_after_persist.push_back({to, std::move(m)});
}

void Replica::broadcast(const Message& m, bool durable) {
  for (std::uint32_t r = 0; r < config_.replica_count; ++r) {
    if (r == config_.self.value) continue;
    ReplicaIndex to(static_cast<std::uint8_t>(r));
    if (durable) {
      send_durable(to, m);
    } else {
      send(to, m);
    }
  }
}

void Replica::emit(EventKind kind, std::int32_t peer, std::uint64_t detail) {
  out_.events.push_back(
      TelemetryEvent{kind, config_.self, view_, status(), op(), commit_, peer, detail});
}

/// Changes status; on a change of kind, reports it and opens or closes the
/// state-transfer span (its only entry and exit point; docs/TELEMETRY.md).
void Replica::set_status(Status s) {
  StatusKind before = status();
  status_ = std::move(s);
  if (status() == before) return;
  emit(EventKind::status_change, -1, static_cast<std::uint64_t>(status()));
  note(StatusChanged{before, status()});
  if (before == StatusKind::state_transfer) {
    emit(EventKind::state_transfer_stop, -1, now_ticks_ - status_since_ticks_);
  }
  status_since_ticks_ = now_ticks_;
  if (status() == StatusKind::state_transfer) {
    emit(EventKind::state_transfer_start, config_.primary_of(view_).value, view_.value);
    note(StateTransferStarted{view_});
  }
}

void Replica::start_leadership() {
  leadership_since_ticks_ = now_ticks_;
  emit(EventKind::leadership_start, -1, view_.value);
  note(LeadershipStarted{view_});
}

void Replica::stop_leadership() {
  if (!is_acting_primary()) return;
  emit(EventKind::leadership_stop, -1, now_ticks_ - leadership_since_ticks_);
  note(LeadershipStopped{view_, now_ticks_ - leadership_since_ticks_});
}

void Replica::report_view_change_started() {
  emit(EventKind::view_change_start, config_.primary_of(view_).value, view_.value);
  note(ViewChangeStarted{view_});
}

void Replica::report_view_change_completed(std::int32_t peer, std::uint64_t duration_ticks) {
  emit(EventKind::view_change_complete, peer, duration_ticks);
  note(ViewChangeCompleted{view_, duration_ticks});
}

// ---------------------------------------------------------------- invariants

void Replica::check_invariants() const {
  VSR_ASSERT(commit_op() <= op(), "commit beyond the log");
  VSR_ASSERT(executed_ == commit_op(), "executed must equal commit after every input");
  VSR_ASSERT(checkpoint_op_ <= executed_, "a checkpoint covers only executed ops");
  VSR_ASSERT(log_base_ <= checkpoint_op_, "a discarded prefix is covered by the checkpoint");
  VSR_ASSERT(last_normal_view_ <= view_, "last normal view ahead of view");
  if (is_normal()) VSR_ASSERT(last_normal_view_ == view_, "normal status in a non-normal view");
  // Entry views never decrease along the log (checked at each append, the only way
  // the log grows), so the last entry bounds them all.
  if (!log_.empty()) VSR_ASSERT(log_.back().view <= view_, "log entry from a future view");
  if (const auto* s = std::get_if<NormalStatus>(&status_); s != nullptr && is_primary()) {
    VSR_ASSERT(s->acked.size() == config_.replica_count);
    for (OpNumber a : s->acked) VSR_ASSERT(a <= op(), "acknowledged beyond the log");
  }
  for (const auto& [client, session] : client_table_) {
    VSR_ASSERT(session.request.value > 0, "client table holds an unexecuted session");
  }
}

}  // namespace vsr
