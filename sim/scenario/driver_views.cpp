// What the scenario driver shows: the queue, the replicas and clients, a log, the
// client history and its linearizability check (the `pending`, `status`, `log`,
// `history` and `check` commands).
#include <map>
#include <sstream>

#include "sim/linearizability.hpp"
#include "sim/scenario/driver.hpp"
#include "sim/scenario/narration.hpp"
#include "vsr/replica.hpp"

namespace vsr::sim {

void ScenarioDriver::pending(const QueueFilter& f) const {
  std::size_t n = 0;
  for (const auto& m : queue_) {
    if (!f.matches(m)) continue;
    print("{}", envelope_text(m.from, m.to, m.message));
    ++n;
  }
  if (n == 0) print("no pending messages");
}

void ScenarioDriver::print_queued_since(std::size_t before) const {
  if (queue_.size() <= before) return;
  std::map<std::string_view, std::size_t> by_type;
  for (std::size_t i = before; i < queue_.size(); ++i) ++by_type[message_name(queue_[i].message)];
  std::string what;
  for (const auto& [name, n] : by_type) what += fmt::format("{}{} x{}", what.empty() ? "" : ", ", name, n);
  print("queued {} message(s): {}", queue_.size() - before, what);
}

void ScenarioDriver::status() const {
  for (std::uint32_t r = 0; r < size(); ++r) {
    const SimHost& host = cluster_.host(r);
    if (!host.up()) {
      const PersistedState& disk = host.disk();
      if (host.needs_recovery()) {
        print("r{}: down, disk wiped", r);
      } else {
        print("r{}: down (disk: view={} op={} commit={})", r, disk.state.view, disk.last_op(), disk.state.commit);
      }
      continue;
    }
    const Replica& x = host.replica();
    std::string role = x.status() == StatusKind::normal ? (x.is_primary() ? " primary" : " backup")
                                                        : fmt::format(" last_normal={}", x.last_normal_view());
    std::size_t unpersisted = host.host().unpersisted_writes();
    std::string held = unpersisted == 0 ? "" : fmt::format(" unpersisted={}", unpersisted);
    print("r{}: view={} {}{} op={} commit={}{}", r, x.view(), status_name(x.status()), role, x.op(), x.commit(),
          held);
  }
  for (std::uint32_t c = 1; c <= clients_.size(); ++c) {
    const Client& cl = clients_[c - 1].client;
    print("c{}: {} #{} (believes view {})", c, cl.busy() ? "waiting for" : "idle after", cl.last_request(),
          cl.view());
  }
  std::string cut = cut_links();
  if (!cut.empty()) print("links cut:{}", cut);
  print("pending messages: {}", queue_.size());
}

void ScenarioDriver::log(std::uint32_t r) const {
  check_replica(r);
  const SimHost& host = cluster_.host(r);
  bool up = host.up();
  const std::vector<LogEntry>& entries = up ? host.replica().log() : host.disk().log;
  const std::uint64_t base = up ? host.replica().log_base().value : host.disk().log_base.op.value;
  std::uint64_t commit = up ? host.replica().commit().value : host.disk().state.commit.value;
  if (!up) print("r{} is down; its disk holds:", r);
  if (base > 0) print("(ops 1..{} compacted into the checkpoint)", base);
  if (entries.empty()) print("(empty log)");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LogEntry& e = entries[i];
    const std::uint64_t op = base + i + 1;
    print("{} v{} c{}#{} {}{}", op, e.view, e.client, e.request, op_text(e.operation),
          op <= commit ? " [committed]" : "");
  }
}

void ScenarioDriver::history() const {
  const History& h = recorder_.history();
  if (h.ops.empty()) print("(no operations)");
  for (const Op& op : h.ops) print("{}: {}", op.call.key, describe(op));
}

bool ScenarioDriver::check() const {
  print("safety: ok (every check passed after every step)");
  const History& h = recorder_.history();
  CheckResult r = vsr::sim::check(h);
  std::size_t pending = 0;
  for (const Op& op : h.ops) pending += op.outcome == Outcome::pending ? 1 : 0;
  if (r.verdict == Verdict::linearizable) {
    print("linearizable: yes ({} ops, {} still pending)", r.op_count, pending);
    return true;
  }
  print("linearizable: {} ({} ops)", to_string(r.verdict), r.op_count);
  for (const KeyResult& k : r.keys) {
    if (k.verdict == Verdict::linearizable) continue;
    std::istringstream lines(explain(h, k));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) print("  {}", line);
    }
  }
  return r.verdict != Verdict::not_linearizable;
}

}  // namespace vsr::sim
