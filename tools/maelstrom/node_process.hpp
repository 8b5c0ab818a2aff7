// A node process for vsr-maelstrom-router: a child started with pipes on its stdin and
// stdout, both non-blocking on the router's side, and the bytes buffered each way.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vsr::maelstrom::router {

struct NodeProc {
  std::string id;  // "n1"...
  pid_t pid = -1;
  int to_fd = -1;    // its stdin (non-blocking)
  int from_fd = -1;  // its stdout (non-blocking)
  std::string pending_out;  // bytes waiting to be written to its stdin
  std::string partial_in;   // an unfinished line from its stdout
  bool eof = false;
  bool dead = false;              // killed by the router (--kill-period-s), not yet restarted
  std::uint64_t restart_at_us = 0;  // when it is restarted, while dead
};

/// Starts `bin` with `args` and pipes on stdin and stdout; its stderr goes to
/// `log_path` (appended; "-": inherited) or, when empty, to /dev/null. Returns nullopt
/// with a message in `error` on failure.
std::optional<NodeProc> spawn(const std::string& bin, const std::vector<std::string>& args,
                              const std::string& log_path, std::string id, std::string& error);

}  // namespace vsr::maelstrom::router
