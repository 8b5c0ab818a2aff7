// A client history of key-value operations: what each client asked for, and what it
// was told. The linearizability checker's input; built in memory by the simulator
// (HistoryRecorder) or parsed from a file (history_json.hpp, history_edn.hpp).
//
// Real-time order is the order of events (invocations and completions) as recorded,
// not the `time` fields: op A precedes op B iff A's completion was recorded before
// B's invocation. Times are kept only for display.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/outcome.hpp>

namespace vsr::sim {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

/// An error caused by outside input (a history file, a misuse of the recorder by a
/// parser): what is wrong and, when known, the file and line.
struct InputError {
  std::string message;
};

template <typename T>
using InputResult = outcome::result<T, InputError, outcome::policy::terminate>;

// VSR_SIM_TRY(decl, expr): evaluates an InputResult, returns its error, else binds its
// value to `decl` (e.g. `auto x` or an existing variable). VSR_SIM_TRYV for void.
// (Boost 1.74's BOOST_OUTCOME_TRY cannot declare with `auto x`.)
#define VSR_SIM_CAT2(a, b) a##b
#define VSR_SIM_CAT(a, b) VSR_SIM_CAT2(a, b)
#define VSR_SIM_TRY(decl, expr)                                                      \
  auto VSR_SIM_CAT(vsr_try_, __LINE__) = (expr);                                     \
  if (!VSR_SIM_CAT(vsr_try_, __LINE__)) return VSR_SIM_CAT(vsr_try_, __LINE__).error(); \
  decl = std::move(VSR_SIM_CAT(vsr_try_, __LINE__)).value()
#define VSR_SIM_TRYV(expr)                    \
  do {                                        \
    auto vsr_try_v_ = (expr);                 \
    if (!vsr_try_v_) return vsr_try_v_.error(); \
  } while (false)

/// A value in the model: absent (std::nullopt) means the key does not exist.
using Value = std::optional<std::int64_t>;

enum class OpKind : std::uint8_t { read, write, cas, del };

/// ok: took effect with the recorded result. fail: definitely did not take effect.
/// info: indeterminate (timeout, crash). pending: never completed (treated as info).
enum class Outcome : std::uint8_t { pending, ok, fail, info };

/// Why a cas failed, when the system said so.
enum class CasError : std::uint8_t { unspecified, not_found, precondition_failed };

/// What a client asked for.
struct OpCall {
  OpKind kind = OpKind::read;
  std::string key;
  std::int64_t value = 0;  // write: the value; cas: `from`
  std::int64_t to = 0;     // cas only

  static OpCall read(std::string key) { return {OpKind::read, std::move(key), 0, 0}; }
  static OpCall write(std::string key, std::int64_t v) { return {OpKind::write, std::move(key), v, 0}; }
  static OpCall cas(std::string key, std::int64_t from, std::int64_t to) {
    return {OpKind::cas, std::move(key), from, to};
  }
  static OpCall del(std::string key) { return {OpKind::del, std::move(key), 0, 0}; }
  bool operator==(const OpCall&) const = default;
};

inline constexpr std::uint64_t never_seq = std::numeric_limits<std::uint64_t>::max();

/// One operation: its call, its outcome, and where it sits in the event order.
struct Op {
  std::int64_t process = 0;
  OpCall call;
  Outcome outcome = Outcome::pending;
  Value result;                              // read with outcome ok: the value read
  CasError cas_error = CasError::unspecified;  // cas with outcome fail
  std::uint64_t invoke_seq = 0;              // position in the event order
  std::uint64_t complete_seq = never_seq;    // never_seq while pending
  std::int64_t invoke_time = 0;              // display only
  std::int64_t complete_time = 0;            // display only; meaningless when never completed
  std::uint32_t invoke_line = 0;             // source line when parsed from a file, else 0
  std::uint32_t complete_line = 0;
};

/// Ops in invocation order. Invariant (kept by HistoryRecorder): invoke_seq strictly
/// increases along `ops`; each op's complete_seq > invoke_seq; sequence numbers are
/// unique across all events. An info op's completion has a position too, but the
/// checker treats the op as never returning.
struct History {
  std::vector<Op> ops;
  std::uint64_t event_count = 0;
};

/// Builds a History one event at a time, enforcing the client rules: a process has
/// at most one op in flight, and a process whose op ended `info` issues nothing more.
/// Errors name the rule broken (callers add file and line).
class HistoryRecorder {
 public:
  using OpIndex = std::size_t;

  /// Records an invocation; returns the op's index in History::ops.
  InputResult<OpIndex> invoke(std::int64_t process, OpCall call, std::int64_t time,
                              std::uint32_t line = 0);

  /// Records the completion of an op still in flight. `result` is the value read (for
  /// an ok read; ignored otherwise). Outcome must not be pending.
  InputResult<void> complete(OpIndex index, Outcome outcome, Value result, std::int64_t time,
                             CasError cas_error = CasError::unspecified, std::uint32_t line = 0);

  /// The op `process` has in flight, if any.
  [[nodiscard]] std::optional<OpIndex> in_flight(std::int64_t process) const;

  [[nodiscard]] const History& history() const { return history_; }

  /// Ends recording; ops still in flight stay pending (treated as info).
  History finish() &&;

 private:
  History history_;
  std::map<std::int64_t, OpIndex> in_flight_;
  std::map<std::int64_t, bool> retired_;  // processes whose last op was info
};

std::string_view to_string(OpKind kind);
std::string_view to_string(Outcome outcome);
std::string_view to_string(CasError error);

/// One line describing an op without its key, for reports that already group by
/// key: "process 3 cas 1 -> 2 [ok]", "process 5 read -> absent [ok]",
/// "process 2 write 7 [pending]", "process 4 cas 0 -> 1 [fail (precondition_failed)]".
std::string describe(const Op& op);

/// The same with the key after the process: "process 3 k1 cas 1 -> 2 [ok]" (the
/// simulator's trace, where ops on every key are interleaved). A key that is not a
/// plain word (letters, digits, '_', '-', '.') is quoted: `process 3 "a b" read [ok]`.
std::string describe_with_key(const Op& op);

/// Whether the op cannot affect the verdict: a failed read, write or delete, or a read
/// whose result is unknown (info or pending). Reports leave these out.
bool constrains_nothing(const Op& op);

/// "absent" or the number.
std::string format_value(const Value& v);

/// Longest text an error message echoes from its input (parsers quote keys, values,
/// tokens): longer text is cut, so a 1 MiB value never becomes a 1 MiB message.
inline constexpr std::size_t max_echo_bytes = 60;

/// `text` itself if at most `max_bytes` long, else its first bytes (cut at a UTF-8
/// character boundary, at most `max_bytes`) followed by "...".
std::string abbreviate(std::string_view text, std::size_t max_bytes = max_echo_bytes);

}  // namespace vsr::sim
