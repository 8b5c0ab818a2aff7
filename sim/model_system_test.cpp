// A user's system under test (sim/model_system.hpp) in the simulator: a register of
// one int64 whose writes answer with the value they replaced. Variants of its machine
// plant the bugs a user could write, and each must fail the run with the check that
// names it; the correct machine must pass, replay exactly, and shrink.
#include "sim/model_system.hpp"

#include <memory>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include "sim/shrink.hpp"
#include "sim/simulator.hpp"
#include "sim/systems.hpp"

using namespace vsr;
using namespace vsr::sim;

namespace {

Bytes encode(std::int64_t v) {
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i));
  return b;
}
std::optional<std::int64_t> decode(const Bytes& b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{b[i]} << (8 * i);
  return static_cast<std::int64_t>(v);
}

/// The bug a machine plants.
enum class Bug { none, not_deterministic, wrong_answer, forgets_snapshot, breaks_invariant, garbage_result };

/// A register: a request of v > 0 writes v, 0 reads; the answer is the value before.
class Register final : public StateMachine {
 public:
  explicit Register(Bug bug) : bug_(bug) {
    static int instances = 0;
    instance_ = ++instances;
  }
  Bytes apply(const Bytes& op) override {
    const std::int64_t before = value_;
    const std::int64_t v = decode(op).value_or(0);
    if (v > 0) value_ = v;
    if (bug_ == Bug::not_deterministic && v > 0) value_ += instance_ % 2;  // replicas differ
    if (bug_ == Bug::breaks_invariant && v > 0) value_ = -v;
    if (bug_ == Bug::garbage_result) return Bytes{1, 2, 3};
    if (bug_ == Bug::wrong_answer && v == 0 && before > 0) return encode(before + 1);
    return encode(before);
  }
  [[nodiscard]] Bytes snapshot() const override { return encode(value_); }
  Result<void> restore(const Bytes& s) override {
    auto v = decode(s);
    if (!v) return Error{"a register snapshot is 8 bytes"};
    if (bug_ != Bug::forgets_snapshot) value_ = *v;
    return outcome::success();
  }
  [[nodiscard]] std::uint64_t state_hash() const override { return hash_mix(static_cast<std::uint64_t>(value_)); }
  [[nodiscard]] std::int64_t value() const { return value_; }

 private:
  Bug bug_;
  int instance_ = 0;
  std::int64_t value_ = 0;
};

struct RegisterModel {
  using State = std::int64_t;
  using Input = std::int64_t;   // v > 0 writes v; 0 reads
  using Output = std::int64_t;  // the value before
  using Key = int;
  static State initial() { return 0; }
  static std::optional<State> step(State s, Input in, Output out) {
    if (out != s) return std::nullopt;
    return in > 0 ? in : s;
  }
  static State effect(State s, Input in) { return in > 0 ? in : s; }
  static Key partition(Input) { return 0; }
  static std::uint64_t hash(State s) { return hash_mix(static_cast<std::uint64_t>(s)); }
  static std::string describe_state(State s) { return std::to_string(s); }
  static std::string describe(Input in) { return in > 0 ? "write " + std::to_string(in) : "read"; }
  static std::string describe(Input in, Output out) { return describe(in) + " -> " + std::to_string(out); }
};

System make_register(Bug bug, const std::string& name) {
  return make_system<RegisterModel>({
      .name = name,
      .summary = "a register whose writes answer with the value they replaced",
      .make_machine = [bug] { return std::make_unique<Register>(bug); },
      .check_machine =
          [](const StateMachine& m) {
            const auto v = static_cast<const Register&>(m).value();
            return v < 0 ? "the value is negative: " + std::to_string(v) : std::string();
          },
      .next_input =
          [](std::uint32_t, Prng& rng, const std::optional<std::int64_t>&) {
            return rng.chance(0.5) ? std::int64_t{0} : static_cast<std::int64_t>(1 + rng.below(1000));
          },
      .encode_input = [](const std::int64_t& in) { return encode(in); },
      .decode_input = decode,
      .decode_output = [](const std::int64_t&, const Bytes& r) { return decode(r); },
  });
}

RunOptions on(const System& system, std::uint64_t seed) {
  RunOptions o;
  o.system = &system;
  o.seed = seed;
  o.duration_us = 2'000'000;
  return o;
}

/// The first of seeds 1..40 that fails, with its result.
std::optional<RunResult> first_failure(const System& system, FaultLevel faults = FaultLevel::normal) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    RunOptions o = on(system, seed);
    o.faults = faults;
    RunResult r = run_simulation(o);
    if (r.verdict != RunVerdict::passed) return r;
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("a user's system: the correct machine passes, and a seed replays to the same trace hash") {
  const System system = make_register(Bug::none, "register");
  std::uint64_t ops = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    RunResult r = run_simulation(on(system, seed));
    REQUIRE_MESSAGE(r.verdict == RunVerdict::passed, seed, ": ", r.check, ": ", r.detail);
    CHECK(r.trace_hash == run_simulation(on(system, seed)).trace_hash);
    CHECK(r.history.ops.empty());  // only the KV system records a history
    ops += r.stats.ops_ok;
  }
  CHECK(ops > 100);
  // Another system on the same seed draws other operations: another run.
  RunOptions kv;
  kv.seed = 3;
  kv.duration_us = 2'000'000;
  CHECK(run_simulation(on(system, 3)).trace_hash != run_simulation(kv).trace_hash);
}

TEST_CASE("a user's system: a recorded schedule replays exactly, by the system's name") {
  const System system = make_register(Bug::none, "register-replay");
  REQUIRE(register_system(system).has_value());
  RunOptions o = on(system, 6);
  o.record_schedule = true;
  RunResult recorded = run_simulation(o);
  REQUIRE(recorded.verdict == RunVerdict::passed);
  CHECK(recorded.schedule.system == "register-replay");
  CHECK(recorded.schedule.op_count() > 0);
  RunOptions replay;
  replay.schedule = &recorded.schedule;  // no system given: found by the schedule's name
  CHECK(run_simulation(replay).trace_hash == recorded.trace_hash);
  // Given the wrong system, the replay refuses to run.
  replay.system = &system;
  Schedule other = recorded.schedule;
  other.system = "kv";
  replay.schedule = &other;
  RunResult wrong = run_simulation(replay);
  CHECK(wrong.verdict == RunVerdict::crash);
  CHECK(wrong.detail.find("the schedule is for system 'kv'") != std::string::npos);
}

TEST_CASE("a user's system: a non-deterministic apply fails the state-hash agreement") {
  const System system = make_register(Bug::not_deterministic, "register-nondeterministic");
  auto r = first_failure(system);
  REQUIRE(r.has_value());
  CHECK(r->verdict == RunVerdict::safety);
  CHECK_MESSAGE(r->check.find("hash") != std::string::npos, r->check, ": ", r->detail);
}

TEST_CASE("a user's system: a machine that breaks its own invariant fails the state-machine check") {
  const System system = make_register(Bug::breaks_invariant, "register-negative");
  auto r = first_failure(system);
  REQUIRE(r.has_value());
  CHECK(r->verdict == RunVerdict::safety);
  CHECK(r->check == "state-machine");
  CHECK(r->detail.find("the value is negative") != std::string::npos);
}

TEST_CASE("a user's system: a wrong answer fails linearizability, explained with the model's words") {
  const System system = make_register(Bug::wrong_answer, "register-wrong");
  auto r = first_failure(system, FaultLevel::none);
  REQUIRE(r.has_value());
  CHECK(r->verdict == RunVerdict::not_linearizable);
  CHECK(r->check == "linearizability");
  CHECK_MESSAGE(r->detail.find("read -> ") != std::string::npos, r->detail);
  CHECK(r->detail.find("shortest failing prefix") != std::string::npos);
}

TEST_CASE("a user's system: a result the decoder refuses fails the run, naming the system") {
  const System system = make_register(Bug::garbage_result, "register-garbage");
  auto r = first_failure(system, FaultLevel::none);
  REQUIRE(r.has_value());
  CHECK(r->verdict == RunVerdict::crash);
  CHECK(r->detail.find("no answer of system 'register-garbage'") != std::string::npos);
}

TEST_CASE("a user's system: a snapshot restore that loses the state is caught") {
  const System system = make_register(Bug::forgets_snapshot, "register-forgets");
  std::optional<RunResult> r;
  for (std::uint64_t seed = 1; seed <= 400 && !r; ++seed) {
    RunOptions o = on(system, seed);
    o.faults = FaultLevel::harsh;
    RunResult run = run_simulation(o);
    if (run.verdict != RunVerdict::passed) r = run;
  }
  REQUIRE(r.has_value());
  // The replica checks a restored checkpoint against the state hash it was taken with.
  CHECK(r->verdict == RunVerdict::crash);
  CHECK_MESSAGE(r->detail.find("a restored checkpoint has its state hash") != std::string::npos, r->detail);
}

TEST_CASE("a user's system: a failing seed shrinks to a smaller schedule of the same system") {
  const System system = make_register(Bug::breaks_invariant, "register-shrink");
  REQUIRE(register_system(system).has_value());
  RunOptions o = on(system, 1);
  o.record_schedule = true;
  RunResult original = run_simulation(o);
  REQUIRE(original.verdict == RunVerdict::safety);
  ShrinkOptions so;
  so.max_runs = 300;
  so.reseeds = 0;
  ShrinkResult s = shrink(original.schedule, failure_class(original), simulation_runner(RunOptions{}), so);
  REQUIRE(s.reproduced);
  CHECK(s.minimal.system == "register-shrink");
  CHECK(s.minimal.op_count() <= original.schedule.op_count());
  CHECK(s.minimal_run.check == "state-machine");
}
