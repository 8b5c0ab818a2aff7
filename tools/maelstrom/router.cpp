// vsr-maelstrom-router's run and command line (tools/maelstrom/router.hpp describes
// the tool).
#include "tools/maelstrom/router.hpp"

#include <signal.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <iostream>
#include <utility>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/history_json.hpp"

namespace vsr::maelstrom::router {

int Router::run() {
  if (!start_nodes()) return 2;
  now_us_ = micros_since(start_);
  int code = 0;
  if (!init_nodes()) {
    stop_nodes();
    return 5;
  }
  probe_bad_input();
  load_start_us_ = now_us_;
  heal_after_us_ = o_.heal_after_s >= 0 ? us_of_s(o_.heal_after_s) : us_of_s(o_.duration_s * 0.6);
  windows_ = partition_schedule(o_.nodes, o_.partition_period_s, o_.seed, heal_after_us_);
  const std::uint32_t count = o_.clients == 0 ? 2 * o_.nodes : o_.clients;
  for (std::uint32_t i = 0; i < count; ++i) {
    ClientState c;
    c.name = fmt::format("c{}", i + 1);
    c.process = i;
    c.node = i % o_.nodes;
    c.next_us = load_start_us_ + i * 1000;
    clients_.push_back(std::move(c));
  }
  const std::uint64_t end_us = load_start_us_ + us_of_s(o_.duration_s);
  for (;;) {
    update_partition();
    kill_and_restart();
    deliver_due();
    client_actions();
    const bool busy = std::any_of(clients_.begin(), clients_.end(), [](const ClientState& c) { return c.waiting; });
    if (now_us_ >= end_us && !busy) break;
    std::uint64_t wait_us = 5000;
    if (!in_flight_.empty()) wait_us = std::min(wait_us, in_flight_.top().due_us - std::min(in_flight_.top().due_us, now_us_));
    pump(wait_us);
    if (!node_failures_.empty() && std::any_of(nodes_.begin(), nodes_.end(), [](const NodeProc& n) { return n.eof; })) break;
  }
  stop_nodes();
  vsr::sim::History history = std::move(recorder_).finish();
  if (!o_.history.empty()) {
    std::ofstream(o_.history) << vsr::sim::to_json_lines(history);
  }
  vsr::sim::CheckOptions check;
  check.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o_.check_timeout_s * 1000));
  const auto t0 = Clock::now();
  const vsr::sim::CheckResult result = vsr::sim::check(history, check);
  const double check_s = std::chrono::duration<double>(Clock::now() - t0).count();
  code = report(history, result, check_s);
  return code;
}

}  // namespace vsr::maelstrom::router

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  vsr::maelstrom::router::Options o;
  CLI::App app{"vsr-maelstrom-router: runs vsr-maelstrom nodes with latency and partitions, "
               "plays lin-kv clients, checks linearizability"};
  app.add_option("--bin", o.bin, "path to vsr-maelstrom")->required();
  app.add_option("--nodes", o.nodes, "node count")->check(CLI::Range(1, 9));
  app.add_option("--clients", o.clients, "concurrent clients (default 2 per node)");
  app.add_option("--duration-s", o.duration_s, "seconds of load")->check(CLI::Range(0.1, 86400.0));
  app.add_option("--latency-ms", o.latency_ms, "mean one-way latency; each message draws from [0.5, 1.5) x mean")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--partition-period-s", o.partition_period_s,
                 "a new partition lasts this long, then heals for half as long (0: no partitions)");
  app.add_option("--heal-after-s", o.heal_after_s, "no partitions after this (default: 60% of the duration)");
  app.add_option("--seed", o.seed, "seeds the partition schedule, latencies and the workload");
  app.add_option("--history", o.history, "write the history (JSON lines, vsr-check format)");
  app.add_flag("--json", o.json, "print the summary as one JSON object");
  app.add_option("--rate", o.rate_per_s, "ops per second, all clients together")->check(CLI::Range(0.1, 1e6));
  app.add_option("--client-timeout-ms", o.client_timeout_ms, "a client gives up (info) after this");
  app.add_option("--keys", o.active_keys, "keys in use at a time")->check(CLI::Range(1, 1000));
  app.add_option("--ops-per-key", o.ops_per_key, "invocations per key before it is retired")
      ->check(CLI::Range(1, 100000));
  app.add_option("--min-ok-after-heal", o.min_ok_after_heal,
                 "fail when the ok share of ops invoked after the heal is below this")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--node-log", o.node_log,
                 "append the nodes' stderr to this file; '-': the router's stderr (default: discard)");
  app.add_option("--check-timeout-s", o.check_timeout_s, "bound on the linearizability check");
  app.add_option("--node-arg", o.node_args, "an extra argument for every node (repeatable)");
  app.add_option("--data-dir", o.data_dir,
                 "give every node --data-dir DIR (its log in DIR/<id>.vsr survives a kill -9); "
                 "DIR is created if missing, and the nodes' files of an earlier run are removed "
                 "at the start");
  app.add_option("--kill-period-s", o.kill_period_s,
                 "before the heal, about every this many seconds, kill -9 a random node (at "
                 "most (n-1)/2 dead at once) and restart it 0.5-1.5 s later; needs --data-dir "
                 "(0: never)")
      ->check(CLI::Range(0.0, 86400.0));
  CLI11_PARSE(app, argc, argv);
  if (o.kill_period_s > 0 && o.data_dir.empty()) {
    std::cerr << "vsr-maelstrom-router: --kill-period-s needs --data-dir: a node that keeps its "
                 "log in memory cannot restart safely (it would forget what it promised)\n";
    return 2;
  }
  if (o.clients == 0) o.clients = 2 * o.nodes;
  try {
    return vsr::maelstrom::router::Router(std::move(o)).run();
  } catch (const std::exception& e) {
    std::cerr << "vsr-maelstrom-router: " << e.what() << '\n';
    return 2;
  }
}
