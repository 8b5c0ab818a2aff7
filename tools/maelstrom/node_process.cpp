#include "tools/maelstrom/node_process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace vsr::maelstrom::router {
namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

std::optional<NodeProc> spawn(const std::string& bin, const std::vector<std::string>& args,
                              const std::string& log_path, std::string id, std::string& error) {
  int in[2];
  int out[2];
  if (::pipe(in) != 0 || ::pipe(out) != 0) {
    error = fmt::format("pipe: {}", std::strerror(errno));
    return std::nullopt;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    error = fmt::format("fork: {}", std::strerror(errno));
    return std::nullopt;
  }
  if (pid == 0) {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    const char* log = log_path.empty() ? "/dev/null" : log_path.c_str();
    const int err = log_path == "-" ? -1 : ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    for (int fd : {in[0], in[1], out[0], out[1], err}) {
      if (fd > STDERR_FILENO) ::close(fd);
    }
    std::vector<char*> argv{const_cast<char*>(bin.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    std::fprintf(stderr, "exec %s: %s\n", bin.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::fcntl(in[1], F_SETFD, FD_CLOEXEC);
  ::fcntl(out[0], F_SETFD, FD_CLOEXEC);
  set_nonblocking(in[1]);
  set_nonblocking(out[0]);
  NodeProc p;
  p.id = std::move(id);
  p.pid = pid;
  p.to_fd = in[1];
  p.from_fd = out[0];
  return p;
}

}  // namespace vsr::maelstrom::router
