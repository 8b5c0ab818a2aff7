#include "sim/linearizability.hpp"

#include "sim/history_gen.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vsr::sim {
namespace {

/// Builds histories tersely: each call records the next event.
class Script {
 public:
  std::size_t read(std::int64_t p, const std::string& k = "x") { return inv(p, OpCall::read(k)); }
  std::size_t write(std::int64_t p, std::int64_t v, const std::string& k = "x") {
    return inv(p, OpCall::write(k, v));
  }
  std::size_t cas(std::int64_t p, std::int64_t from, std::int64_t to, const std::string& k = "x") {
    return inv(p, OpCall::cas(k, from, to));
  }
  std::size_t del(std::int64_t p, const std::string& k = "x") { return inv(p, OpCall::del(k)); }
  void ok(std::size_t i, Value result = {}) { done(i, Outcome::ok, result); }
  void fail(std::size_t i, CasError e = CasError::unspecified) { done(i, Outcome::fail, {}, e); }
  void info(std::size_t i) { done(i, Outcome::info, {}); }
  /// A whole op with no concurrency.
  void seq_write(std::int64_t p, std::int64_t v, const std::string& k = "x") { ok(write(p, v, k)); }
  void seq_read(std::int64_t p, Value v, const std::string& k = "x") { ok(read(p, k), v); }

  [[nodiscard]] Verdict verdict(unsigned jobs = 1) const {
    CheckOptions o;
    o.jobs = jobs;
    return check(rec_.history(), o).verdict;
  }
  [[nodiscard]] CheckResult result() const { return check(rec_.history(), {}); }
  [[nodiscard]] const History& history() const { return rec_.history(); }

 private:
  std::size_t inv(std::int64_t p, OpCall c) { return rec_.invoke(p, std::move(c), t_++).value(); }
  void done(std::size_t i, Outcome o, Value r, CasError e = CasError::unspecified) {
    REQUIRE(rec_.complete(i, o, r, t_++, e));
  }
  HistoryRecorder rec_;
  std::int64_t t_ = 0;
};

TEST_CASE("empty history is linearizable") {
  Script s;
  CHECK(s.verdict() == Verdict::linearizable);
  CHECK(s.result().keys.empty());
}

TEST_CASE("a read of a key never written sees absent") {
  Script s;
  s.seq_read(0, std::nullopt);
  CHECK(s.verdict() == Verdict::linearizable);
  Script t;
  t.seq_read(0, 0);
  CHECK(t.verdict() == Verdict::not_linearizable);
}

TEST_CASE("stale read after a completed write") {
  Script s;
  s.seq_write(0, 1);
  s.seq_write(0, 2);
  s.seq_read(1, 1);
  const CheckResult r = s.result();
  REQUIRE(r.verdict == Verdict::not_linearizable);
  REQUIRE(r.keys.size() == 1);
  const auto& v = r.keys[0].violation;
  REQUIRE(v.has_value());
  CHECK(v->op == 2);
  CHECK(v->possible_values == std::vector<Value>{2});
  CHECK_FALSE(v->op_fits_somewhere);
  CHECK(v->minimal);
  CHECK(v->prefix_ops.size() == 3);
}

TEST_CASE("concurrent writes: either order is allowed") {
  for (std::int64_t seen : {1, 2}) {
    Script s;
    const auto a = s.write(0, 1);
    const auto b = s.write(1, 2);
    s.ok(a);
    s.ok(b);
    s.seq_read(2, seen);
    s.seq_read(3, seen);
    CHECK(s.verdict() == Verdict::linearizable);
  }
  Script flip;  // but not both orders at once
  const auto a = flip.write(0, 1);
  const auto b = flip.write(1, 2);
  flip.ok(a);
  flip.ok(b);
  flip.seq_read(2, 1);
  flip.seq_read(3, 2);
  CHECK(flip.verdict() == Verdict::not_linearizable);
}

TEST_CASE("a cas that succeeded twice from the same value") {
  Script s;
  s.seq_write(0, 0);
  const auto a = s.cas(1, 0, 1);
  const auto b = s.cas(2, 0, 2);
  s.ok(a);
  s.ok(b);
  CHECK(s.verdict() == Verdict::not_linearizable);
}

TEST_CASE("an info write that must have happened") {
  Script s;
  s.seq_write(0, 1);
  s.info(s.write(1, 2));
  s.seq_read(2, 2);
  CHECK(s.verdict() == Verdict::linearizable);
}

TEST_CASE("an info write that must not have happened") {
  Script s;
  s.seq_write(0, 1);
  s.info(s.write(1, 2));
  s.seq_read(2, 1);
  s.seq_read(2, 1);
  CHECK(s.verdict() == Verdict::linearizable);
  // ...but it cannot happen twice, nor before it was invoked.
  Script twice;
  twice.seq_write(0, 1);
  twice.info(twice.write(1, 2));
  twice.seq_read(2, 2);
  twice.seq_write(0, 3);
  twice.seq_read(2, 2);
  CHECK(twice.verdict() == Verdict::not_linearizable);
  Script early;
  early.seq_read(2, 2);
  early.info(early.write(1, 2));
  CHECK(early.verdict() == Verdict::not_linearizable);
}

TEST_CASE("two interchangeable info writes can both take effect") {
  Script s;
  s.info(s.write(0, 5));
  s.info(s.write(1, 5));
  s.seq_read(2, 5);
  s.seq_write(2, 1);
  s.seq_read(2, 5);
  CHECK(s.verdict() == Verdict::linearizable);
  s.seq_write(2, 1);
  s.seq_read(2, 5);
  CHECK(s.verdict() == Verdict::not_linearizable);
}

TEST_CASE("a pending (never completed) op is indeterminate") {
  HistoryRecorder rec;
  REQUIRE(rec.invoke(0, OpCall::write("x", 7), 0));
  const auto r = rec.invoke(1, OpCall::read("x"), 1).value();
  REQUIRE(rec.complete(r, Outcome::ok, 7, 2));
  CHECK(check(std::move(rec).finish()).verdict == Verdict::linearizable);
}

TEST_CASE("a read of a value never written") {
  Script s;
  s.seq_write(0, 1);
  const auto r = s.read(1);
  const auto w = s.write(0, 2);
  s.ok(w);
  s.ok(r, 3);
  const CheckResult res = s.result();
  REQUIRE(res.verdict == Verdict::not_linearizable);
  const auto& v = res.keys[0].violation;
  REQUIRE(v.has_value());
  CHECK(v->op == r);
  CHECK(v->possible_values == std::vector<Value>{1, 2});
}

TEST_CASE("a failed cas whose from was in fact current") {
  Script s;
  s.seq_write(0, 1);
  s.fail(s.cas(1, 1, 2));
  CHECK(s.verdict() == Verdict::not_linearizable);
  Script concurrent;  // a concurrent write can explain it
  concurrent.seq_write(0, 1);
  const auto w = concurrent.write(0, 5);
  const auto c = concurrent.cas(1, 1, 2);
  concurrent.fail(c);
  concurrent.ok(w);
  CHECK(concurrent.verdict() == Verdict::linearizable);
}

TEST_CASE("failed cas reasons are checked when given") {
  Script missing;
  missing.seq_write(0, 1);
  missing.fail(missing.cas(1, 3, 4), CasError::not_found);
  CHECK(missing.verdict() == Verdict::not_linearizable);
  Script mismatch;
  mismatch.fail(mismatch.cas(1, 3, 4), CasError::precondition_failed);
  CHECK(mismatch.verdict() == Verdict::not_linearizable);
  Script fine;
  fine.fail(fine.cas(1, 3, 4), CasError::not_found);
  fine.seq_write(0, 1);
  fine.fail(fine.cas(1, 3, 4), CasError::precondition_failed);
  CHECK(fine.verdict() == Verdict::linearizable);
}

TEST_CASE("delete makes the key absent") {
  Script s;
  s.seq_write(0, 1);
  s.ok(s.del(0));
  s.seq_read(1, std::nullopt);
  s.fail(s.cas(1, 1, 2), CasError::not_found);
  CHECK(s.verdict() == Verdict::linearizable);
  s.seq_read(1, 1);
  CHECK(s.verdict() == Verdict::not_linearizable);
}

TEST_CASE("an info cas may take effect only from its from value") {
  Script s;
  s.seq_write(0, 1);
  s.info(s.cas(1, 1, 2));
  s.seq_read(2, 2);
  CHECK(s.verdict() == Verdict::linearizable);
  Script t;
  t.seq_write(0, 3);
  t.info(t.cas(1, 1, 2));
  t.seq_read(2, 2);
  CHECK(t.verdict() == Verdict::not_linearizable);
}

TEST_CASE("failed reads and writes constrain nothing") {
  Script s;
  s.seq_write(0, 1);
  s.fail(s.write(1, 9));
  s.fail(s.read(2));
  s.seq_read(2, 1);
  CHECK(s.verdict() == Verdict::linearizable);
}

TEST_CASE("keys are independent; the verdict is per key") {
  Script s;
  s.seq_write(0, 1, "a");
  s.seq_write(0, 1, "b");
  s.seq_read(1, 1, "a");
  s.seq_read(1, 2, "b");
  const CheckResult r = s.result();
  REQUIRE(r.keys.size() == 2);
  CHECK(r.keys[0].key == "a");
  CHECK(r.keys[0].verdict == Verdict::linearizable);
  CHECK(r.keys[1].verdict == Verdict::not_linearizable);
  CHECK(r.verdict == Verdict::not_linearizable);
  CHECK(s.verdict(4) == Verdict::not_linearizable);
}

TEST_CASE("the recorder enforces the client rules") {
  HistoryRecorder rec;
  const auto a = rec.invoke(0, OpCall::read("x"), 0).value();
  CHECK(rec.invoke(0, OpCall::read("x"), 1).has_error());
  REQUIRE(rec.complete(a, Outcome::info, {}, 2));
  CHECK(rec.complete(a, Outcome::ok, {}, 3).has_error());
  CHECK(rec.invoke(0, OpCall::read("x"), 4).has_error());
  CHECK(rec.invoke(1, OpCall::read("x"), 4).has_value());
}

// ---- Property tests on histories recorded from a real register ----

bool produces(const Op& op, std::int64_t v) {
  if (op.outcome == Outcome::fail) return false;
  return (op.call.kind == OpKind::write && op.call.value == v) ||
         (op.call.kind == OpKind::cas && op.call.to == v);
}

bool overwrites_with_other(const Op& op, std::int64_t v) {
  if (op.outcome != Outcome::ok) return false;
  return op.call.kind == OpKind::del || (op.call.kind == OpKind::write && op.call.value != v) ||
         (op.call.kind == OpKind::cas && op.call.to != v);
}

/// Whether read `r` can have seen `v` in no linearization at all: every op that could
/// produce v was invoked after r completed (a future value), or all of them completed
/// before an op that definitely overwrote v, which completed before r began (a stale one).
bool impossible_for(const History& h, std::size_t r, std::int64_t v) {
  const Op& read = h.ops[r];
  std::vector<const Op*> producers;
  for (const Op& op : h.ops) {
    if (op.call.key == read.call.key && produces(op, v)) producers.push_back(&op);
  }
  if (producers.empty()) return false;  // never written: true, but too easy
  const bool future = std::all_of(producers.begin(), producers.end(),
                                  [&](const Op* p) { return p->invoke_seq > read.complete_seq; });
  if (future) return true;
  for (const Op& m : h.ops) {
    if (m.call.key != read.call.key || !overwrites_with_other(m, v) || m.complete_seq >= read.invoke_seq) continue;
    const bool stale = std::all_of(producers.begin(), producers.end(), [&](const Op* p) {
      return p->outcome == Outcome::ok && p->complete_seq < m.invoke_seq;
    });
    if (stale) return true;
  }
  return false;
}

/// Mutates one ok read (scanning from `start`) to an impossible value; returns its index.
std::optional<std::size_t> mutate_one_read(History& h, std::size_t start, unsigned values) {
  for (std::size_t k = 0; k < h.ops.size(); ++k) {
    const std::size_t i = (start + k) % h.ops.size();
    Op& op = h.ops[i];
    if (op.call.kind != OpKind::read || op.outcome != Outcome::ok) continue;
    for (std::int64_t v = 0; v < static_cast<std::int64_t>(values); ++v) {
      if (op.result == v || !impossible_for(h, i, v)) continue;
      op.result = v;
      return i;
    }
  }
  return std::nullopt;
}

TEST_CASE("property: histories from a real register are linearizable; one impossible read is not") {
  struct Shape {
    std::size_t ops;
    unsigned procs, keys, info, values;
  };
  const std::vector<Shape> shapes = {
      {60, 3, 1, 0, 3}, {200, 5, 1, 0, 5}, {300, 10, 2, 10, 5}, {400, 20, 1, 20, 8},
      {500, 5, 3, 30, 4}, {600, 50, 6, 5, 10}, {300, 15, 1, 5, 3},
  };
  std::size_t mutated = 0;
  for (const Shape& sh : shapes) {
    for (std::uint64_t seed = 1; seed <= 15; ++seed) {
      CAPTURE(seed);
      CAPTURE(sh.procs);
      RegisterGenOptions o{seed, sh.ops, sh.procs, sh.keys, sh.info, sh.values};
      History h = generate_register_history(o);
      const CheckResult ok = check(h);
      REQUIRE(ok.verdict == Verdict::linearizable);
      if (auto r = mutate_one_read(h, static_cast<std::size_t>(seed * 7919) % h.ops.size(), sh.values)) {
        CheckOptions two;
        two.jobs = 2;
        const CheckResult bad = check(h, two);
        REQUIRE(bad.verdict == Verdict::not_linearizable);
        for (const KeyResult& k : bad.keys) {
          if (k.verdict != Verdict::not_linearizable) continue;
          REQUIRE(k.violation.has_value());
          CHECK(k.violation->op == *r);
          CHECK(k.violation->minimal);
          CHECK_FALSE(explain(h, k).empty());
        }
        ++mutated;
      }
    }
  }
  CHECK(mutated >= 60);
}

TEST_CASE("the verdict and explanation do not depend on jobs") {
  RegisterGenOptions o{42, 2000, 10, 8, 10, 5};
  History h = generate_register_history(o);
  for (std::size_t start : {100U, 900U, 1700U}) (void)mutate_one_read(h, start, o.values);
  CheckOptions one, four;
  four.jobs = 4;
  const CheckResult a = check(h, one), b = check(h, four);
  REQUIRE(a.keys.size() == b.keys.size());
  CHECK(a.verdict == Verdict::not_linearizable);
  for (std::size_t i = 0; i < a.keys.size(); ++i) {
    CHECK(a.keys[i].verdict == b.keys[i].verdict);
    CHECK(explain(h, a.keys[i]) == explain(h, b.keys[i]));
  }
}

TEST_CASE("bounds turn a key into unknown") {
  RegisterGenOptions o{3, 3000, 50, 1, 30, 3};
  const History h = generate_register_history(o);
  CheckOptions tiny;
  tiny.max_memory_bytes = 1;
  const CheckResult r = check(h, tiny);
  CHECK(r.verdict == Verdict::unknown);
  REQUIRE(r.keys.size() == 1);
  CHECK(r.keys[0].unknown_reason == "memory bound");
  CheckOptions instant;
  instant.timeout = std::chrono::milliseconds{0};
  const CheckResult t = check(h, instant);
  CHECK(t.verdict != Verdict::not_linearizable);
}

TEST_CASE("explanation text names the op and the possible values") {
  Script s;
  s.seq_write(0, 1);
  s.seq_write(0, 2);
  s.seq_read(1, 1);
  const CheckResult r = s.result();
  const std::string text = explain(s.history(), r.keys[0]);
  CHECK(text.find("process 1 read -> 1") != std::string::npos);
  CHECK(text.find("could only hold: 2") != std::string::npos);
  MESSAGE(text);
}

}  // namespace
}  // namespace vsr::sim
