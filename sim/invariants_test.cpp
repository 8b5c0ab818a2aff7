// The cross-replica checks must fire on the states they forbid. Replicas are put in
// those states through Replica::restart with hand-made disks.
#include "sim/invariants.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

#include "vsr/kv.hpp"

using namespace vsr;
using namespace vsr::sim;

namespace {

Config config(std::uint32_t n, std::uint8_t self) {
  return Config::make(n, ReplicaIndex(self)).value();
}

LogEntry write_entry(std::uint64_t client, std::uint64_t request, const std::string& value) {
  return LogEntry{ViewNumber(0), ClientId(client), RequestNumber(request),
                  encode_kv_op(KvOp{KvOpKind::write, "x", value, ""})};
}

Replica restarted(std::uint8_t self, std::vector<LogEntry> log, std::uint64_t commit,
                  std::uint64_t view = 0) {
  PersistedState disk;
  disk.state = DurableState{ViewNumber(view), ViewNumber(view), CommitNumber(commit)};
  disk.log = std::move(log);
  return Replica::restart(config(3, self), std::make_unique<KvMachine>(), disk);
}

}  // namespace

TEST_CASE("invariants: replicas that committed different ops at one number are caught") {
  InvariantChecker checker(3);
  Replica a = restarted(1, {write_entry(1, 1, "a")}, 1);
  Replica b = restarted(2, {write_entry(1, 1, "b")}, 1);
  CHECK_FALSE(checker.after_step(a).has_value());
  auto f = checker.after_step(b);
  REQUIRE(f.has_value());
  CHECK(f->check == "committed-ops-agree");
}

TEST_CASE("invariants: agreeing replicas pass, including the state-hash check") {
  InvariantChecker checker(3);
  Replica a = restarted(1, {write_entry(1, 1, "a"), write_entry(2, 1, "b")}, 2);
  Replica b = restarted(2, {write_entry(1, 1, "a"), write_entry(2, 1, "b")}, 2);
  CHECK_FALSE(checker.after_step(a).has_value());
  CHECK_FALSE(checker.after_step(b).has_value());
}

TEST_CASE("invariants: executing a request twice on one replica is caught") {
  InvariantChecker checker(3);
  Committed first{OpNumber(1), ClientId(4), RequestNumber(2), {}, {}};
  Committed again{OpNumber(2), ClientId(4), RequestNumber(2), {}, {}};
  CHECK_FALSE(checker.on_committed(ReplicaIndex(0), first).has_value());
  auto f = checker.on_committed(ReplicaIndex(0), again);
  REQUIRE(f.has_value());
  CHECK(f->check == "exactly-once");
  // Another replica executing it once is fine.
  CHECK_FALSE(checker.on_committed(ReplicaIndex(1), first).has_value());
}

TEST_CASE("invariants: a restart below a promised view is caught; a wipe is not") {
  InvariantChecker checker(3);
  checker.on_promise(ReplicaIndex(1), ViewNumber(5));
  Replica back = restarted(1, {}, 0, 2);
  auto f = checker.on_restart(back, /*wiped=*/false);
  REQUIRE(f.has_value());
  CHECK(f->check == "durable-promises");
  InvariantChecker checker2(3);
  checker2.on_promise(ReplicaIndex(1), ViewNumber(5));
  CHECK_FALSE(checker2.on_restart(back, /*wiped=*/true).has_value());
}

TEST_CASE("invariants: a view going backwards within one incarnation is caught") {
  InvariantChecker checker(3);
  Replica high = restarted(1, {}, 0, 4);
  Replica low = restarted(1, {}, 0, 1);
  CHECK_FALSE(checker.after_step(high).has_value());
  auto f = checker.after_step(low);
  REQUIRE(f.has_value());
  CHECK(f->check == "monotonic-view");
}

TEST_CASE("invariants: a released message above max_message_bytes is caught (message-fits)") {
  InvariantChecker checker(3, 300);
  Replica a = restarted(1, {write_entry(1, 1, "a")}, 1);
  checker.on_message_sent(ReplicaIndex(1), Commit{ViewNumber(0), CommitNumber(1), ReplicaIndex(1)});
  CHECK_FALSE(checker.after_step(a).has_value());
  // A reply whose result alone is larger than the bound (replies bypass Replica::send).
  checker.on_message_sent(ReplicaIndex(1), Reply{ViewNumber(0), ClientId(4), RequestNumber(1),
                                                 Bytes(400, 7), ReplicaIndex(1)});
  auto f = checker.after_step(a);
  REQUIRE(f.has_value());
  CHECK(f->check == "message-fits");
  CHECK(f->detail.find("reply of") != std::string::npos);
  CHECK_FALSE(checker.after_step(a).has_value());  // reported once
}

TEST_CASE("op runs: merged on both sides, duplicates ignored, gaps kept") {
  OpRuns r;
  for (std::uint64_t op : {5, 7, 6, 6, 1, 9, 2, 10, 8}) r.add(op);
  const std::map<std::uint64_t, std::uint64_t> want{{1, 2}, {5, 10}};
  CHECK(r.runs() == want);
  r.add(4);
  r.add(3);
  CHECK(r.runs() == std::map<std::uint64_t, std::uint64_t>{{1, 10}});
  // Against a plain set over many random adds.
  OpRuns big;
  std::set<std::uint64_t> plain;
  std::uint64_t x = 12345;
  for (int i = 0; i < 5000; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::uint64_t op = (x >> 33) % 3000;
    big.add(op);
    plain.insert(op);
  }
  std::set<std::uint64_t> expanded;
  std::uint64_t prev_last = 0;
  bool first = true;
  for (auto [a, b] : big.runs()) {
    CHECK(a <= b);
    if (!first) CHECK(a > prev_last + 1);  // disjoint and never adjacent
    first = false;
    prev_last = b;
    for (std::uint64_t k = a; k <= b; ++k) expanded.insert(k);
  }
  CHECK(expanded == plain);
}
