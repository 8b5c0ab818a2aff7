// vsr-maelstrom-router: a small stand-in for Maelstrom, to test vsr-maelstrom without
// it. It launches N real node processes, routes their stdout lines to the right stdin
// with a seeded random latency, cuts links according to a partition schedule (new
// partitions during the first part of the run, everything healed for the tail), plays
// concurrent lin-kv clients (read, write, cas), records their history in the
// vsr-check format, and checks it with the linearizability checker in process.
//
// It is a real-time test: the seed fixes the schedule and the workload's choices, but
// the OS schedules the processes, so two runs of one seed differ in detail.
//
// Exit codes: 0 pass; 1 not linearizable; 2 usage or start-up error; 3 checker
// verdict unknown (bound reached); 4 share of ok ops after the heal below the bound;
// 5 a node died, answered nonsense, or failed the bad-input probes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "sim/history.hpp"
#include "sim/history_json.hpp"
#include "sim/linearizability.hpp"
#include "sim/prng.hpp"
#include "tools/maelstrom/kv_json.hpp"

namespace {

using nlohmann::json;
using vsr::sim::Prng;

struct Options {
  std::string bin;
  std::uint32_t nodes = 3;
  std::uint32_t clients = 0;  // 0: two per node (Maelstrom's --concurrency 2n)
  double duration_s = 20;
  double latency_ms = 5;
  double partition_period_s = 3;
  double heal_after_s = -1;  // < 0: 60% of the duration
  std::uint64_t seed = 1;
  std::string history;
  bool json = false;
  double rate_per_s = 100;
  std::uint32_t client_timeout_ms = 5000;
  std::uint32_t active_keys = 3;
  std::uint32_t ops_per_key = 100;
  double min_ok_after_heal = 0.8;
  std::string node_log;
  double check_timeout_s = 120;
  std::vector<std::string> node_args;
};

// ---------------------------------------------------------------- time

using Clock = std::chrono::steady_clock;

std::uint64_t micros_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

std::uint64_t us_of_s(double s) { return static_cast<std::uint64_t>(s * 1e6); }

// ---------------------------------------------------------------- node processes

struct NodeProc {
  std::string id;  // "n1"...
  pid_t pid = -1;
  int to_fd = -1;    // its stdin (non-blocking)
  int from_fd = -1;  // its stdout (non-blocking)
  std::string pending_out;  // bytes waiting to be written to its stdin
  std::string partial_in;   // an unfinished line from its stdout
  bool eof = false;
};

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

/// Starts `bin` with pipes on stdin and stdout; its stderr goes to `log_path` (appended)
/// or /dev/null. Returns nullopt with a message on failure.
std::optional<NodeProc> spawn(const Options& o, std::string id, std::string& error) {
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
    const char* log = o.node_log.empty() ? "/dev/null" : o.node_log.c_str();
    const int err = o.node_log == "-" ? -1 : ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) ::dup2(err, STDERR_FILENO);
    for (int fd : {in[0], in[1], out[0], out[1], err}) {
      if (fd > STDERR_FILENO) ::close(fd);
    }
    std::vector<char*> argv{const_cast<char*>(o.bin.c_str())};
    for (const auto& a : o.node_args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(o.bin.c_str(), argv.data());
    std::fprintf(stderr, "exec %s: %s\n", o.bin.c_str(), std::strerror(errno));
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

// ---------------------------------------------------------------- partitions

/// Who can talk to whom: connected[i][j] for the link i -> j.
using Links = std::vector<std::vector<bool>>;

Links all_connected(std::size_t n) { return Links(n, std::vector<bool>(n, true)); }

/// A random partition: one node isolated, a minority cut from a majority, or a bridge
/// (two sides that cannot talk, and one node that talks to both: not transitive).
std::pair<Links, std::string> random_partition(std::size_t n, Prng& rng) {
  std::vector<std::size_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  std::vector<int> side(n, 0);
  std::string name;
  const std::uint64_t shape = rng.below(3);
  if (shape == 0) {
    side[perm[0]] = 1;
    name = fmt::format("isolate n{}", perm[0] + 1);
  } else if (shape == 1) {
    std::vector<std::string> minority;
    for (std::size_t i = 0; i < n / 2; ++i) {
      side[perm[i]] = 1;
      minority.push_back(fmt::format("n{}", perm[i] + 1));
    }
    name = fmt::format("cut minority {{{}}}", fmt::join(minority, ","));
  } else {
    side[perm[0]] = 2;  // the bridge
    for (std::size_t i = 1; i < n; ++i) side[perm[i]] = i <= (n - 1) / 2 ? 1 : 0;
    name = fmt::format("bridge n{}", perm[0] + 1);
  }
  Links links = all_connected(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      links[i][j] = side[i] == side[j] || side[i] == 2 || side[j] == 2;
    }
  }
  return {links, name};
}

struct PartitionWindow {
  std::uint64_t start_us = 0;
  std::uint64_t end_us = 0;
  Links links;
  std::string name;
};

/// Cycles of 1.5 periods: half a period healed, then one period partitioned (a new
/// random partition each time), until heal_after; healed from then on.
std::vector<PartitionWindow> partition_schedule(const Options& o, std::uint64_t heal_after_us) {
  std::vector<PartitionWindow> windows;
  if (o.partition_period_s <= 0) return windows;
  Prng rng = Prng(o.seed ^ 0x9a27'7e11'0000'0001ULL);
  const std::uint64_t period_us = us_of_s(o.partition_period_s);
  for (std::uint64_t t = period_us / 2; t < heal_after_us; t += period_us * 3 / 2) {
    auto [links, name] = random_partition(o.nodes, rng);
    windows.push_back({t, std::min(t + period_us, heal_after_us), std::move(links), std::move(name)});
  }
  return windows;
}

// ---------------------------------------------------------------- statistics

/// When an op was invoked. During a partition, split by whether the client's node could
/// still exchange messages both ways with a majority (itself included).
enum class Phase : std::uint8_t { partitioned_majority, partitioned_minority, healed_gap, after_heal };

/// Ops by how they ended. `ok` counts every op the system executed and answered: the
/// *_ok replies, a read of a missing key (20) and a cas refused by the data (20, 22),
/// which the history records as fail but which are available answers. `refused`:
/// other definite errors (11: no primary). `info`: indefinite errors and timeouts.
struct PhaseCounts {
  std::uint64_t ok = 0;
  std::uint64_t refused = 0;
  std::uint64_t info = 0;
  [[nodiscard]] std::uint64_t total() const { return ok + refused + info; }
  [[nodiscard]] double ok_share() const {
    return total() == 0 ? 0.0 : static_cast<double>(ok) / static_cast<double>(total());
  }
};

double percentile(std::vector<double> sorted, double p) {
  if (sorted.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(k, sorted.size() - 1)];
}

// ---------------------------------------------------------------- the router

struct Parcel {
  std::uint64_t due_us = 0;
  std::uint64_t seq = 0;
  int from = -1;  // node index, or -1 for a client
  std::string dest;
  std::string line;
  bool operator>(const Parcel& o) const { return std::tie(due_us, seq) > std::tie(o.due_us, o.seq); }
};

struct ClientState {
  std::string name;  // "c1"...
  std::int64_t process = 0;
  std::size_t node = 0;
  bool waiting = false;
  std::int64_t msg_id = 0;
  vsr::sim::OpCall call;
  vsr::sim::HistoryRecorder::OpIndex op = 0;
  std::uint64_t invoke_us = 0;
  std::uint64_t next_us = 0;
  Phase phase = Phase::after_heal;
};

class Router {
 public:
  explicit Router(Options o)
      : o_(std::move(o)),
        net_rng_(o_.seed ^ 0x4e45'5400'0000'0002ULL),
        load_rng_(o_.seed ^ 0x4c4f'4144'0000'0003ULL) {}

  int run();

 private:
  // --- plumbing ---
  bool start_nodes();
  void stop_nodes();
  void pump(std::uint64_t max_wait_us);
  void read_from(std::size_t i);
  void write_to(std::size_t i);
  void on_node_line(std::size_t from, const std::string& line);
  void post(int from, std::string dest, std::string line);
  void deliver_due();
  [[nodiscard]] bool linked(std::size_t from, std::size_t to) const;
  void update_partition();

  // --- clients ---
  bool init_nodes();
  void probe_bad_input();
  void client_actions();
  void invoke(ClientState& c);
  void on_client_message(const json& m);
  void complete(ClientState& c, vsr::sim::Outcome outcome, vsr::sim::Value value,
                vsr::sim::CasError cas_error = vsr::sim::CasError::unspecified,
                bool refused = false);
  [[nodiscard]] Phase phase_at(std::uint64_t t_us, std::size_t node) const;
  std::string next_key();

  // --- report ---
  int report(const vsr::sim::History& history, const vsr::sim::CheckResult& result, double check_s);

  Options o_;
  Prng net_rng_;
  Prng load_rng_;
  Clock::time_point start_ = Clock::now();
  std::uint64_t now_us_ = 0;
  std::uint64_t load_start_us_ = 0;
  std::uint64_t heal_after_us_ = 0;
  std::vector<NodeProc> nodes_;
  std::priority_queue<Parcel, std::vector<Parcel>, std::greater<>> in_flight_;
  std::uint64_t parcel_seq_ = 0;
  std::vector<PartitionWindow> windows_;
  std::size_t window_index_ = 0;
  bool partitioned_ = false;
  Links links_;
  std::vector<ClientState> clients_;
  vsr::sim::HistoryRecorder recorder_;
  std::int64_t next_msg_id_ = 1;
  std::vector<std::uint64_t> active_keys_;
  std::vector<std::uint32_t> key_uses_;
  std::uint64_t next_key_ = 0;
  std::map<std::int64_t, json> control_replies_;  // init and probe replies, by in_reply_to
  // figures
  std::map<Phase, PhaseCounts> counts_;
  std::vector<double> latencies_ms_;
  std::uint64_t cas_data_fails_ = 0;
  std::uint64_t routed_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t bad_replies_ = 0;
  std::uint64_t probes_ok_ = 0;
  std::uint64_t probes_sent_ = 0;
  std::vector<std::string> node_failures_;
  std::vector<std::string> partition_log_;
};

bool Router::start_nodes() {
  for (std::uint32_t i = 0; i < o_.nodes; ++i) {
    std::string error;
    auto p = spawn(o_, fmt::format("n{}", i + 1), error);
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

// ---------------------------------------------------------------- clients

/// Sends init to every node and waits (up to 10 s) for every init_ok.
bool Router::init_nodes() {
  std::vector<std::string> ids;
  for (const auto& n : nodes_) ids.push_back(n.id);
  std::vector<std::int64_t> waiting;
  for (const auto& n : nodes_) {
    const std::int64_t id = next_msg_id_++;
    waiting.push_back(id);
    control_replies_[id] = json::object();
    json body{{"type", "init"}, {"msg_id", id}, {"node_id", n.id}, {"node_ids", ids}};
    post(-1, n.id, json{{"src", "c0"}, {"dest", n.id}, {"body", body}}.dump());
  }
  const std::uint64_t deadline = now_us_ + 10'000'000;
  while (now_us_ < deadline && node_failures_.empty()) {
    deliver_due();
    const bool all = std::all_of(waiting.begin(), waiting.end(), [&](std::int64_t id) {
      auto it = control_replies_.find(id);
      return it != control_replies_.end() && it->second.value("type", "") == "init_ok";
    });
    if (all) return true;
    pump(1000);
  }
  std::cerr << "vsr-maelstrom-router: the nodes did not all answer init with init_ok\n";
  return false;
}

/// Sends every node three bad inputs (not JSON, an unknown type, a write without a
/// value) and expects: nothing, error 10, error 12. Checked at the end of the run.
void Router::probe_bad_input() {
  for (const auto& n : nodes_) {
    post(-1, n.id, "{this is not json");
    const std::int64_t unknown = next_msg_id_++;
    const std::int64_t missing = next_msg_id_++;
    post(-1, n.id, json{{"src", "c0"}, {"dest", n.id},
                        {"body", {{"type", "frobnicate"}, {"msg_id", unknown}}}}.dump());
    post(-1, n.id, json{{"src", "c0"}, {"dest", n.id},
                        {"body", {{"type", "write"}, {"msg_id", missing}, {"key", 0}}}}.dump());
    control_replies_[unknown] = json{{"expect", 10}};
    control_replies_[missing] = json{{"expect", 12}};
    probes_sent_ += 2;
  }
}

Phase Router::phase_at(std::uint64_t t_us, std::size_t node) const {
  if (t_us >= load_start_us_ + heal_after_us_) return Phase::after_heal;
  if (!partitioned_) return Phase::healed_gap;
  std::size_t reach = 0;
  for (std::size_t j = 0; j < nodes_.size(); ++j) reach += links_[node][j] && links_[j][node] ? 1 : 0;
  return reach >= nodes_.size() / 2 + 1 ? Phase::partitioned_majority : Phase::partitioned_minority;
}

/// Keys rotate: `active_keys` are in use at a time, each for at most `ops_per_key`
/// invocations (as Jepsen's independent keys do), which keeps each key's history small
/// enough for the checker.
std::string Router::next_key() {
  if (active_keys_.empty()) {
    for (std::uint32_t i = 0; i < o_.active_keys; ++i) {
      active_keys_.push_back(next_key_++);
      key_uses_.push_back(0);
    }
  }
  const std::size_t k = load_rng_.below(active_keys_.size());
  if (++key_uses_[k] > o_.ops_per_key) {
    active_keys_[k] = next_key_++;
    key_uses_[k] = 1;
  }
  return std::to_string(active_keys_[k]);
}

void Router::invoke(ClientState& c) {
  using vsr::sim::OpCall;
  const std::string key = next_key();
  const auto kind = load_rng_.below(3);
  const auto v1 = static_cast<std::int64_t>(load_rng_.below(5));
  const auto v2 = static_cast<std::int64_t>(load_rng_.below(5));
  json body;
  const auto key_int = std::stoll(key);
  if (kind == 0) {
    c.call = OpCall::read(key);
    body = json{{"type", "read"}, {"key", key_int}};
  } else if (kind == 1) {
    c.call = OpCall::write(key, v1);
    body = json{{"type", "write"}, {"key", key_int}, {"value", v1}};
  } else {
    c.call = OpCall::cas(key, v1, v2);
    body = json{{"type", "cas"}, {"key", key_int}, {"from", v1}, {"to", v2}};
  }
  c.msg_id = next_msg_id_++;
  body["msg_id"] = c.msg_id;
  auto op = recorder_.invoke(c.process, c.call, static_cast<std::int64_t>(now_us_));
  if (!op) throw std::logic_error(op.error().message);
  c.op = op.value();
  c.waiting = true;
  c.invoke_us = now_us_;
  c.phase = phase_at(now_us_, c.node);
  const std::string& node = nodes_[c.node].id;
  post(-1, node, json{{"src", c.name}, {"dest", node}, {"body", std::move(body)}}.dump());
}

/// Records the completion and counts it. `refused`: a definite refusal (counted as
/// refused whatever `outcome` the history needs, see on_client_message).
void Router::complete(ClientState& c, vsr::sim::Outcome outcome, vsr::sim::Value value,
                      vsr::sim::CasError cas_error, bool refused) {
  using vsr::sim::Outcome;
  auto done = recorder_.complete(c.op, outcome, value, static_cast<std::int64_t>(now_us_), cas_error);
  if (!done) throw std::logic_error(done.error().message);
  c.waiting = false;
  PhaseCounts& counts = counts_[c.phase];
  if (refused) {
    ++counts.refused;
  } else if (outcome == Outcome::ok || cas_error != vsr::sim::CasError::unspecified) {
    ++counts.ok;
    if (outcome == Outcome::fail) ++cas_data_fails_;
    latencies_ms_.push_back(static_cast<double>(now_us_ - c.invoke_us) / 1000.0);
  } else if (outcome == Outcome::fail) {
    ++counts.refused;
  } else {
    ++counts.info;
  }
  if (outcome == Outcome::info) {
    c.process += static_cast<std::int64_t>(clients_.size());  // a new process, as Jepsen does
  }
  // Each client aims at one op per clients/rate seconds on average, counted from its
  // last invocation, so together they approach rate_per_s (latency permitting).
  const double mean_gap_us = 1e6 * static_cast<double>(clients_.size()) / o_.rate_per_s;
  c.next_us = std::max(now_us_, c.invoke_us + static_cast<std::uint64_t>(load_rng_.real() * 2 * mean_gap_us));
}

void Router::on_client_message(const json& m) {
  using vsr::sim::CasError;
  using vsr::sim::OpKind;
  using vsr::sim::Outcome;
  const auto body_it = m.is_object() ? m.find("body") : m.end();
  if (body_it == m.end() || !body_it->is_object() || !body_it->contains("in_reply_to")) {
    ++bad_replies_;
    return;
  }
  const json& body = *body_it;
  const json& re = body["in_reply_to"];
  if (!re.is_number_integer()) {
    ++bad_replies_;
    return;
  }
  const auto id = re.get<std::int64_t>();
  if (auto ctl = control_replies_.find(id); ctl != control_replies_.end()) {
    if (ctl->second.contains("expect")) {
      if (body.value("type", "") == "error" && body.value("code", -1) == ctl->second["expect"]) ++probes_ok_;
      ctl->second = json{{"answered", true}};
    } else {
      ctl->second = body;
    }
    return;
  }
  auto c = std::find_if(clients_.begin(), clients_.end(),
                        [&](const ClientState& x) { return x.waiting && x.msg_id == id; });
  if (c == clients_.end()) return;  // late reply to an op already timed out
  const std::string type = body.value("type", "");
  const OpKind kind = c->call.kind;
  if (type == "read_ok" && kind == OpKind::read && body.contains("value") &&
      body["value"].is_number_integer()) {
    return complete(*c, Outcome::ok, body["value"].get<std::int64_t>());
  }
  if ((type == "write_ok" && kind == OpKind::write) || (type == "cas_ok" && kind == OpKind::cas)) {
    return complete(*c, Outcome::ok, std::nullopt);
  }
  const int code = body.value("code", -1);
  if (type == "error" && code == 20 && kind == OpKind::read) return complete(*c, Outcome::ok, std::nullopt);
  if (type == "error" && code == 20 && kind == OpKind::cas) {
    return complete(*c, Outcome::fail, std::nullopt, CasError::not_found);
  }
  if (type == "error" && code == 22 && kind == OpKind::cas) {
    return complete(*c, Outcome::fail, std::nullopt, CasError::precondition_failed);
  }
  if (type == "error" && code != 20 && code != 22) {
    if (!vsr::maelstrom::is_definite(code)) return complete(*c, Outcome::info, std::nullopt);
    // A definite refusal (11: no primary) means the op never ran. For a read or write
    // the history's `fail` says exactly that; but a failed cas there means "ran, and
    // the compare failed", which constrains the value. So a refused cas is written as
    // info (it may or may not have happened): weaker than the truth, hence sound.
    return complete(*c, kind == OpKind::cas ? Outcome::info : Outcome::fail, std::nullopt,
                    CasError::unspecified, /*refused=*/true);
  }
  ++bad_replies_;
  node_failures_.push_back(fmt::format("nonsense reply to {}: {:.200}", vsr::sim::to_string(kind), body.dump()));
  complete(*c, Outcome::info, std::nullopt);
}

/// Idle clients whose think time is over invoke their next op (until the end of the
/// load); waiting clients past their timeout complete as info.
void Router::client_actions() {
  const std::uint64_t end_us = load_start_us_ + us_of_s(o_.duration_s);
  for (auto& c : clients_) {
    if (c.waiting && now_us_ >= c.invoke_us + std::uint64_t{o_.client_timeout_ms} * 1000) {
      complete(c, vsr::sim::Outcome::info, std::nullopt);
    }
    if (!c.waiting && now_us_ >= c.next_us && now_us_ < end_us) invoke(c);
  }
}

int Router::run() {
  if (!start_nodes()) return 2;
  now_us_ = micros_since(start_);
  int code = 0;
  if (!init_nodes()) {
    stop_nodes();
    return 5;
  }
  probe_bad_input();
  load_start_us_ = now_us_;
  heal_after_us_ = o_.heal_after_s >= 0 ? us_of_s(o_.heal_after_s) : us_of_s(o_.duration_s * 0.6);
  windows_ = partition_schedule(o_, heal_after_us_);
  const std::uint32_t count = o_.clients == 0 ? 2 * o_.nodes : o_.clients;
  for (std::uint32_t i = 0; i < count; ++i) {
    ClientState c;
    c.name = fmt::format("c{}", i + 1);
    c.process = i;
    c.node = i % o_.nodes;
    c.next_us = load_start_us_ + i * 1000;
    clients_.push_back(std::move(c));
  }
  const std::uint64_t end_us = load_start_us_ + us_of_s(o_.duration_s);
  for (;;) {
    update_partition();
    deliver_due();
    client_actions();
    const bool busy = std::any_of(clients_.begin(), clients_.end(), [](const ClientState& c) { return c.waiting; });
    if (now_us_ >= end_us && !busy) break;
    std::uint64_t wait_us = 5000;
    if (!in_flight_.empty()) wait_us = std::min(wait_us, in_flight_.top().due_us - std::min(in_flight_.top().due_us, now_us_));
    pump(wait_us);
    if (!node_failures_.empty() && std::any_of(nodes_.begin(), nodes_.end(), [](const NodeProc& n) { return n.eof; })) break;
  }
  stop_nodes();
  vsr::sim::History history = std::move(recorder_).finish();
  if (!o_.history.empty()) {
    std::ofstream(o_.history) << vsr::sim::to_json_lines(history);
  }
  vsr::sim::CheckOptions check;
  check.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o_.check_timeout_s * 1000));
  const auto t0 = Clock::now();
  const vsr::sim::CheckResult result = vsr::sim::check(history, check);
  const double check_s = std::chrono::duration<double>(Clock::now() - t0).count();
  code = report(history, result, check_s);
  return code;
}

// ---------------------------------------------------------------- report

int Router::report(const vsr::sim::History& history, const vsr::sim::CheckResult& result,
                   double check_s) {
  using vsr::sim::Verdict;
  PhaseCounts all;
  for (const auto& [phase, c] : counts_) {
    all.ok += c.ok;
    all.refused += c.refused;
    all.info += c.info;
  }
  std::sort(latencies_ms_.begin(), latencies_ms_.end());
  const PhaseCounts majority = counts_[Phase::partitioned_majority];
  const PhaseCounts minority = counts_[Phase::partitioned_minority];
  PhaseCounts during = majority;
  during.ok += minority.ok;
  during.refused += minority.refused;
  during.info += minority.info;
  const PhaseCounts gaps = counts_[Phase::healed_gap];
  const PhaseCounts after = counts_[Phase::after_heal];
  const double throughput = static_cast<double>(all.ok) / o_.duration_s;
  const bool probes_pass = probes_ok_ == probes_sent_;
  int code = 0;
  std::string verdict = "PASS";
  if (!node_failures_.empty() || !probes_pass) {
    code = 5;
    verdict = "FAIL: node misbehaved";
  } else if (result.verdict == Verdict::not_linearizable) {
    code = 1;
    verdict = "FAIL: not linearizable";
  } else if (result.verdict == Verdict::unknown) {
    code = 3;
    verdict = "FAIL: checker verdict unknown";
  } else if (after.ok_share() < o_.min_ok_after_heal) {
    code = 4;
    verdict = fmt::format("FAIL: ok share after heal {:.1f}% < {:.1f}%", 100 * after.ok_share(),
                          100 * o_.min_ok_after_heal);
  }
  if (o_.json) {
    auto phase_json = [](const PhaseCounts& c) {
      return json{{"ok", c.ok}, {"refused", c.refused}, {"info", c.info}, {"ok_share", c.ok_share()}};
    };
    json j{{"nodes", o_.nodes}, {"clients", clients_.size()}, {"duration_s", o_.duration_s},
           {"seed", o_.seed}, {"link_latency_ms", o_.latency_ms}, {"ops", phase_json(all)},
           {"throughput_ok_per_s", throughput},
           {"ok_latency_ms", {{"p50", percentile(latencies_ms_, 0.5)}, {"p90", percentile(latencies_ms_, 0.9)},
                           {"p99", percentile(latencies_ms_, 0.99)},
                           {"max", latencies_ms_.empty() ? 0.0 : latencies_ms_.back()}}},
           {"during_partitions", phase_json(during)},
           {"during_partitions_at_majority_nodes", phase_json(majority)},
           {"during_partitions_at_minority_nodes", phase_json(minority)},
           {"healed_gaps", phase_json(gaps)},
           {"after_heal", phase_json(after)}, {"messages_routed", routed_},
           {"messages_dropped", dropped_}, {"probes_ok", probes_ok_}, {"probes_sent", probes_sent_},
           {"linearizability", vsr::sim::to_string(result.verdict)}, {"keys", result.keys.size()},
           {"check_s", check_s}, {"node_failures", node_failures_}, {"verdict", verdict},
           {"exit_code", code}};
    std::cout << j.dump() << '\n';
  } else {
    auto line = [](std::string_view name, const PhaseCounts& c) {
      return fmt::format("  {:<26} {:6.1f}% ok  ({} ok, {} refused, {} info)\n", name, 100 * c.ok_share(),
                         c.ok, c.refused, c.info);
    };
    std::string out = fmt::format(
        "vsr-maelstrom-router: {} nodes, {} clients, {} s, latency {} ms, partitions every {} s until {:.1f} s, seed {}\n",
        o_.nodes, clients_.size(), o_.duration_s, o_.latency_ms, o_.partition_period_s,
        heal_after_us_ / 1e6, o_.seed);
    for (const auto& p : partition_log_) out += "  " + p + "\n";
    out += fmt::format("ops: {} ({} ok, {} refused, {} info); ok includes {} cas refused by the data (20/22)\n",
                       all.total(), all.ok, all.refused, all.info, cas_data_fails_);
    out += fmt::format("throughput: {:.1f} ok ops/s\n", throughput);
    out += fmt::format("latency of ok ops: p50 {:.1f} ms, p90 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms\n",
                       percentile(latencies_ms_, 0.5), percentile(latencies_ms_, 0.9),
                       percentile(latencies_ms_, 0.99), latencies_ms_.empty() ? 0.0 : latencies_ms_.back());
    out += "availability (share of ops answered ok, by invocation time):\n";
    out += line("during partitions", during);
    out += line("  at nodes with a majority", majority);
    out += line("  at nodes cut from it", minority);
    out += line("healed gaps between them", gaps);
    out += line("after the final heal", after);
    out += fmt::format("messages: {} delivered, {} dropped by partitions\n", routed_, dropped_);
    out += fmt::format("bad-input probes answered correctly: {}/{}\n", probes_ok_, probes_sent_);
    for (const auto& f : node_failures_) out += "node failure: " + f + "\n";
    out += fmt::format("linearizability: {} ({} ops, {} keys, checked in {:.2f} s)\n",
                       vsr::sim::to_string(result.verdict), history.ops.size(), result.keys.size(), check_s);
    for (const auto& k : result.keys) {
      if (k.verdict == Verdict::not_linearizable) out += vsr::sim::explain(history, k) + "\n";
      if (k.verdict == Verdict::unknown) out += fmt::format("key {}: unknown ({})\n", k.key, k.unknown_reason);
    }
    out += fmt::format("verdict: {} (bound: ok share after heal >= {:.0f}%)\n", verdict, 100 * o_.min_ok_after_heal);
    std::cout << out;
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  Options o;
  CLI::App app{"vsr-maelstrom-router: runs vsr-maelstrom nodes with latency and partitions, "
               "plays lin-kv clients, checks linearizability"};
  app.add_option("--bin", o.bin, "path to vsr-maelstrom")->required();
  app.add_option("--nodes", o.nodes, "node count")->check(CLI::Range(1, 9));
  app.add_option("--clients", o.clients, "concurrent clients (default 2 per node)");
  app.add_option("--duration-s", o.duration_s, "seconds of load")->check(CLI::Range(0.1, 86400.0));
  app.add_option("--latency-ms", o.latency_ms, "mean one-way latency; each message draws from [0.5, 1.5) x mean")
      ->check(CLI::Range(0.0, 10000.0));
  app.add_option("--partition-period-s", o.partition_period_s,
                 "a new partition lasts this long, then heals for half as long (0: no partitions)");
  app.add_option("--heal-after-s", o.heal_after_s, "no partitions after this (default: 60% of the duration)");
  app.add_option("--seed", o.seed, "seeds the partition schedule, latencies and the workload");
  app.add_option("--history", o.history, "write the history (JSON lines, vsr-check format)");
  app.add_flag("--json", o.json, "print the summary as one JSON object");
  app.add_option("--rate", o.rate_per_s, "ops per second, all clients together")->check(CLI::Range(0.1, 1e6));
  app.add_option("--client-timeout-ms", o.client_timeout_ms, "a client gives up (info) after this");
  app.add_option("--keys", o.active_keys, "keys in use at a time")->check(CLI::Range(1, 1000));
  app.add_option("--ops-per-key", o.ops_per_key, "invocations per key before it is retired")
      ->check(CLI::Range(1, 100000));
  app.add_option("--min-ok-after-heal", o.min_ok_after_heal,
                 "fail when the ok share of ops invoked after the heal is below this")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--node-log", o.node_log,
                 "append the nodes' stderr to this file; '-': the router's stderr (default: discard)");
  app.add_option("--check-timeout-s", o.check_timeout_s, "bound on the linearizability check");
  app.add_option("--node-arg", o.node_args, "an extra argument for every node (repeatable)");
  CLI11_PARSE(app, argc, argv);
  if (o.clients == 0) o.clients = 2 * o.nodes;
  try {
    return Router(std::move(o)).run();
  } catch (const std::exception& e) {
    std::cerr << "vsr-maelstrom-router: " << e.what() << '\n';
    return 2;
  }
}
