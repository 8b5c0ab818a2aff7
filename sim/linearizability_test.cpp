#include "sim/linearizability.hpp"

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

}  // namespace
}  // namespace vsr::sim
