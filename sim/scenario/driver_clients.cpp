// The scenario driver's clients (sim/scenario/driver.hpp): requests, the random
// workload of `run load=true`, and completions recorded in the client history.
#include <array>

#include "sim/kv_call.hpp"
#include "sim/scenario/driver.hpp"
#include "sim/scenario/narration.hpp"
#include "sim/scenario/values.hpp"
#include "vsr/kv.hpp"

namespace vsr::sim {

void ScenarioDriver::request(std::uint32_t c, OpCall call) {
  ClientNode& node = client(c);
  if (node.client.busy()) {
    throw ScriptError{fmt::format("client {} already waits for request #{} (one request at a time)", c,
                                  node.client.last_request())};
  }
  submit(node, c, std::move(call));
  for (auto it = queue_.end() - static_cast<std::ptrdiff_t>(last_sent_); it != queue_.end(); ++it) {
    print("{}", envelope_text(it->from, it->to, it->message));
  }
}

void ScenarioDriver::submit(ClientNode& node, std::uint32_t c, OpCall call) {
  auto index = recorder_.invoke(node.process, call, static_cast<std::int64_t>(now_));
  if (!index) throw ScriptError{index.error().message};
  node.op = index.value();
  node.call = std::move(call);
  node.client.submit(encode_kv_op(to_kv(node.call)));
  pump_client(c);
}

/// `run load=true`'s workload: reads, writes of fresh values and cas from the last
/// value written, on two keys.
OpCall ScenarioDriver::random_call() {
  static constexpr std::array<const char*, 2> keys = {"x", "y"};
  std::string key = keys[workload_rng_.below(keys.size())];
  std::uint64_t pick = workload_rng_.below(10);
  if (pick < 3) return OpCall::read(key);
  std::int64_t v = next_value_++;
  if (pick < 8) return OpCall::write(key, v);
  auto last = last_written_.find(key);
  std::int64_t from = last == last_written_.end() ? 0 : last->second;
  return OpCall::cas(key, from, v);
}

void ScenarioDriver::pump_client(std::uint32_t c) {
  ClientNode& node = clients_[c - 1];
  ClientOutput o = node.client.take_output();
  last_sent_ = o.send.size();
  for (auto& s : o.send) queue_.push_back({node.client.id(), s.to, std::move(s.message)});
  for (const auto& ev : o.events) {
    if (ev.kind == EventKind::client_request_resend) print("c{} resends #{} to every replica", c, ev.detail);
  }
  if (o.completed) complete(c, *o.completed);
}

/// Records the completion in the history (sim/kv_call.hpp's answer_of, as in a random
/// run) and tells the checker the client saw it.
void ScenarioDriver::complete(std::uint32_t c, const ClientCompletion& done) {
  ClientNode& node = clients_[c - 1];
  if (!node.op) return;
  if (done.evicted) return complete_evicted(c);
  auto answer = answer_of(node.call, done.result);
  if (!answer) throw ScriptFailure{answer.error().message};
  const KvAnswer& a = answer.value();
  auto ok = recorder_.complete(*node.op, a.outcome, a.value, static_cast<std::int64_t>(now_), a.cas_error);
  if (!ok) throw ScriptFailure{ok.error().message};
  bool done_ok = a.outcome == Outcome::ok;
  if (node.call.kind == OpKind::write && done_ok) last_written_[node.call.key] = node.call.value;
  if (node.call.kind == OpKind::cas && done_ok) last_written_[node.call.key] = node.call.to;
  cluster_.checker().on_client_ack(node.client.id(), done.request, done.view);
  ++completed_;
  print("c{} completes #{} {} -> {} (view {})", c, done.request, fmt::format("{}", to_kv(node.call)),
        result_text(done.result), done.view);
  node.op.reset();
}

/// An evicted request's outcome is unknown (Reply::evicted): the history records it as
/// indeterminate, and the client, which opens a new session, continues as a new process.
void ScenarioDriver::complete_evicted(std::uint32_t c) {
  ClientNode& node = clients_[c - 1];
  auto ok = recorder_.complete(*node.op, Outcome::info, std::nullopt, static_cast<std::int64_t>(now_));
  if (!ok) throw ScriptFailure{ok.error().message};
  ++completed_;
  print("c{} #{} {} was answered evicted: its session is gone, the outcome is unknown", c,
        node.client.last_request(), fmt::format("{}", to_kv(node.call)));
  node.op.reset();
  node.process += evicted_process_step;
}

}  // namespace vsr::sim
