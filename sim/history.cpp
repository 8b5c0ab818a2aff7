#include "sim/history.hpp"

#include <fmt/format.h>

namespace vsr::sim {

InputResult<HistoryRecorder::OpIndex> HistoryRecorder::invoke(std::int64_t process, OpCall call,
                                                             std::int64_t time, std::uint32_t line) {
  if (in_flight_.contains(process)) {
    return InputError{fmt::format("process {} invokes an op while its previous op is still in flight",
                                  process)};
  }
  if (retired_.contains(process)) {
    return InputError{fmt::format(
        "process {} invokes an op after an indeterminate (info) completion; "
        "a process that timed out or crashed must issue nothing more under the same id",
        process)};
  }
  Op op;
  op.process = process;
  op.call = std::move(call);
  op.invoke_seq = history_.event_count++;
  op.invoke_time = time;
  op.invoke_line = line;
  const OpIndex index = history_.ops.size();
  history_.ops.push_back(std::move(op));
  in_flight_.emplace(process, index);
  return index;
}

InputResult<void> HistoryRecorder::complete(OpIndex index, Outcome outcome, Value result,
                                            std::int64_t time, CasError cas_error,
                                            std::uint32_t line) {
  if (index >= history_.ops.size()) return InputError{fmt::format("no op with index {}", index)};
  Op& op = history_.ops[index];
  auto it = in_flight_.find(op.process);
  if (it == in_flight_.end() || it->second != index) {
    return InputError{fmt::format("op {} of process {} is not in flight", index, op.process)};
  }
  if (outcome == Outcome::pending) return InputError{"a completion cannot be `pending`"};
  in_flight_.erase(it);
  op.outcome = outcome;
  op.result = (op.call.kind == OpKind::read && outcome == Outcome::ok) ? result : Value{};
  op.cas_error = (op.call.kind == OpKind::cas && outcome == Outcome::fail) ? cas_error
                                                                          : CasError::unspecified;
  op.complete_time = time;
  op.complete_line = line;
  op.complete_seq = history_.event_count++;
  if (outcome == Outcome::info) retired_.emplace(op.process, true);
  return outcome::success();
}

std::optional<HistoryRecorder::OpIndex> HistoryRecorder::in_flight(std::int64_t process) const {
  auto it = in_flight_.find(process);
  if (it == in_flight_.end()) return std::nullopt;
  return it->second;
}

History HistoryRecorder::finish() && { return std::move(history_); }

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::read: return "read";
    case OpKind::write: return "write";
    case OpKind::cas: return "cas";
    case OpKind::del: return "delete";
  }
  return "?";
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::pending: return "pending";
    case Outcome::ok: return "ok";
    case Outcome::fail: return "fail";
    case Outcome::info: return "info";
  }
  return "?";
}

std::string_view to_string(CasError error) {
  switch (error) {
    case CasError::unspecified: return "unspecified";
    case CasError::not_found: return "not_found";
    case CasError::precondition_failed: return "precondition_failed";
  }
  return "?";
}

bool constrains_nothing(const Op& op) {
  if (op.call.kind == OpKind::read) return op.outcome != Outcome::ok;
  return op.outcome == Outcome::fail && op.call.kind != OpKind::cas;
}

std::string format_value(const Value& v) { return v ? std::to_string(*v) : std::string{"absent"}; }

std::string abbreviate(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string{text};
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;  // continuation byte
  return fmt::format("{}...", text.substr(0, cut));
}

namespace {

/// The op's call and outcome, without process or key: "cas 1 -> 2 [ok]".
std::string describe_call_and_outcome(const Op& op) {
  std::string what;
  switch (op.call.kind) {
    case OpKind::read:
      what = op.outcome == Outcome::ok ? fmt::format("read -> {}", format_value(op.result))
                                       : std::string{"read"};
      break;
    case OpKind::write: what = fmt::format("write {}", op.call.value); break;
    case OpKind::cas: what = fmt::format("cas {} -> {}", op.call.value, op.call.to); break;
    case OpKind::del: what = "delete"; break;
  }
  std::string outcome{to_string(op.outcome)};
  if (op.call.kind == OpKind::cas && op.outcome == Outcome::fail &&
      op.cas_error != CasError::unspecified) {
    outcome += fmt::format(" ({})", to_string(op.cas_error));
  }
  return fmt::format("{} [{}]", what, outcome);
}

bool is_plain_word(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string describe(const Op& op) {
  return fmt::format("process {} {}", op.process, describe_call_and_outcome(op));
}

std::string describe_with_key(const Op& op) {
  const std::string key = is_plain_word(op.call.key) ? op.call.key : fmt::format("{:?}", op.call.key);
  return fmt::format("process {} {} {}", op.process, key, describe_call_and_outcome(op));
}

}  // namespace vsr::sim
