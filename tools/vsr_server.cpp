// vsr-server: one replica of a replicated key-value service over TCP (vsr/io/node.hpp),
// on the same protocol code the simulator checks.
//
//   vsr-server format --cluster 1 --replicas 127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002
//                     --replica 0 --data-dir /var/lib/vsr/0
//   vsr-server start  --cluster 1 --replicas ... --replica 0 --data-dir /var/lib/vsr/0
//                     [--metrics 127.0.0.1:9100] [--telemetry]
//   vsr-server start  --config replica0.toml     (key = value lines: cluster = 1,
//                     replicas = ["127.0.0.1:7000", ...], replica = 0, data-dir = "...")
//
// `format` makes the data file of a member of a NEW cluster (once, before the first
// start). `start` serves from the data file; if the file is missing (the disk or the
// directory was lost) it is created blank and the replica rejoins by the recovery
// protocol (§4.3) instead of booting: a replica that forgot its promises must not vote.
//
// Logs go to stderr, one line each, prefixed "vsr-server[rI] SECONDS" (since start); with --telemetry the
// replica's events go to stderr too, as bare JSON lines (docs/TELEMETRY.md).
// Exit: 0 after SIGINT/SIGTERM, 1 when the node cannot start or its device fails,
// 2 on a usage error.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>

#include "vsr/io/node.hpp"
#include "vsr/kv.hpp"

namespace {

struct Flags {
  std::uint64_t cluster = 0;
  std::vector<std::string> replicas;
  std::uint32_t replica = 0;
  std::string data_dir;
  std::uint64_t data_mib = 1024;
  std::string listen;
  std::string metrics;
  bool telemetry = false;
  std::uint32_t tick_ms = 10;
  std::uint32_t checkpoint_interval = 1024;
  std::uint32_t max_sessions = 8192;
  std::uint32_t max_connections = 1024;
  std::uint32_t max_pipeline_ops = 64;
};

void add_common(CLI::App& app, Flags& f) {
  app.set_config("--config", "", "Read options from a file: key = value lines (TOML), keys as the long options");
  app.add_option("--cluster", f.cluster, "Cluster id: every replica and client of one cluster uses the same")
      ->required();
  app.add_option("--replicas", f.replicas, "Every replica's address host:port, by index (comma-separated)")
      ->required()->delimiter(',');
  app.add_option("--replica", f.replica, "This replica's index in --replicas")->required();
  app.add_option("--data-dir", f.data_dir, "Directory of this replica's data file (replica.vsr)")->required();
  app.add_option("--data-mib", f.data_mib, "Size of the data file in MiB (fixed at format)")
      ->check(CLI::Range(64, 1 << 20));
}

vsr::Result<vsr::io::NodeOptions> node_options(const Flags& f) {
  if (f.replicas.empty() || f.replicas.size() > vsr::max_replica_count) {
    return vsr::Error{fmt::format("--replicas: {} addresses (1..{})", f.replicas.size(), vsr::max_replica_count)};
  }
  if (f.replica >= f.replicas.size()) {
    return vsr::Error{fmt::format("--replica {}: not an index of the {} --replicas", f.replica, f.replicas.size())};
  }
  auto config = vsr::Config::make(static_cast<std::uint32_t>(f.replicas.size()), vsr::ReplicaIndex(f.replica),
                                  vsr::lan_timeouts());
  if (!config) return config.error();
  vsr::io::NodeOptions o;
  o.config = config.value();
  o.config.checkpoint_interval_ops = f.checkpoint_interval;
  o.config.max_client_sessions = f.max_sessions;
  o.config.max_pipeline_ops = f.max_pipeline_ops;
  if (auto valid = o.config.validate(); !valid) return valid.error();
  o.cluster = vsr::ClusterId(f.cluster);
  o.addresses = f.replicas;
  o.listen = f.listen;
  o.data_file = (std::filesystem::path(f.data_dir) / "replica.vsr").string();
  o.data_bytes = f.data_mib << 20;
  o.tick_ms = f.tick_ms;
  o.max_connections = f.max_connections;
  o.metrics_listen = f.metrics;
  o.make_machine = [] { return std::make_unique<vsr::KvMachine>(); };
  return o;
}

vsr::Result<void> ensure_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return vsr::Error{fmt::format("--data-dir {}: {}", dir, ec.message())};
  return vsr::outcome::success();
}

int format(const Flags& f) {
  auto options = node_options(f);
  if (!options) return std::cerr << "vsr-server format: " << options.error().message << "\n", 2;
  if (auto d = ensure_dir(f.data_dir); !d) return std::cerr << "vsr-server format: " << d.error().message << "\n", 1;
  if (auto done = vsr::io::format_data_file(options.value()); !done) {
    std::cerr << "vsr-server format: " << done.error().message << "\n";
    return 1;
  }
  std::cout << fmt::format("formatted {} for replica {} of {} (cluster {})\n", options.value().data_file, f.replica,
                           f.replicas.size(), f.cluster);
  return 0;
}

int start(const Flags& f) {
  auto options = node_options(f);
  if (!options) return std::cerr << "vsr-server start: " << options.error().message << "\n", 2;
  if (auto d = ensure_dir(f.data_dir); !d) return std::cerr << "vsr-server start: " << d.error().message << "\n", 1;
  vsr::io::NodeOptions o = std::move(options.value());
  const std::string prefix = fmt::format("vsr-server[r{}] ", f.replica);
  const auto began = std::chrono::steady_clock::now();
  o.log = [prefix, began](std::string_view line) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    std::cerr << prefix << fmt::format("{:.3f} ", t) << line << std::endl;
  };
  if (f.telemetry) o.telemetry = [](std::string_view line) { std::cerr << line << '\n'; };
  o.incarnation = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32);
  boost::asio::io_context io;
  vsr::io::Node node(io, o);
  if (auto started = node.start(); !started) {
    std::cerr << prefix << "cannot start: " << started.error().message << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    std::cerr << prefix << fmt::format("signal {}: stopping", signal) << std::endl;
    node.stop();
  });
  std::signal(SIGPIPE, SIG_IGN);
  io.run();
  return node.failure() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vsr-server: one replica of a replicated key-value service (Viewstamped Replication over TCP)"};
  app.require_subcommand(1);
  Flags f;
  // Every option belongs to the program, not to a subcommand (they fall through), so one
  // config file serves both `format` and `start`; `format` uses the first five only.
  add_common(app, f);
  app.add_option("--listen", f.listen, "start: listen here instead of this replica's --replicas address");
  app.add_option("--metrics", f.metrics, "start: serve Prometheus metrics at http://ADDR/metrics");
  app.add_flag("--telemetry", f.telemetry, "start: the replica's telemetry events on stderr as JSON lines");
  app.add_option("--tick-ms", f.tick_ms, "start: milliseconds per replica tick")->check(CLI::Range(1, 1000));
  app.add_option("--checkpoint-interval", f.checkpoint_interval, "start: ops between checkpoints (0: never)");
  app.add_option("--max-sessions", f.max_sessions, "start: client sessions kept (least recently used evicted)")
      ->check(CLI::Range(1u, 1u << 24));
  app.add_option("--max-connections", f.max_connections, "start: accepted connections open at once")
      ->check(CLI::Range(1u, 1u << 20));
  app.add_option("--max-pipeline", f.max_pipeline_ops, "start: ops the primary prepares beyond its commit")
      ->check(CLI::Range(1u, 4096u));
  auto* fmt_cmd = app.add_subcommand("format", "Create and format the data file of a member of a new cluster");
  auto* start_cmd = app.add_subcommand("start", "Serve (restarting from the data file, or recovering without it)");
  fmt_cmd->fallthrough();
  start_cmd->fallthrough();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; any usage error: 2, with CLI11's message
  }
  if (fmt_cmd->parsed()) return format(f);
  return start(f);
}
