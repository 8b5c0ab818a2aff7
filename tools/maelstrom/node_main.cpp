// vsr-maelstrom: a Maelstrom node (lin-kv workload) running the vsr protocol.
// Newline-delimited JSON on stdin and stdout; logs on stderr only. Time comes from
// std::chrono::steady_clock and drives the replica's tick(). See node.hpp.
//
// Storage: with --data-dir DIR the replica keeps its log and view in the file
// DIR/<node_id>.vsr (vsr::io::FileDevice, --data-bytes long, sparse), opened when
// Maelstrom's init names the node. A file that did not exist is created and the
// replica boots as a new member; an existing one is restarted from (after a kill -9,
// say), or rebuilt by the recovery protocol when it cannot be read (node.hpp). Without
// --data-dir nothing survives the process. Deleting a node's file while its cluster
// lives makes it boot as a new member: unsafe, like wiping a disk (do not).
//
// Exit: 0 when stdin closes; 2 on a usage error (a --data-dir that is not a
// directory); 1 when the node stops for good: its data file cannot be opened (another
// process holds its lock, a size mismatch...) or the device fails. A broken protocol
// invariant (vsr::AssertionError) is a bug: it is logged and the process aborts.
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "tools/maelstrom/node.hpp"
#include "vsr/io/file_device.hpp"

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

/// Whether `path` names an existing file system entry; an error other than "missing".
vsr::Result<bool> exists(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0) return true;
  if (errno == ENOENT) return false;
  return vsr::Error{fmt::format("stat {}: {}", path, std::strerror(errno))};
}

/// Opens (creating if missing) the data file DIR/<node_id>.vsr.
vsr::maelstrom::OpenDevice file_device_opener(std::string dir, std::uint64_t bytes) {
  return [dir = std::move(dir), bytes](const std::string& node_id) -> vsr::Result<vsr::maelstrom::NodeDevice> {
    if (node_id.empty() || node_id == "." || node_id == ".." ||
        std::any_of(node_id.begin(), node_id.end(), [](char c) { return c == '/' || c == '\0'; })) {
      return vsr::Error{fmt::format("node id '{}' cannot name a data file in {}", node_id, dir)};
    }
    const std::string path = fmt::format("{}/{}.vsr", dir, node_id);
    auto existed = exists(path);
    if (!existed) return existed.error();
    auto device = vsr::io::FileDevice::open(path, bytes, /*create=*/true);
    if (!device) return device.error();  // names the path
    return vsr::maelstrom::NodeDevice{std::shared_ptr<vsr::BlockDevice>(std::move(device.value())),
                                      /*fresh=*/!existed.value()};
  };
}

int run(const NodeOptions& options) {
  Node node(options);
  std::string buffer;
  bool skipping = false;
  std::vector<char> chunk(1 << 16);
  for (;;) {
    node.advance(now_ms());
    if (!flush(node)) return 0;
    if (node.failure()) {
      std::cerr << fmt::format("vsr-maelstrom: stopping: {}\n", node.failure()->message);
      return 1;
    }
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
  if (node.failure()) {
    std::cerr << fmt::format("vsr-maelstrom: stopping: {}\n", node.failure()->message);
    return 1;
  }
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
  std::string data_dir;
  std::uint64_t data_bytes = vsr::default_memory_device_bytes;
  app.add_option("--data-dir", data_dir,
                 "keep the replica's log in DIR/<node_id>.vsr, which survives a kill -9 "
                 "(default: in memory, nothing survives)");
  app.add_option("--data-bytes", data_bytes,
                 "size of the data file (sparse; fixed once created)")
      ->check(CLI::Range(std::uint64_t{1} << 20, std::uint64_t{1} << 40));
  CLI11_PARSE(app, argc, argv);
  options.telemetry = !no_telemetry;
  options.incarnation = (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
  if (!data_dir.empty()) {
    struct stat st{};
    const bool found = ::stat(data_dir.c_str(), &st) == 0;
    if (!found || !S_ISDIR(st.st_mode)) {
      std::cerr << fmt::format("vsr-maelstrom: --data-dir {}: {}\n", data_dir,
                               found ? "not a directory" : std::strerror(errno));
      return 2;
    }
    if (data_bytes % vsr::sector_bytes != 0) {
      std::cerr << fmt::format("vsr-maelstrom: --data-bytes {} is not a multiple of {}\n",
                               data_bytes, vsr::sector_bytes);
      return 2;
    }
    options.open_device = file_device_opener(data_dir, data_bytes);
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::cerr << "vsr-maelstrom: fatal: " << e.what() << '\n';
    std::abort();
  }
}
