// The simulation driver (tools/driver.hpp): vsr-sim's command line, over any systems.
#include "tools/driver.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/history_json.hpp"
#include "sim/limits.hpp"
#include "sim/simulator.hpp"
#include "sim/systems.hpp"
#include "tools/sim_cli.hpp"
#include "tools/scenario_files.hpp"
#include "tools/sim_report.hpp"
#include "tools/timeline_html.hpp"
#include "tools/sim_shrink.hpp"

namespace vsr::sim {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int exit_usage = 2;

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// The flags that shape a run, shared by run, sweep, replay and shrink, as written;
/// make_options() checks them against sim/limits.hpp and fills `replicas` and `clients`.
struct Shape {
  std::string program = "vsr-sim";   // the binary, for the replay commands printed
  std::string default_system = "kv";  // the program's first system
  std::string system = "kv";          // --system
  std::string faults = "default";
  std::optional<std::string> replicas_text;
  std::optional<std::string> clients_text;
  std::optional<std::uint32_t> replicas;  // set by make_options()
  std::optional<std::uint32_t> clients;
  std::string duration = "10s";
  std::optional<std::string> liveness;  // bound on the liveness phase (unset: RunOptions' 20 s)
};

void add_shape_flags(CLI::App* app, Shape& s) {
  app->add_option("--system", s.system, "The system under test (vsr-sim systems lists them)")->capture_default_str();
  app->add_option("--faults", s.faults, "Fault level: none | default | harsh")
      ->check(CLI::IsMember({"none", "default", "normal", "harsh"}));
  app->add_option("--replicas", s.replicas_text,
                  fmt::format("Cluster size ({}..{}); default: drawn per seed", min_replicas, max_replicas));
  app->add_option("--clients", s.clients_text,
                  fmt::format("Client count ({}..{}); default: drawn per seed", min_run_clients, max_clients));
  app->add_option("--duration", s.duration,
                  fmt::format("Simulated length of the fault phase, e.g. 10s, 500ms, 2m (a bare number: "
                              "seconds; at most {})",
                              format_duration(max_sim_duration_us)));
  app->add_option("--liveness", s.liveness,
                  fmt::format("Bound on the liveness phase, e.g. 20s (default), 1ms (forces a liveness verdict); "
                              "at most {}",
                              format_duration(max_sim_duration_us)));
}

/// Checks an optional count flag against [min, max] into `out`; an error names the flag.
bool parse_count(const std::optional<std::string>& text, std::string_view flag, std::uint64_t min,
                 std::uint64_t max, std::optional<std::uint32_t>& out, std::string* error) {
  if (!text) return true;
  auto v = parse_bounded_uint(*text, flag, min, max);
  if (!v) {
    *error = v.error().message;
    return false;
  }
  out = static_cast<std::uint32_t>(v.value());
  return true;
}

/// Builds RunOptions from the shape flags (and fills s.replicas, s.clients); an error
/// names the bad flag and the limit it broke.
std::optional<RunOptions> make_options(Shape& s, std::uint64_t seed, std::string* error) {
  RunOptions o;
  auto system = find_system(s.system);
  if (!system) {
    *error = fmt::format("--system: {}", system.error().message);
    return std::nullopt;
  }
  o.system = system.value();
  o.seed = seed;
  o.faults = parse_fault_level(s.faults).value_or(FaultLevel::normal);
  if (!parse_count(s.replicas_text, "--replicas", min_replicas, max_replicas, s.replicas, error) ||
      !parse_count(s.clients_text, "--clients", min_run_clients, max_clients, s.clients, error)) {
    return std::nullopt;
  }
  o.replicas = s.replicas;
  o.clients = s.clients;
  auto duration = parse_duration_us(s.duration, error, "--duration");
  if (!duration) return std::nullopt;
  o.duration_us = *duration;
  if (s.liveness) {
    auto liveness = parse_duration_us(*s.liveness, error, "--liveness");
    if (!liveness) return std::nullopt;
    o.liveness_us = *liveness;
  }
  return o;
}

/// The flags that reproduce `s`, for replay commands.
std::string shape_flags(const Shape& s) {
  std::string f;
  if (s.system != s.default_system) f += " --system " + s.system;
  if (parse_fault_level(s.faults) != FaultLevel::normal) f += " --faults " + s.faults;
  if (s.replicas) f += fmt::format(" --replicas {}", *s.replicas);
  if (s.clients) f += fmt::format(" --clients {}", *s.clients);
  if (s.duration != "10s") f += " --duration " + s.duration;
  if (s.liveness) f += " --liveness " + *s.liveness;
  return f;
}

std::string replay_command(std::uint64_t seed, const Shape& s) {
  return fmt::format("{} replay --seed {}{} --trace seed-{}.jsonl", s.program, seed, shape_flags(s), seed);
}

void print_summary(const RunResult& r, double wall_ms) {
  const RunStats& st = r.stats;
  fmt::print("ops: {} ok, {} failed, {} indeterminate\n", st.ops_ok, st.ops_failed, st.ops_info);
  fmt::print("protocol: final view {}, {} view changes completed, final commit {}\n", st.final_view,
             st.view_changes, st.final_commit);
  fmt::print("faults: {} crashes ({} wiped), {} partitions, {} pauses; storage: {} torn, {} corrupted, {} latent, "
             "{} misdirected, {} cut mid-sync\n",
             st.crashes, st.wipes, st.partitions, st.pauses, st.storage_torn, st.storage_corrupted, st.storage_latent,
             st.storage_misdirected, st.storage_sync_cut);
  fmt::print("messages: {} sent, {} delivered, {} dropped; {} events\n", st.messages_sent,
             st.messages_delivered, st.messages_dropped, st.events);
  double sim_s = static_cast<double>(st.simulated_us) / 1e6;
  fmt::print("time: {:.3f} s simulated, {:.1f} ms wall ({:.0f}x)\n", sim_s, wall_ms,
             wall_ms > 0 ? sim_s * 1000 / wall_ms : 0.0);
}

void print_failure(const RunResult& r) {
  fmt::print("FAILED [{}] {} at t={} us\n{}\n", to_string(r.verdict), r.check, r.failed_at_us, r.detail);
}

/// `replay --html FILE`: the run's timeline page (tools/timeline_html.hpp) built from its
/// trace lines. Nullopt, with a message, if the trace is malformed.
std::optional<std::string> timeline_page(const RunResult& r, const std::string& title, const std::string& trace,
                                         std::string* error) {
  vsr::tools::TimelineRun run{title, std::string(to_string(r.verdict)), r.check, r.detail,
                              r.failed_at_us, describe(r.params)};
  auto model = vsr::tools::build_timeline(trace, run);
  if (!model) {
    *error = fmt::format("--html: {}", model.error().message);
    return std::nullopt;
  }
  return vsr::tools::timeline_html(model.value());
}

/// Prints `error` and returns the usage exit code.
int usage_error(const std::string& error) {
  fmt::print(stderr, "error: {}\n", error);
  return exit_usage;
}

// ---------------------------------------------------------------- run

/// `--input FILE`: tape mode (sim/prng.hpp, Tape). The file's bytes make the run's
/// choices, as in fuzz_sim; unless given, --faults and --duration take fuzz_sim's values.
struct TapeInput {
  std::string path;
  bool faults_given = false;
  bool duration_given = false;
};

/// Loads the input file into `o` (tape mode). False, with a message, if it is not a
/// readable file of at most max_tape_bytes.
bool load_input(const TapeInput& tape, RunOptions& o, std::string* error) {
  auto bytes = read_input_file(tape.path, "--input", max_tape_bytes);
  if (!bytes) {
    *error = bytes.error().message;
    return false;
  }
  o.input = std::vector<std::uint8_t>(bytes.value().begin(), bytes.value().end());
  if (!tape.faults_given) o.faults = tape_faults;
  if (!tape.duration_given) o.duration_us = tape_duration_us;
  return true;
}

/// The files `run` and `replay` write; empty means not asked for.
struct RunOutputs {
  std::string trace;
  std::string history;
  std::string json;
  std::string html;
};

/// Every output file can be written (checked before the run, so a typo costs no run).
bool check_outputs(const RunOutputs& out, std::string* error) {
  const std::pair<const std::string*, std::string_view> files[] = {
      {&out.trace, "--trace"}, {&out.history, "--history"}, {&out.json, "--json"}, {&out.html, "--html"}};
  for (const auto& [path, flag] : files) {
    if (!path->empty() && !check_writable(*path, flag, error)) return false;
  }
  return true;
}

nlohmann::json run_json(std::uint64_t seed, const RunResult& r) {
  nlohmann::json j{{"seed", seed},
                   {"verdict", to_string(r.verdict)},
                   {"exit_code", static_cast<int>(r.verdict)},
                   {"trace_hash", fmt::format("{:016x}", r.trace_hash)},
                   {"replicas", r.params.replica_count},
                   {"metrics", metrics_json(r.stats)}};
  if (r.verdict != RunVerdict::passed) j["check"] = r.check, j["detail"] = r.detail;
  return j;
}

/// Writes the history, JSON and timeline files asked for; false, with a message naming
/// the flag and the path, if any write fails.
bool write_run_outputs(const RunOutputs& out, std::uint64_t seed, const Shape& shape, const RunResult& r,
                       const std::string& html_trace, std::string* error) {
  if (!out.history.empty() && !write_output_file(out.history, to_json_lines(r.history), "--history", error)) {
    return false;
  }
  if (!out.json.empty() && !write_output_file(out.json, run_json(seed, r).dump(2) + "\n", "--json", error)) {
    return false;
  }
  if (!out.html.empty()) {
    std::string title = fmt::format("{} replay --seed {}{}", shape.program, seed, shape_flags(shape));
    auto page = timeline_page(r, title, html_trace, error);
    if (!page || !write_output_file(out.html, *page, "--html", error)) return false;
    fmt::print("timeline: {}\n", out.html);
  }
  return true;
}

int cmd_run(std::uint64_t seed, Shape& shape, const RunOutputs& outputs, bool replay, const TapeInput& tape = {}) {
  std::string error;
  auto options = make_options(shape, seed, &error);
  if (!options || !check_outputs(outputs, &error)) return usage_error(error);
  if (!outputs.history.empty() && shape.system != "kv") {
    return usage_error(fmt::format("--history: only the kv system records a history (this run's is {})", shape.system));
  }
  if (!tape.path.empty() && !load_input(tape, *options, &error)) return usage_error(error);
  std::ofstream trace_file;
  if (!outputs.trace.empty()) {
    trace_file.open(outputs.trace);
    if (!trace_file) return usage_error(fmt::format("--trace: cannot write '{}'", outputs.trace));
    options->trace = &trace_file;
  }
  std::ostringstream html_trace;  // --html: the trace in memory, copied to --trace after the run
  if (!outputs.html.empty()) options->trace = &html_trace;
  if (replay) options->context_lines = 25;
  options->keep_history = !outputs.history.empty();
  auto start = Clock::now();
  RunResult r = run_simulation(*options);
  double wall = elapsed_ms(start);
  fmt::print("seed: {}\n{}{}\n", seed, shape.system == shape.default_system ? "" : "system: " + shape.system + "\n",
             describe(r.params));
  if (options->input) {
    fmt::print("input: {} ({} bytes, {} used)\n", tape.path, options->input->size(),
               r.stats.input_bytes_used);
  }
  print_summary(r, wall);
  print_metrics(std::cout, r.stats);
  if (trace_file.is_open()) {
    if (!outputs.html.empty()) trace_file << html_trace.str();
    trace_file.close();
    if (trace_file.fail()) return usage_error(fmt::format("--trace: writing '{}' failed", outputs.trace));
  }
  if (!write_run_outputs(outputs, seed, shape, r, html_trace.str(), &error)) return usage_error(error);
  if (r.verdict != RunVerdict::passed) {
    print_failure(r);
    if (replay) {
      fmt::print("last {} events before the failure:\n", r.context.size());
      for (const auto& line : r.context) fmt::print("  {}\n", line);
      if (!outputs.trace.empty()) fmt::print("full trace: {}\n", outputs.trace);
    } else {
      fmt::print("replay: {}\n", options->input ? fmt::format("{} replay --input {}{}{}", shape.program, tape.path,
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
  for (unsigned j = 0; j < jobs; ++j) {
    try {
      threads.emplace_back(worker);
    } catch (const std::system_error& e) {
      // The system has no more threads for us: the ones started share the seeds (the
      // results do not depend on the job count); with none, this thread runs them all.
      fmt::print(stderr, "warning: --jobs: only {} of {} threads could start ({})\n", j, jobs, e.what());
      break;
    }
  }
  if (threads.empty()) worker();
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

nlohmann::json sweep_json(const std::vector<SeedOutcome>& outcomes, const Shape& shape, const RunOptions& base,
                          const std::string& range, const std::string& shard, double wall_ms) {
  nlohmann::json j;
  j["seeds"] = range;
  j["shard"] = shard;
  j["system"] = shape.system;
  j["faults"] = shape.faults;
  // The shape every seed ran with (null: drawn per seed); `compare` refuses to pair
  // sweeps whose settings differ.
  j["replicas"] = shape.replicas ? nlohmann::json(*shape.replicas) : nlohmann::json(nullptr);
  j["clients"] = shape.clients ? nlohmann::json(*shape.clients) : nlohmann::json(nullptr);
  j["duration_us"] = base.duration_us;
  j["liveness_us"] = base.liveness_us;
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

struct SweepCommand {
  std::string range = "1..2000";
  std::string shard = "1/1";
  std::string jobs = "0";
  std::string json_path;
  bool print_hashes = false;
  bool stop_on_failure = false;
};

int cmd_sweep(const SweepCommand& c, Shape& shape) {
  std::string error;
  auto seeds = parse_seed_range(c.range, &error);
  if (!seeds) return usage_error(error);
  auto shard = parse_shard(c.shard, &error);
  if (!shard) return usage_error(error);
  std::vector<std::uint64_t> mine = shard_seeds(*seeds, *shard);
  auto base = make_options(shape, 0, &error);
  if (!base) return usage_error(error);
  auto jobs = parse_jobs(c.jobs, mine.size(), std::thread::hardware_concurrency(), &error);
  if (!jobs) return usage_error(error);
  if (!c.json_path.empty() && !check_writable(c.json_path, "--json", &error)) return usage_error(error);
  fmt::print("sweep: {} seeds ({} shard {}), {} jobs, system={}, faults={}\n", mine.size(), c.range, c.shard, *jobs,
             shape.system, shape.faults);
  auto start = Clock::now();
  Coverage coverage;
  auto outcomes = run_sweep(mine, *base, *jobs, coverage, c.stop_on_failure);
  double wall = elapsed_ms(start);
  std::map<std::string, std::size_t> counts;
  for (const auto& o : outcomes) ++counts[std::string(to_string(o.verdict))];
  fmt::print("\n{:<18} {:>8}\n", "outcome", "seeds");
  for (const auto& [name, n] : counts) fmt::print("{:<18} {:>8}\n", name, n);
  fmt::print("{} seeds in {:.1f} s ({:.0f} seeds/s)\n", outcomes.size(), wall / 1000,
             outcomes.empty() ? 0.0 : static_cast<double>(outcomes.size()) * 1000 / wall);
  if (c.stop_on_failure && outcomes.size() < mine.size()) {
    fmt::print("stopped at the first failure: {} of {} seeds run\n", outcomes.size(), mine.size());
  }
  print_coverage(std::cout, coverage);
  fmt::print("\n");
  int code = 0;
  for (const auto& o : outcomes) {
    if (c.print_hashes) fmt::print("seed {} {} {:016x}\n", o.seed, to_string(o.verdict), o.trace_hash);
    if (o.verdict == RunVerdict::passed) continue;
    if (code == 0) code = static_cast<int>(o.verdict);
    fmt::print("FAILED seed {} [{}] {}: {}\n  replay: {}\n", o.seed, to_string(o.verdict), o.check,
               o.detail, replay_command(o.seed, shape));
  }
  if (!c.json_path.empty()) {
    nlohmann::json j = sweep_json(outcomes, shape, *base, c.range, c.shard, wall);
    j["coverage"] = coverage_json(coverage);
    if (!write_output_file(c.json_path, j.dump(2) + "\n", "--json", &error)) return usage_error(error);
  }
  return code;
}

std::string exit_code_text() {
  return "Exit codes: 0 passed; 2 usage error; 3 safety invariant violated; 4 not linearizable;\n"
         "            5 liveness failure; 6 crash or assertion in the protocol.\n"
         "sweep exits with the code of its first failing seed.";
}


/// A subcommand's name that is not one of `subs`: an error naming it and the real ones
/// (CLI11 would say "A subcommand is required", or print the main help for `nosuch --help`).
std::optional<std::string> unknown_subcommand(int argc, char** argv, const std::vector<CLI::App*>& subs) {
  if (argc < 2 || argv[1][0] == '-') return std::nullopt;
  std::string names;
  for (const auto* sub : subs) {
    if (sub->get_name() == argv[1]) return std::nullopt;
    names += fmt::format("{}{}", names.empty() ? "" : ", ", sub->get_name());
  }
  return fmt::format("unknown subcommand '{}' (the subcommands are: {}; see {} --help)", argv[1], names,
                     argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "vsr-sim");
}

/// `--seed` of run, replay and shrink: a seed 0..2^64-1; "-1" is an error, not 2^64-1.
std::optional<std::uint64_t> seed_flag(const std::string& text, std::string* error) {
  auto seed = parse_seed(text, "--seed");
  if (!seed) {
    *error = seed.error().message;
    return std::nullopt;
  }
  return seed.value();
}

}  // namespace

int run_cli(int argc, char** argv, const std::vector<const System*>& systems, const CliOptions& cli) {
  if (systems.empty()) return usage_error("run_cli: no system to run");
  for (const System* system : systems) {
    if (auto ok = register_system(*system); !ok) return usage_error(ok.error().message);
  }
  CLI::App app{cli.title};
  app.footer(fmt::format("{}\n\n{}", exit_code_text(), fault_model_text()));
  app.require_subcommand(1);

  std::string seed_text = "1";
  Shape shape;
  shape.program = cli.program;
  shape.default_system = systems.front()->name;
  shape.system = shape.default_system;
  RunOutputs outputs;
  auto* run = app.add_subcommand("run", "Run one seed and print its verdict and trace hash");
  TapeInput tape;
  run->add_option("--seed", seed_text, "The seed, 0..2^64-1 (with --input: of the streams used once the input runs out; default 1)");
  run->add_option("--input", tape.path, "Tape mode: FILE's bytes make every random choice (a fuzz_sim input)");
  add_shape_flags(run, shape);
  run->add_option("--trace", outputs.trace, "Write the trace as JSON lines to FILE");
  run->add_option("--history", outputs.history, "Write the client history as JSON lines to FILE");
  run->add_option("--json", outputs.json, "Write the verdict and the metrics as JSON to FILE");

  auto* replay = app.add_subcommand(
      "replay", "Rerun a seed, write its trace, and show the first violated check in context");
  replay->add_option("--seed", seed_text, "The seed, 0..2^64-1 (with --input: of the streams used once the input runs out; default 1)");
  replay->add_option("--input", tape.path, "Tape mode: FILE's bytes make every random choice (a fuzz_sim input)");
  add_shape_flags(replay, shape);
  replay->add_option("--trace", outputs.trace, "Write the trace as JSON lines to FILE");
  replay->add_option("--history", outputs.history, "Write the client history as JSON lines to FILE");
  replay->add_option("--html", outputs.html,
                     "Write the run's timeline to FILE: one self-contained HTML page (README, \"Seeing a run\")");

  SweepCommand sweep_cmd;
  auto* sweep = app.add_subcommand("sweep", "Run many seeds in parallel");
  sweep->add_option("--seeds", sweep_cmd.range,
                    fmt::format("Seed range A..B (inclusive), at most {} seeds", max_sweep_seeds))
      ->capture_default_str();
  sweep->add_option("--jobs", sweep_cmd.jobs,
                    fmt::format("Parallel runs, 0..{} (0, the default: all cores; never more than the seeds)", max_jobs));
  sweep->add_option("--shard", sweep_cmd.shard, "Run shard K of N (1-based): seeds whose index mod N is K-1")
      ->capture_default_str();
  sweep->add_option("--json", sweep_cmd.json_path, "Write a machine-readable summary to FILE");
  sweep->add_flag("--hashes", sweep_cmd.print_hashes, "Print every seed's verdict and trace hash");
  sweep->add_flag("--stop-on-failure", sweep_cmd.stop_on_failure,
                  "Stop at the first failing seed (every earlier seed still runs)");
  add_shape_flags(sweep, shape);

  std::vector<std::string> compare_files;
  CompareOptions compare_options;
  auto* compare = app.add_subcommand(
      "compare", "Compare two sweeps' JSON (base, then head): new failures and metric deltas beyond noise");
  compare->add_option("files", compare_files, "BASE.json HEAD.json (from vsr-sim sweep --json)")
      ->required()
      ->expected(2);
  compare->add_flag("--allow-mismatch", compare_options.allow_mismatch,
                    "Compare sweeps run with different settings (faults, replicas, clients, duration, liveness), "
                    "with a warning");

  std::string shrink_out;
  std::string shrink_runs = "5000";
  std::string shrink_reseeds = "3";
  auto* shrink_cmd = app.add_subcommand(
      "shrink", "Shrink a failing seed to a minimal schedule and write it as a scenario file");
  shrink_cmd->add_option("--seed", seed_text, "The failing seed")->required();
  add_shape_flags(shrink_cmd, shape);
  shrink_cmd->add_option("-o,--output", shrink_out, "The scenario file to write (default: shrunk-seed-N.txt)");
  shrink_cmd->add_option("--max-runs", shrink_runs, fmt::format("Budget of candidate replays, 1..{}", max_shrink_runs))
      ->capture_default_str();
  shrink_cmd
      ->add_option("--reseeds", shrink_reseeds,
                   fmt::format("Other seeds (fresh message fates) tried per candidate, 0..{}; 0 keeps the seed",
                               max_shrink_reseeds))
      ->capture_default_str();

  std::vector<std::string> scenario_files;
  bool scenario_rewrite = false;
  auto* scenario = app.add_subcommand(
      "scenario", "Run scenario scripts and diff their output (exit 0 match, 1 mismatch, 2 malformed)");
  scenario->add_option("files", scenario_files, "Scenario files (scenarios/*.txt); a directory: every *.txt in it")
      ->required();
  scenario->add_flag("--rewrite", scenario_rewrite, "Replace every expected output with the actual output");

  auto* systems_cmd = app.add_subcommand("systems", "List the systems under test this program knows");

  if (auto unknown = unknown_subcommand(argc, argv, {run, replay, sweep, compare, shrink_cmd, scenario, systems_cmd})) {
    return usage_error(*unknown);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }
  std::string error;
  if (systems_cmd->parsed()) {
    for (const System* system : known_systems()) fmt::print("{:<12} {}\n", system->name, system->summary);
    return 0;
  }
  if (scenario->parsed()) {
    auto paths = scenario_paths(scenario_files, &error);
    if (!paths) return usage_error(error);
    return run_scenario_files(*paths, scenario_rewrite, std::cout, std::cerr);
  }
  if (compare->parsed()) {
    return compare_sweeps(compare_files[0], compare_files[1], std::cout, std::cerr, compare_options);
  }
  if (sweep->parsed()) return cmd_sweep(sweep_cmd, shape);
  auto seed = seed_flag(seed_text, &error);
  if (!seed) return usage_error(error);
  if (shrink_cmd->parsed()) {
    auto options = make_options(shape, *seed, &error);
    if (!options) return usage_error(error);
    auto runs = parse_bounded_uint(shrink_runs, "--max-runs", 1, max_shrink_runs);
    if (!runs) return usage_error(runs.error().message);
    auto reseeds = parse_bounded_uint(shrink_reseeds, "--reseeds", 0, max_shrink_reseeds);
    if (!reseeds) return usage_error(reseeds.error().message);
    ShrinkCommand c{*options, shrink_out.empty() ? fmt::format("shrunk-seed-{}.txt", *seed) : shrink_out,
                    static_cast<std::uint32_t>(runs.value()), static_cast<std::uint32_t>(reseeds.value()),
                    fmt::format("seed {}{}", *seed, shape_flags(shape)), shape.program};
    if (!check_writable(c.output_path, "-o", &error)) return usage_error(error);
    return run_shrink_command(c);
  }
  auto* sub = run->parsed() ? run : replay;
  if (sub->count("--seed") == 0 && tape.path.empty()) {
    return usage_error(fmt::format("{} needs --seed N or --input FILE", sub->get_name()));
  }
  tape.faults_given = sub->count("--faults") > 0;
  tape.duration_given = sub->count("--duration") > 0;
  return cmd_run(*seed, shape, outputs, sub == replay, tape);
}

}  // namespace vsr::sim
