// The key-value store as a model for the model-generic checker (sim/lin_model.hpp),
// and the streaming check of KV histories built on it (sim/lin_stream.hpp): what the
// simulator runs on every client op, so that a run keeps no history.
//
// The model says what sim/linearizability.hpp's KV checker says (a map from key to an
// optional int64; read, write, cas, delete; failed reads, writes and deletes took no
// effect; a failed cas observed a value other than its `from`, of the kind its error
// names). The property tests hold the two checkers to the same verdicts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/history.hpp"
#include "sim/lin_stream.hpp"

namespace vsr::sim {

struct KvModel {
  using State = Value;
  using Input = OpCall;
  /// What a completed op returned: ok (with the value a read saw) or fail (a cas, with
  /// its reason when known).
  struct Output {
    bool ok = true;
    Value value;
    CasError cas_error = CasError::unspecified;
    bool operator==(const Output&) const = default;
  };
  using Key = std::string;
  /// A write or delete overwrites, an ok cas or a read fits one state only, a failed
  /// cas changes nothing: an indeterminate op is never needed before an op that fits.
  static constexpr bool just_in_time = true;

  static State initial() { return std::nullopt; }
  static std::optional<State> step(const State& s, const Input& in, const Output& out);
  static State effect(const State& s, const Input& in);
  /// Reads, failed cas ops and cas a -> a change no state.
  static bool observer(const Input& in, const Output& out) {
    return in.kind == OpKind::read || (in.kind == OpKind::cas && (!out.ok || in.value == in.to));
  }
  static const std::string& partition(const Input& in) { return in.key; }
  static std::uint64_t hash(const State& s) {
    return s ? static_cast<std::uint64_t>(*s) * 0x9E3779B97F4A7C15ULL + 1 : 0;
  }
  static std::string describe_state(const State& s) { return format_value(s); }
  static std::string describe(const Input& in);
  static std::string describe(const Input& in, const Output& out);
};
static_assert(lin::Model<KvModel>);

/// Checks a KV history as it is recorded: feed it every op's invocation and completion
/// (the recorder's `Op`, which explanations quote), in the order they happened.
class KvStreamCheck {
 public:
  explicit KvStreamCheck(lin::StreamOptions options = {}) : checker_(options) {}

  /// `op` has just been invoked (its call, process and invocation time are set).
  void invoke(std::uint64_t id, const Op& op) { checker_.invoke(id, op.call, op); }
  /// `op` has just completed (its outcome and results are set).
  void complete(std::uint64_t id, const Op& op);
  /// The history ends: ops in flight become indeterminate, the last segments are checked.
  lin::StreamVerdict finish() { return checker_.finish(); }

  [[nodiscard]] lin::StreamVerdict verdict() const { return checker_.verdict(); }
  [[nodiscard]] const lin::StreamStats& stats() const { return checker_.stats(); }
  /// Why the history is not linearizable (several lines), or "" if it is not known not to be.
  [[nodiscard]] std::string explain() const;
  /// Keys given up on by a bound ("k1 (search bound)"), comma-separated; "" if none.
  [[nodiscard]] std::string unknown_keys() const;

 private:
  lin::StreamChecker<KvModel, Op> checker_;
};

/// Checks a whole history with the streaming checker, replaying its events in order.
struct KvStreamResult {
  lin::StreamVerdict verdict = lin::StreamVerdict::linearizable;
  std::string explanation;  // when not linearizable
  lin::StreamStats stats;
};
KvStreamResult check_streaming(const History& history, lin::StreamOptions options = {});

}  // namespace vsr::sim
