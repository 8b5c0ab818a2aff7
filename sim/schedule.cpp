#include "sim/schedule.hpp"

#include <fmt/format.h>

namespace vsr::sim {

std::string_view to_string(FaultStep::Kind k) {
  switch (k) {
    case FaultStep::Kind::crash: return "crash";
    case FaultStep::Kind::restart: return "restart";
    case FaultStep::Kind::partition: return "partition";
    case FaultStep::Kind::heal: return "heal";
    case FaultStep::Kind::pause: return "pause";
    case FaultStep::Kind::resume: return "resume";
    case FaultStep::Kind::clog: return "clog";
  }
  return "?";
}

std::size_t Schedule::op_count() const {
  std::size_t n = 0;
  for (const auto& c : clients) n += c.size();
  return n;
}

namespace {

std::string cuts_text(const FaultStep& f) {
  if (f.cuts.empty()) return "none";
  std::string out;
  for (const auto& [a, b] : f.cuts) out += fmt::format("{}{}>{}", out.empty() ? "" : ",", a, b);
  return out;
}

/// The `at` command for one fault (scenario syntax, parsed by sim/scenario.cpp).
std::string fault_line(const FaultStep& f) {
  std::string head = fmt::format("at {}us {}", f.at_us, to_string(f.kind));
  switch (f.kind) {
    case FaultStep::Kind::crash: return fmt::format("{} {}{}", head, f.replica, f.wipe ? " wipe" : "");
    case FaultStep::Kind::restart:
    case FaultStep::Kind::pause:
    case FaultStep::Kind::resume: return fmt::format("{} {}", head, f.replica);
    case FaultStep::Kind::partition: return fmt::format("{} cut={}", head, cuts_text(f));
    case FaultStep::Kind::heal: return head;
    case FaultStep::Kind::clog: return fmt::format("{} from={} to={} until={}us", head, f.from, f.to, f.until_us);
  }
  return head;
}

/// The `op` command for one client operation; `slot` is 0-based, printed 1-based.
std::string op_line(std::size_t slot, const ClientStep& s) {
  std::string head = fmt::format("op client={} think={}us", slot + 1, s.think_us);
  const OpCall& c = s.call;
  switch (c.kind) {
    case OpKind::read: return fmt::format("{} read key={}", head, c.key);
    case OpKind::write: return fmt::format("{} write key={} value={}", head, c.key, c.value);
    case OpKind::cas: return fmt::format("{} cas key={} from={} to={}", head, c.key, c.value, c.to);
    case OpKind::del: return fmt::format("{} delete key={}", head, c.key);
  }
  return head;
}

std::string sim_line(const Schedule& s) {
  const SwarmParams& p = s.params;
  return fmt::format(
      "sim seed={} replicas={} clients={} for={}us liveness={}us keys={} tick={}us drift-ppm={} "
      "delay-min={}us delay-mean={}us tail-p={} tail-mean={}us drop={} dup={} client-drop={} "
      "disk-mean={}us disk-slow-p={} disk-slow-mean={}us give-up={}us pipeline={}",
      p.seed, p.replica_count, p.client_count, s.duration_us, s.liveness_us, p.key_count, p.tick_us,
      p.drift_ppm, p.delay_min_us, p.delay_mean_us, p.tail_probability, p.tail_mean_us,
      p.drop_probability, p.duplicate_probability, p.client_drop_probability, p.disk_latency_mean_us,
      p.disk_slow_probability, p.disk_slow_mean_us, p.give_up_us, p.pipeline_ops);
}

void block(std::string& out, const std::string& command, std::string_view expected = {}) {
  out += command;
  out += "\n----\n";
  if (!expected.empty()) {
    out += expected;
    out += '\n';
  }
  out += '\n';
}

}  // namespace

std::string schedule_to_scenario(const Schedule& s, std::string_view header) {
  std::string out;
  std::size_t start = 0;
  while (start < header.size()) {
    auto nl = header.find('\n', start);
    auto line = header.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += line.empty() ? "#\n" : fmt::format("# {}\n", line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (!header.empty()) out += '\n';
  block(out, sim_line(s));
  for (const FaultStep& f : s.faults) block(out, fault_line(f));
  for (std::size_t slot = 0; slot < s.clients.size(); ++slot) {
    for (const ClientStep& step : s.clients[slot]) block(out, op_line(slot, step));
  }
  block(out, "simulate", "passed");
  return out;
}

std::vector<std::string> describe_schedule(const Schedule& s) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{} replicas, {} client slots, fault phase {} ms, seed {}", s.params.replica_count,
                              s.params.client_count, s.duration_us / 1000, s.params.seed));
  lines.push_back(fmt::format("network: delay {}+~{} us, drop {}, dup {}, tail {}", s.params.delay_min_us,
                              s.params.delay_mean_us, s.params.drop_probability, s.params.duplicate_probability,
                              s.params.tail_probability));
  for (const FaultStep& f : s.faults) lines.push_back(fault_line(f));
  for (std::size_t slot = 0; slot < s.clients.size(); ++slot) {
    for (const ClientStep& step : s.clients[slot]) lines.push_back(op_line(slot, step));
  }
  return lines;
}

}  // namespace vsr::sim
