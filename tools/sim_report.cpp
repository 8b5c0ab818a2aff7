#include "tools/sim_report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ostream.h>

#include "sim/limits.hpp"

namespace vsr::sim {

Percentiles percentiles(const LatencyHistogram& latencies) {
  return {latencies.percentile(0.50), latencies.percentile(0.90), latencies.percentile(0.99), latencies.max()};
}

namespace {

double per(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }
double ms(std::uint64_t us) { return static_cast<double>(us) / 1000.0; }

}  // namespace

SeedMetrics seed_metrics(const RunStats& s) {
  SeedMetrics m;
  m.ops = s.ops_ok + s.ops_failed;
  m.ops_per_s = per(m.ops * 1'000'000, s.simulated_us);
  m.latency_us = percentiles(s.latency_us);
  m.messages_per_op = per(s.messages_sent, s.final_commit);
  m.bytes_per_op = per(s.bytes_sent, s.final_commit);
  m.view_changes = s.view_changes;
  m.repairs = s.repairs;
  m.state_transfers = s.state_transfers;
  m.no_primary_us = s.no_primary_us;
  m.max_message_bytes = s.max_message_bytes;
  m.max_log_entries = s.max_log_entries;
  return m;
}

nlohmann::json to_json(const SeedMetrics& m) {
  return {{"ops", m.ops},
          {"ops_per_s", m.ops_per_s},
          {"latency_p50_us", m.latency_us.p50},
          {"latency_p90_us", m.latency_us.p90},
          {"latency_p99_us", m.latency_us.p99},
          {"latency_max_us", m.latency_us.max},
          {"messages_per_op", m.messages_per_op},
          {"bytes_per_op", m.bytes_per_op},
          {"view_changes", m.view_changes},
          {"repairs", m.repairs},
          {"state_transfers", m.state_transfers},
          {"no_primary_us", m.no_primary_us},
          {"max_message_bytes", m.max_message_bytes},
          {"max_log_entries", m.max_log_entries}};
}

// ---------------------------------------------------------------- one run

namespace {

std::string by_type(const std::array<std::uint64_t, vsr::message_type_count>& counts) {
  std::string out;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", vsr::message_name(t), counts[t]);
  }
  return out;
}

}  // namespace

void print_metrics(std::ostream& out, const RunStats& s) {
  SeedMetrics m = seed_metrics(s);
  const Percentiles& l = m.latency_us;
  fmt::print(out, "metrics (simulated time):\n");
  fmt::print(out, "  throughput: {:.1f} ops/s ({} ops answered in {:.3f} s)\n", m.ops_per_s, m.ops,
             static_cast<double>(s.simulated_us) / 1e6);
  fmt::print(out, "  client latency: p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", ms(l.p50),
             ms(l.p90), ms(l.p99), ms(l.max));
  fmt::print(out, "  messages: {} sent ({:.1f} per committed op), {} bytes on the wire ({:.0f} per op)\n",
             s.messages_sent, m.messages_per_op, s.bytes_sent, m.bytes_per_op);
  fmt::print(out, "  by type: {}\n", by_type(s.messages_by_type));
  fmt::print(out, "  largest message: {} bytes; log entries held: max {}\n", s.max_message_bytes, s.max_log_entries);
  fmt::print(out, "  view changes: {} completed, mean {:.1f} ms, longest {:.1f} ms\n", s.view_changes,
             s.view_changes == 0 ? 0.0 : ms(s.view_change_us_total) / static_cast<double>(s.view_changes),
             ms(s.view_change_us_max));
  fmt::print(out, "  repairs: {} GetState requests; {} state transfers\n", s.repairs, s.state_transfers);
  fmt::print(out, "  without a primary: {:.1f} ms in {} windows (longest {:.1f} ms)\n", ms(s.no_primary_us),
             s.no_primary_windows, ms(s.no_primary_longest_us));
  fmt::print(out, "  linearizability: checked in {} segments, largest {} ops, at most {} states carried{}\n",
             s.lin_segments, s.lin_largest_segment, s.lin_most_carried,
             s.lin_unknown.empty() ? std::string{} : fmt::format("; UNKNOWN for {}", s.lin_unknown));
}

nlohmann::json metrics_json(const RunStats& s) {
  nlohmann::json j = to_json(seed_metrics(s));
  nlohmann::json types = nlohmann::json::object();
  for (std::size_t t = 0; t < s.messages_by_type.size(); ++t) types[std::string(vsr::message_name(t))] = s.messages_by_type[t];
  j["messages_sent"] = s.messages_sent;
  j["messages_by_type"] = types;
  j["bytes_sent"] = s.bytes_sent;
  j["view_change_us_total"] = s.view_change_us_total;
  j["view_change_us_max"] = s.view_change_us_max;
  j["no_primary_windows"] = s.no_primary_windows;
  j["no_primary_longest_us"] = s.no_primary_longest_us;
  j["simulated_us"] = s.simulated_us;
  j["lin_segments"] = s.lin_segments;
  j["lin_largest_segment"] = s.lin_largest_segment;
  j["lin_most_carried"] = s.lin_most_carried;
  j["lin_unknown"] = s.lin_unknown;
  return j;
}

// ---------------------------------------------------------------- a sweep's coverage

void Coverage::add(const RunStats& s) {
  ++runs;
  for (std::size_t i = 0; i < probes.size(); ++i) probes[i] += s.probes[i];
  for (std::size_t i = 0; i < messages.size(); ++i) messages[i] += s.messages_by_type[i];
  for (std::size_t i = 0; i < telemetry.size(); ++i) telemetry[i] += s.telemetry[i];
  crashes += s.crashes;
  wipes += s.wipes;
  storage_torn += s.storage_torn;
  storage_corrupted += s.storage_corrupted;
  storage_latent += s.storage_latent;
  storage_misdirected += s.storage_misdirected;
  storage_sync_cut += s.storage_sync_cut;
  storage_batches_durable += s.storage_batches_durable;
  storage_syncs += s.storage_syncs;
  partitions += s.partitions;
  pauses += s.pauses;
  clogs += s.clogs;
  drops += s.messages_dropped;
  latency_us.merge(s.latency_us);
  lin_largest_segment = std::max(lin_largest_segment, s.lin_largest_segment);
  if (!s.lin_unknown.empty()) ++lin_unknown_runs;
  ops += s.ops_ok + s.ops_failed;
  simulated_us += s.simulated_us;
  messages_sent += s.messages_sent;
  bytes_sent += s.bytes_sent;
  max_message_bytes = std::max(max_message_bytes, s.max_message_bytes);
  max_log_entries = std::max(max_log_entries, s.max_log_entries);
  commits += s.final_commit;
  view_changes += s.view_changes;
  view_change_us_total += s.view_change_us_total;
  view_change_us_max = std::max(view_change_us_max, s.view_change_us_max);
  repairs += s.repairs;
  state_transfers += s.state_transfers;
  no_primary_us += s.no_primary_us;
  no_primary_longest_us = std::max(no_primary_longest_us, s.no_primary_longest_us);
}

std::vector<std::string> Coverage::missed_probes() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    if (probes[i] == 0) out.emplace_back(vsr::probe_name(static_cast<vsr::Probe>(i)));
  }
  return out;
}

void print_coverage(std::ostream& out, const Coverage& c) {
  Percentiles l = percentiles(c.latency_us);
  fmt::print(out, "\nmetrics over {} runs (simulated time):\n", c.runs);
  fmt::print(out, "  throughput: {:.1f} ops/s per run; client latency p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n",
             per(c.ops * 1'000'000, c.simulated_us), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.max));
  fmt::print(out, "  messages: {} sent ({:.1f} per committed op), {} bytes on the wire; largest {} bytes\n",
             c.messages_sent, per(c.messages_sent, c.commits), c.bytes_sent, c.max_message_bytes);
  fmt::print(out, "  log entries held: max {} (one replica, any time)\n", c.max_log_entries);
  fmt::print(out, "  linearizability: largest segment {} ops; {} runs left a key unchecked (a search bound)\n",
             c.lin_largest_segment, c.lin_unknown_runs);
  fmt::print(out, "  view changes: {} (mean {:.1f} ms, longest {:.1f} ms); repairs {}; state transfers {}\n",
             c.view_changes, c.view_changes == 0 ? 0.0 : ms(c.view_change_us_total) / static_cast<double>(c.view_changes),
             ms(c.view_change_us_max), c.repairs, c.state_transfers);
  fmt::print(out, "  without a primary: {:.1f} s in total, longest window {:.1f} ms\n", ms(c.no_primary_us) / 1000,
             ms(c.no_primary_longest_us));
  fmt::print(out, "\ncoverage: faults: {} crashes ({} wiped), {} partitions, {} pauses, {} clogs, {} drops\n", c.crashes,
             c.wipes, c.partitions, c.pauses, c.clogs, c.drops);
  fmt::print(out, "coverage: storage faults: {} torn writes, {} bit flips, {} latent sector errors, {} misdirected writes, {} syncs cut by a crash\n",
             c.storage_torn, c.storage_corrupted, c.storage_latent, c.storage_misdirected, c.storage_sync_cut);
  fmt::print(out, "metrics: group commit: {} output batches made durable by {} storage syncs ({:.2f} per sync)\n",
             c.storage_batches_durable, c.storage_syncs,
             c.storage_syncs == 0 ? 0.0
                                  : static_cast<double>(c.storage_batches_durable) / static_cast<double>(c.storage_syncs));
  fmt::print(out, "coverage: messages sent by type: {}\n", by_type(c.messages));
  fmt::print(out, "coverage: telemetry events:\n");
  for (std::size_t i = 0; i < c.telemetry.size(); ++i) {
    fmt::print(out, "  {:<44} {:>12}\n", vsr::event_name(static_cast<vsr::EventKind>(i)), c.telemetry[i]);
  }
  fmt::print(out, "coverage: protocol-path probes (vsr/probe.hpp):\n");
  for (std::size_t i = 0; i < c.probes.size(); ++i) {
    fmt::print(out, "  {:<44} {:>12}{}\n", vsr::probe_name(static_cast<vsr::Probe>(i)), c.probes[i],
               c.probes[i] == 0 ? "   <-- NEVER HIT" : "");
  }
  auto missed = c.missed_probes();
  if (missed.empty()) {
    fmt::print(out, "coverage: every probe was hit\n");
  } else {
    fmt::print(out, "\n!!! {} of {} probes were NEVER HIT: this sweep proves nothing about those paths:\n", missed.size(),
               c.probes.size());
    for (const auto& m : missed) fmt::print(out, "!!!   {}\n", m);
  }
  for (std::size_t t = 0; t < c.messages.size(); ++t) {
    if (c.messages[t] == 0) fmt::print(out, "!!! message type {} was never sent\n", vsr::message_name(t));
  }
}

nlohmann::json coverage_json(const Coverage& c) {
  nlohmann::json j;
  nlohmann::json probes = nlohmann::json::object();
  for (std::size_t i = 0; i < c.probes.size(); ++i) probes[std::string(vsr::probe_name(static_cast<vsr::Probe>(i)))] = c.probes[i];
  nlohmann::json messages = nlohmann::json::object();
  for (std::size_t t = 0; t < c.messages.size(); ++t) messages[std::string(vsr::message_name(t))] = c.messages[t];
  nlohmann::json events = nlohmann::json::object();
  for (std::size_t i = 0; i < c.telemetry.size(); ++i) {
    events[std::string(vsr::event_name(static_cast<vsr::EventKind>(i)))] = c.telemetry[i];
  }
  j["probes"] = probes;
  j["probes_never_hit"] = c.missed_probes();
  j["messages_by_type"] = messages;
  j["telemetry"] = events;
  j["group_commit"] = {{"batches_durable", c.storage_batches_durable}, {"storage_syncs", c.storage_syncs}};
  j["faults"] = {{"crashes", c.crashes}, {"wipes", c.wipes}, {"partitions", c.partitions},
                 {"pauses", c.pauses}, {"clogs", c.clogs}, {"drops", c.drops},
                 {"storage_torn", c.storage_torn}, {"storage_corrupted", c.storage_corrupted},
                 {"storage_latent", c.storage_latent}, {"storage_misdirected", c.storage_misdirected},
                 {"storage_sync_cut", c.storage_sync_cut}};
  // The per-seed metrics, over the whole sweep, plus the sweep-only totals.
  SeedMetrics all;
  all.ops = c.ops;
  all.ops_per_s = per(c.ops * 1'000'000, c.simulated_us);
  all.latency_us = percentiles(c.latency_us);
  all.messages_per_op = per(c.messages_sent, c.commits);
  all.bytes_per_op = per(c.bytes_sent, c.commits);
  all.view_changes = c.view_changes;
  all.repairs = c.repairs;
  all.state_transfers = c.state_transfers;
  all.no_primary_us = c.no_primary_us;
  all.max_message_bytes = c.max_message_bytes;
  all.max_log_entries = c.max_log_entries;
  nlohmann::json m = to_json(all);
  m["messages_sent"] = c.messages_sent;
  m["bytes_sent"] = c.bytes_sent;
  m["view_change_us_max"] = c.view_change_us_max;
  m["no_primary_longest_us"] = c.no_primary_longest_us;
  j["metrics"] = m;
  return j;
}

// ---------------------------------------------------------------- compare

namespace {

struct SeedRow {
  std::string verdict;
  std::map<std::string, double> metrics;
};

struct MetricSpec {
  const char* key;
  bool higher_is_better;
};

constexpr MetricSpec compared_metrics[] = {
    {"ops_per_s", true},          {"latency_p50_us", false}, {"latency_p90_us", false},
    {"latency_p99_us", false},    {"latency_max_us", false}, {"messages_per_op", false},
    {"bytes_per_op", false},      {"view_changes", false},   {"repairs", false},
    {"no_primary_us", false},     {"max_message_bytes", false}, {"max_log_entries", false},
};

/// A sweep's JSON: its runs by seed, and the settings every seed ran with.
struct Sweep {
  std::map<std::uint64_t, SeedRow> rows;
  nlohmann::json settings = nlohmann::json::object();  // the keys of compared_settings it records
};

/// The settings two sweeps must share to be compared (sweep_json in tools/vsr_sim.cpp).
constexpr const char* compared_settings[] = {"system", "faults", "replicas", "clients", "duration_us", "liveness_us"};

/// A recorded setting, normalised: `--faults default` and `normal` are one level.
nlohmann::json setting_value(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j[key];
  if (std::string_view(key) == "faults" && v.is_string()) {
    if (auto level = parse_fault_level(v.get<std::string>())) return std::string(to_string(*level));
  }
  return v;
}

/// Reads a sweep's JSON (`vsr-sim sweep --json`); an error names the file and the spot
/// (a byte offset for malformed JSON, the index for a bad or repeated run).
std::optional<Sweep> load_sweep(const std::string& path, std::ostream& err) {
  auto text = read_input_file(path, "compare", max_sweep_json_bytes);
  if (!text) {
    fmt::print(err, "error: {}\n", text.error().message);
    return std::nullopt;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.value());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based; one past the size means the text ended inside a value.
    std::size_t size = text.value().size();
    std::string where = e.byte > size ? fmt::format("it ends inside a value at byte {} (truncated?)", size)
                                      : fmt::format("at byte {} of {}", e.byte, size);
    fmt::print(err, "error: {}: not a `vsr-sim sweep --json` file: not valid JSON: {}: {}\n", path, where, e.what());
    return std::nullopt;
  }
  if (!j.is_object() || !j.contains("runs") || !j["runs"].is_array()) {
    fmt::print(err, "error: {}: not a `vsr-sim sweep --json` file (no \"runs\" array)\n", path);
    return std::nullopt;
  }
  Sweep sweep;
  for (const char* key : compared_settings) {
    if (j.contains(key)) sweep.settings[key] = setting_value(j, key);
  }
  std::map<std::uint64_t, std::size_t> index_of;
  for (std::size_t i = 0; i < j["runs"].size(); ++i) {
    const auto& r = j["runs"][i];
    if (!r.is_object() || !r.contains("seed") || !r["seed"].is_number_unsigned() || !r.contains("verdict") ||
        !r["verdict"].is_string()) {
      fmt::print(err, "error: {}: runs[{}] lacks a seed or a verdict\n", path, i);
      return std::nullopt;
    }
    auto seed = r["seed"].get<std::uint64_t>();
    if (auto [it, fresh] = index_of.emplace(seed, i); !fresh) {
      fmt::print(err, "error: {}: seed {} is listed twice (runs[{}] and runs[{}]); merge shards without overlap\n",
                 path, seed, it->second, i);
      return std::nullopt;
    }
    SeedRow row{r["verdict"].get<std::string>(), {}};
    if (r.contains("metrics") && r["metrics"].is_object()) {
      for (const auto& [k, v] : r["metrics"].items()) {
        if (v.is_number()) row.metrics[k] = v.get<double>();
      }
    }
    sweep.rows[seed] = std::move(row);
  }
  return sweep;
}

/// The settings both files record and that differ, one line each ("faults: default vs harsh").
std::vector<std::string> setting_mismatches(const Sweep& base, const Sweep& head) {
  std::vector<std::string> out;
  for (const char* key : compared_settings) {
    if (!base.settings.contains(key) || !head.settings.contains(key)) continue;
    if (base.settings[key] != head.settings[key]) {
      out.push_back(fmt::format("{}: {} (base) vs {} (head)", key, base.settings[key].dump(), head.settings[key].dump()));
    }
  }
  return out;
}

struct Delta {
  std::size_t n = 0;
  double base_mean = 0, head_mean = 0, t = 0;
  std::string judgement;
};

/// Paired comparison over the seeds both sweeps passed: the mean of the per-seed
/// differences against its standard error (a paired t statistic). |t| >= 3 and a
/// change of at least 1% is beyond noise; identical runs give "same".
Delta compare_metric(const std::map<std::uint64_t, SeedRow>& base, const std::map<std::uint64_t, SeedRow>& head,
                     const MetricSpec& spec) {
  Delta d;
  std::vector<double> diffs;
  for (const auto& [seed, b] : base) {
    auto h = head.find(seed);
    if (h == head.end() || b.verdict != "passed" || h->second.verdict != "passed") continue;
    auto bv = b.metrics.find(spec.key);
    auto hv = h->second.metrics.find(spec.key);
    if (bv == b.metrics.end() || hv == h->second.metrics.end()) continue;
    d.base_mean += bv->second;
    d.head_mean += hv->second;
    diffs.push_back(hv->second - bv->second);
  }
  d.n = diffs.size();
  if (d.n == 0) {
    d.judgement = "no data";
    return d;
  }
  d.base_mean /= static_cast<double>(d.n);
  d.head_mean /= static_cast<double>(d.n);
  double mean = d.head_mean - d.base_mean;
  double var = 0;
  for (double x : diffs) var += (x - mean) * (x - mean);
  double sd = d.n > 1 ? std::sqrt(var / static_cast<double>(d.n - 1)) : 0.0;
  if (sd == 0 && mean == 0) {
    d.judgement = "same";
    return d;
  }
  d.t = sd == 0 ? (mean > 0 ? 1e9 : -1e9) : mean / (sd / std::sqrt(static_cast<double>(d.n)));
  double rel = d.base_mean == 0 ? (mean == 0 ? 0 : 1) : std::abs(mean / d.base_mean);
  bool beyond = std::abs(d.t) >= 3.0 && rel >= 0.01 && d.n >= 5;
  if (!beyond) {
    d.judgement = "noise";
  } else {
    d.judgement = (mean > 0) == spec.higher_is_better ? "better" : "WORSE";
  }
  return d;
}

}  // namespace

int compare_sweeps(const std::string& base_path, const std::string& head_path, std::ostream& out,
                   std::ostream& err, const CompareOptions& options) {
  auto base_sweep = load_sweep(base_path, err);
  auto head_sweep = load_sweep(head_path, err);
  if (!base_sweep || !head_sweep) return 2;
  auto mismatches = setting_mismatches(*base_sweep, *head_sweep);
  for (const auto& m : mismatches) {
    fmt::print(err, "{}: the sweeps ran with different settings: {}\n", options.allow_mismatch ? "WARNING" : "error", m);
  }
  if (!mismatches.empty() && !options.allow_mismatch) {
    fmt::print(err, "error: {} and {} are not comparable (--allow-mismatch compares them anyway)\n", base_path,
               head_path);
    return 2;
  }
  const auto* base = &base_sweep->rows;
  const auto* head = &head_sweep->rows;
  std::vector<std::uint64_t> newly_failing, newly_passing;
  std::size_t common = 0;
  for (const auto& [seed, b] : *base) {
    auto h = head->find(seed);
    if (h == head->end()) continue;
    ++common;
    if (b.verdict == "passed" && h->second.verdict != "passed") newly_failing.push_back(seed);
    if (b.verdict != "passed" && h->second.verdict == "passed") newly_passing.push_back(seed);
  }
  if (common == 0) {
    auto span = [](const std::map<std::uint64_t, SeedRow>& rows) {
      return rows.empty() ? std::string("no runs")
                          : fmt::format("{} runs, seeds {}..{}", rows.size(), rows.begin()->first, rows.rbegin()->first);
    };
    fmt::print(err, "error: no seed is in both sweeps ({}: {}; {}: {}): nothing to compare\n", base_path, span(*base),
               head_path, span(*head));
    return 2;
  }
  fmt::print(out, "compare: {} seeds in both ({} in base, {} in head)\n", common, base->size(), head->size());
  fmt::print(out, "newly failing: {}\n", newly_failing.size());
  for (auto s : newly_failing) fmt::print(out, "  seed {}: {}  (replay: vsr-sim replay --seed {})\n", s, head->at(s).verdict, s);
  fmt::print(out, "newly passing: {}\n", newly_passing.size());
  for (auto s : newly_passing) fmt::print(out, "  seed {}: was {}\n", s, base->at(s).verdict);
  fmt::print(out, "\n{:<18} {:>7} {:>14} {:>14} {:>9} {:>9}  {}\n", "metric", "seeds", "base mean", "head mean", "change",
             "t", "judgement");
  bool worse = false;
  for (const auto& spec : compared_metrics) {
    Delta d = compare_metric(*base, *head, spec);
    double change = d.base_mean == 0 ? 0 : (d.head_mean - d.base_mean) / d.base_mean * 100;
    fmt::print(out, "{:<18} {:>7} {:>14.2f} {:>14.2f} {:>8.1f}% {:>9.1f}  {}\n", spec.key, d.n, d.base_mean, d.head_mean,
               change, std::clamp(d.t, -1e6, 1e6), d.judgement);
    worse |= d.judgement == "WORSE";
  }
  fmt::print(out, "\njudgement: paired over seeds both sweeps passed; beyond noise when |t| >= 3 and the change is at least 1%\n");
  if (!newly_failing.empty()) {
    fmt::print(out, "verdict: FAIL ({} seeds newly fail)\n", newly_failing.size());
    return 1;
  }
  if (worse) {
    fmt::print(out, "verdict: WORSE (a metric got significantly worse)\n");
    return 3;
  }
  fmt::print(out, "verdict: ok\n");
  return 0;
}

}  // namespace vsr::sim
