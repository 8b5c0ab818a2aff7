// bench-sim: the simulator's speed and memory figures (BENCHMARKS.md).
// Single-threaded on purpose: figures are per core.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>
#include <algorithm>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/simulator.hpp"

namespace {

using namespace vsr::sim;
using Clock = std::chrono::steady_clock;

/// Resident set size now, in MiB (from /proc/self/statm).
double rss_mib() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * 4096.0 / (1 << 20);
}

struct Figures {
  double total_ms = 0;
  std::vector<double> per_seed_ms;
  std::uint64_t delivered = 0;
  std::uint64_t simulated_us = 0;
  std::uint64_t failures = 0;
};

Figures measure(RunOptions base, std::uint64_t first, std::uint64_t count) {
  Figures f;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    RunOptions o = base;
    o.seed = seed;
    auto start = Clock::now();
    RunResult r = run_simulation(o);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    f.per_seed_ms.push_back(ms);
    f.total_ms += ms;
    f.delivered += r.stats.messages_delivered;
    f.simulated_us += r.stats.simulated_us;
    f.failures += r.verdict != RunVerdict::passed;
  }
  std::sort(f.per_seed_ms.begin(), f.per_seed_ms.end());
  return f;
}

void report(const char* name, const Figures& f) {
  auto n = f.per_seed_ms.size();
  double sim_s = static_cast<double>(f.simulated_us) / 1e6;
  fmt::print("{:<34} {:>6} seeds  mean {:>6.1f} ms  p50 {:>6.1f} ms  p99 {:>6.1f} ms  "
             "speed-up {:>6.0f}x  {:>5.2f} M delivered msg/s  {} failed\n",
             name, n, f.total_ms / static_cast<double>(n), f.per_seed_ms[n / 2],
             f.per_seed_ms[std::min(n - 1, n * 99 / 100)], sim_s * 1000 / f.total_ms,
             static_cast<double>(f.delivered) / f.total_ms / 1000, f.failures);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench-sim: simulator speed (one core) and memory over a long sweep"};
  std::uint64_t seeds = 100;
  std::uint64_t memory_seeds = 0;
  app.add_option("--seeds", seeds, "Seeds per speed measurement")->capture_default_str();
  app.add_option("--memory-seeds", memory_seeds,
                 "Also run this many seeds in one process and print RSS along the way");
  CLI11_PARSE(app, argc, argv);

  RunOptions base;
  base.replicas = 3;
  base.clients = 4;
  base.faults = FaultLevel::normal;
  report("default (3 replicas, 4 clients)", measure(base, 1, seeds));
  RunOptions loaded = base;
  loaded.faults = FaultLevel::none;
  report("fault-free, loaded", measure(loaded, 1, seeds));
  RunOptions idle = loaded;
  idle.idle = true;
  report("idle cluster", measure(idle, 1, seeds));
  RunOptions swarm;
  report("swarm (drawn sizes, default faults)", measure(swarm, 1, seeds));
  RunOptions no_lin = base;
  no_lin.check_linearizability = false;
  report("default, linearizability off", measure(no_lin, 1, seeds));

  if (memory_seeds > 0) {
    fmt::print("memory over a {}-seed sweep in one process (swarm, default faults):\n", memory_seeds);
    std::uint64_t step = std::max<std::uint64_t>(memory_seeds / 10, 1);
    for (std::uint64_t done = 0; done < memory_seeds; done += step) {
      measure(swarm, 1 + done, step);
      fmt::print("  after {:>7} seeds: RSS {:.1f} MiB\n", done + step, rss_mib());
      std::fflush(stdout);
    }
  }
  return 0;
}
