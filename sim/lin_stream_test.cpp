// The model-generic streaming checker (sim/lin_stream.hpp): segments and what they
// carry, on the KV model and on a model of another shape (a FIFO queue, one partition).
#include "sim/lin_stream.hpp"

#include "sim/history_gen.hpp"
#include "sim/kv_model.hpp"
#include "sim/linearizability.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <string>

#include <fmt/format.h>

namespace vsr::sim {
namespace {

using lin::StreamVerdict;

/// Feeds a KV stream tersely: each call is the next event.
class Feed {
 public:
  std::uint64_t inv(std::int64_t p, OpCall call) {
    Op op;
    op.process = p;
    op.call = std::move(call);
    op.invoke_time = t_++;
    ops_.push_back(op);
    check_.invoke(ops_.size() - 1, op);
    return ops_.size() - 1;
  }
  void done(std::uint64_t id, Outcome o, Value v = {}, CasError e = CasError::unspecified) {
    Op& op = ops_[id];
    op.outcome = o;
    op.result = v;
    op.cas_error = e;
    op.complete_time = t_++;
    check_.complete(id, op);
  }
  void write(std::int64_t p, std::int64_t v, const std::string& k = "x") { done(inv(p, OpCall::write(k, v)), Outcome::ok); }
  void read(std::int64_t p, Value v, const std::string& k = "x") { done(inv(p, OpCall::read(k)), Outcome::ok, v); }
  KvStreamCheck& check() { return check_; }

 private:
  KvStreamCheck check_;
  std::vector<Op> ops_;
  std::int64_t t_ = 0;
};

TEST_CASE("each quiescent stretch of a key is a segment of its own") {
  Feed f;
  for (int i = 0; i < 100; ++i) {
    f.write(1, i);
    f.read(2, i);
  }
  CHECK(f.check().finish() == StreamVerdict::linearizable);
  CHECK(f.check().stats().segments == 200);
  CHECK(f.check().stats().largest_segment == 1);
  CHECK(f.check().stats().most_carried == 1);
}

TEST_CASE("a stale read across a cut is caught, and the explanation names the start state") {
  Feed f;
  f.write(1, 1);
  f.write(1, 2);
  f.read(2, 1);
  CHECK(f.check().verdict() == StreamVerdict::not_linearizable);
  const std::string why = f.check().explain();
  CHECK(why.find("key x is not linearizable") != std::string::npos);
  CHECK(why.find("could hold: 2") != std::string::npos);
  CHECK(why.find("process 2 x read -> 1 [ok]") != std::string::npos);
}

TEST_CASE("an indeterminate write is carried across segments and takes effect at most once") {
  Feed f;
  f.write(1, 1);
  const auto w = f.inv(2, OpCall::write("x", 2));
  f.done(w, Outcome::info);
  f.read(3, 1);  // not yet
  f.read(3, 2);  // now
  CHECK(f.check().verdict() == StreamVerdict::linearizable);
  f.read(3, 1);  // the write took effect once: 1 cannot come back
  CHECK(f.check().verdict() == StreamVerdict::not_linearizable);
  CHECK(f.check().explain().find("could hold: 2") != std::string::npos);
}

TEST_CASE("concurrent ops keep a segment open until none is in flight") {
  Feed f;
  const auto a = f.inv(1, OpCall::write("x", 1));
  const auto b = f.inv(2, OpCall::write("x", 2));
  f.done(a, Outcome::ok);
  const auto r = f.inv(3, OpCall::read("x"));
  f.done(b, Outcome::ok);
  f.done(r, Outcome::ok, Value{1});  // b before a: 1 is possible
  f.read(3, 1);
  CHECK(f.check().finish() == StreamVerdict::linearizable);
  CHECK(f.check().stats().largest_segment == 3);
  CHECK(f.check().stats().segments == 2);
}

TEST_CASE("two possible states are carried; a later read decides between them") {
  Feed f;
  const auto a = f.inv(1, OpCall::write("x", 1));
  const auto b = f.inv(2, OpCall::write("x", 2));
  f.done(a, Outcome::ok);
  f.done(b, Outcome::ok);
  CHECK(f.check().stats().most_carried == 2);
  f.read(3, 2);
  f.read(3, 2);
  CHECK(f.check().finish() == StreamVerdict::linearizable);
}

TEST_CASE("ops still in flight at the end are indeterminate") {
  Feed f;
  f.write(1, 1);
  (void)f.inv(2, OpCall::write("x", 5));
  f.read(3, 5);
  CHECK(f.check().finish() == StreamVerdict::linearizable);
}

TEST_CASE("a bound turns a key into unknown and leaves the other keys checked") {
  lin::StreamOptions tight;
  tight.max_configs = 3;
  KvStreamCheck check{tight};
  std::vector<Op> ops;
  auto inv = [&](std::int64_t p, OpCall c) {
    Op op;
    op.process = p;
    op.call = std::move(c);
    ops.push_back(op);
    check.invoke(ops.size() - 1, op);
    return ops.size() - 1;
  };
  auto done = [&](std::size_t i, Value v = {}) {
    ops[i].outcome = Outcome::ok;
    ops[i].result = v;
    check.complete(i, ops[i]);
  };
  std::vector<std::size_t> many;
  for (int p = 0; p < 6; ++p) many.push_back(inv(p, OpCall::write("busy", p)));
  for (std::size_t i : many) done(i);
  done(inv(9, OpCall::write("calm", 1)));
  done(inv(9, OpCall::read("calm")), Value{2});
  CHECK(check.finish() == StreamVerdict::not_linearizable);  // calm is still checked
  CHECK(check.unknown_keys() == "busy (search bound)");
}

TEST_CASE("indeterminate writes stay free forever, up to a bound; inert ones are not kept") {
  lin::StreamOptions few;
  few.max_free_classes = 3;
  KvStreamCheck check{few};
  std::vector<Op> ops;
  auto run = [&](std::int64_t p, OpCall c, Outcome o) {
    Op op;
    op.process = p;
    op.call = std::move(c);
    ops.push_back(op);
    check.invoke(ops.size() - 1, op);
    ops.back().outcome = o;
    check.complete(ops.size() - 1, ops.back());
  };
  for (int i = 0; i < 5; ++i) run(10 + i, OpCall::read("x"), Outcome::info);  // inert: not kept
  run(20, OpCall::cas("x", 4, 4), Outcome::info);                            // inert too
  for (int i = 0; i < 3; ++i) run(30 + i, OpCall::write("x", i), Outcome::info);
  CHECK(check.verdict() == StreamVerdict::linearizable);
  CHECK(check.unknown_keys().empty());
  run(40, OpCall::write("x", 9), Outcome::info);  // a fourth distinct free input
  CHECK(check.finish() == StreamVerdict::unknown);
  CHECK(check.unknown_keys() == "x (indeterminate-ops bound)");
}

TEST_CASE("property: the streaming checker agrees with the KV checker on register histories") {
  struct Shape {
    std::size_t ops;
    unsigned procs, keys, info, values;
  };
  // The generator never lets a key rest, so each history is one long segment: shapes
  // of the simulator's concurrency (up to 8 clients) and a few timeouts. (Twenty
  // writers, or a fifth of 400 ops indeterminate on one key, exhaust the search bound:
  // enumerating every end state costs more than finding one linearization; the
  // simulator's keys rest often, so its segments are short.)
  const std::vector<Shape> shapes = {
      {60, 3, 1, 0, 3}, {200, 5, 1, 0, 5}, {300, 8, 2, 5, 5}, {400, 8, 1, 2, 8},
      {500, 5, 3, 10, 4}, {600, 8, 6, 5, 10}, {300, 6, 1, 5, 3}, {300, 4, 1, 10, 5},
  };
  std::size_t bad = 0;
  for (const Shape& sh : shapes) {
    for (std::uint64_t seed = 1; seed <= 15; ++seed) {
      CAPTURE(seed);
      CAPTURE(sh.procs);
      History h = generate_register_history({seed, sh.ops, sh.procs, sh.keys, sh.info, sh.values});
      const KvStreamResult whole = check_streaming(h);
      INFO(whole.explanation);
      REQUIRE(whole.verdict == StreamVerdict::linearizable);
      // One read's result changed: the KV checker decides, the stream must agree.
      for (std::size_t i = (seed * 7919) % h.ops.size(); i < h.ops.size(); ++i) {
        Op& op = h.ops[i];
        if (op.call.kind != OpKind::read || op.outcome != Outcome::ok) continue;
        op.result = op.result ? Value{(*op.result + 1) % sh.values} : Value{0};
        const Verdict full = check(h).verdict;
        REQUIRE(full != Verdict::unknown);
        const KvStreamResult s = check_streaming(h);
        CHECK((s.verdict == StreamVerdict::not_linearizable) == (full == Verdict::not_linearizable));
        if (s.verdict == StreamVerdict::not_linearizable) {
          ++bad;
          CHECK(s.explanation.find("is not linearizable") != std::string::npos);
        }
        break;
      }
    }
  }
  CHECK(bad >= 60);
}

// ---- a model of another shape: a FIFO queue (one partition; a dequeue's result
// depends on the whole order of earlier enqueues).

struct QueueModel {
  using State = std::deque<int>;
  struct Input {
    bool enqueue = true;
    int value = 0;  // enqueue's value
    bool operator==(const Input&) const = default;
  };
  struct Output {
    std::optional<int> value;  // dequeue: the head, or empty
    bool operator==(const Output&) const = default;
  };
  using Key = int;
  static State initial() { return {}; }
  static std::optional<State> step(const State& s, const Input& in, const Output& out) {
    return in.enqueue ? std::optional{effect(s, in)} : (head(s) == out.value ? std::optional{effect(s, in)} : std::nullopt);
  }
  static State effect(const State& s, const Input& in) {
    State n = s;
    if (in.enqueue) n.push_back(in.value);
    else if (!n.empty()) n.pop_front();
    return n;
  }
  static int partition(const Input&) { return 0; }
  static std::uint64_t hash(const State& s) {
    std::uint64_t h = s.size();
    for (int v : s) h = h * 31 + static_cast<std::uint64_t>(v);
    return h;
  }
  static std::string describe_state(const State& s) { return fmt::format("[{}]", fmt::join(s, " ")); }
  static std::string describe(const Input& in) { return in.enqueue ? fmt::format("enqueue {}", in.value) : "dequeue"; }
  static std::string describe(const Input& in, const Output& out) {
    return in.enqueue ? describe(in) : fmt::format("dequeue -> {}", out.value ? std::to_string(*out.value) : "empty");
  }
  static std::optional<int> head(const State& s) { return s.empty() ? std::nullopt : std::optional{s.front()}; }
};
static_assert(lin::Model<QueueModel>);

using QueueCheck = lin::StreamChecker<QueueModel>;
constexpr QueueModel::Input enq(int v) { return {true, v}; }
constexpr QueueModel::Input deq() { return {false, 0}; }

TEST_CASE("queue: concurrent enqueues may be dequeued in either order, but only one order at a time") {
  QueueCheck q;
  q.invoke(1, enq(1));
  q.invoke(2, enq(2));
  q.complete(1, {});
  q.complete(2, {});
  CHECK(q.stats().most_carried == 2);  // [1 2] or [2 1]
  q.invoke(3, deq());
  q.complete(3, {2});
  q.invoke(4, deq());
  q.complete(4, {1});
  CHECK(q.verdict() == StreamVerdict::linearizable);
  q.invoke(5, deq());
  q.complete(5, {1});  // 1 was already dequeued
  CHECK(q.finish() == StreamVerdict::not_linearizable);
  REQUIRE(q.violation().has_value());
  CHECK(q.violation()->start_states == std::vector<std::string>{"[]"});
}

TEST_CASE("queue: an indeterminate enqueue may surface later, once") {
  QueueCheck q;
  q.invoke(1, enq(7));
  q.complete_unknown(1);
  q.invoke(2, deq());
  q.complete(2, {std::nullopt});  // not yet
  q.invoke(3, enq(8));
  q.complete(3, {});
  q.invoke(4, deq());
  q.complete(4, {7});  // it took effect after the empty dequeue, before 8
  q.invoke(5, deq());
  q.complete(5, {8});
  CHECK(q.verdict() == StreamVerdict::linearizable);
  q.invoke(6, enq(9));
  q.complete(6, {});
  q.invoke(7, deq());
  q.complete(7, {7});  // not twice
  CHECK(q.finish() == StreamVerdict::not_linearizable);
  CHECK(q.violation()->start_states == std::vector<std::string>{"[9]"});
}

}  // namespace
}  // namespace vsr::sim
