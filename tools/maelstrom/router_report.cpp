// vsr-maelstrom-router's summary (text or JSON) and its exit code
// (tools/maelstrom/router.hpp).
#include <algorithm>
#include <iostream>
#include <string_view>

#include <fmt/format.h>

#include "tools/maelstrom/router.hpp"

namespace vsr::maelstrom::router {

namespace {

double percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(k, sorted.size() - 1)];
}

}  // namespace

int Router::report(const vsr::sim::History& history, const vsr::sim::CheckResult& result,
                   double check_s) {
  using vsr::sim::Verdict;
  PhaseCounts all;
  for (const auto& [phase, c] : counts_) {
    all.ok += c.ok;
    all.refused += c.refused;
    all.info += c.info;
  }
  std::sort(latencies_ms_.begin(), latencies_ms_.end());
  const PhaseCounts majority = counts_[Phase::partitioned_majority];
  const PhaseCounts minority = counts_[Phase::partitioned_minority];
  PhaseCounts during = majority;
  during.ok += minority.ok;
  during.refused += minority.refused;
  during.info += minority.info;
  const PhaseCounts gaps = counts_[Phase::healed_gap];
  const PhaseCounts after = counts_[Phase::after_heal];
  const double throughput = static_cast<double>(all.ok) / o_.duration_s;
  const bool probes_pass = probes_ok_ == probes_sent_;
  int code = 0;
  std::string verdict = "PASS";
  if (!node_failures_.empty() || !probes_pass) {
    code = 5;
    verdict = "FAIL: node misbehaved";
  } else if (result.verdict == Verdict::not_linearizable) {
    code = 1;
    verdict = "FAIL: not linearizable";
  } else if (result.verdict == Verdict::unknown) {
    code = 3;
    verdict = "FAIL: checker verdict unknown";
  } else if (after.ok_share() < o_.min_ok_after_heal) {
    code = 4;
    verdict = fmt::format("FAIL: ok share after heal {:.1f}% < {:.1f}%", 100 * after.ok_share(),
                          100 * o_.min_ok_after_heal);
  }
  if (o_.json) {
    auto phase_json = [](const PhaseCounts& c) {
      return json{{"ok", c.ok}, {"refused", c.refused}, {"info", c.info}, {"ok_share", c.ok_share()}};
    };
    json j{{"nodes", o_.nodes}, {"clients", clients_.size()}, {"duration_s", o_.duration_s},
           {"seed", o_.seed}, {"link_latency_ms", o_.latency_ms}, {"ops", phase_json(all)},
           {"throughput_ok_per_s", throughput},
           {"ok_latency_ms", {{"p50", percentile(latencies_ms_, 0.5)}, {"p90", percentile(latencies_ms_, 0.9)},
                           {"p99", percentile(latencies_ms_, 0.99)},
                           {"max", latencies_ms_.empty() ? 0.0 : latencies_ms_.back()}}},
           {"during_partitions", phase_json(during)},
           {"during_partitions_at_majority_nodes", phase_json(majority)},
           {"during_partitions_at_minority_nodes", phase_json(minority)},
           {"healed_gaps", phase_json(gaps)},
           {"after_heal", phase_json(after)}, {"messages_routed", routed_},
           {"messages_dropped", dropped_}, {"kills", kills_}, {"restarts", restarts_},
           {"messages_to_dead_nodes", dropped_dead_}, {"max_node_message_bytes", max_node_message_bytes_}, {"probes_ok", probes_ok_}, {"probes_sent", probes_sent_},
           {"linearizability", vsr::sim::to_string(result.verdict)}, {"keys", result.keys.size()},
           {"check_s", check_s}, {"node_failures", node_failures_}, {"verdict", verdict},
           {"exit_code", code}};
    std::cout << j.dump() << '\n';
  } else {
    auto line = [](std::string_view name, const PhaseCounts& c) {
      return fmt::format("  {:<26} {:6.1f}% ok  ({} ok, {} refused, {} info)\n", name, 100 * c.ok_share(),
                         c.ok, c.refused, c.info);
    };
    std::string out = fmt::format(
        "vsr-maelstrom-router: {} nodes, {} clients, {} s, latency {} ms, partitions every {} s until {:.1f} s, seed {}\n",
        o_.nodes, clients_.size(), o_.duration_s, o_.latency_ms, o_.partition_period_s,
        heal_after_us_ / 1e6, o_.seed);
    if (o_.kill_period_s > 0) {
      out += fmt::format("  kill -9 a node about every {} s until {:.1f} s; data in {}\n", o_.kill_period_s,
                         (heal_after_us_ - std::min<std::uint64_t>(heal_after_us_, 2'000'000)) / 1e6, o_.data_dir);
    }
    for (const auto& p : partition_log_) out += "  " + p + "\n";
    out += fmt::format("ops: {} ({} ok, {} refused, {} info); ok includes {} cas refused by the data (20/22)\n",
                       all.total(), all.ok, all.refused, all.info, cas_data_fails_);
    out += fmt::format("throughput: {:.1f} ok ops/s\n", throughput);
    out += fmt::format("latency of ok ops: p50 {:.1f} ms, p90 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n",
                       percentile(latencies_ms_, 0.5), percentile(latencies_ms_, 0.9),
                       percentile(latencies_ms_, 0.99), latencies_ms_.empty() ? 0.0 : latencies_ms_.back());
    out += "availability (share of ops answered ok, by invocation time):\n";
    out += line("during partitions", during);
    out += line("  at nodes with a majority", majority);
    out += line("  at nodes cut from it", minority);
    out += line("healed gaps between them", gaps);
    out += line("after the final heal", after);
    out += fmt::format("messages: {} delivered, {} dropped by partitions; largest between nodes: {} bytes\n",
                       routed_, dropped_, max_node_message_bytes_);
    if (o_.kill_period_s > 0) {
      out += fmt::format("kills: {} kill -9, {} restarts from --data-dir; {} messages to dead nodes dropped\n",
                         kills_, restarts_, dropped_dead_);
    }
    out += fmt::format("bad-input probes answered correctly: {}/{}\n", probes_ok_, probes_sent_);
    for (const auto& f : node_failures_) out += "node failure: " + f + "\n";
    out += fmt::format("linearizability: {} ({} ops, {} keys, checked in {:.2f} s)\n",
                       vsr::sim::to_string(result.verdict), history.ops.size(), result.keys.size(), check_s);
    for (const auto& k : result.keys) {
      if (k.verdict == Verdict::not_linearizable) out += vsr::sim::explain(history, k) + "\n";
      if (k.verdict == Verdict::unknown) out += fmt::format("key {}: unknown ({})\n", k.key, k.unknown_reason);
    }
    out += fmt::format("verdict: {} (bound: ok share after heal >= {:.0f}%)\n", verdict, 100 * o_.min_ok_after_heal);
    std::cout << out;
  }
  return code;
}

}  // namespace vsr::maelstrom::router
