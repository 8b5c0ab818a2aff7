// fuzz_history: arbitrary bytes go to the history parsers (JSON lines and Jepsen EDN)
// and whatever parses goes to the linearizability checker, with small bounds.
//
// Properties (a violation aborts, so libFuzzer keeps the input):
// - the parsers never crash and never throw, however deep the input nests; a rejected
//   input gets an error message that says where ("file:line: what") and is short
//   (values from the input are quoted cut to 60 bytes, so never a 60 KB message);
// - a parsed history obeys the recorder's rules (invoke_seq increasing, each
//   completion after its invocation, unique event numbers);
// - JSON lines round-trip: parse -> to_json_lines -> parse gives the same history;
// - the checker never crashes on a parsed history and always answers a verdict; an
//   `unknown` key names the bound that stopped it; a violation can be explained;
// - the streaming checker (sim/kv_model.hpp, what the simulator runs) gives the same
//   verdict wherever both decide.
//
// Input: byte 0 picks the format (bit 0: 0 JSON lines, 1 EDN) and whether the checker
// computes explanations (bit 1); the rest is the file's text, at most 64 KiB.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "sim/history_edn.hpp"
#include "sim/history_json.hpp"
#include "sim/kv_model.hpp"
#include "sim/linearizability.hpp"

namespace {

using namespace vsr::sim;

constexpr std::size_t max_input_bytes = 64 << 10;
constexpr std::size_t max_checked_ops = 200;
/// An error message's bound: "file:line: " plus a sentence quoting at most two input
/// strings of 60 bytes, each escaped (at most 10 characters a byte).
constexpr std::size_t max_error_bytes = 1500;

void check_shape(const History& h) {
  std::set<std::uint64_t> seqs;
  std::uint64_t last_invoke = 0;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    FUZZ_CHECK(i == 0 || op.invoke_seq > last_invoke, "invoke_seq must increase along ops");
    last_invoke = op.invoke_seq;
    FUZZ_CHECK(seqs.insert(op.invoke_seq).second, "event number used twice");
    if (op.outcome == Outcome::pending) {
      FUZZ_CHECK(op.complete_seq == never_seq, "a pending op has a completion");
    } else {
      FUZZ_CHECK(op.complete_seq > op.invoke_seq && op.complete_seq != never_seq,
                 "a completion before its invocation");
      FUZZ_CHECK(seqs.insert(op.complete_seq).second, "event number used twice");
    }
  }
}

/// Same ops, same calls and outcomes, same event order (line numbers aside).
bool same_history(const History& a, const History& b) {
  if (a.ops.size() != b.ops.size()) return false;
  for (std::size_t i = 0; i < a.ops.size(); ++i) {
    const Op& x = a.ops[i];
    const Op& y = b.ops[i];
    if (x.process != y.process || !(x.call == y.call) || x.outcome != y.outcome ||
        x.result != y.result || x.cas_error != y.cas_error || x.invoke_time != y.invoke_time) {
      return false;
    }
    if (x.outcome != Outcome::pending && x.complete_time != y.complete_time) return false;
  }
  // Event order: the rank of every event must agree.
  auto ranks = [](const History& h) {
    std::vector<std::pair<std::uint64_t, std::size_t>> ev;
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      ev.emplace_back(h.ops[i].invoke_seq, 2 * i);
      if (h.ops[i].outcome != Outcome::pending) ev.emplace_back(h.ops[i].complete_seq, 2 * i + 1);
    }
    std::sort(ev.begin(), ev.end());
    std::vector<std::size_t> order;
    for (const auto& e : ev) order.push_back(e.second);
    return order;
  };
  return ranks(a) == ranks(b);
}

void check_verdict(const History& h, bool explain_violations) {
  if (h.ops.size() > max_checked_ops) return;
  CheckOptions o;
  o.jobs = 1;
  o.timeout = std::chrono::milliseconds(250);
  o.max_memory_bytes = 8u << 20;
  o.explain = explain_violations;
  CheckResult r = check(h, o);
  FUZZ_CHECK(r.verdict == Verdict::linearizable || r.verdict == Verdict::not_linearizable ||
                 r.verdict == Verdict::unknown,
             "no verdict");
  Verdict worst = Verdict::linearizable;
  for (const KeyResult& k : r.keys) {
    if (k.verdict == Verdict::unknown) {
      FUZZ_CHECK(!k.unknown_reason.empty(), fmt::format("key {:?} unknown without a reason", k.key));
      if (worst == Verdict::linearizable) worst = Verdict::unknown;
    }
    if (k.verdict == Verdict::not_linearizable) {
      worst = Verdict::not_linearizable;
      if (explain_violations && k.violation) {
        FUZZ_CHECK(k.violation->op < h.ops.size(), "violation names an op that does not exist");
        FUZZ_CHECK(!explain(h, k).empty(), "empty explanation");
      }
    }
  }
  FUZZ_CHECK(worst == r.verdict, "overall verdict differs from the keys' verdicts");
  // Differential: the streaming checker (the simulator's) decides the same, where both decide.
  lin::StreamOptions so;
  so.max_configs = 1 << 16;
  const KvStreamResult s = check_streaming(h, so);
  if (s.verdict != lin::StreamVerdict::unknown && r.verdict != Verdict::unknown) {
    FUZZ_CHECK((s.verdict == lin::StreamVerdict::not_linearizable) == (r.verdict == Verdict::not_linearizable),
               fmt::format("the streaming checker says {}, the whole-history checker {}",
                           s.verdict == lin::StreamVerdict::linearizable ? "linearizable" : "not linearizable",
                           to_string(r.verdict)));
  }
  if (s.verdict == lin::StreamVerdict::not_linearizable) FUZZ_CHECK(!s.explanation.empty(), "empty stream explanation");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > max_input_bytes) return 0;
  const bool edn = (data[0] & 1) != 0;
  const bool explain_violations = (data[0] & 2) != 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  InputResult<History> parsed = edn ? parse_history_edn(text, "fuzz.edn")
                                    : parse_history_json(text, "fuzz.jsonl");
  if (!parsed) {
    const std::string& m = parsed.error().message;
    FUZZ_CHECK(!m.empty(), "parse error without a message");
    FUZZ_CHECK(m.starts_with(edn ? "fuzz.edn:" : "fuzz.jsonl:"),
               fmt::format("parse error does not say where: {:?}", m.substr(0, 200)));
    FUZZ_CHECK(m.size() <= max_error_bytes,
               fmt::format("parse error of {} bytes: {:?}...", m.size(), m.substr(0, 200)));
    return 0;
  }
  const History& h = parsed.value();
  check_shape(h);
  if (!edn) {
    std::string lines = to_json_lines(h);
    InputResult<History> again = parse_history_json(lines, "roundtrip.jsonl");
    FUZZ_CHECK(again.has_value(),
               fmt::format("to_json_lines output does not parse: {}\n{}", again.error().message, lines));
    FUZZ_CHECK(same_history(h, again.value()),
               fmt::format("JSON lines do not round-trip:\n{}", lines));
  }
  check_verdict(h, explain_violations);
  return 0;
}
