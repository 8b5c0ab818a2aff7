// bench-check: times the linearizability checker on histories recorded from a real
// atomic register under random concurrency (sim/history_gen.hpp), deterministic in
// the seed. Each case runs in a forked child so that its peak RSS is its own.
// Prints a Markdown table: ops, procs, keys, info%, verdict, ms, peak RSS MB.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/history_gen.hpp"
#include "sim/linearizability.hpp"

namespace {

using namespace vsr::sim;

struct Case {
  std::size_t ops;
  unsigned procs, keys, info;
};

struct Measured {
  double ms = 0;  // the fastest of the repetitions (the machine is shared; see BENCHMARKS.md)
  double median_ms = 0;
  int verdict = -1;
  std::uint64_t configs = 0;
};

std::vector<Case> all_cases(bool quick) {
  std::vector<Case> cases;
  const std::vector<std::size_t> sizes = quick ? std::vector<std::size_t>{1000, 10000} : std::vector<std::size_t>{1000, 10000, 100000};
  for (std::size_t n : sizes) {
    for (unsigned p : {5U, 10U, 20U, 50U}) {
      for (unsigned k : {1U, 5U, 20U}) cases.push_back({n, p, k, 0});
    }
  }
  // Indeterminate ops: the reference shapes, then many of them.
  for (const Case& c : std::vector<Case>{{10000, 10, 5, 10}, {100000, 10, 20, 10}, {100000, 50, 20, 10},
                                         {10000, 10, 5, 30}, {100000, 20, 20, 30}, {10000, 5, 1, 20},
                                         {100000, 10, 5, 20}}) {
    if (!quick || c.ops <= 10000) cases.push_back(c);
  }
  return cases;
}

Measured run_case(const Case& c, std::uint64_t seed, unsigned jobs, double timeout_s, int reps) {
  const RegisterGenOptions g{seed, c.ops, c.procs, c.keys, c.info, 5};
  const History h = generate_register_history(g);
  CheckOptions o;
  o.jobs = jobs;
  o.timeout = std::chrono::milliseconds{static_cast<std::int64_t>(timeout_s * 1000)};
  o.max_memory_bytes = std::uint64_t{4} << 30;
  Measured m;
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const CheckResult r = check(h, o);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    m.verdict = static_cast<int>(r.verdict);
    m.configs = 0;
    for (const KeyResult& k : r.keys) m.configs += k.configs;
    if (r.verdict != Verdict::linearizable) break;
  }
  std::sort(times.begin(), times.end());
  m.ms = times.front();
  m.median_ms = times[times.size() / 2];
  return m;
}

/// Runs the case in a child; returns the measurement and the child's peak RSS in KiB.
std::pair<Measured, long> in_child(const Case& c, std::uint64_t seed, unsigned jobs, double timeout_s, int reps) {
  int fds[2];
  if (pipe(fds) != 0) return {{}, 0};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const Measured m = run_case(c, seed, jobs, timeout_s, reps);
    const ssize_t w = write(fds[1], &m, sizeof m);
    _exit(w == static_cast<ssize_t>(sizeof m) ? 0 : 1);
  }
  close(fds[1]);
  Measured m;
  const ssize_t got = read(fds[0], &m, sizeof m);
  close(fds[0]);
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  if (got != static_cast<ssize_t>(sizeof m)) m.verdict = -1;
  return {m, ru.ru_maxrss};
}

std::string verdict_name(int v) {
  return v < 0 ? "crashed" : std::string{to_string(static_cast<Verdict>(v))};
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  unsigned jobs = 2;
  double timeout_s = 60;
  bool quick = false;
  int reps = 5;
  std::vector<unsigned> one;
  CLI::App app{"bench-check: checker timings on generated register histories"};
  app.add_option("--seed", seed, "Generator seed")->capture_default_str();
  app.add_option("-j,--jobs", jobs, "Checker threads")->capture_default_str()->check(CLI::Range(1U, 256U));
  app.add_option("--timeout", timeout_s, "Seconds per case")->capture_default_str();
  app.add_flag("--quick", quick, "Skip the 100k-op cases");
  app.add_option("--reps", reps, "Checks per case; the fastest and the median are reported")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--case", one, "A single case: OPS PROCS KEYS INFO%")->expected(4);
  CLI11_PARSE(app, argc, argv);

  std::vector<Case> cases = all_cases(quick);
  if (!one.empty()) cases = {{one[0], one[1], one[2], one[3]}};
  fmt::print("seed {}, jobs {}, values drawn from 0..4, op mix 50% read / 25% write / 20% cas / 5% delete\n\n", seed, jobs);
  fmt::print("| ops | procs | keys | info% | verdict | min ms | median ms | peak RSS MB | configs |\n");
  fmt::print("|----:|------:|-----:|------:|---------|-------:|----------:|------------:|--------:|\n");
  int rc = 0;
  for (const Case& c : cases) {
    const auto [m, rss_kib] = in_child(c, seed, jobs, timeout_s, reps);
    fmt::print("| {} | {} | {} | {} | {} | {:.1f} | {:.1f} | {:.1f} | {} |\n", c.ops, c.procs, c.keys, c.info,
               verdict_name(m.verdict), m.ms, m.median_ms, static_cast<double>(rss_kib) / 1024.0, m.configs);
    std::fflush(stdout);
    if (m.verdict != 0) rc = 1;
  }
  return rc;
}
