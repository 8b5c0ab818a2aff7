// A replicated counter, tested in the vsr simulator: the README's "Testing your own
// state machine" example, built by tools/install-test against the installed library.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "sim/model_system.hpp"
#include "tools/driver.hpp"

// Requests and results are one little-endian int64: a delta to add (0 reads), the total after it.
vsr::Bytes encode(std::int64_t v) {
  vsr::Bytes b(8);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (8 * i));
  return b;
}
std::optional<std::int64_t> decode(const vsr::Bytes& b) {
  if (b.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{b[i]} << (8 * i);
  return static_cast<std::int64_t>(v);
}

// 1. The state machine every replica runs. It must be deterministic.
class Counter final : public vsr::StateMachine {
 public:
  vsr::Bytes apply(const vsr::Bytes& op) override {
    total_ += decode(op).value_or(0);
    return encode(total_);
  }
  vsr::Bytes snapshot() const override { return encode(total_); }
  vsr::Result<void> restore(const vsr::Bytes& snapshot) override {
    auto total = decode(snapshot);
    if (!total) return vsr::Error{"a counter snapshot is 8 bytes"};
    total_ = *total;
    return vsr::outcome::success();
  }
  std::uint64_t state_hash() const override { return vsr::hash_mix(static_cast<std::uint64_t>(total_)); }

 private:
  std::int64_t total_ = 0;
};

// 2. What clients may see: the model the history is checked against.
struct CounterModel {
  using State = std::int64_t;   // the total
  using Input = std::int64_t;   // the delta
  using Output = std::int64_t;  // the total after it
  using Key = int;              // one counter: one partition
  static State initial() { return 0; }
  static std::optional<State> step(State s, Input in, Output out) {
    return s + in == out ? std::optional<State>(out) : std::nullopt;
  }
  static State effect(State s, Input in) { return s + in; }
  static Key partition(Input) { return 0; }
  static std::uint64_t hash(State s) { return vsr::hash_mix(static_cast<std::uint64_t>(s)); }
  static std::string describe_state(State s) { return std::to_string(s); }
  static std::string describe(Input in) { return "add " + std::to_string(in); }
  static std::string describe(Input in, Output out) { return describe(in) + " -> " + std::to_string(out); }
};

// 3. The system: the machine, a workload, the codec; then vsr-sim's command line over it.
int main(int argc, char** argv) {
  static const vsr::sim::System counter = vsr::sim::make_system<CounterModel>({
      .name = "counter",
      .summary = "a counter: add a delta, read the total",
      .make_machine = [] { return std::make_unique<Counter>(); },
      .next_input = [](std::uint32_t, vsr::sim::Prng& rng, const std::optional<std::int64_t>&) {
        return static_cast<std::int64_t>(rng.below(5));  // 0..4; 0 reads
      },
      .encode_input = [](const std::int64_t& delta) { return encode(delta); },
      .decode_input = decode,
      .decode_output = [](const std::int64_t&, const vsr::Bytes& result) { return decode(result); },
  });
  return vsr::sim::run_cli(argc, argv, {&counter}, {.program = "counter-sim"});
}
