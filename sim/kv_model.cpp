// The KV model's sequential semantics, the streaming check's op classification, and
// its explanation text (sim/kv_model.hpp).
#include "sim/kv_model.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace vsr::sim {

std::optional<KvModel::State> KvModel::step(const State& s, const Input& in, const Output& out) {
  // State is itself an optional: build results in place, never by deduction (a
  // deduced std::optional{s} would be `s` itself, and an empty one would mean "no").
  using Next = std::optional<State>;
  const auto keep = [&](bool fits) { return fits ? Next{std::in_place, s} : Next{}; };
  switch (in.kind) {
    case OpKind::read: return keep(out.value == s);
    case OpKind::write: return Next{std::in_place, in.value};
    case OpKind::del: return Next{std::in_place, std::nullopt};
    case OpKind::cas:
      if (out.ok) return s == in.value ? Next{std::in_place, in.to} : Next{};
      switch (out.cas_error) {
        case CasError::not_found: return keep(!s);
        case CasError::precondition_failed: return keep(s && *s != in.value);
        case CasError::unspecified: return keep(s != in.value);
      }
  }
  return Next{};
}

KvModel::State KvModel::effect(const State& s, const Input& in) {
  switch (in.kind) {
    case OpKind::read: return s;
    case OpKind::write: return State{in.value};
    case OpKind::del: return State{};
    case OpKind::cas: return s == in.value ? State{in.to} : s;
  }
  return s;
}

std::string KvModel::describe(const Input& in) {
  switch (in.kind) {
    case OpKind::read: return "read";
    case OpKind::write: return fmt::format("write {}", in.value);
    case OpKind::del: return "delete";
    case OpKind::cas: return fmt::format("cas {} -> {}", in.value, in.to);
  }
  return "?";
}

std::string KvModel::describe(const Input& in, const Output& out) {
  if (in.kind == OpKind::read) return fmt::format("read -> {}", format_value(out.value));
  if (out.ok) return describe(in);
  return fmt::format("{} [fail ({})]", describe(in), to_string(out.cas_error));
}

void KvStreamCheck::complete(std::uint64_t id, const Op& op) {
  const bool done = op.outcome == Outcome::ok || op.outcome == Outcome::fail;
  // An indeterminate read or cas a -> a could change nothing, whenever it ran.
  const bool inert = op.call.kind == OpKind::read || (op.call.kind == OpKind::cas && op.call.value == op.call.to);
  if (!done && inert) return checker_.complete_void(id);
  if (!done) return checker_.complete_unknown(id, op);  // info (or pending at the end)
  if (constrains_nothing(op)) return checker_.complete_void(id);
  checker_.complete(id, KvModel::Output{op.outcome == Outcome::ok, op.result, op.cas_error}, op);
}

namespace {

std::string when(const Op& op) {
  const bool done = op.outcome == Outcome::ok || op.outcome == Outcome::fail;
  if (done) return fmt::format("t={}..{}", op.invoke_time, op.complete_time);
  return fmt::format("t={}..? ({})", op.invoke_time, op.outcome == Outcome::info ? "info" : "in flight");
}

std::string line(const Op& tag, bool completed) {
  Op shown = tag;
  if (!completed) shown.outcome = tag.outcome == Outcome::info ? Outcome::info : Outcome::pending;
  return fmt::format("    {}  {}", describe_with_key(shown), when(shown));
}

}  // namespace

std::string KvStreamCheck::explain() const {
  const auto& v = checker_.violation();
  if (!v) return {};
  std::string out = fmt::format(
      "key {} is not linearizable. It is checked in segments, cut where none of its ops is in flight;\n"
      "  when the failing segment began the key could hold: {}\n",
      v->key, fmt::join(v->start_states, " | "));
  if (!v->free_ops.empty()) {
    std::vector<std::string> free;
    for (const auto& [what, n] : v->free_ops) free.push_back(n > 1 ? fmt::format("{} (x{})", what, n) : what);
    out += fmt::format("  and these indeterminate ops could still take effect: {}\n", fmt::join(free, ", "));
  }
  const auto& culprit = v->prefix[v->culprit];
  out += fmt::format(
      "  the shortest failing prefix of the segment ({} of its {} ops) ends when this op completes,\n"
      "  and no order of the ops before it lets it return what it did:\n{}\n"
      "  the prefix's ops, in invocation order:",
      v->prefix.size(), v->segment_ops, line(culprit.tag, true));
  for (const auto& op : v->prefix) out += "\n" + line(op.tag, op.output.has_value());
  return out;
}

std::string KvStreamCheck::unknown_keys() const {
  std::vector<std::string> parts;
  for (const auto& [key, why] : checker_.unknown_keys()) parts.push_back(fmt::format("{} ({})", key, why));
  return fmt::format("{}", fmt::join(parts, ", "));
}

KvStreamResult check_streaming(const History& history, lin::StreamOptions options) {
  struct Event {
    std::uint64_t seq;
    std::size_t op;
    bool invoke;
  };
  std::vector<Event> events;
  events.reserve(2 * history.ops.size());
  for (std::size_t i = 0; i < history.ops.size(); ++i) {
    const Op& op = history.ops[i];
    events.push_back({op.invoke_seq, i, true});
    if (op.complete_seq != never_seq) events.push_back({op.complete_seq, i, false});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.seq < b.seq; });
  KvStreamCheck check{options};
  for (const Event& e : events) {
    if (e.invoke) {
      Op shown = history.ops[e.op];
      shown.outcome = Outcome::pending;
      check.invoke(e.op, shown);
    } else {
      check.complete(e.op, history.ops[e.op]);
    }
  }
  KvStreamResult r;
  r.verdict = check.finish();
  r.explanation = check.explain();
  r.stats = check.stats();
  return r;
}

}  // namespace vsr::sim
