// vsr-sim: run, sweep and replay seeds of the deterministic simulator.
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/history_json.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"
#include "tools/sim_cli.hpp"
#include "tools/sim_report.hpp"
#include "tools/timeline_html.hpp"
#include "tools/sim_shrink.hpp"

namespace {

using namespace vsr::sim;
using Clock = std::chrono::steady_clock;

constexpr int exit_usage = 2;

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// The flags that shape a run, shared by run, sweep and replay.
struct Shape {
  std::string faults = "default";
  std::optional<std::uint32_t> replicas;
  std::optional<std::uint32_t> clients;
  std::string duration = "10s";
  std::optional<std::string> liveness;  // bound on the liveness phase (unset: RunOptions' 20 s)
};

void add_shape_flags(CLI::App* app, Shape& s) {
  app->add_option("--faults", s.faults, "Fault level: none | default | harsh")
      ->check(CLI::IsMember({"none", "default", "normal", "harsh"}));
  app->add_option("--replicas", s.replicas, "Cluster size (1..7); default: drawn per seed")
      ->check(CLI::Range(1, 7));
  app->add_option("--clients", s.clients, "Client count (1..64); default: drawn per seed")
      ->check(CLI::Range(1, 64));
  app->add_option("--duration", s.duration,
                  "Simulated length of the fault phase, e.g. 10s, 500ms, 2m");
  app->add_option("--liveness", s.liveness,
                  "Bound on the liveness phase, e.g. 20s (default), 1ms (forces a liveness verdict)");
}

/// Builds RunOptions from the shape flags; an error names the bad flag.
std::optional<RunOptions> make_options(const Shape& s, std::uint64_t seed, std::string* error) {
  RunOptions o;
  o.seed = seed;
  o.faults = parse_fault_level(s.faults).value_or(FaultLevel::normal);
  o.replicas = s.replicas;
  o.clients = s.clients;
  auto duration = parse_duration_us(s.duration);
  if (!duration) {
    *error = fmt::format("--duration: '{}' is not a duration (examples: 10s, 500ms, 2m)", s.duration);
    return std::nullopt;
  }
  o.duration_us = *duration;
  if (s.liveness) {
    auto liveness = parse_duration_us(*s.liveness);
    if (!liveness) {
      *error = fmt::format("--liveness: '{}' is not a duration (examples: 20s, 1ms)", *s.liveness);
      return std::nullopt;
    }
    o.liveness_us = *liveness;
  }
  return o;
}

/// The flags that reproduce `s`, for replay commands.
std::string shape_flags(const Shape& s) {
  std::string f;
  if (parse_fault_level(s.faults) != FaultLevel::normal) f += " --faults " + s.faults;
  if (s.replicas) f += fmt::format(" --replicas {}", *s.replicas);
  if (s.clients) f += fmt::format(" --clients {}", *s.clients);
  if (s.duration != "10s") f += " --duration " + s.duration;
  if (s.liveness) f += " --liveness " + *s.liveness;
  return f;
}

std::string replay_command(std::uint64_t seed, const Shape& s) {
  return fmt::format("vsr-sim replay --seed {}{} --trace seed-{}.jsonl", seed, shape_flags(s), seed);
}

void print_summary(const RunResult& r, double wall_ms) {
  const RunStats& st = r.stats;
  fmt::print("ops: {} ok, {} failed, {} indeterminate\n", st.ops_ok, st.ops_failed, st.ops_info);
  fmt::print("protocol: final view {}, {} view changes completed, final commit {}\n", st.final_view,
             st.view_changes, st.final_commit);
  fmt::print("faults: {} crashes ({} wiped), {} partitions, {} pauses\n", st.crashes, st.wipes,
             st.partitions, st.pauses);
  fmt::print("messages: {} sent, {} delivered, {} dropped; {} events\n", st.messages_sent,
             st.messages_delivered, st.messages_dropped, st.events);
  double sim_s = static_cast<double>(st.simulated_us) / 1e6;
  fmt::print("time: {:.3f} s simulated, {:.1f} ms wall ({:.0f}x)\n", sim_s, wall_ms,
             wall_ms > 0 ? sim_s * 1000 / wall_ms : 0.0);
}

void print_failure(const RunResult& r) {
  fmt::print("FAILED [{}] {} at t={} us\n{}\n", to_string(r.verdict), r.check, r.failed_at_us, r.detail);
}

bool write_history(const RunResult& r, const std::string& path) {
  std::ofstream out(path);
  if (!out) {
    fmt::print(stderr, "error: cannot write history file '{}'\n", path);
    return false;
  }
  out << to_json_lines(r.history);
  return true;
}

/// `replay --html FILE`: writes the run's timeline page (tools/timeline_html.hpp) built
/// from its trace lines. False, with a message, if the trace is malformed or FILE unwritable.
bool write_timeline(const RunResult& r, const std::string& title, const std::string& trace,
                    const std::string& path) {
  vsr::tools::TimelineRun run{title, std::string(to_string(r.verdict)), r.check, r.detail,
                              r.failed_at_us, describe(r.params)};
  auto model = vsr::tools::build_timeline(trace, run);
  if (!model) {
    fmt::print(stderr, "error: --html: {}\n", model.error().message);
    return false;
  }
  std::ofstream out(path);
  if (!(out << vsr::tools::timeline_html(model.value()))) {
    fmt::print(stderr, "error: cannot write timeline file '{}'\n", path);
    return false;
  }
  fmt::print("timeline: {}\n", path);
  return true;
}

// ---------------------------------------------------------------- run

/// `--input FILE`: tape mode (sim/prng.hpp, Tape). The file's bytes make the run's
/// choices, as in fuzz_sim; unless given, --faults and --duration take fuzz_sim's values.
struct TapeInput {
  std::string path;
  bool faults_given = false;
  bool duration_given = false;
};

/// Loads the input file into `o` (tape mode). False, with a message, if unreadable.
bool load_input(const TapeInput& tape, RunOptions& o) {
  std::ifstream in(tape.path, std::ios::binary);
  if (!in) {
    fmt::print(stderr, "error: --input: cannot read '{}'\n", tape.path);
    return false;
  }
  o.input = std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
  if (!tape.faults_given) o.faults = tape_faults;
  if (!tape.duration_given) o.duration_us = tape_duration_us;
  return true;
}

int cmd_run(std::uint64_t seed, const Shape& shape, const std::string& trace_path,
            const std::string& history_path, bool replay, const TapeInput& tape = {},
            const std::string& html_path = {}, const std::string& json_path = {}) {
  std::string error;
  auto options = make_options(shape, seed, &error);
  if (!options) {
    fmt::print(stderr, "error: {}\n", error);
    return exit_usage;
  }
  if (!tape.path.empty() && !load_input(tape, *options)) return exit_usage;
  std::ofstream trace_file;
  if (!trace_path.empty()) {
    trace_file.open(trace_path);
    if (!trace_file) {
      fmt::print(stderr, "error: cannot write trace file '{}'\n", trace_path);
      return exit_usage;
    }
    options->trace = &trace_file;
  }
  std::ostringstream html_trace;  // --html: the trace in memory, copied to --trace after the run
  if (!html_path.empty()) options->trace = &html_trace;
  if (replay) options->context_lines = 25;
  auto start = Clock::now();
  RunResult r = run_simulation(*options);
  double wall = elapsed_ms(start);
  fmt::print("seed: {}\n{}\n", seed, describe(r.params));
  if (options->input) {
    fmt::print("input: {} ({} bytes, {} used)\n", tape.path, options->input->size(),
               r.stats.input_bytes_used);
  }
  print_summary(r, wall);
  print_metrics(std::cout, r.stats);
  if (!history_path.empty() && !write_history(r, history_path)) return exit_usage;
  if (!json_path.empty()) {
    nlohmann::json j{{"seed", seed},
                     {"verdict", to_string(r.verdict)},
                     {"exit_code", static_cast<int>(r.verdict)},
                     {"trace_hash", fmt::format("{:016x}", r.trace_hash)},
                     {"replicas", r.params.replica_count},
                     {"metrics", metrics_json(r.stats)}};
    if (r.verdict != RunVerdict::passed) j["check"] = r.check, j["detail"] = r.detail;
    std::ofstream out(json_path);
    if (!(out << j.dump(2) << '\n')) {
      fmt::print(stderr, "error: --json: cannot write '{}'\n", json_path);
      return exit_usage;
    }
  }
  if (!html_path.empty()) {
    if (trace_file.is_open()) trace_file << html_trace.str();
    std::string title = fmt::format("vsr-sim replay --seed {}{}", seed, shape_flags(shape));
    if (!write_timeline(r, title, html_trace.str(), html_path)) return exit_usage;
  }
  if (r.verdict != RunVerdict::passed) {
    print_failure(r);
    if (replay) {
      fmt::print("last {} events before the failure:\n", r.context.size());
      for (const auto& line : r.context) fmt::print("  {}\n", line);
      if (!trace_path.empty()) fmt::print("full trace: {}\n", trace_path);
    } else {
      fmt::print("replay: {}\n", options->input ? fmt::format("vsr-sim replay --input {}{}{}", tape.path,
                                                              seed == 1 ? "" : fmt::format(" --seed {}", seed),
                                                              shape_flags(shape))
                                                : replay_command(seed, shape));
    }
  } else {
    fmt::print("verdict: passed\n");
  }
  fmt::print("trace-hash: {:016x}\n", r.trace_hash);
  return static_cast<int>(r.verdict);
}

// ---------------------------------------------------------------- sweep

struct SeedOutcome {
  bool ran = false;
  std::uint64_t seed = 0;
  RunVerdict verdict = RunVerdict::passed;
  std::string check;
  std::string detail;
  std::uint64_t trace_hash = 0;
  std::uint32_t replicas = 0;
  double wall_ms = 0;
  SeedMetrics metrics;
};

class Progress {
 public:
  Progress(std::size_t total, bool tty) : total_(total), tty_(tty) {}
  void tick(std::size_t done, std::size_t failed) {
    std::lock_guard lock(mutex_);
    if (tty_) {
      constexpr int width = 40;
      auto filled = static_cast<int>(width * done / std::max<std::size_t>(total_, 1));
      fmt::print(stderr, "\r[{}{}] {}/{} seeds, {} failed", std::string(filled, '#'),
                 std::string(width - filled, '.'), done, total_, failed);
      if (done == total_) fmt::print(stderr, "\n");
      return;
    }
    std::size_t step = std::max<std::size_t>(total_ / 10, 1);
    if (done % step == 0 || done == total_) {
      fmt::print(stderr, "sweep: {}/{} seeds done, {} failed\n", done, total_, failed);
    }
  }

 private:
  std::size_t total_;
  bool tty_;
  std::mutex mutex_;
};

/// Runs `seeds` on `jobs` threads, summing what they covered into `coverage`. With
/// `stop_on_failure`, seeds after the first failing one (in seed order) are not run;
/// every seed before it is, whatever the job count.
std::vector<SeedOutcome> run_sweep(const std::vector<std::uint64_t>& seeds, const RunOptions& base,
                                   unsigned jobs, Coverage& coverage, bool stop_on_failure) {
  std::vector<SeedOutcome> outcomes(seeds.size());
  std::mutex coverage_mutex;
  std::atomic<std::size_t> limit{seeds.size()};
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  std::atomic<std::size_t> failed{0};
  Progress progress(seeds.size(), isatty(STDERR_FILENO) != 0);
  auto worker = [&] {
    for (std::size_t i = next++; i < limit.load(); i = next++) {
      RunOptions o = base;
      o.seed = seeds[i];
      auto start = Clock::now();
      RunResult r = run_simulation(o);
      outcomes[i] = {true, seeds[i], r.verdict, r.check, r.detail, r.trace_hash, r.params.replica_count,
                     elapsed_ms(start), seed_metrics(r.stats)};
      {
        std::lock_guard lock(coverage_mutex);
        coverage.add(r.stats);
      }
      if (r.verdict != RunVerdict::passed) {
        ++failed;
        std::size_t cut = i + 1;
        for (std::size_t cur = limit.load(); stop_on_failure && cut < cur && !limit.compare_exchange_weak(cur, cut);) {
        }
      }
      progress.tick(++done, failed.load());
    }
  };
  std::vector<std::thread> threads;
  for (unsigned j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  std::erase_if(outcomes, [](const SeedOutcome& o) { return !o.ran; });
  if (stop_on_failure && outcomes.size() < seeds.size()) {
    // Seeds past the first failure may have run on other threads: drop them, so the
    // report is the same for every job count.
    auto first = std::find_if(outcomes.begin(), outcomes.end(),
                              [](const SeedOutcome& o) { return o.verdict != RunVerdict::passed; });
    if (first != outcomes.end()) outcomes.erase(first + 1, outcomes.end());
  }
  return outcomes;
}

nlohmann::json sweep_json(const std::vector<SeedOutcome>& outcomes, const Shape& shape,
                          const std::string& range, const std::string& shard, double wall_ms) {
  nlohmann::json j;
  j["seeds"] = range;
  j["shard"] = shard;
  j["faults"] = shape.faults;
  j["wall_ms"] = wall_ms;
  std::map<std::string, std::size_t> counts;
  for (const auto& o : outcomes) ++counts[std::string(to_string(o.verdict))];
  j["counts"] = counts;
  j["runs"] = nlohmann::json::array();
  for (const auto& o : outcomes) {
    nlohmann::json run{{"seed", o.seed},
                       {"verdict", to_string(o.verdict)},
                       {"exit_code", static_cast<int>(o.verdict)},
                       {"trace_hash", fmt::format("{:016x}", o.trace_hash)},
                       {"replicas", o.replicas},
                       {"metrics", to_json(o.metrics)}};
    if (o.verdict != RunVerdict::passed) {
      run["check"] = o.check;
      run["detail"] = o.detail;
      run["replay"] = replay_command(o.seed, shape);
    }
    j["runs"].push_back(run);
  }
  return j;
}

int cmd_sweep(const std::string& range, const std::string& shard_text, unsigned jobs,
              const Shape& shape, const std::string& json_path, bool print_hashes, bool stop_on_failure) {
  auto seeds = parse_seed_range(range);
  if (!seeds) {
    fmt::print(stderr, "error: --seeds: '{}' is not a range like 1..1000\n", range);
    return exit_usage;
  }
  auto shard = parse_shard(shard_text);
  if (!shard) {
    fmt::print(stderr, "error: --shard: '{}' is not K/N with 1 <= K <= N\n", shard_text);
    return exit_usage;
  }
  std::vector<std::uint64_t> mine = shard_seeds(*seeds, *shard);
  std::string error;
  auto base = make_options(shape, 0, &error);
  if (!base) {
    fmt::print(stderr, "error: {}\n", error);
    return exit_usage;
  }
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  fmt::print("sweep: {} seeds ({} shard {}), {} jobs, faults={}\n", mine.size(), range,
             shard_text, jobs, shape.faults);
  auto start = Clock::now();
  Coverage coverage;
  auto outcomes = run_sweep(mine, *base, jobs, coverage, stop_on_failure);
  double wall = elapsed_ms(start);
  std::map<std::string, std::size_t> counts;
  for (const auto& o : outcomes) ++counts[std::string(to_string(o.verdict))];
  fmt::print("\n{:<18} {:>8}\n", "outcome", "seeds");
  for (const auto& [name, n] : counts) fmt::print("{:<18} {:>8}\n", name, n);
  fmt::print("{} seeds in {:.1f} s ({:.0f} seeds/s)\n", outcomes.size(), wall / 1000,
             outcomes.empty() ? 0.0 : static_cast<double>(outcomes.size()) * 1000 / wall);
  if (stop_on_failure && outcomes.size() < mine.size()) {
    fmt::print("stopped at the first failure: {} of {} seeds run\n", outcomes.size(), mine.size());
  }
  print_coverage(std::cout, coverage);
  fmt::print("\n");
  int code = 0;
  for (const auto& o : outcomes) {
    if (print_hashes) fmt::print("seed {} {} {:016x}\n", o.seed, to_string(o.verdict), o.trace_hash);
    if (o.verdict == RunVerdict::passed) continue;
    if (code == 0) code = static_cast<int>(o.verdict);
    fmt::print("FAILED seed {} [{}] {}: {}\n  replay: {}\n", o.seed, to_string(o.verdict), o.check,
               o.detail, replay_command(o.seed, shape));
  }
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    if (!out) {
      fmt::print(stderr, "error: cannot write '{}'\n", json_path);
      return exit_usage;
    }
    nlohmann::json j = sweep_json(outcomes, shape, range, shard_text, wall);
    j["coverage"] = coverage_json(coverage);
    out << j.dump(2) << '\n';
  }
  return code;
}

std::string exit_code_text() {
  return "Exit codes: 0 passed; 2 usage error; 3 safety invariant violated; 4 not linearizable;\n"
         "            5 liveness failure; 6 crash or assertion in the protocol.\n"
         "sweep exits with the code of its first failing seed.";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vsr-sim: deterministic simulation of Viewstamped Replication"};
  app.footer(fmt::format("{}\n\n{}", exit_code_text(), fault_model_text()));
  app.require_subcommand(1);

  std::uint64_t seed = 1;
  Shape shape;
  std::string trace_path;
  std::string history_path;
  auto* run = app.add_subcommand("run", "Run one seed and print its verdict and trace hash");
  TapeInput tape;
  run->add_option("--seed", seed, "The seed (with --input: of the streams used once the input runs out; default 1)");
  run->add_option("--input", tape.path, "Tape mode: FILE's bytes make every random choice (a fuzz_sim input)");
  add_shape_flags(run, shape);
  run->add_option("--trace", trace_path, "Write the trace as JSON lines to FILE");
  run->add_option("--history", history_path, "Write the client history as JSON lines to FILE");
  std::string run_json;
  run->add_option("--json", run_json, "Write the verdict and the metrics as JSON to FILE");

  auto* replay = app.add_subcommand(
      "replay", "Rerun a seed, write its trace, and show the first violated check in context");
  replay->add_option("--seed", seed, "The seed (with --input: of the streams used once the input runs out; default 1)");
  replay->add_option("--input", tape.path, "Tape mode: FILE's bytes make every random choice (a fuzz_sim input)");
  add_shape_flags(replay, shape);
  replay->add_option("--trace", trace_path, "Write the trace as JSON lines to FILE");
  replay->add_option("--history", history_path, "Write the client history as JSON lines to FILE");
  std::string html_path;
  replay->add_option("--html", html_path,
                     "Write the run's timeline to FILE: one self-contained HTML page (README, \"Seeing a run\")");

  std::string range = "1..2000";
  std::string shard = "1/1";
  unsigned jobs = 0;
  std::string json_path;
  bool print_hashes = false;
  auto* sweep = app.add_subcommand("sweep", "Run many seeds in parallel");
  sweep->add_option("--seeds", range, "Seed range A..B (inclusive)")->capture_default_str();
  sweep->add_option("--jobs", jobs, "Parallel runs (default: all cores)");
  sweep->add_option("--shard", shard, "Run shard K of N (1-based): seeds whose index mod N is K-1")
      ->capture_default_str();
  sweep->add_option("--json", json_path, "Write a machine-readable summary to FILE");
  sweep->add_flag("--hashes", print_hashes, "Print every seed's verdict and trace hash");
  bool stop_on_failure = false;
  sweep->add_flag("--stop-on-failure", stop_on_failure,
                  "Stop at the first failing seed (every earlier seed still runs)");
  add_shape_flags(sweep, shape);

  std::vector<std::string> compare_files;
  auto* compare = app.add_subcommand(
      "compare", "Compare two sweeps' JSON (base, then head): new failures and metric deltas beyond noise");
  compare->add_option("files", compare_files, "BASE.json HEAD.json (from vsr-sim sweep --json)")
      ->required()
      ->expected(2);

  std::string shrink_out;
  std::uint32_t shrink_runs = 5000;
  auto* shrink_cmd = app.add_subcommand(
      "shrink", "Shrink a failing seed to a minimal schedule and write it as a scenario file");
  shrink_cmd->add_option("--seed", seed, "The failing seed")->required();
  add_shape_flags(shrink_cmd, shape);
  shrink_cmd->add_option("-o,--output", shrink_out, "The scenario file to write (default: shrunk-seed-N.txt)");
  shrink_cmd->add_option("--max-runs", shrink_runs, "Budget of candidate replays")->capture_default_str();

  std::vector<std::string> scenario_files;
  bool scenario_rewrite = false;
  auto* scenario = app.add_subcommand(
      "scenario", "Run scenario scripts and diff their output (exit 0 match, 1 mismatch, 2 malformed)");
  scenario->add_option("files", scenario_files, "Scenario files (scenarios/*.txt)")->required();
  scenario->add_flag("--rewrite", scenario_rewrite, "Replace every expected output with the actual output");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }
  if (scenario->parsed()) {
    return run_scenario_files(scenario_files, scenario_rewrite, std::cout, std::cerr);
  }
  if (compare->parsed()) return compare_sweeps(compare_files[0], compare_files[1], std::cout, std::cerr);
  if (shrink_cmd->parsed()) {
    std::string error;
    auto options = make_options(shape, seed, &error);
    if (!options) {
      fmt::print(stderr, "error: {}\n", error);
      return exit_usage;
    }
    ShrinkCommand c{*options, shrink_out.empty() ? fmt::format("shrunk-seed-{}.txt", seed) : shrink_out,
                    shrink_runs, fmt::format("seed {}{}", seed, shape_flags(shape))};
    return run_shrink_command(c);
  }
  for (auto* sub : {run, replay}) {
    if (!sub->parsed()) continue;
    if (sub->count("--seed") == 0 && tape.path.empty()) {
      fmt::print(stderr, "error: {} needs --seed N or --input FILE\n", sub->get_name());
      return exit_usage;
    }
    tape.faults_given = sub->count("--faults") > 0;
    tape.duration_given = sub->count("--duration") > 0;
    return cmd_run(seed, shape, trace_path, history_path, sub == replay, tape, html_path, run_json);
  }
  return cmd_sweep(range, shard, jobs, shape, json_path, print_hashes, stop_on_failure);
}
