// vsr-maelstrom-router's lin-kv clients: the init handshake, the bad-input probes, the
// workload, and the history they record (tools/maelstrom/router.hpp).
#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "tools/maelstrom/kv_json.hpp"
#include "tools/maelstrom/router.hpp"

namespace vsr::maelstrom::router {

/// Sends init to every node and waits (up to 10 s) for every init_ok.
bool Router::init_nodes() {
  std::vector<std::string> ids;
  for (const auto& n : nodes_) ids.push_back(n.id);
  std::vector<std::int64_t> waiting;
  for (const auto& n : nodes_) {
    const std::int64_t id = next_msg_id_++;
    waiting.push_back(id);
    control_replies_[id] = json::object();
    json body{{"type", "init"}, {"msg_id", id}, {"node_id", n.id}, {"node_ids", ids}};
    post(-1, n.id, json{{"src", "c0"}, {"dest", n.id}, {"body", body}}.dump());
  }
  const std::uint64_t deadline = now_us_ + 10'000'000;
  while (now_us_ < deadline && node_failures_.empty()) {
    deliver_due();
    const bool all = std::all_of(waiting.begin(), waiting.end(), [&](std::int64_t id) {
      auto it = control_replies_.find(id);
      return it != control_replies_.end() && it->second.value("type", "") == "init_ok";
    });
    if (all) return true;
    pump(1000);
  }
  std::cerr << "vsr-maelstrom-router: the nodes did not all answer init with init_ok\n";
  return false;
}

/// Sends every node three bad inputs (not JSON, an unknown type, a write without a
/// value) and expects: nothing, error 10, error 12. Checked at the end of the run.
void Router::probe_bad_input() {
  for (const auto& n : nodes_) {
    post(-1, n.id, "{this is not json");
    const std::int64_t unknown = next_msg_id_++;
    const std::int64_t missing = next_msg_id_++;
    post(-1, n.id, json{{"src", "c0"}, {"dest", n.id},
                        {"body", {{"type", "frobnicate"}, {"msg_id", unknown}}}}.dump());
    post(-1, n.id, json{{"src", "c0"}, {"dest", n.id},
                        {"body", {{"type", "write"}, {"msg_id", missing}, {"key", 0}}}}.dump());
    control_replies_[unknown] = json{{"expect", 10}};
    control_replies_[missing] = json{{"expect", 12}};
    probes_sent_ += 2;
  }
}

Phase Router::phase_at(std::uint64_t t_us, std::size_t node) const {
  if (t_us >= load_start_us_ + heal_after_us_) return Phase::after_heal;
  if (!partitioned_) return Phase::healed_gap;
  std::size_t reach = 0;
  for (std::size_t j = 0; j < nodes_.size(); ++j) reach += links_[node][j] && links_[j][node] ? 1 : 0;
  return reach >= nodes_.size() / 2 + 1 ? Phase::partitioned_majority : Phase::partitioned_minority;
}

/// Keys rotate: `active_keys` are in use at a time, each for at most `ops_per_key`
/// invocations (as Jepsen's independent keys do), which keeps each key's history small
/// enough for the checker.
std::string Router::next_key() {
  if (active_keys_.empty()) {
    for (std::uint32_t i = 0; i < o_.active_keys; ++i) {
      active_keys_.push_back(next_key_++);
      key_uses_.push_back(0);
    }
  }
  const std::size_t k = load_rng_.below(active_keys_.size());
  if (++key_uses_[k] > o_.ops_per_key) {
    active_keys_[k] = next_key_++;
    key_uses_[k] = 1;
  }
  return std::to_string(active_keys_[k]);
}

void Router::invoke(ClientState& c) {
  using vsr::sim::OpCall;
  const std::string key = next_key();
  const auto kind = load_rng_.below(3);
  const auto v1 = static_cast<std::int64_t>(load_rng_.below(5));
  const auto v2 = static_cast<std::int64_t>(load_rng_.below(5));
  json body;
  const auto key_int = std::stoll(key);
  if (kind == 0) {
    c.call = OpCall::read(key);
    body = json{{"type", "read"}, {"key", key_int}};
  } else if (kind == 1) {
    c.call = OpCall::write(key, v1);
    body = json{{"type", "write"}, {"key", key_int}, {"value", v1}};
  } else {
    c.call = OpCall::cas(key, v1, v2);
    body = json{{"type", "cas"}, {"key", key_int}, {"from", v1}, {"to", v2}};
  }
  c.msg_id = next_msg_id_++;
  body["msg_id"] = c.msg_id;
  auto op = recorder_.invoke(c.process, c.call, static_cast<std::int64_t>(now_us_));
  if (!op) throw std::logic_error(op.error().message);
  c.op = op.value();
  c.waiting = true;
  c.invoke_us = now_us_;
  c.phase = phase_at(now_us_, c.node);
  const std::string& node = nodes_[c.node].id;
  post(-1, node, json{{"src", c.name}, {"dest", node}, {"body", std::move(body)}}.dump());
}

/// Records the completion and counts it. `refused`: a definite refusal (counted as
/// refused whatever `outcome` the history needs, see on_client_message).
void Router::complete(ClientState& c, vsr::sim::Outcome outcome, vsr::sim::Value value,
                      vsr::sim::CasError cas_error, bool refused) {
  using vsr::sim::Outcome;
  auto done = recorder_.complete(c.op, outcome, value, static_cast<std::int64_t>(now_us_), cas_error);
  if (!done) throw std::logic_error(done.error().message);
  c.waiting = false;
  PhaseCounts& counts = counts_[c.phase];
  if (refused) {
    ++counts.refused;
  } else if (outcome == Outcome::ok || cas_error != vsr::sim::CasError::unspecified) {
    ++counts.ok;
    if (outcome == Outcome::fail) ++cas_data_fails_;
    latencies_ms_.push_back(static_cast<double>(now_us_ - c.invoke_us) / 1000.0);
  } else if (outcome == Outcome::fail) {
    ++counts.refused;
  } else {
    ++counts.info;
  }
  if (outcome == Outcome::info) {
    c.process += static_cast<std::int64_t>(clients_.size());  // a new process, as Jepsen does
  }
  // Each client aims at one op per clients/rate seconds on average, counted from its
  // last invocation, so together they approach rate_per_s (latency permitting).
  const double mean_gap_us = 1e6 * static_cast<double>(clients_.size()) / o_.rate_per_s;
  c.next_us = std::max(now_us_, c.invoke_us + static_cast<std::uint64_t>(load_rng_.real() * 2 * mean_gap_us));
}

void Router::on_client_message(const json& m) {
  using vsr::sim::CasError;
  using vsr::sim::OpKind;
  using vsr::sim::Outcome;
  const auto body_it = m.is_object() ? m.find("body") : m.end();
  if (body_it == m.end() || !body_it->is_object() || !body_it->contains("in_reply_to")) {
    ++bad_replies_;
    return;
  }
  const json& body = *body_it;
  const json& re = body["in_reply_to"];
  if (!re.is_number_integer()) {
    ++bad_replies_;
    return;
  }
  const auto id = re.get<std::int64_t>();
  if (auto ctl = control_replies_.find(id); ctl != control_replies_.end()) {
    if (ctl->second.contains("expect")) {
      if (body.value("type", "") == "error" && body.value("code", -1) == ctl->second["expect"]) ++probes_ok_;
      ctl->second = json{{"answered", true}};
    } else {
      ctl->second = body;
    }
    return;
  }
  auto c = std::find_if(clients_.begin(), clients_.end(),
                        [&](const ClientState& x) { return x.waiting && x.msg_id == id; });
  if (c == clients_.end()) return;  // late reply to an op already timed out
  const std::string type = body.value("type", "");
  const OpKind kind = c->call.kind;
  if (type == "read_ok" && kind == OpKind::read && body.contains("value") &&
      body["value"].is_number_integer()) {
    return complete(*c, Outcome::ok, body["value"].get<std::int64_t>());
  }
  if ((type == "write_ok" && kind == OpKind::write) || (type == "cas_ok" && kind == OpKind::cas)) {
    return complete(*c, Outcome::ok, std::nullopt);
  }
  const int code = body.value("code", -1);
  if (type == "error" && code == 20 && kind == OpKind::read) return complete(*c, Outcome::ok, std::nullopt);
  if (type == "error" && code == 20 && kind == OpKind::cas) {
    return complete(*c, Outcome::fail, std::nullopt, CasError::not_found);
  }
  if (type == "error" && code == 22 && kind == OpKind::cas) {
    return complete(*c, Outcome::fail, std::nullopt, CasError::precondition_failed);
  }
  if (type == "error" && code != 20 && code != 22) {
    if (!vsr::maelstrom::is_definite(code)) return complete(*c, Outcome::info, std::nullopt);
    // A definite refusal (11: no primary) means the op never ran. For a read or write
    // the history's `fail` says exactly that; but a failed cas there means "ran, and
    // the compare failed", which constrains the value. So a refused cas is written as
    // info (it may or may not have happened): weaker than the truth, hence sound.
    return complete(*c, kind == OpKind::cas ? Outcome::info : Outcome::fail, std::nullopt,
                    CasError::unspecified, /*refused=*/true);
  }
  ++bad_replies_;
  node_failures_.push_back(fmt::format("nonsense reply to {}: {:.200}", vsr::sim::to_string(kind), body.dump()));
  complete(*c, Outcome::info, std::nullopt);
}

/// Idle clients whose think time is over invoke their next op (until the end of the
/// load); waiting clients past their timeout complete as info.
void Router::client_actions() {
  const std::uint64_t end_us = load_start_us_ + us_of_s(o_.duration_s);
  for (auto& c : clients_) {
    if (c.waiting && now_us_ >= c.invoke_us + std::uint64_t{o_.client_timeout_ms} * 1000) {
      complete(c, vsr::sim::Outcome::info, std::nullopt);
    }
    if (!c.waiting && now_us_ >= c.next_us && now_us_ < end_us) invoke(c);
  }
}

}  // namespace vsr::maelstrom::router
