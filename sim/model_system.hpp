// A user's system under test from a linearizability model (sim/lin_model.hpp) and a
// codec: make_system<Model>(spec) builds the System (sim/system.hpp) whose runs draw
// the model's inputs, send them as requests, decode the machine's results into the
// model's outputs, and check the history with the streaming checker on the model
// (sim/lin_stream.hpp) as it is recorded. The README's "Testing your own state
// machine" walks through one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sim/lin_stream.hpp"
#include "sim/system.hpp"
#include "vsr/assert.hpp"

namespace vsr::sim {

template <lin::Model M>
struct ModelSystem {
  using Input = typename M::Input;
  using Output = typename M::Output;

  std::string name;     // letters, digits, '-' and '_'
  std::string summary;  // one line
  MachineFactory make_machine;
  MachineCheck check_machine = {};  // optional: an invariant on one machine's state
  /// The workload: the input client slot `slot` issues next, given the output its
  /// previous op returned (nullopt for its first op and after an abandoned one). Draw
  /// only from `rng`: the seed must decide every input.
  std::function<Input(std::uint32_t slot, Prng& rng, const std::optional<Output>& last)> next_input;
  /// The request bytes of an input, and back: nullopt for bytes that are no input.
  std::function<Bytes(const Input&)> encode_input;
  std::function<std::optional<Input>(const Bytes&)> decode_input;
  /// What the machine's result bytes tell about `input`: the model's output, or
  /// nullopt if they are no answer to it (the run then fails: a replica sent garbage).
  std::function<std::optional<Output>(const Input&, const Bytes&)> decode_output;
  /// Optional: an output that counts as a definite failure in the run's figures.
  std::function<bool(const Output&)> failed = {};
  lin::StreamOptions check_options = {};
};

namespace detail {

/// What an explanation shows of an op beyond its input and output.
struct ModelOpTag {
  std::int64_t process = 0;
  std::uint64_t invoke_us = 0;
  std::uint64_t complete_us = 0;
  bool ended = false;  // completed or abandoned
  bool abandoned = false;
};

template <lin::Model M>
std::string describe_key(const typename M::Key& key) {
  if constexpr (fmt::is_formattable<typename M::Key>::value) {
    return fmt::format("partition {}", key);
  } else {
    (void)key;
    return "the history";
  }
}

template <lin::Model M>
class ModelRun final : public SystemRun {
 public:
  using Input = typename M::Input;
  using Output = typename M::Output;

  ModelRun(const ModelSystem<M>& spec, const SystemRunOptions& o)
      : spec_(&spec), check_(o.check), last_output_(o.clients), checker_(spec.check_options) {}

  Bytes next_operation(std::uint32_t slot, Prng& rng) override {
    return spec_->encode_input(spec_->next_input(slot, rng, slot < last_output_.size() ? last_output_[slot] : std::nullopt));
  }

  InputResult<void> invoke(std::uint64_t id, std::uint32_t slot, std::int64_t process, const Bytes& operation,
                           std::uint64_t time_us) override {
    std::optional<Input> input = spec_->decode_input(operation);
    if (!input) return InputError{fmt::format("the bytes are no operation of system '{}'", spec_->name)};
    Open& open = open_[id];
    open.input = std::move(*input);
    open.slot = slot;
    open.tag = ModelOpTag{process, time_us, 0, false, false};
    if (check_) checker_.invoke(id, open.input, open.tag);
    return outcome::success();
  }

  InputResult<Answer> complete(std::uint64_t id, const Bytes& result, std::uint64_t time_us) override {
    auto it = open_.find(id);
    VSR_ASSERT(it != open_.end(), "completion of an op not in flight");
    std::optional<Output> output = spec_->decode_output(it->second.input, result);
    if (!output) {
      return InputError{fmt::format("a replica's result for {} is no answer of system '{}'",
                                    M::describe(it->second.input), spec_->name)};
    }
    Answer answer = spec_->failed && spec_->failed(*output) ? Answer::fail : Answer::ok;
    it->second.output = output;
    end(it, time_us, false);
    return answer;
  }

  void abandon(std::uint64_t id, std::uint64_t time_us) override {
    auto it = open_.find(id);
    VSR_ASSERT(it != open_.end(), "an abandoned op not in flight");
    end(it, time_us, true);
  }

  [[nodiscard]] std::string describe(std::uint64_t id) const override {
    auto it = open_.find(id);
    const Open& op = it != open_.end() ? it->second : last_;
    return op.output ? M::describe(op.input, *op.output) : M::describe(op.input);
  }

  void finish() override {
    if (check_) checker_.finish();
  }

  [[nodiscard]] std::string violation() const override {
    const auto& v = checker_.violation();
    if (!v) return {};
    std::string out = fmt::format(
        "{} is not linearizable. It is checked in segments, cut where none of its ops is in flight;\n"
        "  when the failing segment began the state could be: {}\n",
        describe_key<M>(v->key), fmt::join(v->start_states, " | "));
    if (!v->free_ops.empty()) {
      std::vector<std::string> free;
      for (const auto& [what, n] : v->free_ops) free.push_back(n > 1 ? fmt::format("{} (x{})", what, n) : what);
      out += fmt::format("  and these indeterminate ops could still take effect: {}\n", fmt::join(free, ", "));
    }
    out += fmt::format(
        "  the shortest failing prefix of the segment ({} of its {} ops) ends when this op completes,\n"
        "  and no order of the ops before it lets it return what it did:\n{}\n"
        "  the prefix's ops, in invocation order:",
        v->prefix.size(), v->segment_ops, line(v->prefix[v->culprit]));
    for (const auto& op : v->prefix) out += "\n" + line(op);
    return out;
  }

  [[nodiscard]] std::string unknown() const override {
    std::vector<std::string> parts;
    for (const auto& [key, why] : checker_.unknown_keys()) parts.push_back(fmt::format("{} ({})", describe_key<M>(key), why));
    return fmt::format("{}", fmt::join(parts, ", "));
  }
  [[nodiscard]] lin::StreamStats check_stats() const override { return checker_.stats(); }

 private:
  struct Open {
    Input input;
    std::optional<Output> output;
    std::uint32_t slot = 0;
    ModelOpTag tag;
  };

  void end(typename std::map<std::uint64_t, Open>::iterator it, std::uint64_t time_us, bool abandoned) {
    Open& op = it->second;
    op.tag.complete_us = time_us;
    op.tag.ended = true;
    op.tag.abandoned = abandoned;
    if (op.slot < last_output_.size()) last_output_[op.slot] = abandoned ? std::nullopt : op.output;
    if (check_) {
      if (abandoned) {
        checker_.complete_unknown(it->first, op.tag);
      } else {
        checker_.complete(it->first, *op.output, op.tag);
      }
    }
    last_ = std::move(op);
    open_.erase(it);
  }

  static std::string line(const lin::StreamOp<M, ModelOpTag>& op) {
    const ModelOpTag& t = op.tag;
    std::string what = op.output ? M::describe(op.input, *op.output) : M::describe(op.input);
    std::string when = t.ended && !t.abandoned && op.output
                           ? fmt::format("t={}..{}", t.invoke_us, t.complete_us)
                           : fmt::format("t={}..? ({})", t.invoke_us, t.abandoned ? "info" : "in flight");
    return fmt::format("    process {}: {}  {}", t.process, what, when);
  }

  const ModelSystem<M>* spec_;
  bool check_;
  std::vector<std::optional<Output>> last_output_;  // [slot]: what its last op returned
  std::map<std::uint64_t, Open> open_;              // ops in flight, by id
  Open last_;                                       // the op that ended last
  lin::StreamChecker<M, ModelOpTag> checker_;
};

}  // namespace detail

/// The System `spec` describes. The spec is kept alive by the System.
template <lin::Model M>
System make_system(ModelSystem<M> spec) {
  VSR_ASSERT(spec.make_machine && spec.next_input && spec.encode_input && spec.decode_input && spec.decode_output,
             "a ModelSystem needs make_machine, next_input, encode_input, decode_input and decode_output");
  auto shared = std::make_shared<const ModelSystem<M>>(std::move(spec));
  System system;
  system.name = shared->name;
  system.summary = shared->summary;
  system.make_machine = shared->make_machine;
  system.check_machine = shared->check_machine;
  system.start = [shared](const SystemRunOptions& o) -> std::unique_ptr<SystemRun> {
    return std::make_unique<detail::ModelRun<M>>(*shared, o);
  };
  return system;
}

}  // namespace vsr::sim
