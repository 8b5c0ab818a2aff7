// vsr-kv: the command-line client of a vsr key-value cluster (vsr/io/kv_client.hpp).
//
//   vsr-kv --cluster 1 --replicas 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002 put KEY VALUE
//   vsr-kv ... get KEY | cas KEY FROM TO | del KEY
//   vsr-kv ... bench [--clients 64] [--value-bytes 100] [--read-percent 10] [--cas-percent 0]
//                    [--duration-s 10] [--keys 1000] [--json] [--history FILE]
//
// Single operations print the result (get: the value) and exit 0 when it is ok, 1 when
// the key is not found, a cas's expected value differs, or the outcome is unknown (no
// reply in time: the operation may or may not have executed), 2 on a usage error.
// `bench` keeps --clients requests in flight on random keys for --duration-s and prints
// ops/s, outcome counts and latency percentiles (one JSON object with --json). With
// --history FILE it writes every operation as JSON lines for vsr-check
// (docs/HISTORY_FORMAT.md): values are then unique decimal integers, and keys carry a
// prefix fresh to the run, so the history starts from absent keys as the checker assumes.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vsr/io/kv_client.hpp"
#include "vsr/json_writer.hpp"

namespace {

using namespace vsr;
using namespace vsr::io;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::uint64_t cluster = 0;
  std::string replicas;
  std::uint32_t timeout_ms = 5000;
  std::uint32_t tick_ms = 10;
  bool open_sessions = true;
};

struct BenchFlags {
  std::uint32_t clients = 64;
  std::uint32_t value_bytes = 100;
  std::uint32_t read_percent = 10;
  std::uint32_t cas_percent = 0;
  double duration_s = 10;
  std::uint32_t keys = 1000;
  bool json = false;
  std::string history;
};

std::uint64_t random_u64() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

/// Prints a single operation's reply ("get KEY" names it); returns the exit code.
int report(const std::string& what, const KvReply& r, bool print_value) {
  if (r.ok()) {
    std::cout << (print_value && r.value ? *r.value : std::string("ok")) << '\n';
    return 0;
  }
  std::cerr << "vsr-kv: " << what << ": " << describe(r) << '\n';
  return 1;
}

// ---- bench ---------------------------------------------------------------------------

class Bench {
 public:
  Bench(ClusterClient& client, const BenchFlags& flags, std::ofstream* history)
      : client_(client), kv_(client), flags_(flags), history_(history), rng_(random_u64()),
        last_value_(flags.keys), process_(flags.clients) {
    for (std::size_t w = 0; w < process_.size(); ++w) process_[w] = next_process_++;
    if (history_ != nullptr) key_prefix_ = fmt::format("h{:08x}-", rng_() & 0xffffffffu);
  }

  /// Runs the workload; returns the exit code (0 when some operation succeeded).
  int run() {
    start_ = Clock::now();
    end_ = start_ + std::chrono::microseconds(static_cast<std::int64_t>(flags_.duration_s * 1e6));
    active_ = flags_.clients;
    for (std::size_t w = 0; w < flags_.clients; ++w) issue(w);
    auto& io = client_.io();
    io.restart();
    while (active_ > 0 && io.run_one() > 0) {
    }
    elapsed_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
    print();
    return ok_ > 0 ? 0 : 1;
  }

 private:
  std::string new_value() {
    std::string v = std::to_string(next_value_++);
    if (history_ == nullptr && v.size() < flags_.value_bytes) v.resize(flags_.value_bytes, 'x');
    return v;
  }

  KvOp pick(std::size_t key) {
    KvOp op;
    op.key = key_prefix_ + "k" + std::to_string(key);
    const auto roll = static_cast<std::uint32_t>(rng_() % 100);
    if (roll < flags_.read_percent) return op;  // read
    if (roll < flags_.read_percent + flags_.cas_percent && !last_value_[key].empty()) {
      op.kind = KvOpKind::cas;
      op.expected = last_value_[key];
    } else {
      op.kind = KvOpKind::write;
    }
    op.value = new_value();
    return op;
  }

  void issue(std::size_t worker) {
    if (Clock::now() >= end_) {
      --active_;
      return;
    }
    const std::size_t key = rng_() % flags_.keys;
    KvOp op = pick(key);
    record(worker, "invoke", op, invoke_value(op), {});
    kv_.submit(op, [this, worker, key, op](KvReply r) { on_done(worker, key, op, std::move(r)); });
  }

  void on_done(std::size_t worker, std::size_t key, const KvOp& op, KvReply r) {
    count(r);
    if (r.outcome == ClientOutcome::ok) {
      latencies_us_.push_back(r.latency_us);
      if (op.kind != KvOpKind::read && r.status == KvStatus::ok) last_value_[key] = op.value;
      if (op.kind == KvOpKind::read && r.status != KvStatus::bad_operation) last_value_[key] = r.value.value_or("");
    }
    record_completion(worker, op, r);
    issue(worker);
  }

  void count(const KvReply& r) {
    ++(r.outcome == ClientOutcome::ok        ? ok_
       : r.outcome == ClientOutcome::timeout ? timeouts_
       : r.outcome == ClientOutcome::evicted ? evicted_
                                             : refused_);
    if (r.outcome == ClientOutcome::ok && r.status == KvStatus::not_found) ++not_found_;
    if (r.outcome == ClientOutcome::ok && r.status == KvStatus::precondition_failed) ++cas_failed_;
  }

  // ---- history (docs/HISTORY_FORMAT.md, JSON lines) ----

  static const char* f_name(KvOpKind k) {
    switch (k) {
      case KvOpKind::read: return "read";
      case KvOpKind::write: return "write";
      case KvOpKind::cas: return "cas";
      case KvOpKind::del: return "delete";
    }
    return "read";
  }

  static std::string invoke_value(const KvOp& op) {
    switch (op.kind) {
      case KvOpKind::write: return op.value;
      case KvOpKind::cas: return fmt::format("[{},{}]", op.expected, op.value);
      case KvOpKind::read: return "null";
      case KvOpKind::del: return {};
    }
    return {};
  }

  void record(std::size_t worker, const char* type, const KvOp& op, const std::string& value,
              const std::string& error) {
    if (history_ == nullptr) return;
    JsonObject o;
    o.num("process", process_[worker]).str("type", type).str("f", f_name(op.kind)).str("key", op.key);
    if (!value.empty()) o.raw("value", value);
    if (!error.empty()) o.str("error", error);
    const auto t = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
    o.num("time", static_cast<std::int64_t>(t));
    *history_ << o.take() << '\n';
  }

  /// ok / fail (definite) / info (indeterminate: the process id is retired).
  void record_completion(std::size_t worker, const KvOp& op, const KvReply& r) {
    if (history_ == nullptr) return;
    std::string value = invoke_value(op);
    if (r.outcome == ClientOutcome::ok && op.kind == KvOpKind::read && r.status != KvStatus::bad_operation) {
      const auto v = r.value ? to_int(*r.value) : std::optional<std::int64_t>{};
      value = !r.value ? "null" : v ? std::to_string(*v) : std::string();
      if (r.value && !v) std::cerr << "vsr-kv: read a non-integer value of " << op.key << " (recorded as info)\n";
    }
    if (r.outcome != ClientOutcome::ok || r.status == KvStatus::bad_operation || value.empty()) {
      record(worker, "info", op, {}, {});
      process_[worker] = next_process_++;
    } else if (op.kind == KvOpKind::cas && r.status != KvStatus::ok) {
      record(worker, "fail", op, value,
             r.status == KvStatus::not_found ? "not_found" : "precondition_failed");
    } else {
      record(worker, "ok", op, op.kind == KvOpKind::del ? std::string() : value, {});
    }
  }

  // ---- the report ----

  [[nodiscard]] double percentile_ms(std::vector<std::uint64_t>& sorted, double p) const {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return static_cast<double>(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]) / 1000.0;
  }

  void print() {
    std::sort(latencies_us_.begin(), latencies_us_.end());
    const double ops_per_s = elapsed_s_ > 0 ? static_cast<double>(ok_) / elapsed_s_ : 0;
    const double p50 = percentile_ms(latencies_us_, 50), p90 = percentile_ms(latencies_us_, 90);
    const double p99 = percentile_ms(latencies_us_, 99), max = percentile_ms(latencies_us_, 100);
    if (flags_.json) {
      const auto num = [](double d) { return fmt::format("{:.3f}", d); };
      JsonObject o;
      o.num("clients", flags_.clients).raw("duration_s", num(elapsed_s_)).raw("ops_per_s", num(ops_per_s));
      o.num("ok", ok_).num("timeouts", timeouts_).num("evicted", evicted_).num("refused", refused_);
      o.num("not_found", not_found_).num("cas_failed", cas_failed_);
      o.raw("p50_ms", num(p50)).raw("p90_ms", num(p90)).raw("p99_ms", num(p99)).raw("max_ms", num(max));
      o.num("reconnects", client_.counters().reconnects);
      std::cout << o.take() << '\n';
    } else {
      fmt::print("{} ok in {:.2f} s: {:.1f} ops/s ({} clients); timeouts {}, evicted {}, refused {}; "
                 "not found {}, cas failed {}\n",
                 ok_, elapsed_s_, ops_per_s, flags_.clients, timeouts_, evicted_, refused_, not_found_,
                 cas_failed_);
      fmt::print("latency ms: p50 {:.3f}  p90 {:.3f}  p99 {:.3f}  max {:.3f}\n", p50, p90, p99, max);
    }
  }

  ClusterClient& client_;
  KvClient kv_;
  BenchFlags flags_;
  std::ofstream* history_;
  std::mt19937_64 rng_;
  std::vector<std::string> last_value_;  // per key, as last seen ("" unknown or absent)
  std::vector<std::uint64_t> process_;   // per worker: its history process id
  std::uint64_t next_process_ = 0;
  std::uint64_t next_value_ = 1;
  std::string key_prefix_;
  Clock::time_point start_, end_;
  std::size_t active_ = 0;
  double elapsed_s_ = 0;
  std::vector<std::uint64_t> latencies_us_;
  std::uint64_t ok_ = 0, timeouts_ = 0, evicted_ = 0, refused_ = 0, not_found_ = 0, cas_failed_ = 0;
};

void add_bench_flags(CLI::App& bench, BenchFlags& b) {
  bench.add_option("--clients", b.clients, "Requests in flight (one session each)")
      ->capture_default_str()->check(CLI::Range(1u, 65536u));
  bench.add_option("--value-bytes", b.value_bytes, "Bytes per written value (ignored with --history)")
      ->capture_default_str()->check(CLI::Range(1u, 1u << 20));
  bench.add_option("--read-percent", b.read_percent, "Percent of reads")
      ->capture_default_str()->check(CLI::Range(0u, 100u));
  bench.add_option("--cas-percent", b.cas_percent, "Percent of cas (from the last value seen), the rest writes")
      ->capture_default_str()->check(CLI::Range(0u, 100u));
  bench.add_option("--duration-s", b.duration_s, "How long to issue requests")
      ->capture_default_str()->check(CLI::Range(0.001, 86400.0));
  bench.add_option("--keys", b.keys, "Keys drawn from")->capture_default_str()->check(CLI::Range(1u, 10'000'000u));
  bench.add_flag("--json", b.json, "Print the summary as one JSON object");
  bench.add_option("--history", b.history, "Write every operation to FILE as JSON lines for vsr-check");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vsr-kv: the command-line client of a vsr key-value cluster"};
  Flags f;
  BenchFlags b;
  std::string key, value, to;
  app.add_option("--cluster", f.cluster, "Cluster id (the servers' --cluster)")->required();
  app.add_option("--replicas", f.replicas, "Every replica's host:port, by index, comma-separated")->required();
  app.add_option("--timeout-ms", f.timeout_ms, "A request without a reply this long is indeterminate")
      ->capture_default_str()->check(CLI::Range(1u, 3'600'000u));
  app.add_option("--tick-ms", f.tick_ms, "The client's clock tick")->capture_default_str()->check(CLI::Range(1u, 1000u));
  app.add_option("--open-sessions", f.open_sessions, "Open a session first (servers with a bounded client table)")
      ->capture_default_str();
  app.require_subcommand(1);
  auto* put = app.add_subcommand("put", "Write VALUE under KEY");
  put->add_option("key", key)->required();
  put->add_option("value", value)->required();
  auto* get = app.add_subcommand("get", "Print KEY's value");
  get->add_option("key", key)->required();
  auto* cas = app.add_subcommand("cas", "Set KEY to TO if it holds FROM");
  cas->add_option("key", key)->required();
  cas->add_option("from", value)->required();
  cas->add_option("to", to)->required();
  auto* del = app.add_subcommand("del", "Delete KEY");
  del->add_option("key", key)->required();
  auto* bench = app.add_subcommand("bench", "Throughput and latency under load");
  add_bench_flags(*bench, b);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (b.read_percent + b.cas_percent > 100) {
    std::cerr << "vsr-kv: --read-percent plus --cas-percent exceeds 100\n";
    return 2;
  }
  auto replicas = split_addresses(f.replicas);
  if (!replicas) {
    std::cerr << "vsr-kv: --replicas: " << replicas.error().message << '\n';
    return 2;
  }
  ClusterClientOptions o;
  o.cluster = ClusterId{f.cluster};
  o.replicas = std::move(replicas.value());
  o.max_in_flight = bench->parsed() ? b.clients : 1;
  o.tick_ms = f.tick_ms;
  o.request_timeout_ms = f.timeout_ms;
  o.open_sessions = f.open_sessions;
  o.id_seed = random_u64();
  boost::asio::io_context io;
  auto client = ClusterClient::make(io, std::move(o));
  if (!client) {
    std::cerr << "vsr-kv: " << client.error().message << '\n';
    return 2;
  }
  KvClient kv(*client.value());
  if (put->parsed()) return report("put " + key, kv.put(key, value), false);
  if (get->parsed()) return report("get " + key, kv.get(key), true);
  if (cas->parsed()) return report("cas " + key, kv.cas(key, value, to), false);
  if (del->parsed()) return report("del " + key, kv.del(key), false);
  std::ofstream history;
  if (!b.history.empty()) {
    history.open(b.history, std::ios::trunc);
    if (!history) {
      std::cerr << "vsr-kv: --history: cannot write " << b.history << '\n';
      return 2;
    }
  }
  const int code = Bench(*client.value(), b, b.history.empty() ? nullptr : &history).run();
  history.close();
  if (!b.history.empty() && !history) {
    std::cerr << "vsr-kv: --history: writing " << b.history << " failed\n";
    return 1;
  }
  return code;
}
