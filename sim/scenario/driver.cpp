#include "sim/scenario/driver.hpp"

#include <algorithm>
#include <variant>

#include "sim/scenario/narration.hpp"
#include "sim/scenario/values.hpp"
#include "vsr/config.hpp"
#include "vsr/storage_format.hpp"
#include "vsr/replica.hpp"

namespace vsr::sim {

namespace {

constexpr std::uint32_t client_timeout_ticks = 30;
constexpr std::size_t max_deliveries_per_round = 200'000;

ReplicaIndex replica_index(std::uint32_t r) { return ReplicaIndex(static_cast<std::uint8_t>(r)); }

std::vector<Config> configs(std::uint32_t replicas, const ScenarioBounds& bounds) {
  std::vector<Config> out;
  for (std::uint32_t r = 0; r < replicas; ++r) {
    out.push_back(Config::make(replicas, replica_index(r)).value());
    out.back().checkpoint_interval_ops = bounds.checkpoint_interval_ops;
    out.back().log_retention_ops = bounds.log_retention_ops;
    out.back().max_client_sessions = bounds.max_client_sessions;
  }
  return out;
}

}  // namespace

ScenarioDriver::ScenarioDriver(std::uint32_t replicas, std::uint32_t clients, std::uint64_t seed,
                               ScenarioBounds bounds)
    : cluster_(configs(replicas, bounds), *this),
      hold_(replicas, false),
      schedule_rng_(Prng::stream(seed, Stream::network)),
      workload_rng_(Prng::stream(seed, Stream::workload)),
      nonce_rng_(Prng::stream(seed, Stream::nonces)),
      blocked_(replicas, std::vector<bool>(replicas, false)) {
  ClientConfig cc = ClientConfig::make(replicas, client_timeout_ticks).value();
  cc.open_sessions = bounds.max_client_sessions != 0;
  for (std::uint32_t c = 1; c <= clients; ++c) clients_.push_back(ClientNode{Client(ClientId(c), cc), {}, {}, c});
  for (std::uint32_t r = 0; r < replicas; ++r) {
    cluster_.boot(r);
    stop_if_failed();
  }
}

void ScenarioDriver::check_replica(std::uint32_t r) const {
  if (r >= size()) throw ScriptError{fmt::format("replica {} is out of range (replicas are 0..{})", r, size() - 1)};
}

SimHost& ScenarioDriver::up_host(std::uint32_t r) {
  check_replica(r);
  if (!cluster_.host(r).up()) throw ScriptError{fmt::format("replica {} is down", r)};
  return cluster_.host(r);
}

ScenarioDriver::ClientNode& ScenarioDriver::client(std::uint32_t c) {
  if (c < 1 || c > clients_.size()) {
    throw ScriptError{fmt::format("client {} is out of range (clients are 1..{})", c, clients_.size())};
  }
  return clients_[c - 1];
}

// ---------------------------------------------------------------- messages

void ScenarioDriver::deliver(const QueueFilter& f, bool drop, std::optional<std::uint64_t> count) {
  std::vector<QueuedMessage> batch;
  std::deque<QueuedMessage> rest;
  while (!queue_.empty()) {
    QueuedMessage m = std::move(queue_.front());
    queue_.pop_front();
    if (f.matches(m) && (!count || batch.size() < *count)) {
      batch.push_back(std::move(m));
    } else {
      rest.push_back(std::move(m));
    }
  }
  queue_ = std::move(rest);
  if (batch.empty()) {
    print("no matching messages");
    return;
  }
  for (auto& m : batch) {
    std::string line = envelope_text(m.from, m.to, m.message);
    if (drop) {
      print("{} [dropped]", line);
      continue;
    }
    deliver_one(std::move(m), line, "  ");
  }
}

void ScenarioDriver::deliver_until_empty() {
  std::size_t n = 0;
  while (!queue_.empty()) {
    if (++n > max_deliveries_per_round) {
      throw ScriptFailure{"stabilize: messages keep coming without time passing (more than 200000 deliveries)"};
    }
    QueuedMessage m = std::move(queue_.front());
    queue_.pop_front();
    deliver_one(std::move(m), "", "");
  }
}

/// `run`'s network: each message is delayed to a later round (reordering), dropped,
/// or delivered this round in a shuffled order; self-addressed ones always arrive.
void ScenarioDriver::random_deliveries(double drop) {
  std::vector<QueuedMessage> now;
  std::vector<QueuedMessage> later;
  std::size_t n = queue_.size();
  for (std::size_t i = 0; i < n; ++i) {
    QueuedMessage m = std::move(queue_.front());
    queue_.pop_front();
    bool local = m.from == m.to;
    if (!local && schedule_rng_.chance(0.2)) {
      later.push_back(std::move(m));
    } else if (!local && schedule_rng_.chance(drop)) {
      ++dropped_;
    } else {
      now.push_back(std::move(m));
    }
  }
  for (auto it = later.rbegin(); it != later.rend(); ++it) queue_.push_front(std::move(*it));
  for (std::size_t i = now.size(); i > 1; --i) std::swap(now[i - 1], now[schedule_rng_.below(i)]);
  for (auto& m : now) deliver_one(std::move(m), "", "");
}

/// Delivers one message. When `line` is non-empty it is printed first, with the
/// reason if the message is lost; the consequences are printed with `indent`.
void ScenarioDriver::deliver_one(QueuedMessage m, const std::string& line, const std::string& indent) {
  auto say = [&](std::string_view suffix) {
    if (!line.empty()) print("{}{}", line, suffix);
  };
  auto lost = [&](std::string_view why) {
    say(why);
    ++dropped_;
  };
  if (const auto* c = std::get_if<ClientId>(&m.to)) {
    const auto* reply = std::get_if<Reply>(&m.message);
    if (reply == nullptr || c->value < 1 || c->value > clients_.size()) return lost(" [dropped: no such client]");
    say("");
    ++delivered_;
    std::string saved = std::exchange(indent_, indent);
    clients_[c->value - 1].client.step(*reply);
    pump_client(static_cast<std::uint32_t>(c->value));
    indent_ = saved;
    return;
  }
  std::uint32_t r = std::get<ReplicaIndex>(m.to).value;
  if (!cluster_.host(r).up()) return lost(fmt::format(" [lost: r{} is down]", r));
  if (const auto* s = std::get_if<ReplicaIndex>(&m.from); s != nullptr && blocked_[s->value][r]) {
    return lost(" [dropped: partition]");
  }
  say("");
  ++delivered_;
  std::string saved = std::exchange(indent_, indent);
  step(r, m.message);
  indent_ = saved;
}

// ---------------------------------------------------------------- time

void ScenarioDriver::tick_replica(std::uint32_t r, std::uint64_t n) {
  up_host(r);
  for (std::uint64_t k = 0; k < n; ++k) tick(r);
}

void ScenarioDriver::tick_client(std::uint32_t c, std::uint64_t n) {
  ClientNode& node = client(c);
  for (std::uint64_t k = 0; k < n; ++k) {
    node.client.tick();
    pump_client(c);
  }
}

void ScenarioDriver::tick_all(std::uint64_t n) {
  for (std::uint64_t k = 0; k < n; ++k) tick_round();
}

/// One round of time: every live replica ticks once (in index order), then every client.
void ScenarioDriver::tick_round() {
  ++now_;
  for (std::uint32_t r = 0; r < size(); ++r) {
    if (cluster_.host(r).up()) tick(r);
  }
  for (std::uint32_t c = 1; c <= clients_.size(); ++c) {
    clients_[c - 1].client.tick();
    pump_client(c);
  }
}

void ScenarioDriver::run(std::uint64_t rounds, double drop, bool load) {
  std::vector<std::string>* saved = std::exchange(out_, nullptr);
  std::uint64_t delivered_before = delivered_;
  std::uint64_t dropped_before = dropped_;
  std::uint64_t completed_before = completed_;
  std::uint64_t view_changes_before = view_changes_;
  for (std::uint64_t t = 0; t < rounds; ++t) {
    tick_round();
    if (load) {
      for (std::uint32_t c = 1; c <= clients_.size(); ++c) {
        if (!client(c).client.busy() && workload_rng_.chance(0.3)) submit(client(c), c, random_call());
      }
    }
    random_deliveries(drop);
  }
  out_ = saved;
  print("ran {} rounds ({} ms): {} messages delivered, {} dropped, {} requests completed, {} "
        "view-change completions (summed over replicas)",
        rounds, rounds * 10, delivered_ - delivered_before, dropped_ - dropped_before, completed_ - completed_before,
        view_changes_ - view_changes_before);
}

void ScenarioDriver::settle(std::uint64_t ticks) {
  for (std::uint64_t t = 0; t < ticks; ++t) {
    deliver_until_empty();
    tick_round();
  }
  deliver_until_empty();
  print("{} after {} tick(s)", quiet() ? "quiet" : "not quiet", ticks);
}

void ScenarioDriver::stabilize(std::uint64_t max_ticks) {
  for (std::uint64_t t = 0;; ++t) {
    deliver_until_empty();
    if (quiet()) {
      print("quiet after {} tick(s)", t);
      return;
    }
    if (t == max_ticks) break;
    tick_round();
  }
  print("not quiet after {} ticks", max_ticks);
}

/// Nothing pending, no client waiting, no write in flight, and every live replica
/// normal, in the same view, with everything in its log committed.
bool ScenarioDriver::quiet() const {
  if (!queue_.empty()) return false;
  for (const auto& c : clients_) {
    if (c.client.busy()) return false;
  }
  std::optional<ViewNumber> view;
  for (std::uint32_t r = 0; r < size(); ++r) {
    const SimHost& host = cluster_.host(r);
    if (!host.up()) continue;
    const Replica& x = host.replica();
    if (host.host().unpersisted_writes() > 0 || x.status() != StatusKind::normal || x.commit() != to_commit(x.op())) {
      return false;
    }
    if (view && *view != x.view()) return false;
    view = x.view();
  }
  return true;
}

// ---------------------------------------------------------------- faults

void ScenarioDriver::partition(const std::vector<std::vector<std::uint32_t>>& groups) {
  std::vector<int> group(size(), -1);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (auto r : groups[g]) {
      check_replica(r);
      if (group[r] >= 0) throw ScriptError{fmt::format("partition: replica {} is in two groups", r)};
      group[r] = static_cast<int>(g);
    }
  }
  for (std::uint32_t r = 0; r < size(); ++r) {
    if (group[r] < 0) group[r] = static_cast<int>(groups.size() + r);  // alone
  }
  for (std::uint32_t a = 0; a < size(); ++a) {
    for (std::uint32_t b = 0; b < size(); ++b) blocked_[a][b] = group[a] != group[b];
  }
  std::string cut = cut_links();
  print("links cut:{}", cut.empty() ? " none" : cut);
}

void ScenarioDriver::cut_one_way(std::uint32_t from, std::uint32_t to) {
  check_replica(from);
  check_replica(to);
  if (from == to) throw ScriptError{"partition oneway: from and to are the same replica"};
  blocked_[from][to] = true;
  print("links cut:{}", cut_links());
}

void ScenarioDriver::heal() {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  print("every link is up");
}

/// " r0->r1 r1->r0" for every cut link; empty when none is.
std::string ScenarioDriver::cut_links() const {
  std::string cut;
  for (std::uint32_t a = 0; a < size(); ++a) {
    for (std::uint32_t b = 0; b < size(); ++b) {
      if (blocked_[a][b]) cut += fmt::format(" r{}->r{}", a, b);
    }
  }
  return cut;
}

void ScenarioDriver::crash(std::uint32_t r, bool wipe) {
  SimHost& host = up_host(r);
  std::size_t lost = host.host().unpersisted_writes();
  std::size_t lost_messages = host.host().waiting_messages();
  // A script may wipe more than f replicas (no wipe budget): it shows what happens.
  cluster_.crash(r, wipe);
  hold_[r] = false;
  std::string what = fmt::format("r{} crashed", r);
  if (lost > 0 || lost_messages > 0) {
    what += fmt::format(", losing {} unpersisted write(s) and {} message(s) waiting on them", lost, lost_messages);
  }
  const PersistedState& disk = host.disk();
  if (wipe) {
    what += "; its disk is wiped";
  } else {
    what += fmt::format("; disk keeps view={} last_normal={} op={} commit={}", disk.state.view,
                        disk.state.last_normal_view, disk.last_op(), disk.state.commit);
  }
  print("{}", what);
}

void ScenarioDriver::damage(std::uint32_t r, std::string_view how, OpNumber op) {
  check_replica(r);
  SimHost& host = cluster_.host(r);
  if (host.up()) throw ScriptError{fmt::format("storage {}: replica {} is up (crash it first: damage strikes at rest)", how, r)};
  const Storage& storage = host.host().storage();
  for (const JournalRecord& rec : storage.records()) {
    Sector s{};
    if (!host.device().read(storage.geometry().journal_offset(rec.position), s)) continue;
    auto h = decode_header(s);
    if (!h || h.value().seq != rec.seq || h.value().kind != RecordKind::delta || h.value().body_bytes == 0) continue;
    if (op < h.value().first_op || h.value().last_op < op) continue;
    const std::uint64_t body = storage.geometry().journal_offset(rec.position + 1);
    if (how == "corrupt") {
      host.device().flip_bit(body + 7, 3);
    } else {
      host.device().fail_reads_at(body);
    }
    host.mark_damaged();
    print("r{}: {} the body of journal record {} (ops {}..{})", r, how == "corrupt" ? "a bit flipped in" : "a latent read error on",
          rec.seq, h.value().first_op, h.value().last_op);
    return;
  }
  throw ScriptFailure{fmt::format("storage {}: replica {}'s journal holds no durable record with op {}", how, r, op)};
}

void ScenarioDriver::crash_torn(std::uint32_t r) {
  SimHost& host = up_host(r);
  const std::size_t lost = host.host().unpersisted_writes();
  host.crash_tearing_writes();
  hold_[r] = false;
  print("r{} crashed; {} write(s) in flight torn (only their first sector landed)", r, lost);
}

void ScenarioDriver::misdirect_next_write(std::uint32_t r) {
  up_host(r).misdirect_next_record();
  print("r{}: its next journal write will land at another place of its journal", r);
}

void ScenarioDriver::restart(std::uint32_t r) {
  check_replica(r);
  if (cluster_.host(r).up()) throw ScriptError{fmt::format("restart: replica {} is up (crash it first)", r)};
  restarting_ = Restart{r, cluster_.host(r).needs_recovery()};
  cluster_.restart(r, [&] { return nonce_rng_.next(); });
  say_restarted();  // when the restart failed its check, before any output
  stop_if_failed();
}

/// The line of the restart under way, if any: the replica is up, its first output not
/// carried out yet.
void ScenarioDriver::say_restarted() {
  if (!restarting_) return;
  auto [r, recover] = *std::exchange(restarting_, std::nullopt);
  const Replica& x = cluster_.host(r).replica();
  const RestartReport& report = cluster_.host(r).last_restart();
  if (report.storage && (report.storage->torn_tail || report.storage->copies_repaired > 0 || report.storage->faulty)) {
    const RecoveryReport& s = *report.storage;
    std::string found = fmt::format("r{} storage: {} record(s) replayed", r, s.records);
    if (s.torn_tail) found += ", a torn tail discarded (never synced)";
    if (s.copies_repaired > 0) found += fmt::format(", {} header(s) repaired from the ring", s.copies_repaired);
    if (s.faulty) {
      found += fmt::format(", record {} (ops {}..{}) FAULTY: {}", s.faulty->seq, s.faulty->first_op, s.faulty->last_op,
                           s.faulty->why);
    }
    print("{}", found);
  }
  if (recover) {
    print("r{} restarts with an empty disk and runs recovery", r);
  } else if (!report.from_disk) {
    print("r{} cannot trust its disk: the device is formatted and it runs recovery (peers rebuild it)", r);
  } else {
    print("r{} restarts from its disk: view={} status={} op={} commit={}", r, x.view(), status_name(x.status()),
          x.op(), x.commit());
  }
}

void ScenarioDriver::hold_persist(std::uint32_t r) {
  up_host(r);
  hold_[r] = true;
  print("r{} holds its persists: writes stay in flight until flush-persist or a crash", r);
}

void ScenarioDriver::flush_persist(std::uint32_t r) {
  SimHost& host = up_host(r);
  std::size_t n = host.host().unpersisted_writes();
  std::size_t m = host.host().waiting_messages();
  hold_[r] = false;
  release(r);
  print("r{} completes {} write(s) and releases {} message(s)", r, n, m);
}

// ---------------------------------------------------------------- hosting

void ScenarioDriver::step(std::uint32_t r, const Message& m) {
  cluster_.step(r, m);
  stop_if_failed();
}

void ScenarioDriver::tick(std::uint32_t r) {
  cluster_.tick(r);
  stop_if_failed();
}

/// The writes in flight of r become durable, in order; the messages waiting on them leave.
void ScenarioDriver::release(std::uint32_t r) {
  while (cluster_.host(r).has_writes()) cluster_.complete_oldest_write(r);
}

/// The first failed check ends the run: the block says FAILED, the file fails.
void ScenarioDriver::stop_if_failed() const {
  if (failure_) throw ScriptFailure{fmt::format("safety violation [{}]: {}", failure_->check, failure_->detail)};
}

/// Narrates the batch (nothing after a failed check: the run ends there).
void ScenarioDriver::observe(std::uint32_t r, const Output& out) {
  say_restarted();
  if (!failure_) narrate(r, out);
}

/// Every message joins the queue, in the order it leaves.
void ScenarioDriver::send(std::uint32_t r, Outgoing&& o) {
  queue_.push_back({replica_index(r), o.to, std::move(o.message)});
}

/// Writes complete at the end of the input that queued them, unless held.
void ScenarioDriver::write_queued(std::uint32_t r) {
  if (!hold_[r]) release(r);
}

/// The lines for one output batch: each executed op where its apply starts, then the
/// events worth a line.
void ScenarioDriver::narrate(std::uint32_t r, const Output& o) {
  std::size_t next_committed = 0;
  for (const Fact& f : o.facts) view_changes_ += std::holds_alternative<ViewChangeCompleted>(f);
  for (const TelemetryEvent& ev : o.events) {
    if (ev.kind == EventKind::apply_start && next_committed < o.committed.size()) {
      const Committed& c = o.committed[next_committed++];
      print("r{} executes op {}: c{}#{} {} -> {}", r, c.op, c.client, c.request, op_text(c.operation),
            result_text(c.result));
      continue;
    }
    if (auto line = event_text(r, ev)) print("{}", *line);
  }
  for (; next_committed < o.committed.size(); ++next_committed) {
    const Committed& c = o.committed[next_committed];
    print("r{} executes op {}: c{}#{} -> {}", r, c.op, c.client, c.request, result_text(c.result));
  }
}

}  // namespace vsr::sim
