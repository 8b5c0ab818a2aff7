// The human-readable explanation of a violating key (explain in
// sim/linearizability.hpp): the op that cannot be placed, what it needs, what the key
// could hold, and the ops around it.
#include "sim/linearizability.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace vsr::sim {
namespace {

/// What the violating op `op` (an ok read or a cas) needs the key to hold, in words.
std::string needs(const Op& op) {
  if (op.call.kind == OpKind::read) return fmt::format("the value {}", format_value(op.result));
  if (op.outcome == Outcome::ok) return fmt::format("the value {} (its cas `from`)", op.call.value);
  switch (op.cas_error) {
    case CasError::not_found: return "the key to be absent (it failed with not_found)";
    case CasError::precondition_failed:
      return fmt::format("a value present and other than {} (it failed its precondition)", op.call.value);
    case CasError::unspecified: break;
  }
  return fmt::format("the key absent or a value other than {} (the cas failed)", op.call.value);
}

/// When `op` ran and where it is in the history file, as far as either was recorded.
std::string when(const Op& op) {
  const bool done = op.outcome == Outcome::ok || op.outcome == Outcome::fail;
  std::string s;
  if (op.invoke_time != 0 || op.complete_time != 0 || op.invoke_line == 0) {  // times recorded
    s = fmt::format("t={}..", op.invoke_time);
    if (done) s += std::to_string(op.complete_time);
    else s += op.outcome == Outcome::info ? fmt::format("? (info at t={})", op.complete_time) : std::string{"? (pending)"};
  } else if (!done) {
    s = op.outcome == Outcome::info ? "(info)" : "(pending)";
  }
  if (op.invoke_line != 0) {
    s += fmt::format("{}line {}", s.empty() ? "" : ", ", op.invoke_line);
    if (op.complete_line != 0) s += fmt::format("-{}", op.complete_line);
  }
  return s;
}

/// Whether `op` may have changed the key.
bool mutator(const Op& op) {
  return op.outcome != Outcome::fail && op.call.kind != OpKind::read;
}

/// The ops worth showing: those overlapping `target`, and the last few mutators that
/// completed before it was invoked.
std::vector<std::size_t> relevant_ops(const History& h, const Violation& v) {
  const Op& t = h.ops[v.op];
  std::vector<std::size_t> before, out;
  for (std::size_t i : v.prefix_ops) {
    const Op& op = h.ops[i];
    if (constrains_nothing(op)) continue;
    const bool done_before = op.outcome != Outcome::pending && op.complete_seq < t.invoke_seq &&
                             (op.outcome == Outcome::ok || op.outcome == Outcome::fail);
    if (!done_before) out.push_back(i);
    else if (mutator(op)) before.push_back(i);
  }
  const std::size_t keep = std::min<std::size_t>(before.size(), 3);
  out.insert(out.begin(), before.end() - static_cast<std::ptrdiff_t>(keep), before.end());
  return out;
}

}  // namespace

std::string explain(const History& history, const KeyResult& key) {
  std::string s = fmt::format("key {:?}: {} ({} ops)", key.key, to_string(key.verdict), key.op_count);
  if (key.verdict == Verdict::unknown) s += fmt::format(": gave up ({})", key.unknown_reason);
  if (!key.violation) return s;
  const Violation& v = *key.violation;
  const Op& t = history.ops[v.op];
  s += fmt::format("\n  shortest prefix that cannot be linearized: {} events ({} ops) of this key{}",
                   v.prefix_events, v.prefix_ops.size(),
                   v.minimal ? "" : " (not minimised: a resource bound was reached)");
  s += fmt::format("\n  it ends with the completion of an op that cannot be placed:\n    {}  {}",
                   describe(t), when(t));
  s += fmt::format("\n  it needs {}", needs(t));
  if (v.needs_unwritten_value) {
    s += "\n  and no write or cas of this key invoked before it completed writes that value:"
         "\n  no order of the ops can explain it";
  }
  std::vector<std::string> vals;
  for (const Value& x : v.possible_values) vals.push_back(format_value(x));
  s += fmt::format("\n  but wherever it could take effect (after every op completed before its invocation,"
                   "\n  before its completion) the key could only hold: {}{}",
                   vals.empty() ? std::string{"(no state)"} : fmt::format("{}", fmt::join(vals, ", ")),
                   v.possible_values_complete ? "" : " (enumeration cut short by a resource bound)");
  if (v.op_fits_somewhere) {
    s += "\n  it matches at some of those points, but from each of them the other ops completed"
         "\n  by then cannot all be placed";
  }
  const std::vector<std::size_t> rel = relevant_ops(history, v);
  s += "\n  ops of the prefix around it (the last writers completed before it, then every op\n"
       "  overlapping it; failed ops and reads of unknown outcome left out):";
  for (std::size_t i : rel) {
    s += fmt::format("\n    {} {}  {}", i == v.op ? "=>" : "  ", describe(history.ops[i]), when(history.ops[i]));
  }
  return s;
}

}  // namespace vsr::sim
