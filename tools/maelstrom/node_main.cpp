// vsr-maelstrom: a Maelstrom node (lin-kv workload) running the vsr protocol.
// Newline-delimited JSON on stdin and stdout; logs on stderr only. Time comes from
// std::chrono::steady_clock and drives the replica's tick(). See node.hpp.
//
// Exit: 0 when stdin closes; 2 on a usage error. A broken protocol invariant
// (vsr::AssertionError) is a bug: it is logged and the process aborts.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/maelstrom/node.hpp"

namespace {

using vsr::maelstrom::Node;
using vsr::maelstrom::NodeOptions;

/// Lines longer than this are dropped (logged): a StartView of a long log is the
/// largest legitimate line, and frames are bounded by vsr::max_frame_bytes.
constexpr std::size_t max_line_bytes = 128u << 20;

std::uint64_t now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

/// Writes all of `data` to `fd`, retrying on EINTR and short writes. False on error.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Flushes the node's output lines to stdout and its logs to stderr. False when
/// stdout is gone (nobody will read our replies: time to stop).
bool flush(Node& node) {
  std::string out;
  for (const auto& line : node.take_lines()) {
    out += line;
    out += '\n';
  }
  std::string err;
  for (const auto& line : node.take_logs()) err += fmt::format("vsr-maelstrom {}\n", line);
  if (!err.empty()) write_all(STDERR_FILENO, err);
  return out.empty() || write_all(STDOUT_FILENO, out);
}

/// Splits `buffer` into complete lines for the node; keeps the unfinished tail.
/// An over-long line is skipped up to its newline.
void feed(Node& node, std::string& buffer, bool& skipping) {
  std::size_t start = 0;
  for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (skipping) {
      skipping = false;
      continue;
    }
    node.on_line(std::string_view(buffer).substr(start, nl - start), now_ms());
  }
  buffer.erase(0, start);
  if (buffer.size() > max_line_bytes) {
    std::cerr << fmt::format("bad input: a line longer than {} bytes was dropped\n", max_line_bytes);
    buffer.clear();
    skipping = true;
  }
}

int run(const NodeOptions& options) {
  Node node(options);
  std::string buffer;
  bool skipping = false;
  std::vector<char> chunk(1 << 16);
  for (;;) {
    node.advance(now_ms());
    if (!flush(node)) return 0;
    const std::uint64_t now = now_ms();
    const std::uint64_t wake = node.next_wakeup_ms();
    const int timeout_ms = wake <= now ? 0 : static_cast<int>(std::min<std::uint64_t>(wake - now, 1000));
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&p, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return 1;
    if (ready <= 0) continue;
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // stdin closed: Maelstrom is done with us
    buffer.append(chunk.data(), static_cast<std::size_t>(n));
    feed(node, buffer, skipping);
  }
  if (!buffer.empty() && !skipping) node.on_line(buffer, now_ms());
  flush(node);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  NodeOptions options;
  CLI::App app{"vsr-maelstrom: a Maelstrom lin-kv node running Viewstamped Replication"};
  app.add_option("--tick-ms", options.tick_ms, "milliseconds per replica tick")
      ->check(CLI::Range(1, 1000));
  app.add_option("--hold-timeout-ms", options.hold_timeout_ms,
                 "refuse (code 11) a request held this long without a known primary");
  app.add_option("--request-timeout-ms", options.request_timeout_ms,
                 "answer code 0 (indefinite) to a request unanswered this long");
  app.add_option("--max-sessions", options.max_sessions, "requests in flight per node")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-op-bytes", options.max_op_bytes,
                 "refuse (code 12) a request whose encoded operation is larger")
      ->check(CLI::Range(64, 16 << 20));
  bool no_telemetry = false;
  app.add_option("--checkpoint-interval", options.checkpoint_interval_ops,
                 "ops between checkpoints (0: none)")
      ->check(CLI::Range(0u, 1'000'000u));
  app.add_flag("--no-telemetry", no_telemetry, "do not log the replica's telemetry events to stderr");
  CLI11_PARSE(app, argc, argv);
  options.telemetry = !no_telemetry;
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "vsr-maelstrom: fatal: " << e.what() << '\n';
    std::abort();
  }
}
