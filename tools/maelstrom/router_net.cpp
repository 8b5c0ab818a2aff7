// vsr-maelstrom-router's plumbing: the node processes, the latency queue between them,
// and the partitions that cut links (tools/maelstrom/router.hpp).
#include <algorithm>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <iostream>
#include <utility>

#include <fmt/format.h>

#include "tools/maelstrom/router.hpp"

namespace vsr::maelstrom::router {

std::vector<std::string> Router::node_args() const {
  std::vector<std::string> args = o_.node_args;
  if (!o_.data_dir.empty()) {
    args.push_back("--data-dir");
    args.push_back(o_.data_dir);
  }
  return args;
}

/// Starts the nodes. With --data-dir, the directory is created if missing and the
/// nodes' data files of an earlier run (n<i>.vsr) are removed first: a new cluster.
bool Router::start_nodes() {
  if (!o_.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o_.data_dir, ec);
    if (ec) {
      std::cerr << fmt::format("vsr-maelstrom-router: --data-dir {}: {}\n", o_.data_dir, ec.message());
      return false;
    }
    for (std::uint32_t i = 0; i < o_.nodes; ++i) {
      const auto file = std::filesystem::path(o_.data_dir) / fmt::format("n{}.vsr", i + 1);
      std::filesystem::remove(file, ec);
      if (ec) {
        std::cerr << fmt::format("vsr-maelstrom-router: remove {}: {}\n", file.string(), ec.message());
        return false;
      }
    }
  }
  for (std::uint32_t i = 0; i < o_.nodes; ++i) {
    std::string error;
    auto p = spawn(o_.bin, node_args(), o_.node_log, fmt::format("n{}", i + 1), error);
    if (!p) {
      std::cerr << "vsr-maelstrom-router: " << error << '\n';
      return false;
    }
    nodes_.push_back(std::move(*p));
  }
  links_ = all_connected(o_.nodes);
  return true;
}

/// Closes every node's stdin (a node exits on EOF), waits up to 3 s, then kills.
/// A node that exits with a signal or a non-zero status is a failure.
void Router::stop_nodes() {
  for (auto& n : nodes_) {
    ::close(n.to_fd);
    n.to_fd = -1;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(3);
  for (auto& n : nodes_) {
    if (n.dead) continue;  // killed, already reaped
    int status = 0;
    pid_t r = 0;
    while ((r = ::waitpid(n.pid, &status, WNOHANG)) == 0 && Clock::now() < deadline) {
      ::usleep(10000);
    }
    if (r == 0) {
      ::kill(n.pid, SIGKILL);
      ::waitpid(n.pid, &status, 0);
      node_failures_.push_back(fmt::format("{} did not exit when its stdin closed", n.id));
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      node_failures_.push_back(fmt::format("{} ended with status {:#x}", n.id, status));
    }
    ::close(n.from_fd);
  }
}

/// Queues `line` for `dest` (a node or a client) after a random latency.
void Router::post(int from, std::string dest, std::string line) {
  const double factor = 0.5 + net_rng_.real();  // uniform in [0.5, 1.5) x the mean
  const auto delay_us = static_cast<std::uint64_t>(o_.latency_ms * 1000.0 * factor);
  in_flight_.push(Parcel{now_us_ + delay_us, parcel_seq_++, from, std::move(dest), std::move(line)});
}

bool Router::linked(std::size_t from, std::size_t to) const { return links_[from][to]; }

void Router::update_partition() {
  const bool inside = window_index_ < windows_.size() &&
                      now_us_ >= load_start_us_ + windows_[window_index_].start_us;
  if (inside && !partitioned_) {
    partitioned_ = true;
    links_ = windows_[window_index_].links;
    partition_log_.push_back(fmt::format("{:6.2f}s partition: {}", now_us_ / 1e6,
                                         windows_[window_index_].name));
  }
  if (partitioned_ && now_us_ >= load_start_us_ + windows_[window_index_].end_us) {
    partitioned_ = false;
    links_ = all_connected(o_.nodes);
    partition_log_.push_back(fmt::format("{:6.2f}s heal", now_us_ / 1e6));
    ++window_index_;
  }
}

/// Hands every parcel that is due to its node's stdin buffer or to the clients.
/// A message between nodes is dropped when the link is cut at delivery time.
void Router::deliver_due() {
  while (!in_flight_.empty() && in_flight_.top().due_us <= now_us_) {
    Parcel p = in_flight_.top();
    in_flight_.pop();
    if (p.dest.starts_with("c")) {
      try {
        on_client_message(json::parse(p.line, nullptr, false));
      } catch (const json::exception& e) {
        ++bad_replies_;
        node_failures_.push_back(fmt::format("reply with ill-typed fields ({}): {:.200}", e.what(), p.line));
      }
      continue;
    }
    const auto to = static_cast<std::size_t>(std::stoul(p.dest.substr(1)) - 1);
    if (nodes_[to].dead) {
      ++dropped_dead_;
      continue;
    }
    if (p.from >= 0 && !linked(static_cast<std::size_t>(p.from), to)) {
      ++dropped_;
      continue;
    }
    ++routed_;
    nodes_[to].pending_out += p.line;
    nodes_[to].pending_out += '\n';
    write_to(to);
  }
}

void Router::on_node_line(std::size_t from, const std::string& line) {
  const json m = json::parse(line, nullptr, false);
  const auto dest = m.is_object() ? m.find("dest") : m.end();
  if (!m.is_object() || dest == m.end() || !dest->is_string()) {
    node_failures_.push_back(fmt::format("{} wrote a line that is not a message: {:.120}",
                                         nodes_[from].id, line));
    return;
  }
  const std::string& d = dest->get_ref<const std::string&>();
  const bool to_node = d.size() > 1 && d[0] == 'n' && d.find_first_not_of("0123456789", 1) == std::string::npos &&
                       std::stoul(d.substr(1)) >= 1 && std::stoul(d.substr(1)) <= o_.nodes;
  const bool to_client = d.size() > 1 && d[0] == 'c';
  if (to_node) max_node_message_bytes_ = std::max<std::uint64_t>(max_node_message_bytes_, line.size());
  if (!to_node && !to_client) {
    node_failures_.push_back(fmt::format("{} wrote to unknown destination '{}'", nodes_[from].id, d));
    return;
  }
  post(static_cast<int>(from), d, line);
}

void Router::read_from(std::size_t i) {
  NodeProc& n = nodes_[i];
  char buf[1 << 16];
  for (;;) {
    const ssize_t r = ::read(n.from_fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return;  // EAGAIN: nothing more now
    if (r == 0) {
      if (!n.eof) node_failures_.push_back(fmt::format("{} closed its stdout (died?)", n.id));
      n.eof = true;
      return;
    }
    n.partial_in.append(buf, static_cast<std::size_t>(r));
    std::size_t start = 0;
    for (std::size_t nl; (nl = n.partial_in.find('\n', start)) != std::string::npos; start = nl + 1) {
      on_node_line(i, n.partial_in.substr(start, nl - start));
    }
    n.partial_in.erase(0, start);
  }
}

void Router::write_to(std::size_t i) {
  NodeProc& n = nodes_[i];
  while (!n.pending_out.empty() && n.to_fd >= 0) {
    const ssize_t w = ::write(n.to_fd, n.pending_out.data(), n.pending_out.size());
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return;  // EAGAIN (pipe full: poll for POLLOUT) or EPIPE (node died)
    n.pending_out.erase(0, static_cast<std::size_t>(w));
  }
}

/// Waits for node output (or room in a node's stdin) at most `max_wait_us`, then
/// moves whatever is ready.
void Router::pump(std::uint64_t max_wait_us) {
  std::vector<pollfd> fds;
  for (const auto& n : nodes_) {
    short events = n.eof ? 0 : POLLIN;
    fds.push_back(pollfd{n.from_fd, events, 0});
    fds.push_back(pollfd{n.pending_out.empty() ? -1 : n.to_fd, POLLOUT, 0});
  }
  const int timeout_ms = static_cast<int>((max_wait_us + 999) / 1000);
  const int ready = ::poll(fds.data(), fds.size(), timeout_ms);
  now_us_ = micros_since(start_);
  if (ready <= 0) return;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (fds[2 * i].revents != 0) read_from(i);
    if (fds[2 * i + 1].revents != 0) write_to(i);
  }
}

// ---------------------------------------------------------------- kills

/// Every ~kill_period_s (drawn from [0.5, 1.5) x the period) during the fault window,
/// SIGKILLs one random live node, unless a minority ((n - 1) / 2) is dead already; a
/// killed node is restarted 0.5 to 1.5 s later with the same arguments and gets init
/// again. No kill starts within 2 s of the heal, so every node is up after it.
void Router::kill_and_restart() {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].dead && now_us_ >= nodes_[i].restart_at_us) restart_node(i);
  }
  for (auto it = restart_inits_.begin(); it != restart_inits_.end();) {
    const auto reply = control_replies_.find(it->first);
    if (reply != control_replies_.end() && reply->second.value("type", "") == "init_ok") {
      it = restart_inits_.erase(it);
    } else if (now_us_ > it->second.deadline_us) {
      node_failures_.push_back(fmt::format("{} did not answer init within 10 s of its restart: {:.200}",
                                           nodes_[it->second.node].id,
                                           reply == control_replies_.end() ? "" : reply->second.dump()));
      it = restart_inits_.erase(it);
    } else {
      ++it;
    }
  }
  if (o_.kill_period_s <= 0) return;
  const auto period_us = static_cast<double>(us_of_s(o_.kill_period_s));
  auto draw = [&] { return static_cast<std::uint64_t>(period_us * (0.5 + kill_rng_.real())); };
  if (next_kill_us_ == 0) next_kill_us_ = load_start_us_ + draw();
  if (now_us_ < next_kill_us_) return;
  next_kill_us_ = now_us_ + draw();
  if (now_us_ + 2'000'000 >= load_start_us_ + heal_after_us_) return;
  std::vector<std::size_t> alive;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!nodes_[i].dead) alive.push_back(i);
  }
  const std::size_t dead = nodes_.size() - alive.size();
  if (dead >= (nodes_.size() - 1) / 2 || alive.empty()) return;
  kill_node(alive[kill_rng_.below(alive.size())]);
}

void Router::kill_node(std::size_t i) {
  NodeProc& n = nodes_[i];
  ::kill(n.pid, SIGKILL);
  int status = 0;
  ::waitpid(n.pid, &status, 0);
  ::close(n.to_fd);
  ::close(n.from_fd);
  n.to_fd = -1;
  n.from_fd = -1;
  n.pending_out.clear();
  n.partial_in.clear();
  n.dead = true;
  n.restart_at_us = now_us_ + 500'000 + kill_rng_.below(1'000'001);
  for (auto it = restart_inits_.begin(); it != restart_inits_.end();) {
    it = it->second.node == i ? restart_inits_.erase(it) : std::next(it);
  }
  ++kills_;
  partition_log_.push_back(fmt::format("{:6.2f}s kill -9 {}", now_us_ / 1e6, n.id));
}

void Router::restart_node(std::size_t i) {
  std::string error;
  auto p = spawn(o_.bin, node_args(), o_.node_log, nodes_[i].id, error);
  if (!p) {
    node_failures_.push_back(fmt::format("restart {}: {}", nodes_[i].id, error));
    nodes_[i].restart_at_us = now_us_ + 1'000'000;
    return;
  }
  nodes_[i] = std::move(*p);
  ++restarts_;
  partition_log_.push_back(fmt::format("{:6.2f}s restart {}", now_us_ / 1e6, nodes_[i].id));
  std::vector<std::string> ids;
  for (const auto& n : nodes_) ids.push_back(n.id);
  const std::int64_t id = next_msg_id_++;
  control_replies_[id] = json::object();
  restart_inits_[id] = PendingInit{i, now_us_ + 10'000'000};
  json body{{"type", "init"}, {"msg_id", id}, {"node_id", nodes_[i].id}, {"node_ids", ids}};
  post(-1, nodes_[i].id, json{{"src", "c0"}, {"dest", nodes_[i].id}, {"body", body}}.dump());
}

}  // namespace vsr::maelstrom::router
