// Replica unit tests, named after the sections of "Viewstamped Replication Revisited"
// (Liskov & Cowling, 2012). Each drives real replicas through the in-test message pump
// (test_pump.hpp), which checks local invariants, agreement on committed ops and
// exactly-once execution after every single step.
#include "vsr/replica.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "vsr/codec.hpp"
#include "vsr/test_pump.hpp"

using namespace vsr;
using namespace vsr::test;

namespace {

/// Sends one request to replica r, delivers everything, and returns the one new reply.
Reply call(Cluster& c, ClientId client, std::uint64_t request, Bytes op, std::uint32_t r) {
  const std::size_t before = c.replies(client).size();
  c.request(client, request, std::move(op), r);
  c.deliver_all();
  REQUIRE(c.replies(client).size() == before + 1);
  const Reply reply = c.replies(client).back();
  REQUIRE(reply.client == client);
  REQUIRE(reply.request.value == request);
  return reply;
}

/// Lets `primary` send a Commit heartbeat, and delivers everything.
void heartbeat(Cluster& c, std::uint32_t primary) {
  c.tick(primary, c.timeouts().heartbeat_ticks);
  c.deliver_all();
}

/// Ticks each listed backup until it suspects its primary, then delivers everything.
void silence(Cluster& c, const std::vector<std::uint32_t>& backups) {
  for (auto r : backups) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all();
}

std::vector<std::uint64_t> ops_1_to(std::uint64_t n) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t k = 1; k <= n; ++k) v.push_back(k);
  return v;
}

LogEntry entry_of(std::uint64_t view, std::uint64_t client, std::uint64_t request, Bytes op) {
  return LogEntry{ViewNumber(view), ClientId(client), RequestNumber(request), std::move(op)};
}

/// `log` as ops 1, 2, ... with its checksum chain sealed (message.hpp), as a primary builds it.
std::vector<LogEntry> chained(std::vector<LogEntry> log) {
  seal_chain(empty_log_checksum, OpNumber(1), log);
  return log;
}

/// `e` sealed as op 1 of a log.
LogEntry first_entry(LogEntry e) { return chained({std::move(e)})[0]; }

/// Makes replica `r` (the primary of `view`) send its own DoViewChange for `view`: a
/// StartViewChange from `voter` completes its quorum of votes (n=3), and its
/// DoViewChange to itself is delivered.
void own_do_view_change(Cluster& c, std::uint32_t r, std::uint64_t view, std::uint32_t voter) {
  c.inject(rep(voter), rep(r), StartViewChange{ViewNumber(view), rep(voter)});
  c.deliver_all(to(r) && is<StartViewChange>());
  REQUIRE(c.deliver_all(to(r) && from(r) && is<DoViewChange>()) == 1);
}

/// The acting primary among live replicas (there must be exactly one in `view`).
std::uint32_t acting_primary(Cluster& c) {
  std::optional<std::uint32_t> p;
  for (std::uint32_t r = 0; r < c.size(); ++r) {
    if (c.up(r) && c.replica(r).is_acting_primary()) {
      REQUIRE_FALSE(p.has_value());
      p = r;
    }
  }
  REQUIRE(p.has_value());
  return *p;
}

void normal_operation(std::uint32_t n) {
  Cluster c(n);
  const ClientId alice(1);
  const ClientId bob(2);
  struct Case {
    ClientId client;
    std::uint64_t request;
    Bytes op;
    KvResult expected;
  };
  const std::vector<Case> cases = {
      {alice, 1, kv_write("x", "1"), kv_ok()},
      {bob, 1, kv_read("x"), kv_value("1")},
      {alice, 2, kv_cas("x", "1", "2"), kv_ok()},
      {bob, 2, kv_cas("x", "1", "3"), KvResult{KvStatus::precondition_failed, std::nullopt}},
      {alice, 3, kv_read("y"), KvResult{KvStatus::not_found, std::nullopt}},
      {bob, 3, kv_read("x"), kv_value("2")},
  };
  for (const auto& k : cases) {
    const Reply reply = call(c, k.client, k.request, k.op, 0);
    CHECK(reply.view == ViewNumber(0));
    CHECK(reply.replica == rep(0));
    CHECK(kv_result(reply.result) == k.expected);
  }
  // Only the primary answers clients: one reply per request.
  CHECK(c.replies(alice).size() == 3);
  CHECK(c.replies(bob).size() == 3);
  // The primary committed everything; backups learn the last commit from a heartbeat.
  CHECK(c.replica(0).commit() == CommitNumber(6));
  heartbeat(c, 0);
  for (std::uint32_t r = 0; r < n; ++r) {
    INFO("replica ", r);
    CHECK(c.replica(r).op() == OpNumber(6));
    CHECK(c.replica(r).commit() == CommitNumber(6));
    CHECK(c.executed_ops(r) == ops_1_to(6));
    CHECK(c.replica(r).log() == c.replica(0).log());
    CHECK(c.replica(r).state_hash() == c.replica(0).state_hash());
  }
  c.require_converged();
}

}  // namespace

// ---------------------------------------------------------------- §4.1 normal operation

TEST_CASE("§4.1 normal operation: commit with n=1") { normal_operation(1); }
TEST_CASE("§4.1 normal operation: commit with n=3") { normal_operation(3); }
TEST_CASE("§4.1 normal operation: commit with n=5") { normal_operation(5); }

TEST_CASE("§4.1 normal operation: a replica's log entries carry the client and request") {
  Cluster c(3);
  call(c, ClientId(42), 7, kv_write("k", "v"), 0);
  heartbeat(c, 0);
  for (std::uint32_t r = 0; r < 3; ++r) {
    CHECK(c.replica(r).entry(OpNumber(1)) == first_entry(entry_of(0, 42, 7, kv_write("k", "v"))));
    REQUIRE(c.node(r).committed.size() == 1);
    CHECK(c.node(r).committed[0].client == ClientId(42));
    CHECK(c.node(r).committed[0].request == RequestNumber(7));
    CHECK(c.replica(r).client_table().at(ClientId(42)).request == RequestNumber(7));
  }
}

TEST_CASE("§4.1 pipelining: many prepares in flight, then all commit in order") {
  Cluster c(3);
  constexpr std::uint64_t count = 10;
  for (std::uint64_t i = 1; i <= count; ++i) {
    c.request(ClientId(i), 1, kv_write("k", std::to_string(i)), 0);
  }
  // Every Prepare reaches every backup before any PrepareOk is delivered.
  c.deliver_all(!is<PrepareOk>());
  CHECK(c.replica(0).op() == OpNumber(count));
  CHECK(c.replica(0).commit() == CommitNumber(0));
  CHECK(c.replica(1).op() == OpNumber(count));
  CHECK(c.replica(2).op() == OpNumber(count));
  CHECK(c.count(is<PrepareOk>()) == 3 * count);
  for (std::uint64_t i = 1; i <= count; ++i) CHECK(c.replies(ClientId(i)).empty());

  // A PrepareOk for op k acknowledges every op up to k: replica 2's last one, plus the
  // primary's own, is a quorum for all ten. Replica 2's alone is not.
  c.deliver_one(is<PrepareOk>() && from(2) && Filter{[](const Envelope& e) {
                  return std::get<PrepareOk>(e.message).op == OpNumber(count);
                }});
  CHECK(c.replica(0).commit() == CommitNumber(0));
  c.deliver_one(is<PrepareOk>() && from(0) && Filter{[](const Envelope& e) {
                  return std::get<PrepareOk>(e.message).op == OpNumber(count);
                }});
  CHECK(c.replica(0).commit() == CommitNumber(count));
  CHECK(c.executed_ops(0) == ops_1_to(count));
  // Replies went out in op order.
  std::vector<std::uint64_t> reply_order;
  for (const auto& e : c.queue()) {
    if (const auto* r = std::get_if<Reply>(&e.message)) reply_order.push_back(r->client.value);
  }
  CHECK(reply_order == ops_1_to(count));
  c.deliver_all();
  heartbeat(c, 0);
  c.require_converged();
  CHECK(static_cast<const KvMachine&>(c.replica(1).machine()).data().at("k") == "10");
}

TEST_CASE("§4.1 pipelining: the primary prepares at most max_pipeline_ops beyond its commit") {
  Cluster c(3);
  const std::uint64_t bound = c.config(0).max_pipeline_ops;
  for (std::uint64_t i = 1; i <= bound + 5; ++i) c.request(ClientId(i), 1, kv_write("k", "v"), 0);
  c.deliver_all(!is<PrepareOk>());
  CHECK(c.replica(0).op() == OpNumber(bound));
  c.deliver_all();
  CHECK(c.replica(0).commit() == CommitNumber(bound));
  // The dropped requests got no reply; their retries are prepared now.
  for (std::uint64_t i = bound + 1; i <= bound + 5; ++i) {
    CHECK(c.replies(ClientId(i)).empty());
    call(c, ClientId(i), 1, kv_write("k", "v"), 0);
  }
  CHECK(c.replica(0).commit() == CommitNumber(bound + 5));
}

TEST_CASE("§4.1 pipelining: a new primary inheriting more than max_pipeline_ops uncommitted ops numbers none until they commit") {
  // The old primary numbered ops 1..P+2 (committing as it went); the backups heard of no
  // commit. The new primary of view 3 inherits P+2 ops above its commit number 0: the
  // window counts them, so a new request waits until they commit.
  Cluster c(3);
  const std::uint64_t bound = c.config(0).max_pipeline_ops;
  std::vector<LogEntry> log;
  for (std::uint64_t k = 1; k <= bound + 2; ++k) log.push_back(entry_of(0, k, 1, kv_write("a", "1")));
  log = chained(log);
  const OpNumber op(bound + 2);
  c.inject(rep(1), rep(0), DoViewChange{ViewNumber(3), ViewNumber(0), op, CommitNumber(0), log, rep(1)});
  c.deliver_all(to(0) && is<DoViewChange>());
  own_do_view_change(c, 0, 3, 1);
  REQUIRE(c.replica(0).is_acting_primary());
  REQUIRE(c.replica(0).op() == op);
  REQUIRE(c.replica(0).commit() == CommitNumber(0));
  c.request(ClientId(1000), 1, kv_write("b", "2"), 0);
  c.deliver_one(is<Request>() && to(0));
  CHECK(c.node(0).last.probes[static_cast<std::size_t>(Probe::pipeline_full)] == 1);
  CHECK(c.replica(0).op() == op);
  c.deliver_all(to(0) && is<PrepareOk>());  // its own
  c.inject(rep(1), rep(0), PrepareOk{ViewNumber(3), op, rep(1)});
  c.deliver_all(to(0) && is<PrepareOk>());
  REQUIRE(c.replica(0).commit() == to_commit(op));
  CHECK(call(c, ClientId(1000), 1, kv_write("b", "2"), 0).view == ViewNumber(3));
  CHECK(c.replica(0).op() == op.next());
}

TEST_CASE("§4.1 a commit needs a quorum of distinct replicas (n=5)") {
  Cluster c(5);
  c.request(ClientId(1), 1, kv_write("x", "1"), 0);
  c.deliver_all(is<Request>());
  c.deliver_all(is<Prepare>() && to(1));
  c.deliver_all(is<PrepareOk>() && from(0));  // the primary's own
  CHECK(c.replica(0).commit() == CommitNumber(0));
  // Backup 1's PrepareOk, ten times: still two distinct replicas, one short of 3.
  REQUIRE(c.duplicate(is<PrepareOk>() && from(1), 9) == 9);
  CHECK(c.deliver_all(is<PrepareOk>() && from(1)) == 10);
  CHECK(c.replica(0).commit() == CommitNumber(0));
  CHECK(c.replies(ClientId(1)).empty());
  // A second distinct backup makes the quorum.
  c.deliver_all(is<Prepare>() && to(2));
  c.deliver_all(is<PrepareOk>() && from(2));
  CHECK(c.replica(0).commit() == CommitNumber(1));
  c.deliver_all(to_client(ClientId(1)));
  REQUIRE(c.replies(ClientId(1)).size() == 1);
  CHECK(kv_result(c.replies(ClientId(1))[0].result) == kv_ok());
}

TEST_CASE("§4.1 a PrepareOk from an older view is not counted in a later view") {
  // Replica 0 becomes primary of view 3 (3 % 3 == 0) from hand-made DoViewChanges;
  // PrepareOks of view 0 for the same op numbers must not commit anything in view 3.
  Cluster c(3);
  const std::vector<LogEntry> log = chained({entry_of(0, 1, 1, kv_write("a", "1")),
                                             entry_of(0, 2, 1, kv_write("b", "2"))});
  c.inject(rep(1), rep(0), DoViewChange{ViewNumber(3), ViewNumber(0), OpNumber(2), CommitNumber(0), log, rep(1)});
  c.inject(rep(2), rep(0), DoViewChange{ViewNumber(3), ViewNumber(0), OpNumber(2), CommitNumber(0), log, rep(2)});
  c.deliver_all(to(0) && is<DoViewChange>());
  own_do_view_change(c, 0, 3, 1);
  REQUIRE(c.replica(0).is_acting_primary());
  REQUIRE(c.replica(0).view() == ViewNumber(3));
  CHECK(c.replica(0).commit() == CommitNumber(0));
  c.inject(rep(1), rep(0), PrepareOk{ViewNumber(0), OpNumber(2), rep(1)});
  c.inject(rep(2), rep(0), PrepareOk{ViewNumber(0), OpNumber(2), rep(2)});
  c.deliver_all(to(0) && is<PrepareOk>() && !from(0));
  c.deliver_all(to(0) && is<PrepareOk>() && from(0));  // its own, for view 3
  CHECK(c.replica(0).commit() == CommitNumber(0));
  c.inject(rep(1), rep(0), PrepareOk{ViewNumber(3), OpNumber(2), rep(1)});
  c.deliver_all(to(0) && is<PrepareOk>());
  CHECK(c.replica(0).commit() == CommitNumber(2));
}

// ---------------------------------------------------------------- §4.2 view changes

TEST_CASE("§4.2 view change after primary silence; committed ops survive") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  call(c, ClientId(1), 2, kv_write("y", "2"), 0);
  heartbeat(c, 0);
  c.isolate(0);
  // The isolated primary can no longer commit: this request stays uncommitted.
  c.request(ClientId(9), 1, kv_write("x", "lost"), 0);
  c.deliver_all();
  CHECK(c.replica(0).op() == OpNumber(3));
  CHECK(c.replica(0).commit() == CommitNumber(2));
  CHECK(c.replies(ClientId(9)).empty());

  silence(c, {1, 2});
  for (std::uint32_t r : {1u, 2u}) {
    INFO("replica ", r);
    CHECK(c.replica(r).view() == ViewNumber(1));
    CHECK(c.replica(r).status() == StatusKind::normal);
    CHECK(c.replica(r).op() == OpNumber(2));
    CHECK(c.replica(r).commit() == CommitNumber(2));
  }
  CHECK(c.config(1).primary_of(ViewNumber(1)) == rep(1));
  CHECK(c.replica(1).is_acting_primary());
  CHECK_FALSE(c.replica(2).is_acting_primary());

  // The new primary serves requests, and the state written in view 0 is there.
  const Reply r1 = call(c, ClientId(1), 3, kv_read("x"), 1);
  CHECK(r1.view == ViewNumber(1));
  CHECK(r1.replica == rep(1));
  CHECK(kv_result(r1.result) == kv_value("1"));
  CHECK(kv_result(call(c, ClientId(1), 4, kv_read("y"), 1).result) == kv_value("2"));

  // The old primary rejoins in view 1 and drops its uncommitted op.
  c.heal();
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
  CHECK(c.replica(0).view() == ViewNumber(1));
  CHECK(c.replica(0).op() == OpNumber(4));
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(c.executions(r, ClientId(9), 1) == 0);
}

TEST_CASE("§4.2 facts: a view change and a late join leave the replicas typed, with their durations") {
  using enum StatusKind;
  Cluster c(3);
  c.isolate(0);
  c.tick(0, 5);  // r0 leads view 0 for 5 ticks, unheard
  c.tick(1, c.timeouts().primary_silence_ticks);  // r1 suspects r0: a view change to view 1
  c.tick(1, 3);
  c.tick(2, c.timeouts().primary_silence_ticks);
  c.deliver_all();
  REQUIRE(c.replica(1).is_acting_primary());
  const ViewNumber v1(1);
  // r1, the new primary: its view change took the 3 ticks it waited for r2's vote.
  CHECK(c.node(1).facts == std::vector<Fact>{StatusChanged{normal, view_change}, ViewChangeStarted{v1},
                                             DoViewChangeSent{v1, rep(1)}, StatusChanged{view_change, normal},
                                             LeadershipStarted{v1}, ViewChangeCompleted{v1, 3}});
  CHECK(c.node(2).facts == std::vector<Fact>{StatusChanged{normal, view_change}, ViewChangeStarted{v1},
                                             DoViewChangeSent{v1, rep(1)}, StatusChanged{view_change, normal},
                                             ViewChangeCompleted{v1, 0}});
  // r0 hears view 1's primary and joins it late, by state transfer.
  c.heal();
  heartbeat(c, 1);
  CHECK(c.replica(0).view() == v1);
  CHECK(c.replica(0).status() == normal);
  CHECK(c.node(0).facts == std::vector<Fact>{LeadershipStarted{ViewNumber(0)}, LeadershipStopped{ViewNumber(0), 5},
                                             StatusChanged{normal, state_transfer}, StateTransferStarted{v1},
                                             StateTransferRequested{rep(1), OpNumber(0)},
                                             StateTransferReceived{rep(1), 0}, StatusChanged{state_transfer, normal}});
}

TEST_CASE("§4.3 facts: recovery completes with its duration; facts accumulate until taken") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  c.wipe_and_recover(2, Nonce(5));
  c.node(2).facts.clear();
  c.tick(2, 4);
  c.deliver_all();
  REQUIRE(c.replica(2).status() == StatusKind::normal);
  CHECK(c.node(2).facts == std::vector<Fact>{StatusChanged{StatusKind::recovering, StatusKind::normal},
                                             RecoveryCompleted{ViewNumber(0), 4}});
  // A driver that takes the output only now and then gets every fact since, in order.
  Replica& r = c.replica(2);
  r.step(StartViewChange{ViewNumber(1), rep(1)});
  r.step(Request{ClientId(1), RequestNumber(2), kv_write("x", "2")});  // a backup: dropped
  r.step(StartViewChange{ViewNumber(9), rep(7)});
  const Output o = r.take_output();
  CHECK(o.facts == std::vector<Fact>{StatusChanged{StatusKind::normal, StatusKind::view_change},
                                     ViewChangeStarted{ViewNumber(1)}, DoViewChangeSent{ViewNumber(1), rep(1)},
                                     MessageRejected{rep(7), RejectReason::unknown_replica}});
  CHECK(facts_agree_with_events(o));
}

TEST_CASE("§4.2 log selection: the highest last-normal view wins over the longest log") {
  // Replica 0 is the new primary of view 3. Replica 1's log was last normal in view 2
  // (2 ops); replica 2's in view 1 (4 ops, more than replica 1's). Op 1 is committed.
  Cluster c(3);
  const LogEntry e1 = entry_of(0, 1, 1, kv_write("a", "1"));
  const std::vector<LogEntry> newer = chained({e1, entry_of(2, 2, 1, kv_write("b", "new"))});
  std::vector<LogEntry> older = {e1};
  for (std::uint64_t k = 2; k <= 4; ++k) older.push_back(entry_of(1, 3, k, kv_write("b", "old")));
  older = chained(older);

  SUBCASE("higher last-normal view, fewer ops") {
    c.inject(rep(2), rep(0), DoViewChange{ViewNumber(3), ViewNumber(1), OpNumber(4), CommitNumber(1), older, rep(2)});
    c.inject(rep(1), rep(0), DoViewChange{ViewNumber(3), ViewNumber(2), OpNumber(2), CommitNumber(1), newer, rep(1)});
    c.deliver_all(to(0));
    // Two DoViewChanges make f+1, but not "including itself" (§4.2): it waits for its own,
    // which leaves only once its vote for view 3 is durable.
    CHECK(c.replica(0).status() == StatusKind::view_change);
    CHECK(c.replica(0).view() == ViewNumber(3));
    own_do_view_change(c, 0, 3, 1);
    REQUIRE(c.replica(0).is_acting_primary());
    CHECK(c.replica(0).view() == ViewNumber(3));
    CHECK(c.replica(0).log() == newer);
    CHECK(c.replica(0).commit() == CommitNumber(1));
    // Its StartView carries the chosen log to both backups.
    REQUIRE(c.queued<StartView>(from(0)).size() == 2);
    for (const auto& s : c.queued<StartView>(from(0))) {
      CHECK(s.view == ViewNumber(3));
      CHECK(s.log == newer);
      CHECK(s.op == OpNumber(2));
    }
    // The backups adopt it.
    c.deliver_all();
    for (std::uint32_t r : {1u, 2u}) CHECK(c.replica(r).log() == newer);
  }
  SUBCASE("equal last-normal views: the longer log wins") {
    std::vector<LogEntry> longer = {e1};
    for (std::uint64_t k = 2; k <= 4; ++k) longer.push_back(entry_of(2, 3, k, kv_write("c", "3")));
    longer = chained(longer);
    c.inject(rep(1), rep(0), DoViewChange{ViewNumber(3), ViewNumber(2), OpNumber(2), CommitNumber(1), newer, rep(1)});
    c.inject(rep(2), rep(0), DoViewChange{ViewNumber(3), ViewNumber(2), OpNumber(4), CommitNumber(1), longer, rep(2)});
    c.deliver_all(to(0) && is<DoViewChange>());
    own_do_view_change(c, 0, 3, 1);
    REQUIRE(c.replica(0).is_acting_primary());
    CHECK(c.replica(0).log() == longer);
  }
}

namespace {

/// A cluster whose replicas ship log suffixes of at most `pipeline` entries.
Cluster with_pipeline(std::uint32_t n, std::uint32_t pipeline) {
  return Cluster(n, {}, [pipeline](Config& cfg) { cfg.max_pipeline_ops = pipeline; });
}

std::uint32_t probe(Cluster& c, std::uint32_t r, Probe p) {
  return c.node(r).probes[static_cast<std::size_t>(p)];
}

/// Commits ops 1..n through replica 0 (client 1), and lets every backup learn it.
void commit_ops(Cluster& c, std::uint64_t n) {
  for (std::uint64_t k = 1; k <= n; ++k) call(c, ClientId(1), k, kv_write("x", std::to_string(k)), 0);
  heartbeat(c, 0);
}

}  // namespace

TEST_CASE("§4.2 bounded view change: DoViewChange and StartView carry max_pipeline_ops entries; a matching prefix needs no fetch") {
  Cluster c = with_pipeline(3, 4);
  commit_ops(c, 10);
  c.isolate(0);
  for (std::uint32_t r : {1u, 2u}) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all(!is<DoViewChange>());
  const auto votes = c.queued<DoViewChange>(to(1));
  REQUIRE(votes.size() == 2);
  for (const DoViewChange& d : votes) {
    CHECK(d.op == OpNumber(10));
    CHECK(d.log.size() == 4);  // ops 7..10
    CHECK(d.parent == c.replica(1).entry(OpNumber(6)).checksum);
    CHECK(d.log.front() == c.replica(1).entry(OpNumber(7)));
  }
  c.deliver_all();
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(c.replica(1).view() == ViewNumber(1));
  CHECK(probe(c, 1, Probe::view_change_new_primary_fetches) == 0);
  CHECK(probe(c, 2, Probe::start_view_prefix_unproven) == 0);
  CHECK(c.replica(2).status() == StatusKind::normal);
  CHECK(c.replica(2).log() == c.replica(1).log());
  CHECK(call(c, ClientId(1), 11, kv_read("x"), 1).view == ViewNumber(1));
}

TEST_CASE("§4.2 bounded view change: the new primary fetches the chosen log's prefix, checked by checksum, before StartView") {
  Cluster c = with_pipeline(3, 4);
  // r1 hears nothing while r0 and r2 commit 10 ops; then r0 goes silent.
  c.isolate(1);
  commit_ops(c, 10);
  c.partition({{0}, {1, 2}});
  for (std::uint32_t r : {1u, 2u}) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all(!is<Entries>());
  // r1, view 1's primary, chose r2's log (ops 1..10; it holds none): it asked for the
  // entries below r2's suffix (ops 7..10), and is not primary until they arrive.
  CHECK(probe(c, 1, Probe::view_change_new_primary_fetches) == 1);
  CHECK(c.replica(1).status() == StatusKind::view_change);
  CHECK(c.count(is<StartView>()) == 0);
  const auto runs = c.queued<Entries>(to(1));
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].last == OpNumber(6));
  CHECK(runs[0].entries.size() == 6);
  // A run that does not end in the wanted checksum is not taken (another log's ops 1..6).
  std::vector<LogEntry> other;
  for (std::uint64_t k = 1; k <= 6; ++k) other.push_back(entry_of(0, 9, k, kv_write("y", "1")));
  other = chained(other);
  c.inject(rep(2), rep(1), Entries{OpNumber(6), empty_log_checksum, other, rep(2)});
  c.deliver_all(is<Entries>() && from(2) && Filter{[&](const Envelope& e) {
                  return std::get<Entries>(e.message).entries == other;
                }});
  CHECK(c.replica(1).status() == StatusKind::view_change);
  CHECK(c.replica(1).op() == OpNumber(0));
  c.deliver_all();
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(probe(c, 1, Probe::view_change_fetch_completed) == 1);
  CHECK(c.replica(1).log() == c.replica(2).log());
  CHECK(c.replica(1).op() == OpNumber(10));
  CHECK(c.replica(1).commit() == CommitNumber(10));
  CHECK(c.executed_ops(1) == ops_1_to(10));
  CHECK(c.node(1).disk().log == c.replica(2).log());
  CHECK(call(c, ClientId(1), 11, kv_read("x"), 1).view == ViewNumber(1));
}

TEST_CASE("§4.2 bounded view change: a backup that cannot prove its prefix matches the StartView joins by state transfer") {
  Cluster c = with_pipeline(3, 4);
  c.isolate(2);
  commit_ops(c, 10);
  c.partition({{0}, {1, 2}});
  for (std::uint32_t r : {1u, 2u}) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all();
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(probe(c, 1, Probe::view_change_new_primary_fetches) == 0);  // its own log won
  // r2 (no ops) got ops 7..10 in the StartView, and the rest by state transfer (§5.2).
  CHECK(probe(c, 2, Probe::start_view_prefix_unproven) == 1);
  CHECK(c.replica(2).status() == StatusKind::normal);
  CHECK(c.replica(2).view() == ViewNumber(1));
  CHECK(c.replica(2).log() == c.replica(1).log());
  CHECK(c.executed_ops(2) == ops_1_to(10));
}

TEST_CASE("§4.2 bounded view change: every message fits max_message_bytes; a request whose entry would not is rejected") {
  Cluster c(3, {}, [](Config& cfg) {
    cfg.max_pipeline_ops = 8;
    cfg.max_message_bytes = 1024;
  });
  const std::string value(150, 'v');  // an entry of about 200 bytes: 4 fit 1024 bytes
  for (std::uint64_t k = 1; k <= 10; ++k) call(c, ClientId(1), k, kv_write("x", value), 0);
  heartbeat(c, 0);
  c.isolate(0);
  for (std::uint32_t r : {1u, 2u}) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all(!is<DoViewChange>());
  for (const DoViewChange& d : c.queued<DoViewChange>(to(1))) {
    CHECK(d.log.size() == 4);  // fewer than max_pipeline_ops: the bytes bound first
    CHECK(encoded_size(d) <= 1024);
  }
  c.deliver_all();
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(c.replica(2).log() == c.replica(1).log());
  for (const Envelope& e : c.delivered()) CHECK(encoded_size(e.message) <= 1024);
  // A request whose entry would not fit a message with entries is refused.
  c.request(ClientId(2), 1, kv_write("y", std::string(1000, 'w')), 1);
  c.deliver_all();
  CHECK(c.node(1).facts.back() == Fact{MessageRejected{std::nullopt, RejectReason::too_large}});
  CHECK(c.replica(1).op() == OpNumber(10));
}

TEST_CASE("§4.2 the new primary waits for a quorum of distinct DoViewChanges (n=5)") {
  Cluster c(5);
  for (std::uint64_t k = 1; k <= 3; ++k) call(c, ClientId(1), k, kv_write("k" + std::to_string(k), "v"), 0);
  // No heartbeat: the backups know commit 2 (from the third Prepare); op 3 is committed
  // at the old primary only.
  CHECK(c.replica(0).commit() == CommitNumber(3));
  CHECK(c.replica(1).commit() == CommitNumber(2));
  c.isolate(0);
  for (std::uint32_t r = 1; r <= 4; ++r) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all(!is<DoViewChange>());
  REQUIRE(c.count(is<DoViewChange>() && to(1)) == 4);
  CHECK(c.replica(1).status() == StatusKind::view_change);

  // Its own DoViewChange, three times: one vote.
  c.duplicate(is<DoViewChange>() && from(1), 2);
  CHECK(c.deliver_all(is<DoViewChange>() && from(1)) == 3);
  CHECK(c.replica(1).status() == StatusKind::view_change);
  // Replica 2's, five times: two votes, one short of the quorum of 3.
  c.duplicate(is<DoViewChange>() && from(2), 4);
  CHECK(c.deliver_all(is<DoViewChange>() && from(2)) == 5);
  CHECK(c.replica(1).status() == StatusKind::view_change);
  // A third distinct replica completes the quorum.
  c.deliver_one(is<DoViewChange>() && from(3));
  CHECK(c.replica(1).status() == StatusKind::normal);
  CHECK(c.replica(1).is_acting_primary());
  CHECK(c.replica(1).view() == ViewNumber(1));
  // It starts with every committed op, including op 3 that only the old primary knew
  // was committed, and commits it in view 1.
  REQUIRE(c.replica(1).op() == OpNumber(3));
  for (std::uint64_t k = 1; k <= 3; ++k) CHECK(c.replica(1).entry(OpNumber(k)) == c.committed_log()[k - 1]);
  c.deliver_all();
  CHECK(c.replica(1).commit() == CommitNumber(3));
  heartbeat(c, 1);
  for (std::uint32_t r = 1; r <= 4; ++r) CHECK(c.replica(r).commit() == CommitNumber(3));
  c.heal();
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
}

TEST_CASE("§4.2 a replica restarted in the middle of a view change resumes it") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  c.partition({{0}, {1}, {2}});
  silence(c, {2});  // replica 2 moves to view 1 alone: no quorum yet
  CHECK(c.replica(2).status() == StatusKind::view_change);
  CHECK(c.replica(1).view() == ViewNumber(0));
  c.crash(2);
  c.restart(2);
  CHECK(c.replica(2).view() == ViewNumber(1));
  CHECK(c.replica(2).status() == StatusKind::view_change);
  // Its renewed StartViewChange brings replica 1 into view 1, which it then leads.
  c.partition({{0}, {1, 2}});
  c.deliver_all();
  CHECK(c.replica(1).is_acting_primary());
  CHECK(c.replica(2).view() == ViewNumber(1));
  CHECK(kv_result(call(c, ClientId(1), 2, kv_read("x"), 1).result) == kv_value("1"));
}

TEST_CASE("§4.2 a new primary acts only once its own vote for the view is durable") {
  // Found by the randomized test (n=3, seed 167). Replica 1 gets DoViewChanges for view 1
  // from replicas 0 and 2 while its own vote for view 1 is still an unfinished write.
  // Were it to lead view 1 at once, its Prepares would hand view-1 state to replica 0; a
  // crash then loses the vote, and replica 1 could form view 1 again with another log.
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  c.hold_persist(1);
  c.crash(0);
  c.restart(0);  // a restarted primary moves on to view 1
  c.deliver_all();
  REQUIRE(c.count(is<DoViewChange>()) == 0);
  CHECK(c.replica(1).view() == ViewNumber(1));
  CHECK(c.replica(1).status() == StatusKind::view_change);
  CHECK_FALSE(c.replica(1).is_acting_primary());

  // Replica 1 is asked to prepare; replica 0 hears whatever it sends; replica 2 does not.
  c.request(ClientId(2), 1, kv_write("x", "X"), 1);
  c.deliver_all(is<Request>());
  c.drop(to(2));
  c.deliver_all(!to(2));
  c.drop(to(2));
  c.crash(1);  // loses its vote for view 1 and all that followed
  c.restart(1);
  // Replica 2, still changing views, re-sends its votes; replica 1 joins view 1 again.
  c.tick(2, c.timeouts().view_change_resend_ticks);
  c.deliver_all();
  c.settle(c.timeouts().view_change_timeout_ticks);
  const std::uint32_t p = acting_primary(c);
  call(c, ClientId(3), 1, kv_write("x", "Y"), p);
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
  CHECK(static_cast<const KvMachine&>(c.replica(0).machine()).data().at("x") == "Y");
}

TEST_CASE("§4.2 a primary restarted in the middle of its own view's start leads it no more") {
  // Found by the randomized test (n=5, seed 41). Replica 1 becomes primary of view 1 (its
  // vote durable), but the write that makes view 1 its last normal view is in flight when
  // it crashes; meanwhile a Prepare of view 1 led replica 2 to fetch its log. Resuming the
  // view change of view 1 as its primary would let it form view 1 a second time.
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  c.isolate(0);
  for (std::uint32_t r : {1u, 2u}) c.tick(r, c.timeouts().primary_silence_ticks);
  c.deliver_all(!is<DoViewChange>());
  REQUIRE(c.count(is<DoViewChange>() && to(1)) == 2);
  c.hold_persist(1);
  c.deliver_all(is<DoViewChange>());
  REQUIRE(c.replica(1).is_acting_primary());
  c.request(ClientId(2), 1, kv_write("x", "X"), 1);
  c.deliver_all();
  CHECK(c.replica(2).view() == ViewNumber(1));
  CHECK(c.replica(2).status() == StatusKind::normal);
  CHECK(c.replica(2).op() == OpNumber(2));
  c.crash(1);
  CHECK(c.node(1).disk().state.view == ViewNumber(1));
  CHECK(c.node(1).disk().state.last_normal_view == ViewNumber(0));
  c.restart(1);
  CHECK(c.replica(1).view() > ViewNumber(1));
  c.heal();
  c.deliver_all();
  c.settle(c.timeouts().view_change_timeout_ticks * 2);
  const std::uint32_t p = acting_primary(c);
  call(c, ClientId(3), 1, kv_write("x", "Y"), p);
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
  CHECK(static_cast<const KvMachine&>(c.replica(0).machine()).data().at("x") == "Y");
}

// ---------------------------------------------------------------- §5.2 repair and state transfer

TEST_CASE("§5.2 a backup with a gap catches up by repair, executing each op once, in order") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  std::vector<Envelope> dropped;
  for (std::uint64_t k = 2; k <= 3; ++k) {
    c.request(ClientId(1), k, kv_cas("x", std::to_string(k - 1), std::to_string(k)), 0);
    c.deliver_all(is<Request>());
    for (const auto& e : c.queue()) {
      if (is<Prepare>()(e) && to(2)(e)) dropped.push_back(e);
    }
    REQUIRE(c.drop(is<Prepare>() && to(2)) == 1);
    c.deliver_all();
  }
  CHECK(c.replica(0).commit() == CommitNumber(3));
  CHECK(c.replica(2).op() == OpNumber(1));
  // Op 4 reveals the gap to replica 2, which asks for ops 2.. and gets them.
  call(c, ClientId(1), 4, kv_cas("x", "3", "4"), 0);
  call(c, ClientId(1), 5, kv_cas("x", "4", "5"), 0);
  bool asked = false;
  for (const auto& e : c.delivered()) asked = asked || (is<GetState>()(e) && from(2)(e));
  CHECK(asked);
  CHECK(c.replica(2).op() == OpNumber(5));
  // The dropped Prepares show up late: they must change nothing.
  for (const auto& e : dropped) c.inject(e.from, e.to, e.message);
  c.deliver_all();
  heartbeat(c, 0);
  CHECK(c.executed_ops(2) == ops_1_to(5));
  for (const auto& x : c.node(2).committed) CHECK(kv_result(x.result) == kv_ok());
  c.require_converged();
  CHECK(static_cast<const KvMachine&>(c.replica(2).machine()).data().at("x") == "5");
}

TEST_CASE("§5.2 state transfer: a replica partitioned away during a view change rejoins") {
  // n=5. Replica 4 holds an op of view 0 that never committed; views move on without it.
  Cluster c(5);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  call(c, ClientId(1), 2, kv_write("x", "2"), 0);
  heartbeat(c, 0);
  c.request(ClientId(2), 1, kv_write("x", "A"), 0);
  c.deliver_all(is<Request>());
  c.drop(is<Prepare>() && !to(4));
  c.deliver_all();
  CHECK(c.replica(4).op() == OpNumber(3));
  CHECK(c.replica(0).commit() == CommitNumber(2));

  c.partition({{0, 4}, {1, 2, 3}});
  silence(c, {1, 2, 3});
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(c.replica(1).view() == ViewNumber(1));
  call(c, ClientId(3), 1, kv_write("x", "B"), 1);
  call(c, ClientId(3), 2, kv_write("y", "C"), 1);
  heartbeat(c, 1);
  CHECK(c.replica(4).view() == ViewNumber(0));
  CHECK(c.replica(4).entry(OpNumber(3)).client == ClientId(2));

  c.heal();
  c.tick(1, c.timeouts().heartbeat_ticks);
  // The view-1 heartbeat tells replicas 0 and 4 a higher view exists: they ask the new
  // primary for its log after their commit number. Their own op 3 is unproven in view 1:
  // it is neither executed nor acknowledged, and it is kept only as their view-0 log
  // until view 1's log replaces it.
  c.deliver_all(is<Commit>());
  for (std::uint32_t r : {0u, 4u}) {
    INFO("replica ", r);
    CHECK(c.replica(r).status() == StatusKind::state_transfer);
    CHECK(c.replica(r).view() == ViewNumber(1));
    CHECK(c.replica(r).last_normal_view() == ViewNumber(0));
    CHECK(c.replica(r).commit() == CommitNumber(2));
  }
  for (const auto& g : c.queued<GetState>()) CHECK(g.op == OpNumber(2));
  CHECK(c.count(is<PrepareOk>() && (from(0) || from(4))) == 0);
  c.deliver_all();
  c.require_converged();
  for (std::uint32_t r = 0; r < 5; ++r) {
    INFO("replica ", r);
    CHECK(c.replica(r).view() == ViewNumber(1));
    CHECK(c.replica(r).entry(OpNumber(3)).client == ClientId(3));
    CHECK(c.executions(r, ClientId(2), 1) == 0);
  }
  CHECK(c.executed_ops(4) == ops_1_to(4));
}

TEST_CASE("§5.2 a replica in state transfer still reports its whole last-normal-view log") {
  // Found by the randomized test (n=3, seed 600). Op 2 is committed in view 0 by replicas
  // 0 and 1; replica 0 crashes before its commit number 2 is durable. It then learns of
  // view 1 from a heartbeat and starts a state transfer. Were it to cut its log back to
  // its commit number (1) while still reporting view 0 as its last normal view, its
  // DoViewChange for view 2 would disown op 2, and view 2 (replicas 0 and 2) lose it.
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  const Bytes op_a = kv_write("x", "A");
  c.request(ClientId(2), 1, op_a, 0);
  c.deliver_all(is<Request>());
  c.drop(is<Prepare>() && to(2));
  c.deliver_all(is<Prepare>() && to(1));
  c.hold_persist(0);  // op 2 itself is durable at replica 0; its commit will not be
  c.deliver_all(is<PrepareOk>());
  REQUIRE(c.replica(0).commit() == CommitNumber(2));
  c.deliver_all(to_client(ClientId(2)));
  REQUIRE(c.replies(ClientId(2)).size() == 1);  // the client was told it is done
  c.crash(0);
  REQUIRE(c.node(0).disk().log.size() == 2);
  REQUIRE(c.node(0).disk().state.commit == CommitNumber(1));

  // View 1 forms at replica 1 from replicas 0 and 1; replica 2 hears nothing.
  c.partition({{0, 1}, {2}});
  c.restart(0);
  c.deliver_all(!is<StartView>());
  c.drop(is<StartView>());
  REQUIRE(c.replica(1).is_acting_primary());
  REQUIRE(c.replica(1).view() == ViewNumber(1));
  // Replica 0 learns of view 1 from a heartbeat, but its state transfer never completes.
  c.tick(1, c.timeouts().heartbeat_ticks);
  c.deliver_all(is<Commit>());
  REQUIRE(c.replica(0).status() == StatusKind::state_transfer);
  c.drop(any());

  // Replica 1 is gone; replicas 0 and 2 form view 2 (primary 2).
  c.crash(1);
  c.partition({{0, 2}, {1}});
  c.tick(0, c.timeouts().primary_silence_ticks);
  c.deliver_all();
  REQUIRE(c.replica(2).is_acting_primary());
  REQUIRE(c.replica(2).view() == ViewNumber(2));
  // View 2 keeps op 2, which was committed (and answered) in view 0.
  REQUIRE(c.replica(2).op() >= OpNumber(2));
  CHECK(c.replica(2).entry(OpNumber(2)).operation == op_a);
  call(c, ClientId(3), 1, kv_write("x", "B"), 2);
  c.restart(1);
  c.heal();
  c.settle(c.timeouts().view_change_timeout_ticks * 2);
  c.require_converged();
  CHECK(static_cast<const KvMachine&>(c.replica(1).machine()).data().at("x") == "B");
}

// ---------------------------------------------------------------- §4.3 recovery

TEST_CASE("§4.3 recovery after total state loss; responses with a wrong nonce are ignored") {
  Cluster c(3);
  for (std::uint64_t k = 1; k <= 3; ++k) call(c, ClientId(1), k, kv_write("x", std::to_string(k)), 0);
  heartbeat(c, 0);
  const Nonce nonce(77);
  c.wipe_and_recover(2, nonce);
  CHECK(c.replica(2).status() == StatusKind::recovering);
  CHECK(c.replica(2).op() == OpNumber(0));
  REQUIRE(c.count(is<Recovery>() && from(2)) == 2);

  // Answers to an older recovery (another nonce) must not be taken.
  c.inject(rep(0), rep(2), RecoveryResponse{ViewNumber(0), Nonce(76), true, OpNumber(3), CommitNumber(3), c.replica(0).log(), rep(0)});
  c.inject(rep(1), rep(2), RecoveryResponse{ViewNumber(0), Nonce(76), false, OpNumber(0), CommitNumber(0), {}, rep(1)});
  c.deliver_all(to(2));
  CHECK(c.replica(2).status() == StatusKind::recovering);
  CHECK(c.replica(2).op() == OpNumber(0));

  // A recovering replica takes no part: it does not acknowledge Prepares.
  c.request(ClientId(1), 4, kv_write("x", "4"), 0);
  c.deliver_all(is<Request>() || is<Prepare>());
  CHECK(c.count(is<PrepareOk>() && from(2)) == 0);
  CHECK(c.replica(2).op() == OpNumber(0));
  c.deliver_all(!is<Recovery>());
  CHECK(c.replica(0).commit() == CommitNumber(4));

  // A backup's answer alone is not enough: it needs the primary's log.
  c.deliver_all(is<Recovery>() && to(1));
  c.deliver_all(is<RecoveryResponse>());
  CHECK(c.replica(2).status() == StatusKind::recovering);
  c.deliver_all();
  CHECK(c.replica(2).status() == StatusKind::normal);
  CHECK(c.replica(2).view() == ViewNumber(0));
  heartbeat(c, 0);
  c.require_converged();
  CHECK(c.executed_ops(2) == ops_1_to(4));
  CHECK(c.node(2).disk().log == c.replica(0).log());
}

TEST_CASE("§4.3 recovery fetches the primary's log below its suffix, and stays recovering until it holds it") {
  Cluster c = with_pipeline(3, 4);
  commit_ops(c, 10);
  c.wipe_and_recover(2, Nonce(9));
  c.deliver_all(!is<Entries>());
  CHECK(probe(c, 2, Probe::recovery_fetches) == 1);
  CHECK(c.replica(2).status() == StatusKind::recovering);
  REQUIRE(c.count(is<Entries>() && to(2)) == 1);
  c.deliver_all();
  CHECK(c.replica(2).status() == StatusKind::normal);
  CHECK(c.replica(2).log() == c.replica(0).log());
  CHECK(c.executed_ops(2) == ops_1_to(10));
  heartbeat(c, 0);
  c.require_converged();
}

TEST_CASE("§4.3 a recovering replica waits for the primary of the latest view (n=5)") {
  Cluster c(5);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  c.partition({{0, 4}, {1, 2, 3}});
  silence(c, {1, 2, 3});
  REQUIRE(c.replica(1).is_acting_primary());
  call(c, ClientId(1), 2, kv_write("x", "2"), 1);
  heartbeat(c, 1);
  c.heal();
  // Replica 3 loses everything. Replicas 0 and 4 have not heard of view 1; replica 0
  // still believes it is the primary of view 0 and answers with its (stale) log.
  c.wipe_and_recover(3, Nonce(5));
  c.deliver_all(is<Recovery>() && (to(0) || to(4) || to(2)));
  c.deliver_all(is<RecoveryResponse>());
  // f+1 = 3 answers, the highest view among them is 1, and its primary has not answered.
  CHECK(c.replica(3).status() == StatusKind::recovering);
  CHECK(c.replica(3).op() == OpNumber(0));
  c.deliver_all();
  CHECK(c.replica(3).status() == StatusKind::normal);
  CHECK(c.replica(3).view() == ViewNumber(1));
  CHECK(c.replica(3).log() == c.replica(1).log());
  CHECK(c.replica(3).op() == OpNumber(2));
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
}

// ---------------------------------------------------------------- §4 client table

TEST_CASE("§4 client table: a retried write runs once, even across a view change") {
  Cluster c(3);
  const ClientId writer(7);
  call(c, ClientId(1), 1, kv_write("x", "0"), 0);
  // The cas is prepared everywhere, but no backup's PrepareOk reaches the primary.
  c.request(writer, 1, kv_cas("x", "0", "1"), 0);
  c.deliver_all(is<Request>() || is<Prepare>());
  c.drop(is<PrepareOk>() && !from(0));
  c.deliver_all();
  CHECK(c.replica(0).commit() == CommitNumber(1));
  CHECK(c.replies(writer).empty());

  c.isolate(0);
  // The client retries to everyone; the old primary is busy preparing it, the others
  // are not primaries.
  for (std::uint32_t r = 0; r < 3; ++r) c.request(writer, 1, kv_cas("x", "0", "1"), r);
  c.deliver_all();
  CHECK(c.replies(writer).empty());
  CHECK(c.replica(0).op() == OpNumber(2));

  silence(c, {1, 2});
  REQUIRE(c.replica(1).is_acting_primary());
  // The new primary committed the op it inherited and answered the client.
  REQUIRE(c.replies(writer).size() == 1);
  CHECK(c.replies(writer)[0].view == ViewNumber(1));
  CHECK(kv_result(c.replies(writer)[0].result) == kv_ok());
  // A later retry gets the cached reply, not a second execution.
  const Reply again = call(c, writer, 1, kv_cas("x", "0", "1"), 1);
  CHECK(kv_result(again.result) == kv_ok());
  CHECK(c.replica(1).op() == OpNumber(2));
  // Once the client moved on, a late copy of the old request gets no answer at all.
  CHECK(kv_result(call(c, writer, 2, kv_read("x"), 1).result) == kv_value("1"));
  c.request(writer, 1, kv_cas("x", "0", "1"), 1);
  c.deliver_all();
  CHECK(c.replies(writer).size() == 3);
  CHECK(c.replica(1).op() == OpNumber(3));

  c.heal();
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
  for (std::uint32_t r = 0; r < 3; ++r) {
    INFO("replica ", r);
    CHECK(c.executions(r, writer, 1) == 1);
  }
  CHECK(static_cast<const KvMachine&>(c.replica(0).machine()).data().at("x") == "1");
}

TEST_CASE("§4 client table: a retry the new primary never saw is prepared again, and runs once") {
  Cluster c(3);
  const ClientId writer(7);
  c.request(writer, 1, kv_write("x", "1"), 0);
  c.deliver_all(is<Request>());
  c.drop(is<Prepare>());  // only the old primary has it
  c.isolate(0);
  silence(c, {1, 2});
  REQUIRE(c.replica(1).is_acting_primary());
  const Reply reply = call(c, writer, 1, kv_write("x", "1"), 1);
  CHECK(reply.view == ViewNumber(1));
  c.heal();
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(c.executions(r, writer, 1) == 1);
}

// ---------------------------------------------------------------- persistence and restarts

TEST_CASE("checkpoints: every replica takes the same checkpoint at every interval, and a restart resumes from it") {
  Cluster c(3, {}, [](Config& cfg) { cfg.checkpoint_interval_ops = 4; });
  for (std::uint64_t k = 1; k <= 10; ++k) {
    call(c, ClientId(1 + k % 3), k, kv_write("x" + std::to_string(k % 2), std::to_string(k)), 0);
  }
  heartbeat(c, 0);
  for (std::uint32_t r = 0; r < 3; ++r) {
    INFO("replica ", r);
    CHECK(c.replica(r).checkpoint_op() == OpNumber(8));
    CHECK(probe(c, r, Probe::checkpoint_taken) == 2);  // ops 4 and 8
    REQUIRE(c.node(r).disk().checkpoint.has_value());
    const Checkpoint& cp = *c.node(r).disk().checkpoint;
    CHECK(cp.op == OpNumber(8));
    CHECK(cp.checksum == c.replica(r).entry(OpNumber(8)).checksum);
    CHECK(cp == *c.node(0).disk().checkpoint);  // the same state, client table and hash
    CHECK(cp.clients.size() == 3);
  }
  // A restart restores the snapshot and client table, and re-executes ops 9..10 only.
  const std::uint64_t hash = c.replica(1).state_hash();
  c.crash(1);
  c.restart(1);
  CHECK(probe(c, 1, Probe::restart_from_checkpoint) == 1);
  CHECK(c.replica(1).state_hash() == hash);
  CHECK(c.replica(1).commit() == CommitNumber(10));
  CHECK(c.replica(1).client_table() == c.replica(0).client_table());
  // The restored client table still answers a retry from the cached reply, once.
  c.crash(0);
  c.restart(0);  // r0 moves on; r1 leads view 1
  c.deliver_all();
  REQUIRE(c.replica(1).is_acting_primary());
  const Reply again = call(c, ClientId(2), 10, kv_write("x0", "10"), 1);
  CHECK(kv_result(again.result) == kv_ok());
  CHECK(c.replica(1).op() == OpNumber(10));
  CHECK(call(c, ClientId(1), 11, kv_read("x0"), 1).view == ViewNumber(1));
  heartbeat(c, 1);
  c.require_converged();
}

TEST_CASE("checkpoints: a crash while a checkpoint write is in flight loses nothing acknowledged") {
  Cluster c(3, {}, [](Config& cfg) { cfg.checkpoint_interval_ops = 2; });
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  c.hold_persist(2);
  call(c, ClientId(1), 2, kv_write("x", "2"), 0);  // r0 and r1 commit it
  heartbeat(c, 0);                                  // r2 executes op 2: checkpoint at 2, held
  REQUIRE(c.replica(2).checkpoint_op() == OpNumber(2));
  CHECK_FALSE(c.node(2).disk().checkpoint.has_value());
  c.crash(2);
  c.restart(2);
  CHECK(probe(c, 2, Probe::restart_from_checkpoint) == 0);
  c.deliver_all();
  heartbeat(c, 0);
  c.require_converged();
  CHECK(c.replica(2).checkpoint_op() == OpNumber(2));  // taken again on re-execution
  c.flush_persist(2);
  CHECK(c.node(2).disk().checkpoint.has_value());
}

// ---------------------------------------------------------------- compaction and snapshots (issue 15)

namespace {

/// Checkpoints every `interval` ops, `retention` entries kept below each, suffixes of
/// at most `pipeline` entries, snapshot chunks of at most `chunk` bytes (0: unbounded).
Cluster compacting(std::uint32_t n, std::uint32_t interval, std::uint32_t retention,
                   std::uint32_t pipeline = 64, std::uint32_t chunk = 0) {
  return Cluster(n, {}, [=](Config& cfg) {
    cfg.checkpoint_interval_ops = interval;
    cfg.log_retention_ops = retention;
    cfg.max_pipeline_ops = pipeline;
    cfg.snapshot_chunk_bytes = chunk;
  });
}

/// Commits ops first..last through replica `primary` (client 1), without a heartbeat.
void write_ops(Cluster& c, std::uint64_t first, std::uint64_t last, std::uint32_t primary = 0) {
  for (std::uint64_t k = first; k <= last; ++k) {
    call(c, ClientId(1), k, kv_write("k" + std::to_string(k % 3), std::to_string(k)), primary);
  }
}

}  // namespace

TEST_CASE("compaction: a checkpoint discards the log below it but log_retention_ops, in memory and on disk") {
  Cluster c = compacting(3, 4, 2);
  write_ops(c, 1, 10);
  heartbeat(c, 0);
  for (std::uint32_t r = 0; r < 3; ++r) {
    INFO("replica ", r);
    const Replica& x = c.replica(r);
    CHECK(x.checkpoint_op() == OpNumber(8));
    CHECK(x.log_base() == OpNumber(6));  // 8 - 2
    CHECK(x.log().size() == 4);          // ops 7..10: the log is bounded
    CHECK(x.op() == OpNumber(10));
    CHECK(probe(c, r, Probe::prefix_discarded) == 2);  // at ops 4 (base 2) and 8 (base 6)
    const PersistedState& d = c.node(r).disk();
    CHECK(d.log_base.op == OpNumber(6));
    CHECK(d.log_base.checksum == x.checksum_at(OpNumber(6)));
    CHECK(d.log.size() == 4);
    REQUIRE(d.checkpoint.has_value());
    CHECK(d.checkpoint->op == OpNumber(8));
  }
  // Many more ops: the log stays within interval + retention entries.
  write_ops(c, 11, 40);
  heartbeat(c, 0);
  CHECK(c.replica(1).log().size() <= 4 + 2);
  CHECK(c.replica(1).log_base() == OpNumber(38));
  c.require_converged();
}

TEST_CASE("compaction: a replica restarts from a compacted disk and keeps serving") {
  Cluster c = compacting(3, 4, 1);
  write_ops(c, 1, 9);
  heartbeat(c, 0);
  const std::uint64_t hash = c.replica(1).state_hash();
  c.crash(1);
  c.restart(1);
  CHECK(probe(c, 1, Probe::restart_from_checkpoint) == 1);
  CHECK(c.replica(1).log_base() == OpNumber(7));
  CHECK(c.replica(1).commit() == CommitNumber(9));
  CHECK(c.replica(1).state_hash() == hash);
  CHECK(c.executed_ops(1).empty());  // ops 8..9 re-executed silently, 1..8 from the checkpoint
  write_ops(c, 10, 12);
  heartbeat(c, 0);
  c.require_converged();
}

TEST_CASE("snapshot: a backup cut off across several checkpoints catches up by snapshot, then by NewState") {
  for (const std::uint32_t chunk : {0u, 24u}) {
    INFO("chunk bytes ", chunk);
    Cluster c = compacting(3, 4, 0, 64, chunk);
    write_ops(c, 1, 2);
    heartbeat(c, 0);
    c.isolate(2);
    write_ops(c, 3, 14);  // r0 and r1 commit, checkpoint at 12 and compact to 12
    heartbeat(c, 0);
    REQUIRE(c.replica(0).log_base() == OpNumber(12));
    REQUIRE(c.replica(2).op() == OpNumber(2));
    c.heal();
    heartbeat(c, 0);  // r2 learns commit 14, asks GetState{op 2}: below r0's base
    CHECK(probe(c, 0, Probe::snapshot_sent) >= 1);
    CHECK(probe(c, 2, Probe::snapshot_installed) == 1);
    CHECK(probe(c, 2, Probe::state_transfer_by_snapshot) == 1);
    CHECK(c.replica(2).checkpoint_op() == OpNumber(12));
    CHECK(c.replica(2).installed_snapshot_op() == OpNumber(12));
    CHECK(c.replica(2).log_base() == OpNumber(12));
    CHECK(c.replica(2).client_table() == c.replica(0).client_table());
    if (chunk > 0) CHECK(probe(c, 0, Probe::snapshot_sent) > 1);  // several chunks
    // Its disk holds the installed checkpoint and the log from it.
    const PersistedState& d = c.node(2).disk();
    CHECK(d.log_base.op == OpNumber(12));
    REQUIRE(d.checkpoint.has_value());
    CHECK(*d.checkpoint == *c.node(0).disk().checkpoint);
    c.require_converged();
    // It keeps up afterwards, and a restart from its disk works.
    write_ops(c, 15, 17);
    heartbeat(c, 0);
    c.crash(2);
    c.restart(2);
    heartbeat(c, 0);
    c.require_converged();
  }
}

TEST_CASE("snapshot: a corrupt chunk or a snapshot without its state hash is refused, never installed, and fetched again") {
  for (const bool bad_hash : {false, true}) {
    INFO("corrupt state hash ", bad_hash);
    Cluster c = compacting(3, 4, 0);
    c.isolate(2);
    write_ops(c, 1, 9);
    heartbeat(c, 0);
    c.heal();
    const std::uint64_t before = c.replica(2).state_hash();
    c.tick(0, c.timeouts().heartbeat_ticks);
    c.deliver_all(!is<SnapshotChunk>());
    auto chunks = c.queued<SnapshotChunk>(to(2));
    REQUIRE(chunks.size() == 1);
    c.drop(is<SnapshotChunk>());
    SnapshotChunk bad = chunks[0];
    if (bad_hash) {
      bad.state_hash ^= 1;
    } else {
      bad.data[0] ^= 1;
    }
    c.inject(rep(0), rep(2), bad);
    c.deliver_all(is<SnapshotChunk>());
    CHECK(probe(c, 2, Probe::snapshot_refused) == 1);
    CHECK(probe(c, 2, Probe::snapshot_installed) == 0);
    CHECK(c.replica(2).state_hash() == before);  // rolled back, or never touched
    CHECK(c.replica(2).op() == OpNumber(0));
    REQUIRE_FALSE(c.node(2).facts.empty());
    const auto* rejected = std::get_if<MessageRejected>(&c.node(2).facts.back());
    REQUIRE(rejected != nullptr);
    CHECK(rejected->reason == RejectReason::bad_snapshot);
    // The repair timer asks again; the good snapshot is installed.
    c.settle(c.timeouts().repair_resend_ticks + 1);
    CHECK(probe(c, 2, Probe::snapshot_installed) == 1);
    heartbeat(c, 0);
    c.require_converged();
  }
}

TEST_CASE("snapshot: chunks with a wrong offset, length or op are ignored or rejected, never asserted on") {
  Cluster c = compacting(3, 4, 0, 64, 24);
  c.isolate(2);
  write_ops(c, 1, 9);
  heartbeat(c, 0);
  c.heal();
  const Bytes data{1, 2, 3};
  const std::uint64_t sum = hash_bytes(data.data(), data.size());
  c.inject(rep(0), rep(2), SnapshotChunk{OpNumber(8), 0, 0, 100, 50, data, sum, rep(0)});  // not first
  c.inject(rep(0), rep(2), SnapshotChunk{OpNumber(8), 0, 0, 2, 0, data, sum, rep(0)});  // past its end
  c.inject(rep(0), rep(2), SnapshotChunk{OpNumber(0), 0, 0, 3, 0, data, sum, rep(0)});  // op 0
  c.inject(rep(0), rep(2), SnapshotChunk{OpNumber(9), 0, 0, 3, 0, data, sum, rep(0)});  // garbage blob
  c.inject(rep(1), rep(0), SnapshotChunk{OpNumber(99), 0, 0, 3, 0, data, sum, rep(1)});  // to a primary
  c.deliver_all(is<SnapshotChunk>());
  CHECK(probe(c, 2, Probe::snapshot_installed) == 0);
  CHECK(probe(c, 2, Probe::snapshot_refused) == 1);  // the garbage blob, once assembled
  CHECK(c.replica(2).op() == OpNumber(0));
  heartbeat(c, 0);
  c.settle(c.timeouts().repair_resend_ticks * 2);
  CHECK(probe(c, 2, Probe::snapshot_installed) == 1);
  c.require_converged();
}

TEST_CASE("snapshot: recovery after a wipe fetches a compacted donor's checkpoint (§4.3 through the log fetch)") {
  Cluster c = compacting(3, 4, 0, 2);
  write_ops(c, 1, 10);
  heartbeat(c, 0);
  REQUIRE(c.replica(0).log_base() == OpNumber(8));
  c.wipe_and_recover(2, Nonce(9));
  c.deliver_all();
  CHECK(probe(c, 2, Probe::recovery_fetches) == 1);
  CHECK(probe(c, 2, Probe::recovery_by_snapshot) == 1);
  CHECK(c.replica(2).status() == StatusKind::normal);
  CHECK(c.replica(2).log_base() == OpNumber(8));
  CHECK(c.replica(2).commit() == CommitNumber(10));
  heartbeat(c, 0);
  c.require_converged();
}

TEST_CASE("snapshot: a new primary fetches the chosen log across compacted donors, taking a checkpoint of that log") {
  Cluster c = compacting(3, 4, 0, 2);
  write_ops(c, 1, 2);
  heartbeat(c, 0);
  c.isolate(1);
  write_ops(c, 3, 12);  // r0 and r2 only: checkpoint at 12, compacted to 12
  heartbeat(c, 0);
  REQUIRE(c.replica(2).log_base() == OpNumber(12));
  REQUIRE(c.replica(1).op() == OpNumber(2));
  // r0 dies; r1 (behind, compacted nothing) becomes primary of view 1 with r2's vote.
  c.crash(0);
  c.heal();
  silence(c, {1, 2});
  CHECK(probe(c, 1, Probe::view_change_new_primary_fetches) == 1);
  CHECK(probe(c, 1, Probe::snapshot_installed) == 1);
  CHECK(probe(c, 1, Probe::view_change_by_snapshot) == 1);
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(c.replica(1).view() == ViewNumber(1));
  CHECK(c.replica(1).log_base() == OpNumber(12));
  CHECK(c.replica(1).op() == OpNumber(12));
  write_ops(c, 13, 14, 1);
  heartbeat(c, 1);
  c.require_converged();
}

TEST_CASE("compaction: a new primary whose compacted base lies in the chosen suffix needs no fetch") {
  Cluster c = compacting(3, 2, 0, 4);
  write_ops(c, 1, 6);
  heartbeat(c, 0);  // everyone: commit 6, checkpoint 6, base 6
  for (std::uint64_t k = 7; k <= 10; ++k) c.request(ClientId(1), k, kv_write("x", std::to_string(k)), 0);
  c.deliver_all(is<Request>());  // r0 prepares 7..10, all with commit 6
  c.drop(is<Prepare>() && to(1) && (prepare_of(9) || prepare_of(10)));
  c.deliver_all(is<Prepare>());
  c.deliver_all(is<PrepareOk>());  // r0 commits 10
  c.tick(0, c.timeouts().heartbeat_ticks);
  c.drop(is<Commit>() && to(2));
  c.deliver_all(is<Commit>());
  REQUIRE(c.replica(1).log_base() == OpNumber(8));  // r1: ops up to 8, all compacted
  REQUIRE(c.replica(1).op() == OpNumber(8));
  REQUIRE(c.replica(2).log_base() == OpNumber(6));  // r2: ops 7..10, commit 6
  REQUIRE(c.replica(2).op() == OpNumber(10));
  c.crash(0);
  silence(c, {1, 2});  // view 1, primary r1 chooses r2's longer log: suffix 7..10 after op 6
  REQUIRE(c.replica(1).is_acting_primary());
  CHECK(probe(c, 1, Probe::view_change_new_primary_fetches) == 0);
  CHECK(probe(c, 1, Probe::snapshot_installed) == 0);
  CHECK(c.replica(1).op() == OpNumber(10));
  CHECK(c.replica(1).checksum_at(OpNumber(10)) == c.replica(2).checksum_at(OpNumber(10)));
  heartbeat(c, 1);
  c.require_converged();
}

TEST_CASE("§4.1 durability: a PrepareOk leaves only after the persist, and survives a restart") {
  Cluster c(3);
  c.hold_persist(1);
  c.request(ClientId(1), 1, kv_write("x", "1"), 0);
  c.deliver_all(is<Request>());
  c.deliver_all(is<Prepare>() && to(1));
  const Output out = c.node(1).last;
  CHECK(messages_of<PrepareOk>(out.send_now).empty());
  const auto acks = messages_of<PrepareOk>(out.send_after_persist);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0] == PrepareOk{ViewNumber(0), OpNumber(1), rep(1)});
  CHECK(out.persist.append_first == OpNumber(1));
  REQUIRE(out.persist.append.size() == 1);
  // Not durable yet: the ack has not left, and the primary cannot commit.
  CHECK(c.count(is<PrepareOk>() && from(1)) == 0);
  c.deliver_all(!to(2));
  CHECK(c.replica(0).commit() == CommitNumber(0));
  // Durable: the ack leaves and the op commits.
  c.flush_persist(1);
  CHECK(c.count(is<PrepareOk>() && from(1)) == 1);
  c.deliver_all(!to(2));
  CHECK(c.replica(0).commit() == CommitNumber(1));
  // After a crash and restart it still holds what it acknowledged.
  c.crash(1);
  c.restart(1);
  CHECK(c.replica(1).op() == OpNumber(1));
  CHECK(c.replica(1).entry(OpNumber(1)) == c.committed_log()[0]);
  c.deliver_all();
  heartbeat(c, 0);
  c.require_converged();
}

TEST_CASE("§4.1 durability: a crash before the persist retracts nothing that was promised") {
  Cluster c(3);
  c.hold_persist(1);
  c.request(ClientId(1), 1, kv_write("x", "1"), 0);
  c.deliver_all(is<Request>());
  c.deliver_all(is<Prepare>() && to(1));
  c.crash(1);  // the write and the PrepareOk waiting on it are lost together
  c.restart(1);
  CHECK(c.replica(1).op() == OpNumber(0));
  c.deliver_all(!to(2));
  CHECK(c.count(is<PrepareOk>() && from(1) && Filter{[](const Envelope& e) {
                  return std::get<PrepareOk>(e.message).op == OpNumber(1);
                }}) == 0);
  CHECK(c.replica(0).commit() == CommitNumber(0));
  // The primary re-sends the Prepare; the restarted backup acknowledges it this time.
  c.tick(0, c.timeouts().prepare_resend_ticks);
  c.deliver_all(!to(2));
  CHECK(c.replica(1).op() == OpNumber(1));
  CHECK(c.replica(0).commit() == CommitNumber(1));
}

TEST_CASE("§4.1 durability: a primary restarted after a crash keeps the ops it committed") {
  // The primary commits op 1 on its backups' PrepareOks while its own write of op 1 is
  // still in flight, answers the client, then crashes: its disk has no op 1.
  Cluster c(3);
  c.hold_persist(0);
  c.request(ClientId(1), 1, kv_write("x", "A"), 0);
  c.deliver_all();
  REQUIRE(c.replica(0).commit() == CommitNumber(1));
  REQUIRE(c.replies(ClientId(1)).size() == 1);
  c.crash(0);
  CHECK(c.node(0).disk().log.empty());
  c.restart(0);
  c.deliver_all();
  c.settle(c.timeouts().view_change_timeout_ticks);
  // Whoever is primary now must keep op 1 = A; a new write goes after it.
  const std::uint32_t p = acting_primary(c);
  call(c, ClientId(2), 1, kv_write("x", "B"), p);
  c.settle(c.timeouts().heartbeat_ticks * 3);
  c.require_converged();
  for (std::uint32_t r = 0; r < 3; ++r) {
    INFO("replica ", r);
    CHECK(c.replica(r).entry(OpNumber(1)).client == ClientId(1));
    CHECK(static_cast<const KvMachine&>(c.replica(r).machine()).data().at("x") == "B");
  }
}

TEST_CASE("§4.1 durability: a restarted backup re-executes its committed prefix silently") {
  Cluster c(3);
  for (std::uint64_t k = 1; k <= 3; ++k) call(c, ClientId(1), k, kv_write("x", std::to_string(k)), 0);
  heartbeat(c, 0);
  const std::uint64_t hash = c.replica(2).state_hash();
  c.crash(2);
  c.restart(2);
  CHECK(c.replica(2).commit() == CommitNumber(3));
  CHECK(c.replica(2).state_hash() == hash);
  CHECK(c.node(2).last.committed.empty());  // reconstruction is not reported
  call(c, ClientId(1), 4, kv_write("x", "4"), 0);
  heartbeat(c, 0);
  CHECK(c.executed_ops(2) == std::vector<std::uint64_t>{4});
  c.require_converged();
}

// ---------------------------------------------------------------- randomized stress

namespace {

/// SplitMix64: a tiny deterministic generator for the stress test below.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(std::uint64_t per_mille) { return below(1000) < per_mille; }
};

/// Picks the k-th queued message matching nothing in particular: a random one.
Filter nth(std::size_t k) {
  auto seen = std::make_shared<std::size_t>(0);
  return {[k, seen](const Envelope&) { return (*seen)++ == k; }};
}

void stress(std::uint64_t seed, std::uint32_t n, std::uint32_t steps) {
  CAPTURE(seed);
  CAPTURE(n);
  Rng rng{seed};
  Cluster c(n);
  std::vector<Client> clients;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    auto cfg = ClientConfig::make(n, 40);
    REQUIRE(cfg.has_value());
    clients.emplace_back(ClientId(i), cfg.value());
  }
  for (auto& cl : clients) c.attach(cl);
  std::uint64_t submitted = 0;
  std::uint64_t nonce = 1000;
  const std::uint32_t f = (n - 1) / 2;
  // A wiped replica counts as failed until its recovered state is durable; it is not
  // crashed again before that (its disk would be indistinguishable from a new one's).
  std::vector<bool> wiped(n, false);
  auto down_count = [&] {
    std::uint32_t d = 0;
    for (std::uint32_t r = 0; r < n; ++r) {
      if (wiped[r] && c.replica(r).status() == StatusKind::normal && c.node(r).unpersisted() == 0) {
        wiped[r] = false;
      }
      d += c.up(r) && !wiped[r] ? 0 : 1;
    }
    return d;
  };
  auto submit_idle = [&] {
    for (auto& cl : clients) {
      if (!cl.busy()) {
        ++submitted;
        const std::string v = std::to_string(submitted);
        c.submit(cl, submitted % 3 == 0 ? kv_cas("x", std::to_string(submitted - 1), v)
                                        : kv_write(submitted % 2 == 0 ? "x" : "y", v));
      }
    }
  };

  for (std::uint32_t step = 0; step < steps; ++step) {
    submit_idle();
    const std::uint64_t dice = rng.below(1000);
    if (dice < 500) {
      if (!c.queue().empty()) c.deliver_one(nth(rng.below(c.queue().size())));
    } else if (dice < 560) {
      // Never a message to self: the Output contract says it is always delivered back.
      if (!c.queue().empty()) c.drop(nth(rng.below(c.queue().size())) && !to_self());
    } else if (dice < 590) {
      if (!c.queue().empty()) c.duplicate(nth(rng.below(c.queue().size())));
    } else if (dice < 850) {
      const auto r = static_cast<std::uint32_t>(rng.below(n));
      if (c.up(r)) c.tick(r);
    } else if (dice < 900) {
      for (auto& cl : clients) c.tick_client(cl);
    } else if (dice < 915) {
      const auto r = static_cast<std::uint32_t>(rng.below(n));
      if (c.up(r) && down_count() < f && !wiped[r]) c.crash(r);
    } else if (dice < 945) {
      const auto r = static_cast<std::uint32_t>(rng.below(n));
      if (!c.up(r)) c.restart(r);
    } else if (dice < 960) {
      const auto r = static_cast<std::uint32_t>(rng.below(n));
      if (c.up(r)) c.hold_persist(r, !c.node(r).hold_persist);
    } else if (dice < 975) {
      c.isolate(static_cast<std::uint32_t>(rng.below(n)));
    } else if (dice < 980) {
      std::vector<std::uint32_t> a, b;
      for (std::uint32_t r = 0; r < n; ++r) (rng.chance(500) ? a : b).push_back(r);
      c.partition({a, b});
    } else if (dice < 995) {
      c.heal();
    } else {
      const auto r = static_cast<std::uint32_t>(rng.below(n));
      if (c.up(r) && down_count() < f) {
        c.wipe_and_recover(r, Nonce(++nonce));
        wiped[r] = true;
      }
    }
  }

  // Liveness: heal everything, complete every write, restart everyone; the cluster
  // must then finish every request and converge.
  c.heal();
  for (std::uint32_t r = 0; r < n; ++r) {
    if (c.up(r)) {
      c.hold_persist(r, false);
    } else {
      c.restart(r);
    }
  }
  bool done = false;
  for (int round = 0; round < 400 && !done; ++round) {
    c.settle(1);
    done = true;
    for (auto& cl : clients) done = done && !cl.busy();
  }
  REQUIRE_MESSAGE(done, "clients still waiting after the liveness phase");
  for (int round = 0; round < 200 && !c.converged(); ++round) c.settle(1);
  c.require_converged();
  for (auto& cl : clients) {
    for (const auto& k : c.completions(cl.id())) {
      const KvResult res = kv_result(k.result);
      CHECK(res.status != KvStatus::bad_operation);
    }
    // One completion per request the client made.
    CHECK(c.completions(cl.id()).size() == cl.last_request().value);
  }
}

}  // namespace

TEST_CASE("§4 randomized: safety under drops, duplicates, reordering, partitions, crashes (n=3)") {
  for (std::uint64_t seed = 1; seed <= 150; ++seed) stress(seed, 3, 1500);
}

TEST_CASE("§4 randomized: safety under drops, duplicates, reordering, partitions, crashes (n=5)") {
  for (std::uint64_t seed = 1; seed <= 80; ++seed) stress(seed, 5, 2000);
}

TEST_CASE("§5.2 robustness: a GetState claiming the largest op number is ignored (fuzz_replica)") {
  // Found by reading what fuzz_replica may forge: GetState{op = 2^64-1} made the answer
  // start at op 2^64-1 + 1, which wraps to op 0, and entry(0) asserted.
  Cluster c(3);
  c.request(ClientId(1), 1, kv_write("x", "1"), 0);
  c.deliver_all();
  c.inject(rep(1), rep(0), GetState{ViewNumber(0), OpNumber(~std::uint64_t{0}), rep(1)});
  c.inject(rep(2), rep(1), GetState{ViewNumber(0), OpNumber(~std::uint64_t{0}), rep(2)});
  CHECK(c.deliver_all() == 2);
  CHECK(c.replica(0).op().value == 1);
}

// ---------------------------------------------------------------- hostile peers (issue 13)

namespace {

/// The reasons of the MessageRejected facts in r's last output (the pump checks each
/// has its vsr.protocol.message.rejected event).
std::vector<RejectReason> rejections(Cluster& c, std::uint32_t r) {
  std::vector<RejectReason> out;
  for (const Fact& f : c.node(r).last.facts) {
    if (const auto* rejected = std::get_if<MessageRejected>(&f)) out.push_back(rejected->reason);
  }
  return out;
}

/// Delivers one forged message from `sender` to `r` and returns the rejections it caused.
std::vector<RejectReason> forge(Cluster& c, std::uint32_t sender, std::uint32_t r, Message m) {
  c.inject(rep(sender), rep(r), m);
  const Filter exactly{[m](const Envelope& e) { return e.message == m; }};
  REQUIRE(c.deliver_one(to(r) && from(sender) && exactly));
  return rejections(c, r);
}

}  // namespace

TEST_CASE("§4.1 the log is a checksum chain: a Prepare or a log that breaks it is rejected") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  const LogEntry e1 = c.replica(1).entry(OpNumber(1));
  CHECK(e1.checksum == entry_checksum(OpNumber(1), e1, empty_log_checksum));
  // Op 2 as the primary would number it, and with a checksum that does not follow op 1.
  LogEntry e2 = entry_of(0, 1, 2, kv_write("x", "2"));
  e2.checksum = entry_checksum(OpNumber(2), e2, e1.checksum);
  LogEntry forged = e2;
  forged.checksum = entry_checksum(OpNumber(2), e2, empty_log_checksum);  // not after op 1
  using R = RejectReason;
  CHECK(forge(c, 0, 1, Prepare{ViewNumber(0), OpNumber(2), CommitNumber(1), forged, rep(0)}) ==
        std::vector{R::bad_checksum});
  CHECK(c.replica(1).op() == OpNumber(1));
  // A log whose second entry does not chain to its first, in a StartView and a DoViewChange.
  CHECK(forge(c, 1, 2, StartView{ViewNumber(1), OpNumber(2), CommitNumber(1), {e1, forged}, rep(1)}) ==
        std::vector{R::bad_checksum});
  CHECK(forge(c, 2, 1, DoViewChange{ViewNumber(1), ViewNumber(0), OpNumber(2), CommitNumber(1),
                                    {e1, forged}, rep(2)}) == std::vector{R::bad_checksum});
  // A NewState whose entries do not chain among themselves.
  CHECK(forge(c, 0, 1, NewState{ViewNumber(0), OpNumber(1), OpNumber(2), CommitNumber(1),
                                {e1, forged}, rep(0)}) == std::vector{R::bad_checksum});
  CHECK(c.replica(1).view() == ViewNumber(0));
  CHECK(c.replica(2).view() == ViewNumber(0));
  // The honest entry is taken.
  CHECK(forge(c, 0, 1, Prepare{ViewNumber(0), OpNumber(2), CommitNumber(1), e2, rep(0)}).empty());
  CHECK(c.replica(1).op() == OpNumber(2));
  CHECK(c.replica(1).entry(OpNumber(2)) == e2);
}

TEST_CASE("robustness: a StartView whose log drops an executed op is rejected, not asserted") {
  // Issue 13 item 3, as the Maelstrom node saw it: n1 gets a StartView for view 1 from
  // n2 (which executes op 1), then one for view 2 from n3 whose log lacks op 1.
  Cluster c(3);
  const LogEntry op1 = first_entry(entry_of(1, 7, 1, kv_write("x", "1")));
  CHECK(forge(c, 1, 0, StartView{ViewNumber(1), OpNumber(1), CommitNumber(1), {op1}, rep(1)})
            .empty());
  REQUIRE(c.replica(0).view() == ViewNumber(1));
  REQUIRE(c.replica(0).commit() == CommitNumber(1));
  CHECK(forge(c, 2, 0, StartView{ViewNumber(2), OpNumber(0), CommitNumber(0), {}, rep(2)}) ==
        std::vector{RejectReason::drops_executed});
  // The same op with other contents is no better.
  const LogEntry other = first_entry(entry_of(2, 7, 1, kv_write("x", "2")));
  CHECK(forge(c, 2, 0, StartView{ViewNumber(2), OpNumber(1), CommitNumber(1), {other}, rep(2)}) ==
        std::vector{RejectReason::drops_executed});
  CHECK(c.replica(0).view() == ViewNumber(1));
  CHECK(c.replica(0).status() == StatusKind::normal);
  CHECK(c.replica(0).log() == std::vector{op1});
  // A StartView that keeps it is taken.
  CHECK(forge(c, 2, 0, StartView{ViewNumber(2), OpNumber(2), CommitNumber(1), chained({op1, other}), rep(2)})
            .empty());
  CHECK(c.replica(0).view() == ViewNumber(2));
  CHECK(c.replica(0).op() == OpNumber(2));
}

TEST_CASE("robustness: views near 2^64 are rejected (a Commit at 2^64-3, a StartViewChange at 2^64-1)") {
  Cluster c(3);
  const std::uint64_t top = ~std::uint64_t{0};
  // 2^64-3 is view of replica 1 (2^64 = 1 mod 3): the Commit comes from its primary.
  REQUIRE(c.config(0).primary_of(ViewNumber(top - 2)) == rep(1));
  CHECK(forge(c, 1, 0, Commit{ViewNumber(top - 2), CommitNumber(0), rep(1)}) ==
        std::vector{RejectReason::view_overflow});
  CHECK(forge(c, 2, 0, StartViewChange{ViewNumber(top), rep(2)}) ==
        std::vector{RejectReason::view_overflow});
  CHECK(forge(c, 2, 0, StartViewChange{ViewNumber(max_view.value + 1), rep(2)}) ==
        std::vector{RejectReason::view_overflow});
  CHECK(c.replica(0).view() == ViewNumber(0));
  CHECK(c.replica(0).status() == StatusKind::normal);
  // Time goes on (before the fix, the view change that followed wrapped the view to 0).
  c.settle(3 * c.timeouts().view_change_timeout_ticks);
  CHECK(call(c, ClientId(1), 1, kv_write("x", "1"), 0).view == ViewNumber(0));
  // The highest view allowed is still usable, and a replica counts on past it alone.
  CHECK(forge(c, 2, 0, StartViewChange{max_view, rep(2)}).empty());
  CHECK(c.replica(0).view() == max_view);
  c.isolate(0);
  c.settle(3 * c.timeouts().view_change_timeout_ticks);
  CHECK(c.replica(0).view() > max_view);
}

TEST_CASE("robustness: a forged DoViewChange that would drop an executed op loses its vote") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  REQUIRE(c.replica(1).commit() == CommitNumber(1));
  own_do_view_change(c, 1, 1, 2);  // r1, view 1's primary, holds its own vote
  // "From r2": a higher last normal view wins the choice, and its log lacks op 1.
  CHECK(forge(c, 2, 1, DoViewChange{ViewNumber(1), ViewNumber(1), OpNumber(0), CommitNumber(0),
                                    {}, rep(2)}) == std::vector{RejectReason::drops_executed});
  CHECK(c.replica(1).status() == StatusKind::view_change);
  c.deliver_all();  // the real votes form the view with op 1
  CHECK(c.replica(1).is_acting_primary());
  CHECK(c.replica(1).view() == ViewNumber(1));
  CHECK(c.replica(1).op() == OpNumber(1));
  CHECK(c.replica(1).commit() == CommitNumber(1));
}

TEST_CASE("robustness: messages whose contents contradict themselves are rejected with a reason") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  const LogEntry e1 = c.replica(1).entry(OpNumber(1));
  using R = RejectReason;
  // A Prepare whose entry claims a later view than the Prepare's own.
  CHECK(forge(c, 0, 1, Prepare{ViewNumber(0), OpNumber(2), CommitNumber(1), entry_of(3, 1, 2, {}),
                               rep(0)}) == std::vector{R::views_out_of_order});
  // A Prepare whose op is not above its commit number.
  CHECK(forge(c, 0, 1, Prepare{ViewNumber(0), OpNumber(2), CommitNumber(2), e1, rep(0)}) ==
        std::vector{R::inconsistent});
  // A sender outside the cluster.
  CHECK(forge(c, 2, 1, StartViewChange{ViewNumber(1), rep(9)}) == std::vector{R::unknown_replica});
  // A StartView whose log has more entries than its op number, or whose views go down.
  // (One shorter than its op number is a suffix: issue 15.)
  CHECK(forge(c, 1, 2, StartView{ViewNumber(1), OpNumber(2), CommitNumber(0), {e1, e1, e1}, rep(1)}) ==
        std::vector{R::inconsistent});
  CHECK(forge(c, 1, 2, StartView{ViewNumber(1), OpNumber(2), CommitNumber(0),
                                 {entry_of(1, 1, 1, {}), e1}, rep(1)}) ==
        std::vector{R::views_out_of_order});
  // A DoViewChange whose last normal view is ahead of its view.
  CHECK(forge(c, 2, 1, DoViewChange{ViewNumber(1), ViewNumber(2), OpNumber(1), CommitNumber(1),
                                    {e1}, rep(2)}) == std::vector{R::views_out_of_order});
  // A NewState whose entries run past the sender's log.
  CHECK(forge(c, 0, 1, NewState{ViewNumber(0), OpNumber(2), OpNumber(1), CommitNumber(1),
                                {e1}, rep(0)}) == std::vector{R::inconsistent});
  for (std::uint32_t r = 0; r < 3; ++r) {
    CHECK(c.replica(r).view() == ViewNumber(0));
    CHECK(c.replica(r).op() == OpNumber(1));
  }
  CHECK(call(c, ClientId(1), 2, kv_read("x"), 0).view == ViewNumber(0));
}

TEST_CASE("robustness: the log never outgrows max_log_bytes; a request that would is rejected") {
  // Every message carrying the whole log must fit a frame (vsr/codec.hpp).
  Cluster c(1);
  const Bytes big(8u << 20, 'v');  // 8 MiB operations: the 8th does not fit 64 MiB
  std::uint64_t accepted = 0;
  for (std::uint64_t k = 1; k <= 8; ++k) {
    c.request(ClientId(1), k, big, 0);
    c.deliver_all();
    if (rejections(c, 0).empty()) ++accepted;
  }
  CHECK(accepted == 7);
  CHECK(rejections(c, 0) == std::vector{RejectReason::log_full});
  CHECK(c.replica(0).op() == OpNumber(7));
  CHECK(c.replica(0).log_bytes() <= max_log_bytes);
  CHECK(c.replica(0).log_bytes() + (8u << 20) > max_log_bytes);
  // Small requests still fit.
  c.request(ClientId(1), 9, kv_write("x", "1"), 0);
  c.deliver_all();
  CHECK(c.replica(0).op() == OpNumber(8));
}

TEST_CASE("§4 step: a message the replica does not handle in its view, role or status changes nothing") {
  Cluster c(3);
  call(c, ClientId(1), 1, kv_write("x", "1"), 0);
  heartbeat(c, 0);
  const LogEntry e1 = c.replica(1).entry(OpNumber(1));
  const ViewNumber v0(0);
  // r1 is a normal backup of view 0, whose primary is r0.
  const std::vector<std::pair<std::uint32_t, Message>> ignored = {
      {2, PrepareOk{v0, OpNumber(1), rep(2)}},              // a backup counts no PrepareOk
      {2, NewState{v0, OpNumber(2), OpNumber(1), CommitNumber(1), {}, rep(2)}},  // not from the primary
      {0, StartView{v0, OpNumber(1), CommitNumber(1), {e1}, rep(1)}},  // names r1, which sends itself none
      {2, GetState{ViewNumber(1), OpNumber(0), rep(2)}},    // not r1's view
      {2, DoViewChange{ViewNumber(2), v0, OpNumber(1), CommitNumber(1), {e1}, rep(0)}},  // view 2's primary is r2
      {0, RecoveryResponse{v0, Nonce(1), false, OpNumber(0), CommitNumber(0), {}, rep(0)}},  // not recovering
      {2, Recovery{Nonce(1), rep(1)}},                      // names r1 itself
      {0, Reply{v0, ClientId(1), RequestNumber(1), {}, rep(0)}},  // replies are for clients
  };
  for (std::size_t k = 0; k < ignored.size(); ++k) {
    INFO("message ", k);
    CHECK(forge(c, ignored[k].first, 1, ignored[k].second).empty());
    CHECK(c.node(1).last.empty());
    CHECK(c.replica(1).view() == v0);
    CHECK(c.replica(1).status() == StatusKind::normal);
    CHECK(c.replica(1).op() == OpNumber(1));
  }
  // Of an older view: r1 moves to view 1 (primary r1), then view 0's primary is not heard.
  c.isolate(1);
  c.tick(1, c.timeouts().primary_silence_ticks);
  REQUIRE(c.replica(1).view() == ViewNumber(1));
  c.heal();
  for (const Message& m : {Message{Commit{v0, CommitNumber(1), rep(0)}},
                           Message{Prepare{v0, OpNumber(2), CommitNumber(1), e1, rep(0)}}}) {
    CHECK(forge(c, 0, 1, m).empty());
    CHECK(c.node(1).last.empty());
    CHECK(c.node(1).last.probes[static_cast<std::size_t>(Probe::prepare_stale_view_ignored)] == 1);
    CHECK(c.replica(1).status() == StatusKind::view_change);
  }
}

// ---------------------------------------------------------------- sessions (issue 15)

namespace {
ClientConfig session_client_config() {
  auto c = ClientConfig::make(3, 30);
  REQUIRE(c.has_value());
  c.value().open_sessions = true;
  return c.value();
}
Cluster::Bounds sessions_bound(std::uint32_t n) {
  return [n](Config& c) { c.max_client_sessions = n; };
}
/// The clients whose sessions replica r's table holds.
std::vector<std::uint64_t> table_clients(Cluster& c, std::uint32_t r) {
  std::vector<std::uint64_t> ids;
  for (const auto& [client, s] : c.replica(r).client_table()) ids.push_back(client.value);
  return ids;
}
}  // namespace

TEST_CASE("sessions: a full table evicts the least recently used session on every replica; "
          "its next request is answered evicted, never executed") {
  Cluster c(3, {}, sessions_bound(2));
  Client a(ClientId(1), session_client_config());
  Client b(ClientId(2), session_client_config());
  Client d(ClientId(3), session_client_config());
  c.submit(a, kv_write("x", "1"));
  c.deliver_all();
  c.submit(b, kv_write("y", "1"));
  c.deliver_all();
  c.submit(a, kv_write("x", "2"));  // a is now used more recently than b
  c.deliver_all();
  REQUIRE(c.completions(a.id()).size() == 2);
  CHECK(a.session().value != 0);
  CHECK_FALSE(c.completions(a.id())[1].evicted);
  c.submit(d, kv_write("z", "1"));  // opens a third session: b's goes
  c.deliver_all();
  c.settle(10);
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(table_clients(c, r) == std::vector<std::uint64_t>{1, 3});
  const RequestNumber bs = c.submit(b, kv_write("y", "2"));
  c.deliver_all();
  REQUIRE(c.completions(b.id()).size() == 2);
  CHECK(c.completions(b.id())[1].evicted);
  CHECK(c.completions(b.id())[1].result.empty());
  CHECK(b.session().value == 0);
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(c.executions(r, b.id(), bs.value) == 0);
  // Its next submit opens a new session (evicting a's, now the least recently used).
  c.submit(b, kv_write("y", "3"));
  c.deliver_all();
  REQUIRE(c.completions(b.id()).size() == 3);
  CHECK_FALSE(c.completions(b.id())[2].evicted);
  c.settle(10);
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(table_clients(c, r) == std::vector<std::uint64_t>{2, 3});
  c.require_converged();
}

TEST_CASE("sessions: a request executed before its session was evicted is not executed again "
          "when retried") {
  Cluster c(3, {}, sessions_bound(2));
  Client a(ClientId(1), session_client_config());
  Client b(ClientId(2), session_client_config());
  Client d(ClientId(3), session_client_config());
  const RequestNumber ar = c.submit(a, kv_write("x", "1"));
  c.deliver_all(!to_client(a.id()));  // the register executes
  REQUIRE(c.deliver_one(to_client(a.id())));  // its reply opens a's session: a sends the write
  CHECK(a.session().value != 0);
  c.deliver_all(!to_client(a.id()));
  c.drop(to_client(a.id()));  // the write's reply is lost
  CHECK(a.busy());
  CHECK(c.executions(0, a.id(), ar.value) == 1);  // the primary ran it
  c.submit(b, kv_write("y", "1"));
  c.deliver_all();
  c.submit(d, kv_write("z", "1"));  // a's session is the least recently used: evicted
  c.deliver_all();
  c.tick_client(a, 30);  // a resends its write
  c.deliver_all();
  REQUIRE(c.completions(a.id()).size() == 1);
  CHECK(c.completions(a.id())[0].evicted);
  c.settle(10);
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(c.executions(r, a.id(), ar.value) == 1);
}

TEST_CASE("sessions: a bounded table answers a request that names no session as evicted") {
  Cluster c(3, {}, sessions_bound(4));
  c.request(ClientId(9), 1, kv_write("x", "1"), 0);
  c.deliver_all();
  REQUIRE(c.replies(ClientId(9)).size() == 1);
  CHECK(c.replies(ClientId(9))[0].evicted);
  for (std::uint32_t r = 0; r < 3; ++r) {
    CHECK(c.executions(r, ClientId(9), 1) == 0);
    CHECK(c.replica(r).client_table().empty());
  }
}
