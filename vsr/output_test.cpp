// PersistDelta recording (truncate / add) and apply_delta, the reference semantics of
// every log store.
#include "vsr/output.hpp"

#include <doctest/doctest.h>

#include "vsr/assert.hpp"

using namespace vsr;

namespace {

LogEntry e(std::uint64_t client, std::uint64_t view = 0) {
  return LogEntry{ViewNumber(view), ClientId(client), RequestNumber(1), Bytes{static_cast<std::uint8_t>(client)}};
}

PersistedState stored(std::uint64_t n) {
  PersistedState s;
  for (std::uint64_t k = 1; k <= n; ++k) s.log.push_back(e(k));
  return s;
}

}  // namespace

TEST_CASE("output: an empty delta changes nothing") {
  PersistDelta d;
  CHECK(d.empty());
  PersistedState s = stored(3);
  apply_delta(s, d);
  CHECK(s.log == stored(3).log);
  CHECK(s.state == DurableState{});
}

TEST_CASE("output: appends follow the stored log") {
  PersistDelta d;
  d.add(OpNumber(4), e(40));
  d.add(OpNumber(5), e(50));
  CHECK_FALSE(d.empty());
  CHECK(d.append_first == OpNumber(4));
  PersistedState s = stored(3);
  apply_delta(s, d);
  REQUIRE(s.log.size() == 5);
  CHECK(s.log[3] == e(40));
  CHECK(s.log[4] == e(50));
  // Appends must be contiguous.
  CHECK_THROWS_AS(d.add(OpNumber(7), e(70)), AssertionError);
  // And must follow the stored log when applied.
  PersistDelta gap;
  gap.add(OpNumber(9), e(90));
  CHECK_THROWS_AS(apply_delta(s, gap), AssertionError);
}

TEST_CASE("output: truncate inside pending appends keeps the prefix") {
  PersistDelta d;
  d.add(OpNumber(4), e(40));
  d.add(OpNumber(5), e(50));
  d.add(OpNumber(6), e(60));
  d.truncate(OpNumber(4));
  CHECK_FALSE(d.truncate_to.has_value());
  REQUIRE(d.append.size() == 1);
  d.add(OpNumber(5), e(51, 1));
  PersistedState s = stored(3);
  apply_delta(s, d);
  REQUIRE(s.log.size() == 5);
  CHECK(s.log[3] == e(40));
  CHECK(s.log[4] == e(51, 1));
}

TEST_CASE("output: truncate below pending appends cancels them and cuts the stored log") {
  PersistDelta d;
  d.add(OpNumber(4), e(40));
  d.truncate(OpNumber(2));
  CHECK(d.append.empty());
  REQUIRE(d.truncate_to.has_value());
  CHECK(*d.truncate_to == OpNumber(2));
  d.add(OpNumber(3), e(31, 1));
  PersistedState s = stored(3);
  apply_delta(s, d);
  REQUIRE(s.log.size() == 3);
  CHECK(s.log[0] == e(1));
  CHECK(s.log[1] == e(2));
  CHECK(s.log[2] == e(31, 1));
}

TEST_CASE("output: two truncates keep the lower one") {
  PersistDelta d;
  d.truncate(OpNumber(2));
  d.truncate(OpNumber(5));
  REQUIRE(d.truncate_to.has_value());
  CHECK(*d.truncate_to == OpNumber(2));
  d.truncate(OpNumber(1));
  CHECK(*d.truncate_to == OpNumber(1));
  PersistedState s = stored(4);
  apply_delta(s, d);
  CHECK(s.log.size() == 1);
}

TEST_CASE("output: truncate at or beyond the last pending append drops nothing") {
  PersistDelta d;
  d.add(OpNumber(4), e(40));
  d.add(OpNumber(5), e(50));
  d.truncate(OpNumber(5));
  CHECK(d.append.size() == 2);
  d.truncate(OpNumber(9));  // nothing after op 9 exists: a no-op, not a padding
  CHECK(d.append.size() == 2);
  PersistedState s = stored(3);
  apply_delta(s, d);
  CHECK(s.log.size() == 5);
}

TEST_CASE("output: truncating a stored log beyond its end is a no-op; state is stored last") {
  PersistDelta d;
  d.truncate(OpNumber(10));
  d.state = DurableState{ViewNumber(3), ViewNumber(2), CommitNumber(1)};
  PersistedState s = stored(3);
  apply_delta(s, d);
  CHECK(s.log.size() == 3);
  CHECK(s.state == DurableState{ViewNumber(3), ViewNumber(2), CommitNumber(1)});
}

TEST_CASE("output: a checkpoint is stored after the log writes, replacing the older one") {
  PersistedState s = stored(2);
  PersistDelta d;
  d.add(OpNumber(3), e(3));
  d.add(OpNumber(4), e(4));
  d.checkpoint = Checkpoint{OpNumber(4), 44, 7, Bytes{1}, {}};
  CHECK_FALSE(d.empty());
  apply_delta(s, d);
  REQUIRE(s.checkpoint.has_value());
  CHECK(s.checkpoint->op == OpNumber(4));
  PersistDelta later;
  later.checkpoint = Checkpoint{OpNumber(2), 22, 7, Bytes{2}, {}};
  CHECK_THROWS_AS(apply_delta(s, later), AssertionError);  // checkpoints go forward only
  PersistDelta beyond;
  beyond.checkpoint = Checkpoint{OpNumber(5), 55, 7, Bytes{3}, {}};
  CHECK_THROWS_AS(apply_delta(s, beyond), AssertionError);  // op 5 is not stored
  CHECK(s.checkpoint->op == OpNumber(4));
}

TEST_CASE("output: a discard drops the prefix after the batch's checkpoint is stored; its op becomes the base") {
  PersistedState s = stored(4);
  PersistDelta d;
  d.add(OpNumber(5), e(5));
  d.add(OpNumber(6), e(6));
  d.checkpoint = Checkpoint{OpNumber(6), 66, 7, Bytes{1}, {}};
  d.discard_to = LogBase{OpNumber(4), 44};
  apply_delta(s, d);
  CHECK(s.log_base == LogBase{OpNumber(4), 44});
  CHECK(s.log == std::vector<LogEntry>{e(5), e(6)});
  CHECK(s.last_op() == OpNumber(6));
  // Later appends, truncations and discards count from the base.
  PersistDelta more;
  more.truncate(OpNumber(5));
  more.add(OpNumber(6), e(16));
  more.discard_to = LogBase{OpNumber(5), 55};
  apply_delta(s, more);
  CHECK(s.log_base.op == OpNumber(5));
  CHECK(s.log == std::vector<LogEntry>{e(16)});
  PersistDelta stale;
  stale.discard_to = LogBase{OpNumber(3), 33};  // below the base: nothing to drop
  apply_delta(s, stale);
  CHECK(s.log_base.op == OpNumber(5));
  PersistDelta beyond;
  beyond.discard_to = LogBase{OpNumber(9), 99};
  CHECK_THROWS_AS(apply_delta(s, beyond), AssertionError);
}

TEST_CASE("output: a reset (snapshot install) replaces the whole log, before the batch's appends") {
  PersistedState s = stored(3);
  PersistDelta d;
  d.add(OpNumber(4), e(4));  // superseded by the reset
  d.reset(LogBase{OpNumber(10), 1010});
  d.checkpoint = Checkpoint{OpNumber(10), 1010, 7, Bytes{1}, {}};
  d.add(OpNumber(11), e(11));
  CHECK_FALSE(d.truncate_to.has_value());
  apply_delta(s, d);
  CHECK(s.log_base == LogBase{OpNumber(10), 1010});
  CHECK(s.log == std::vector<LogEntry>{e(11)});
  REQUIRE(s.checkpoint.has_value());
  CHECK(s.checkpoint->op == OpNumber(10));
}

TEST_CASE("output: swap exchanges every persist field, the checkpoint and discard included") {
  Output a;
  a.persist.checkpoint = Checkpoint{OpNumber(2), 1, 2, Bytes{}, {}};
  a.persist.discard_to = LogBase{OpNumber(1), 1};
  a.persist.reset_log = LogBase{OpNumber(2), 1};
  Output b;
  b.swap(a);
  CHECK(a.persist.empty());
  CHECK(b.persist.checkpoint.has_value());
  CHECK(b.persist.discard_to.has_value());
  CHECK(b.persist.reset_log.has_value());
  b.clear();
  CHECK(b.persist.empty());
}

TEST_CASE("output: clear empties every field, facts included") {
  Output o;
  CHECK(o.empty());
  o.facts.push_back(ViewChangeCompleted{ViewNumber(1), 7});
  CHECK_FALSE(o.empty());
  o.events.push_back(TelemetryEvent{});
  o.probes[0] = 3;
  o.persist.checkpoint = Checkpoint{};
  o.clear();
  CHECK(o.empty());
  CHECK_FALSE(o.persist.checkpoint.has_value());
  CHECK(o.facts.empty());
  CHECK(o.probes[0] == 0);
}

TEST_CASE("output: swap exchanges every field") {
  Output a;
  a.persist.truncate_to = OpNumber(2);
  a.persist.add(OpNumber(3), e(30));
  a.persist.state = DurableState{ViewNumber(4), ViewNumber(3), CommitNumber(2)};
  a.persist.checkpoint = Checkpoint{OpNumber(2), 22, 7, Bytes{1}, {}};
  a.send_now.push_back(Outgoing{ReplicaIndex(1), Commit{}});
  a.send_after_persist.push_back(Outgoing{ReplicaIndex(2), PrepareOk{}});
  a.committed.push_back(Committed{OpNumber(1), ClientId(5), RequestNumber(6), Bytes{7}, Bytes{8}});
  a.facts.push_back(ViewChangeCompleted{ViewNumber(1), 7});
  a.events.push_back(TelemetryEvent{});
  a.probes[1] = 9;
  Output b;
  b.send_now.push_back(Outgoing{ClientId(8), Reply{}});
  b.probes[2] = 4;
  a.swap(b);
  CHECK(a.persist.empty());
  CHECK(a.persist.append_first == OpNumber{});
  REQUIRE(a.send_now.size() == 1);
  CHECK(std::holds_alternative<ClientId>(a.send_now[0].to));
  CHECK(a.send_after_persist.empty());
  CHECK(a.committed.empty());
  CHECK(a.facts.empty());
  CHECK(a.events.empty());
  CHECK(a.probes[1] == 0);
  CHECK(a.probes[2] == 4);
  REQUIRE(b.persist.truncate_to.has_value());
  CHECK(*b.persist.truncate_to == OpNumber(2));
  CHECK(b.persist.append_first == OpNumber(3));
  REQUIRE(b.persist.append.size() == 1);
  CHECK(b.persist.append[0] == e(30));
  REQUIRE(b.persist.state.has_value());
  CHECK(b.persist.state->view == ViewNumber(4));
  REQUIRE(b.persist.checkpoint.has_value());  // a swap that lost it never stored one
  CHECK(b.persist.checkpoint->op == OpNumber(2));
  CHECK(b.send_now.size() == 1);
  CHECK(b.send_after_persist.size() == 1);
  CHECK(b.committed.size() == 1);
  CHECK(b.facts.size() == 1);
  CHECK(b.events.size() == 1);
  CHECK(b.probes[1] == 9);
  CHECK(b.probes[2] == 0);
}
