// ReplicaHost (vsr/host.hpp): carrying out an output batch (persist, then release what
// waited on it), crashes, restarts from disk and recovery from an empty disk.
#include "vsr/host.hpp"

#include <vector>

#include <doctest/doctest.h>

#include "vsr/assert.hpp"
#include "vsr/kv.hpp"

using namespace vsr;

namespace {

ReplicaIndex rep(std::uint8_t i) { return ReplicaIndex(i); }

Config config_of(std::uint8_t self) {
  auto c = Config::make(3, rep(self));
  REQUIRE(c.has_value());
  return c.value();
}

LogEntry entry(std::uint64_t client) {
  return LogEntry{ViewNumber(0), ClientId(client), RequestNumber(1), Bytes{static_cast<std::uint8_t>(client)}};
}

/// An output batch: appends op `op`, optionally stores a state, sends `now` at once and
/// `after` once durable.
Output batch(std::uint64_t op, bool with_state, std::vector<Message> now, std::vector<Message> after) {
  Output out;
  out.persist.add(OpNumber(op), entry(op));
  if (with_state) out.persist.state = DurableState{ViewNumber(1), ViewNumber(1), CommitNumber(0)};
  for (auto& m : now) out.send_now.push_back({rep(1), std::move(m)});
  for (auto& m : after) out.send_after_persist.push_back({rep(1), std::move(m)});
  return out;
}

Message ack(std::uint64_t op) { return PrepareOk{ViewNumber(0), OpNumber(op), rep(0)}; }
Message commit(std::uint64_t c) { return Commit{ViewNumber(0), CommitNumber(c), rep(0)}; }

struct Sent {
  std::vector<Message> messages;
  auto sink() {
    return [this](Outgoing&& o) { messages.push_back(std::move(o.message)); };
  }
};

/// Queues two batches: op 1 with its PrepareOk, then op 2 with its PrepareOk.
void queue_two_acked_appends(ReplicaHost& h, Sent& sent) {
  Output first = batch(1, false, {}, {ack(1)});
  Output second = batch(2, false, {}, {ack(2)});
  h.carry_out(first, sent.sink());
  h.carry_out(second, sent.sink());
}

ReplicaHost booted() {
  ReplicaHost h(config_of(0));
  h.boot(std::make_unique<KvMachine>());
  h.replica().take_output();
  return h;
}

}  // namespace

TEST_CASE("host: send_now leaves at once, send_after_persist only once its write is durable") {
  ReplicaHost h = booted();
  Sent sent;
  Output out = batch(1, false, {commit(0)}, {ack(1)});
  CHECK(h.carry_out(out, sent.sink()));
  CHECK(sent.messages == std::vector<Message>{commit(0)});
  CHECK(h.disk().log.empty());
  CHECK(h.unpersisted_writes() == 1);
  CHECK(h.waiting_messages() == 1);
  h.complete_oldest_write(sent.sink());
  CHECK(h.disk().log.size() == 1);
  CHECK(sent.messages == std::vector<Message>{commit(0), ack(1)});
  CHECK(h.writes().empty());
}

TEST_CASE("host: a batch with nothing to persist or hold queues no write") {
  ReplicaHost h = booted();
  Sent sent;
  Output out;
  out.send_now.push_back({rep(2), commit(3)});
  CHECK_FALSE(h.carry_out(out, sent.sink()));
  CHECK(sent.messages.size() == 1);
  CHECK(h.writes().empty());
}

TEST_CASE("host: writes complete in queue order, each releasing only its own messages") {
  ReplicaHost h = booted();
  Sent sent;
  queue_two_acked_appends(h, sent);
  h.complete_oldest_write(sent.sink());
  CHECK(h.disk().log.size() == 1);
  CHECK(sent.messages == std::vector<Message>{ack(1)});
  h.complete_oldest_write(sent.sink());
  CHECK(h.disk().log.size() == 2);
  CHECK(sent.messages == std::vector<Message>{ack(1), ack(2)});
}

TEST_CASE("host: a crash loses the writes in flight and the messages waiting on them") {
  ReplicaHost h = booted();
  Sent sent;
  queue_two_acked_appends(h, sent);
  h.crash();
  CHECK_FALSE(h.up());
  CHECK(h.writes().empty());
  CHECK(h.lost_writes().size() == 2);
  CHECK(h.disk().log.empty());
  CHECK(sent.messages.empty());
  h.restart_from_disk(std::make_unique<KvMachine>());
  CHECK(h.replica().op() == OpNumber(0));
}

TEST_CASE("host: completing the oldest write syncs storage, which makes every record written durable") {
  // A sync is a barrier (fsync): the second batch's record is durable too, though its
  // messages still wait for its own completion, and a crash now loses only them.
  ReplicaHost h = booted();
  Sent sent;
  queue_two_acked_appends(h, sent);
  h.complete_oldest_write(sent.sink());
  CHECK(h.storage().synced_seq() == h.storage().written_seq());
  h.crash();
  CHECK(h.disk().log.size() == 1);  // the reference: the completed write
  CHECK(sent.messages == std::vector<Message>{ack(1)});
  h.restart_from_disk(std::make_unique<KvMachine>());
  CHECK(h.replica().op() == OpNumber(2));  // storage recovered the synced second record
}

TEST_CASE("host: a wiped replica needs recovery, and cannot restart from its disk") {
  ReplicaHost h = booted();
  h.crash();
  h.wipe();
  CHECK(h.needs_recovery());
  CHECK(h.disk().log.empty());
  CHECK_THROWS_AS(h.restart_from_disk(std::make_unique<KvMachine>()), AssertionError);
  h.start_recovery(std::make_unique<KvMachine>(), Nonce(7));
  CHECK(h.replica().status() == StatusKind::recovering);
}

// Issue 21 (fuzz_replica finding 9b84d649): a replica crashed again before its
// recovered state was trusted restarted recovery over the part already on disk, and the
// new recovery's first append (op 1) did not follow the stored log.
TEST_CASE("host: a second recovery starts from an empty disk") {
  ReplicaHost h = booted();
  h.crash();
  h.wipe();
  h.start_recovery(std::make_unique<KvMachine>(), Nonce(7));
  Sent sent;
  Output adopted = batch(1, true, {}, {});
  h.carry_out(adopted, sent.sink());
  h.complete_oldest_write(sent.sink());  // durable, but written while still recovering
  CHECK(h.disk().log.size() == 1);
  CHECK(h.needs_recovery());
  h.crash();
  h.start_recovery(std::make_unique<KvMachine>(), Nonce(8));
  CHECK(h.disk().log.empty());
  Output again = batch(1, true, {}, {});
  h.carry_out(again, sent.sink());
  CHECK_NOTHROW(h.complete_oldest_write(sent.sink()));
  CHECK(h.disk().log.size() == 1);
}

TEST_CASE("host: a recovered replica trusts its disk again once a state write completes while it is normal") {
  ReplicaHost h(config_of(1));
  h.wipe();
  h.start_recovery(std::make_unique<KvMachine>(), Nonce(7));
  Sent sent;
  auto carry_out = [&] {
    Output out = h.replica().take_output();
    h.carry_out(out, sent.sink());
  };
  carry_out();  // the Recovery broadcast
  // A quorum answers, the primary of view 0 (replica 0) with its log of one op.
  std::vector<LogEntry> log = {entry(1)};
  seal_chain(empty_log_checksum, OpNumber(1), log);
  h.replica().step(RecoveryResponse{ViewNumber(0), Nonce(7), true, OpNumber(1), CommitNumber(1), log, rep(0)});
  carry_out();
  h.replica().step(RecoveryResponse{ViewNumber(0), Nonce(7), false, OpNumber(0), CommitNumber(0), {}, rep(2)});
  carry_out();
  REQUIRE(h.replica().status() == StatusKind::normal);
  CHECK(h.needs_recovery());  // nothing durable yet
  while (!h.writes().empty()) h.complete_oldest_write(sent.sink());
  CHECK_FALSE(h.needs_recovery());
  CHECK(h.disk().log.size() == 1);
  h.crash();
  h.restart_from_disk(std::make_unique<KvMachine>());
  CHECK(h.replica().op() == OpNumber(1));
}
