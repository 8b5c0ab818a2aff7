#include "sim/history_gen.hpp"

#include <map>
#include <queue>
#include <string>
#include <vector>

namespace vsr::sim {
namespace {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed ^ 0x6A09E667F3BCC909ULL) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n), 0 < n < 2^32 (multiply-shift on the top 32 bits; the tiny
  /// bias is irrelevant here).
  std::uint64_t below(std::uint64_t n) { return ((next() >> 32) * n) >> 32; }

 private:
  std::uint64_t s_;
};

enum class Ev : std::uint8_t { invoke, effect, complete };

struct Event {
  std::int64_t time;
  std::uint64_t seq;
  Ev kind;
  unsigned slot;
  bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
};

struct Slot {
  std::int64_t process = 0;
  std::size_t op = 0;  // index in the history of the op in flight
  OpCall call;
  bool info = false;
  bool took_effect = false;
  Outcome outcome = Outcome::ok;
  Value result;
  CasError cas_error = CasError::unspecified;
};

class Generator {
 public:
  explicit Generator(const RegisterGenOptions& o) : o_(o), rng_(o.seed), slots_(o.processes) {
    for (unsigned s = 0; s < o_.processes; ++s) {
      slots_[s].process = s;
      push(static_cast<std::int64_t>(rng_.below(10)), Ev::invoke, s);
    }
  }

  History run() {
    while (!queue_.empty()) {
      const Event e = queue_.top();
      queue_.pop();
      if (e.kind == Ev::invoke) on_invoke(e);
      else if (e.kind == Ev::effect) on_effect(e);
      else on_complete(e);
    }
    return std::move(rec_).finish();
  }

 private:
  void push(std::int64_t t, Ev k, unsigned slot) { queue_.push({t, seq_++, k, slot}); }

  OpCall random_call() {
    std::string key = "k" + std::to_string(rng_.below(std::max(1U, o_.keys)));
    const auto v = [&] { return static_cast<std::int64_t>(rng_.below(std::max(1U, o_.values))); };
    const std::uint64_t r = rng_.below(100);
    if (r < 50) return OpCall::read(std::move(key));
    if (r < 75) return OpCall::write(std::move(key), v());
    if (r < 95) {
      const std::int64_t from = v();
      return OpCall::cas(std::move(key), from, v());
    }
    return OpCall::del(std::move(key));
  }

  void on_invoke(const Event& e) {
    if (invoked_ >= o_.ops) return;
    ++invoked_;
    Slot& s = slots_[e.slot];
    s.call = random_call();
    s.info = rng_.below(100) < o_.info_percent;
    s.took_effect = !s.info || rng_.below(2) == 0;
    s.op = rec_.invoke(s.process, s.call, e.time).value();
    const auto effect_at = e.time + static_cast<std::int64_t>(rng_.below(20));
    push(effect_at, Ev::effect, e.slot);
  }

  void on_effect(const Event& e) {
    Slot& s = slots_[e.slot];
    if (s.took_effect) apply(s);
    push(e.time + static_cast<std::int64_t>(rng_.below(20)), Ev::complete, e.slot);
  }

  void apply(Slot& s) {
    Value& cur = state_[s.call.key];
    s.outcome = Outcome::ok;
    s.result.reset();
    s.cas_error = CasError::unspecified;
    switch (s.call.kind) {
      case OpKind::read: s.result = cur; break;
      case OpKind::write: cur = s.call.value; break;
      case OpKind::del: cur.reset(); break;
      case OpKind::cas:
        if (cur == s.call.value) {
          cur = s.call.to;
        } else {
          s.outcome = Outcome::fail;
          s.cas_error = cur ? CasError::precondition_failed : CasError::not_found;
        }
        break;
    }
  }

  void on_complete(const Event& e) {
    Slot& s = slots_[e.slot];
    const Outcome out = s.info ? Outcome::info : s.outcome;
    // The generator reports failed cas without a reason, like most systems' histories.
    (void)rec_.complete(s.op, out, s.result, e.time, CasError::unspecified);
    if (s.info) s.process += o_.processes;
    push(e.time + static_cast<std::int64_t>(rng_.below(10)), Ev::invoke, e.slot);
  }

  RegisterGenOptions o_;
  Rng rng_;
  std::vector<Slot> slots_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t seq_ = 0;
  std::size_t invoked_ = 0;
  std::map<std::string, Value> state_;
  HistoryRecorder rec_;
};

}  // namespace

History generate_register_history(const RegisterGenOptions& options) {
  return Generator{options}.run();
}

}  // namespace vsr::sim
