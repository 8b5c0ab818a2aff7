// A small in-test cluster harness ("message pump") for the replica and client unit tests.
//
// N real vsr::Replica objects, each running a KvMachine, each hosted by a
// vsr::ReplicaHost (vsr/host.hpp, the host every driver uses) that owns its disk.
// After every input the harness takes the replica's Output and carries it out through
// the host: `send_now` is queued at once, and `persist` with `send_after_persist`
// becomes a write in flight, completed at once (or held back to model a write still in
// flight); its messages are queued only once it (and every earlier write) is durable.
// Messages to self go through the queue like any other.
//
// Nothing is delivered unless the test says so: deliver (all, or filtered), drop,
// duplicate, inject, partition, tick, crash, restart, wipe-and-recover.
//
// Set VSR_PUMP_TRACE=1 in the environment to print every step (deliveries, ticks that
// did something, crashes, restarts, partitions, status changes).
//
// After every step the harness checks:
// - Replica::check_invariants() on every live replica;
// - agreement: for every live replica, every op up to its commit number equals the op
//   any replica ever had committed at that number (entries and, when executed, results);
// - exactly-once: within one replica incarnation, no (client, request) is reported
//   executed twice, and executed ops are reported in increasing op order.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "vsr/client.hpp"
#include "vsr/config.hpp"
#include "vsr/host.hpp"
#include "vsr/kv.hpp"
#include "vsr/message.hpp"
#include "vsr/output.hpp"
#include "vsr/replica.hpp"
#include "vsr/telemetry.hpp"

namespace vsr::test {

// ---------------------------------------------------------------- KV helpers

inline Bytes kv_write(const std::string& key, const std::string& value) {
  return encode_kv_op(KvOp{KvOpKind::write, key, value, ""});
}
inline Bytes kv_read(const std::string& key) {
  return encode_kv_op(KvOp{KvOpKind::read, key, "", ""});
}
inline Bytes kv_cas(const std::string& key, const std::string& from, const std::string& to) {
  return encode_kv_op(KvOp{KvOpKind::cas, key, to, from});
}
inline KvResult kv_result(const Bytes& b) {
  auto r = decode_kv_result(b);
  REQUIRE(r.has_value());
  return r.value();
}
inline KvResult kv_ok() { return KvResult{KvStatus::ok, std::nullopt}; }
inline KvResult kv_value(const std::string& v) { return KvResult{KvStatus::ok, v}; }

inline ReplicaIndex rep(std::uint32_t i) { return ReplicaIndex(static_cast<std::uint8_t>(i)); }

// ---------------------------------------------------------------- messages in flight

struct Envelope {
  Endpoint from;
  Endpoint to;
  Message message;
};

/// A predicate over envelopes, composable with &&, || and !.
struct Filter {
  std::function<bool(const Envelope&)> f;
  bool operator()(const Envelope& e) const { return f(e); }
  friend Filter operator&&(Filter a, Filter b) {
    return {[a, b](const Envelope& e) { return a(e) && b(e); }};
  }
  friend Filter operator||(Filter a, Filter b) {
    return {[a, b](const Envelope& e) { return a(e) || b(e); }};
  }
  friend Filter operator!(Filter a) {
    return {[a](const Envelope& e) { return !a(e); }};
  }
};

inline Filter any() {
  return {[](const Envelope&) { return true; }};
}
template <class T>
Filter is() {
  return {[](const Envelope& e) { return std::holds_alternative<T>(e.message); }};
}
inline Filter from(std::uint32_t r) {
  return {[r](const Envelope& e) { return e.from == Endpoint(rep(r)); }};
}
inline Filter to(std::uint32_t r) {
  return {[r](const Envelope& e) { return e.to == Endpoint(rep(r)); }};
}
inline Filter to_client(ClientId c) {
  return {[c](const Envelope& e) { return e.to == Endpoint(c); }};
}
inline Filter from_client(ClientId c) {
  return {[c](const Envelope& e) { return e.from == Endpoint(c); }};
}
/// Messages a replica sends to itself (never dropped by a real driver).
inline Filter to_self() {
  return {[](const Envelope& e) { return e.from == e.to; }};
}
/// Prepares (of any view) for op `op`.
inline Filter prepare_of(std::uint64_t op) {
  return {[op](const Envelope& e) {
    const auto* p = std::get_if<Prepare>(&e.message);
    return p != nullptr && p->op.value == op;
  }};
}

template <class T>
std::vector<T> messages_of(const std::vector<Outgoing>& out) {
  std::vector<T> r;
  for (const auto& o : out) {
    if (const auto* m = std::get_if<T>(&o.message)) r.push_back(*m);
  }
  return r;
}

// ---------------------------------------------------------------- facts against telemetry

/// The fact a telemetry event reports, if it reports one: the oracle for Output::facts
/// (each fact has its event). A StatusChanged's `from` is not in its event: it is left
/// default here, and facts_agree_with_events checks it apart.
inline std::optional<Fact> fact_told_by(const TelemetryEvent& e) {
  const auto peer = ReplicaIndex(static_cast<std::uint8_t>(e.peer));
  switch (e.kind) {
    case EventKind::status_change: return StatusChanged{{}, e.status};
    case EventKind::leadership_start: return LeadershipStarted{e.view};
    case EventKind::leadership_stop: return LeadershipStopped{e.view, e.detail};
    case EventKind::view_change_start: return ViewChangeStarted{ViewNumber(e.detail)};
    case EventKind::view_change_complete: return ViewChangeCompleted{e.view, e.detail};
    case EventKind::do_view_change_sent: return DoViewChangeSent{ViewNumber(e.detail), peer};
    case EventKind::state_transfer_requested: return StateTransferRequested{peer, OpNumber(e.detail)};
    case EventKind::state_transfer_start: return StateTransferStarted{ViewNumber(e.detail)};
    case EventKind::state_transfer_received: return StateTransferReceived{peer, e.detail};
    case EventKind::recovery_complete: return RecoveryCompleted{e.view, e.detail};
    case EventKind::message_rejected:
      return MessageRejected{e.peer < 0 ? std::nullopt : std::optional(peer),
                             static_cast<RejectReason>(e.detail)};
    default: return std::nullopt;
  }
}

/// Whether `o.facts` are exactly the facts its events report, in the same order.
inline bool facts_agree_with_events(const Output& o) {
  std::vector<Fact> told;
  for (const TelemetryEvent& e : o.events) {
    if (auto f = fact_told_by(e)) told.push_back(*f);
  }
  if (told.size() != o.facts.size()) return false;
  for (std::size_t k = 0; k < told.size(); ++k) {
    const auto* changed = std::get_if<StatusChanged>(&o.facts[k]);
    auto* expected = std::get_if<StatusChanged>(&told[k]);
    if (changed != nullptr && expected != nullptr) {
      if (changed->from == changed->to) return false;
      expected->from = changed->from;
    }
  }
  return told == o.facts;
}

// ---------------------------------------------------------------- the cluster

struct Node {
  explicit Node(const Config& config) : host(config) {}
  ReplicaHost host;  // the replica (empty while crashed), its disk, its writes in flight
  bool hold_persist = false;
  std::vector<Committed> committed;   // ops executed by this incarnation, in order
  std::set<std::pair<ClientId, RequestNumber>> executed;  // this incarnation
  Output last;                        // the last output, for inspection
  ProbeCounts probes{};               // summed over every output
  std::vector<Fact> facts;            // every fact its outputs reported, in order
  std::uint32_t incarnation = 0;

  [[nodiscard]] const PersistedState& disk() const { return host.disk(); }
  /// Persists not yet durable.
  [[nodiscard]] std::size_t unpersisted() const { return host.unpersisted_writes(); }
};

class Cluster {
 public:
  /// Sets bounds on each replica's Config (max_pipeline_ops...) after Config::make.
  using Bounds = std::function<void(Config&)>;

  explicit Cluster(std::uint32_t n, Timeouts timeouts = {}, Bounds bounds = {})
      : timeouts_(timeouts), bounds_(std::move(bounds)), size_(n) {
    nodes_.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) nodes_.emplace_back(config(i));
    for (std::uint32_t i = 0; i < n; ++i) {
      nodes_[i].host.boot(std::make_unique<KvMachine>());
      absorb(i);
    }
  }

  [[nodiscard]] std::uint32_t size() const { return size_; }
  [[nodiscard]] Config config(std::uint32_t i) const {
    auto c = Config::make(size(), rep(i), timeouts_);
    REQUIRE(c.has_value());
    if (bounds_) {
      bounds_(c.value());
      REQUIRE(c.value().validate().has_value());
    }
    return c.value();
  }
  [[nodiscard]] const Timeouts& timeouts() const { return timeouts_; }

  Replica& replica(std::uint32_t i) {
    REQUIRE_MESSAGE(nodes_.at(i).host.up(), "replica ", i, " is crashed");
    return nodes_[i].host.replica();
  }
  [[nodiscard]] bool up(std::uint32_t i) const { return nodes_.at(i).host.up(); }
  Node& node(std::uint32_t i) { return nodes_.at(i); }
  [[nodiscard]] const std::deque<Envelope>& queue() const { return queue_; }
  [[nodiscard]] const std::vector<Envelope>& delivered() const { return delivered_; }
  /// Every op ever committed anywhere, by op number (op k at index k-1).
  [[nodiscard]] const std::vector<LogEntry>& committed_log() const { return committed_log_; }

  // ------------------------------------------------------------ clients

  /// Sends a hand-made request from `client` to replica `r`.
  void request(ClientId client, std::uint64_t request_number, Bytes op, std::uint32_t r) {
    queue_.push_back({client, rep(r), Request{client, RequestNumber(request_number), std::move(op)}});
  }
  /// Lets the harness deliver replies to `c` and carry out its output.
  void attach(Client& c) { clients_[c.id()] = &c; }
  RequestNumber submit(Client& c, Bytes op) {
    attach(c);
    RequestNumber r = c.submit(std::move(op));
    pump_client(c);
    return r;
  }
  void tick_client(Client& c, std::uint32_t n = 1) {
    attach(c);
    for (std::uint32_t k = 0; k < n; ++k) {
      c.tick();
      pump_client(c);
    }
  }
  /// Every reply delivered to `c` (in delivery order), attached or not.
  std::vector<Reply>& replies(ClientId c) { return replies_[c]; }
  std::vector<ClientCompletion>& completions(ClientId c) { return completions_[c]; }

  // ------------------------------------------------------------ network control

  /// Delivers queued messages matching `f`, oldest first, until none matches.
  std::size_t deliver_all(const Filter& f = any(), std::size_t limit = 200000) {
    std::size_t n = 0;
    while (deliver_one(f)) {
      REQUIRE_MESSAGE(++n < limit, "the cluster does not go quiet");
    }
    return n;
  }
  /// Delivers the oldest queued message matching `f`; false if there is none.
  bool deliver_one(const Filter& f = any()) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (!f(*it)) continue;
      Envelope e = std::move(*it);
      queue_.erase(it);
      deliver(e);
      return true;
    }
    return false;
  }
  std::size_t drop(const Filter& f) {
    std::size_t before = queue_.size();
    std::erase_if(queue_, [&](const Envelope& e) { return f(e); });
    return before - queue_.size();
  }
  /// Queues `extra` more copies of every queued message matching `f`.
  std::size_t duplicate(const Filter& f, std::size_t extra = 1) {
    std::vector<Envelope> copies;
    for (const auto& e : queue_) {
      if (f(e)) {
        for (std::size_t k = 0; k < extra; ++k) copies.push_back(e);
      }
    }
    for (auto& e : copies) queue_.push_back(std::move(e));
    return copies.size();
  }
  [[nodiscard]] std::size_t count(const Filter& f) const {
    std::size_t n = 0;
    for (const auto& e : queue_) n += f(e) ? 1 : 0;
    return n;
  }
  template <class T>
  std::vector<T> queued(const Filter& f = any()) const {
    std::vector<T> r;
    for (const auto& e : queue_) {
      if (const auto* m = std::get_if<T>(&e.message); m != nullptr && f(e)) r.push_back(*m);
    }
    return r;
  }
  void inject(Endpoint from_, Endpoint to_, Message m) {
    queue_.push_back({from_, to_, std::move(m)});
  }

  /// Replicas in different groups cannot talk (messages between them are dropped when
  /// delivered); replicas in no group are alone. Clients reach everyone.
  void partition(const std::vector<std::vector<std::uint32_t>>& groups) {
    trace("partition {}", fmt::join(groups, " | "));
    group_.assign(size(), -1);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (auto r : groups[g]) group_.at(r) = static_cast<int>(g);
    }
    for (std::uint32_t r = 0; r < size(); ++r) {
      if (group_[r] < 0) group_[r] = static_cast<int>(groups.size() + r);
    }
  }
  /// Cuts replica r off from every other replica.
  void isolate(std::uint32_t r) {
    std::vector<std::uint32_t> rest;
    for (std::uint32_t k = 0; k < size(); ++k) {
      if (k != r) rest.push_back(k);
    }
    partition({{r}, rest});
  }
  void heal() {
    trace("heal");
    group_.clear();
  }
  [[nodiscard]] bool connected(std::uint32_t a, std::uint32_t b) const {
    return group_.empty() || group_[a] == group_[b];
  }

  // ------------------------------------------------------------ time, disks, crashes

  void tick(std::uint32_t r, std::uint32_t n = 1) {
    for (std::uint32_t k = 0; k < n; ++k) {
      if (trace_) trace("tick r{}", r);
      replica(r).tick();
      absorb(r);
    }
  }
  /// `ticks` rounds of: tick every live replica once, then deliver everything.
  void settle(std::uint32_t ticks) {
    for (std::uint32_t t = 0; t < ticks; ++t) {
      for (std::uint32_t r = 0; r < size(); ++r) {
        if (up(r)) tick(r);
      }
      for (auto& [id, c] : clients_) tick_client(*c);
      deliver_all();
    }
  }

  /// Where replica r's messages go: the queue, in the order they leave.
  auto queue_from(std::uint32_t r) {
    return [this, r](Outgoing&& s) { queue_.push_back({rep(r), s.to, std::move(s.message)}); };
  }

  /// While held, persists (and the messages that wait for them) stay in flight.
  void hold_persist(std::uint32_t r, bool hold = true) {
    trace("hold_persist r{} {}", r, hold);
    nodes_.at(r).hold_persist = hold;
    if (!hold) flush_persist(r);
  }
  /// Completes every pending persist of r, in order, and releases what waited on them.
  void flush_persist(std::uint32_t r) {
    ReplicaHost& host = nodes_.at(r).host;
    while (!host.writes().empty()) host.complete_oldest_write(queue_from(r));
  }
  /// Crash: the process dies; persists still in flight are lost, and so are the
  /// messages that waited on them. The disk keeps what became durable.
  void crash(std::uint32_t r) {
    trace("crash r{} (losing {} pending persists)", r, nodes_.at(r).unpersisted());
    Node& n = nodes_.at(r);
    n.host.crash();
    n.hold_persist = false;
  }
  /// Restarts a crashed replica from its disk; one wiped whose recovered state is not
  /// durable yet runs recovery again, from an empty disk (ReplicaHost::start_recovery).
  void restart(std::uint32_t r) {
    Node& n = nodes_.at(r);
    REQUIRE_FALSE(n.host.up());
    new_incarnation(n);
    if (n.host.needs_recovery()) {
      trace("restart r{} into recovery again", r);
      n.host.start_recovery(std::make_unique<KvMachine>(), Nonce((1ULL << 48) + n.incarnation));
    } else {
      const PersistedState& d = n.disk();
      trace("restart r{} from disk: view={} lnv={} commit={} ops={}", r, d.state.view,
            d.state.last_normal_view, d.state.commit, d.log.size());
      n.host.restart_from_disk(std::make_unique<KvMachine>());
    }
    absorb(r);
  }
  /// Total state loss: the disk is wiped and the replica runs recovery with `nonce`.
  void wipe_and_recover(std::uint32_t r, Nonce nonce) {
    crash(r);
    Node& n = nodes_.at(r);
    n.host.wipe();
    trace("wipe r{}, recover with nonce {}", r, nonce);
    new_incarnation(n);
    n.host.start_recovery(std::make_unique<KvMachine>(), nonce);
    absorb(r);
  }

  // ------------------------------------------------------------ convergence

  /// Same last op, and the same entries above both logs' bases (what compaction left).
  [[nodiscard]] static bool logs_agree(const Replica& x, const Replica& y) {
    if (x.op() != y.op()) return false;
    for (OpNumber k = std::max(x.log_base(), y.log_base()).next(); k <= x.op(); k = k.next()) {
      if (!(x.entry(k) == y.entry(k))) return false;
    }
    return true;
  }

  /// Every live replica: normal, same view, same log, commit == op, same state.
  [[nodiscard]] bool converged() const {
    const Replica* first = nullptr;
    for (const auto& n : nodes_) {
      if (!n.host.up()) continue;
      const Replica& x = n.host.replica();
      if (x.status() != StatusKind::normal || x.commit() != to_commit(x.op())) return false;
      if (first == nullptr) {
        first = &x;
      } else if (x.view() != first->view() || !logs_agree(x, *first) ||
                 x.state_hash() != first->state_hash()) {
        return false;
      }
    }
    return true;
  }
  /// The same, as a test failure that says what differs.
  void require_converged() {
    std::optional<std::uint32_t> first;
    for (std::uint32_t r = 0; r < size(); ++r) {
      if (!up(r)) continue;
      const Replica& x = replica(r);
      INFO("replica ", r);
      REQUIRE(x.status() == StatusKind::normal);
      REQUIRE(x.commit() == to_commit(x.op()));
      if (!first) {
        first = r;
        continue;
      }
      const Replica& y = replica(*first);
      REQUIRE(x.view() == y.view());
      REQUIRE(x.op() == y.op());
      REQUIRE(logs_agree(x, y));
      REQUIRE(x.state_hash() == y.state_hash());
    }
  }

  /// The ops this incarnation of r executed, as op numbers.
  std::vector<std::uint64_t> executed_ops(std::uint32_t r) {
    std::vector<std::uint64_t> ops;
    for (const auto& c : nodes_.at(r).committed) ops.push_back(c.op.value);
    return ops;
  }
  /// How many times this incarnation of r executed (client, request).
  std::size_t executions(std::uint32_t r, ClientId c, std::uint64_t request) {
    std::size_t n = 0;
    for (const auto& x : nodes_.at(r).committed) {
      n += (x.client == c && x.request.value == request) ? 1 : 0;
    }
    return n;
  }

  /// Agreement and local invariants, for every live replica (run after every step).
  void check() {
    for (std::uint32_t r = 0; r < size(); ++r) {
      if (!up(r)) continue;
      const Replica& x = nodes_[r].host.replica();
      x.check_invariants();
      // Ops compacted away (or installed from a snapshot) have no entry left here; an op
      // first seen committed above a gap leaves placeholders (LogEntry{}) for the gap.
      for (std::uint64_t k = x.log_base().value + 1; k <= x.commit().value; ++k) {
        const LogEntry& e = x.entry(OpNumber(k));
        if (k > committed_log_.size()) committed_log_.resize(k);
        if (committed_log_[k - 1] == LogEntry{}) {
          committed_log_[k - 1] = e;
        } else if (!(committed_log_[k - 1] == e)) {
          FAIL("agreement broken: replica ", r, " committed op ", k, " = ", fmt::format("{}", e),
               " but op ", k, " was committed as ", fmt::format("{}", committed_log_[k - 1]));
        }
      }
    }
  }

 private:
  void new_incarnation(Node& n) {
    n.committed.clear();
    n.executed.clear();
    ++n.incarnation;
  }

  template <class... Args>
  void trace(fmt::format_string<Args...> format, Args&&... args) {
    if (trace_) fmt::print("[pump] {}\n", fmt::format(format, std::forward<Args>(args)...));
  }

  void deliver(const Envelope& e) {
    trace("deliver {}->{} {}", e.from, e.to, e.message);
    if (const auto* c = std::get_if<ClientId>(&e.to)) {
      const auto* reply = std::get_if<Reply>(&e.message);
      REQUIRE_MESSAGE(reply != nullptr, "only replies go to clients");
      delivered_.push_back(e);
      replies_[*c].push_back(*reply);
      if (auto it = clients_.find(*c); it != clients_.end()) {
        it->second->step(*reply);
        pump_client(*it->second);
      }
      return;
    }
    std::uint32_t r = std::get<ReplicaIndex>(e.to).value;
    if (!up(r)) return;  // lost: nobody listens
    if (const auto* s = std::get_if<ReplicaIndex>(&e.from); s != nullptr && !connected(s->value, r)) {
      return;  // partitioned
    }
    delivered_.push_back(e);
    nodes_[r].host.replica().step(e.message);
    absorb(r);
  }

  void pump_client(Client& c) {
    ClientOutput o = c.take_output();
    for (auto& s : o.send) queue_.push_back({c.id(), s.to, std::move(s.message)});
    if (o.completed) completions_[c.id()].push_back(*o.completed);
  }

  /// Carries out replica r's output like a driver, then checks the cluster.
  void absorb(std::uint32_t r) {
    Node& n = nodes_[r];
    Replica& x = n.host.replica();
    Output o = x.take_output();
    REQUIRE_MESSAGE(facts_agree_with_events(o), "r", r, ": Output::facts disagree with its telemetry");
    for (std::size_t p = 0; p < probe_count; ++p) n.probes[p] += o.probes[p];
    if (trace_) {
      for (const auto& ev : o.events) {
        if (ev.kind == EventKind::status_change || ev.kind == EventKind::view_change_start ||
            ev.kind == EventKind::log_truncate || ev.kind == EventKind::commit_advance) {
          trace("  r{} {} view={} status={} op={} commit={} detail={}", r, event_name(ev.kind),
                ev.view, status_name(ev.status), ev.op, ev.commit, ev.detail);
        }
      }
    }
    std::uint64_t last_op = n.committed.empty() ? 0 : n.committed.back().op.value;
    for (const auto& c : o.committed) {
      INFO("replica ", r, " executed op ", c.op.value);
      REQUIRE(c.op.value > last_op);
      last_op = c.op.value;
      REQUIRE_MESSAGE(n.executed.insert({c.client, c.request}).second,
                      "client ", c.client.value, " request ", c.request.value,
                      " executed twice by one incarnation");
      if (c.op > x.log_base()) {  // else compacted in the same step (log_retention_ops 0)
        const LogEntry& e = x.entry(c.op);
        REQUIRE(e.client == c.client);
        REQUIRE(e.request == c.request);
      }
      auto [it, inserted] = results_.try_emplace(c.op.value, c.result);
      REQUIRE_MESSAGE(it->second == c.result, "replicas disagree on the result of op ", c.op.value);
      n.committed.push_back(c);
    }
    n.facts.insert(n.facts.end(), o.facts.begin(), o.facts.end());
    n.last = o;  // kept whole for inspection; carry_out moves the sends out of `o`
    n.host.carry_out(o, queue_from(r));
    if (!n.hold_persist) flush_persist(r);
    check();
  }


  Timeouts timeouts_;
  Bounds bounds_;
  std::uint32_t size_;
  std::vector<Node> nodes_;
  std::deque<Envelope> queue_;
  std::vector<Envelope> delivered_;
  std::vector<int> group_;  // empty: fully connected
  std::map<ClientId, Client*> clients_;
  std::map<ClientId, std::vector<Reply>> replies_;
  std::map<ClientId, std::vector<ClientCompletion>> completions_;
  std::vector<LogEntry> committed_log_;
  std::map<std::uint64_t, Bytes> results_;
  bool trace_ = std::getenv("VSR_PUMP_TRACE") != nullptr;
};

}  // namespace vsr::test
