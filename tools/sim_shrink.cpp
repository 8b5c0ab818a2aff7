#include "tools/sim_shrink.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/kv_call.hpp"
#include "sim/scenario/schedule_text.hpp"
#include "sim/schedule.hpp"
#include "sim/shrink.hpp"

namespace vsr::sim {
namespace {

std::string size_text(const ShrinkSize& s) {
  return fmt::format("{} events, {} faults, {} ops, {} replicas, {} client slots, {} ms fault phase", s.events,
                     s.faults, s.ops, s.replicas, s.clients, s.duration_us / 1000);
}

/// The trace lines worth a human's first look: faults, client operations, view
/// changes, and the violation. At most `limit` lines (the last ones, which lead to the
/// failure).
std::vector<std::string> story(const Schedule& minimal, std::size_t limit) {
  std::ostringstream trace;
  RunOptions o;
  o.schedule = &minimal;
  o.trace = &trace;
  run_simulation(o);
  std::vector<std::string> lines;
  std::istringstream in(trace.str());
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    std::string ev = j.value("ev", "");
    std::string name = j.value("name", "");
    bool keep = ev == "crash" || ev == "restart" || ev == "partition" || ev == "heal" || ev == "pause" ||
                ev == "resume" || ev == "clog" || ev == "invoke" || ev == "complete" || ev == "give_up" ||
                ev == "violation" || ev == "liveness_phase" || name == "vsr.view_change.complete" ||
                name == "vsr.view_change.start" || name == "vsr.recovery.complete";
    if (!keep) continue;
    auto t_us = j.value("t_us", std::uint64_t{0});
    j.erase("t_us");
    lines.push_back(fmt::format("{:>9.3f} ms  {}", static_cast<double>(t_us) / 1000.0, j.dump()));
  }
  if (lines.size() > limit) {
    std::size_t cut = lines.size() - limit;
    lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(cut));
    lines.insert(lines.begin(), fmt::format("   ... {} earlier lines", cut));
  }
  return lines;
}

std::string header(const ShrinkCommand& c, const ShrinkResult& s, const RunResult& original) {
  std::string h = fmt::format("Shrunk by `{} shrink` from {}.\n", c.program, c.origin);
  h += fmt::format("It failed: {} ({}): {}\n", to_string(original.verdict), original.check, original.detail);
  h += fmt::format("Before: {}.\n", size_text(s.before));
  h += fmt::format("After:  {}.\n", size_text(s.after));
  h += fmt::format("The minimal run fails with: {} ({}): {}\n", to_string(s.minimal_run.verdict),
                   s.minimal_run.check, s.minimal_run.detail);
  if (s.minimal.params.seed != original.params.seed) {
    h += fmt::format("It runs under seed {}, not {}: shrinking tried fresh message fates (--reseeds).\n",
                     s.minimal.params.seed, original.params.seed);
  }
  h += "On correct code the schedule passes; `simulate` prints `passed`.";
  return h;
}

}  // namespace

int run_shrink_command(const ShrinkCommand& c) {
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  RunOptions o = c.options;
  o.record_schedule = true;
  RunResult original = run_simulation(o);
  if (original.verdict == RunVerdict::passed) {
    fmt::print("{} passed: nothing to shrink\n", c.origin);
    return 1;
  }
  fmt::print("{} failed: {} ({}) at {} us\n  {}\n", c.origin, to_string(original.verdict), original.check,
             original.failed_at_us, original.detail);
  ShrinkOptions so;
  so.max_runs = c.max_runs;
  so.reseeds = c.reseeds;
  RunOptions checking;
  checking.check_linearizability = o.check_linearizability;
  ShrinkResult s = shrink(original.schedule, failure_class(original), simulation_runner(checking), so);
  double wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!s.reproduced) {
    fmt::print("the recorded schedule did not fail the same way when replayed: cannot shrink\n");
    return 1;
  }
  std::ofstream out(c.output_path);
  if (!out) {
    fmt::print(stderr, "error: -o: cannot write '{}'\n", c.output_path);
    return 2;
  }
  out << schedule_to_scenario(s.minimal, header(c, s, original));
  out.close();
  if (out.fail()) {
    fmt::print(stderr, "error: -o: writing '{}' failed\n", c.output_path);
    return 2;
  }
  fmt::print("before: {}\nafter:  {}\n", size_text(s.before), size_text(s.after));
  fmt::print("shrunk in {} replays, {:.1f} s wall\n\nthe minimal schedule:\n", s.runs, wall_s);
  for (const auto& line : describe_schedule(s.minimal)) {
    if (!line.starts_with("op ")) fmt::print("  {}\n", line);
  }
  for (std::size_t slot = 0; slot < s.minimal.clients.size(); ++slot) {
    std::map<std::string, int> kinds;
    for (const ClientStep& step : s.minimal.clients[slot]) {
      auto call = s.minimal.system == "kv" ? call_of(step.operation) : InputResult<OpCall>(InputError{});
      ++kinds[call ? std::string(to_string(call.value().kind)) : std::string("op")];
    }
    std::string mix;
    for (const auto& [k, n] : kinds) mix += fmt::format("{}{} {}", mix.empty() ? "" : ", ", n, k);
    fmt::print("  client {}: {} ops ({}){}\n", slot + 1, s.minimal.clients[slot].size(), mix,
               slot == 0 ? "  -- every op is an `op` line in the file" : "");
  }
  fmt::print("\nwhat happens in it (faults, client ops, view changes, the failure):\n");
  for (const auto& line : story(s.minimal, 20)) fmt::print("  {}\n", line);
  fmt::print("\nfails with: {} ({}): {}\nwritten: {}  (run it: {} scenario {})\n", to_string(s.minimal_run.verdict),
             s.minimal_run.check, s.minimal_run.detail, c.output_path, c.program, c.output_path);
  return 0;
}

}  // namespace vsr::sim
