// vsr-cluster-test: Jepsen-style testing of real vsr-server processes on loopback.
//
// Starts N vsr-server processes (their own data directories, formatted first), routes
// every replica-to-replica connection through a proxy this harness owns (i → j), runs
// `vsr-kv bench --history` as the concurrent client load, and meanwhile injects faults
// from a seeded schedule: SIGKILL and restart from the data directory, SIGSTOP/SIGCONT,
// deleting a server's directory and restarting it (the recovery protocol), and cutting
// proxies (one direction, or both). At most f = (N-1)/2 servers are down, paused or
// rebuilding at once. Then it heals everything and requires:
//   - the cluster answers a write within --answer-bound-s of the heal;
//   - the bench's history is linearizable (vsr-check): so no acknowledged write is lost;
//   - every server is up, normal, and its commit number reaches the same value.
// Exit 0 when all hold; 1 otherwise (the reason is printed); 2 on a usage error.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "sim/prng.hpp"
#include "tools/cluster/proxy.hpp"

namespace {

namespace asio = boost::asio;
using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::string bin_dir;
  std::uint32_t replicas = 3;
  std::uint32_t fault_s = 20;
  std::uint32_t heal_s = 6;
  std::uint32_t answer_bound_s = 15;
  std::uint32_t clients = 8;
  std::uint64_t seed = 1;
  std::string work_dir;
  std::string faults = "kill,pause,wipe,partition";
  bool keep = false;
};

/// The fault schedule's choices, from the seed (the timing itself is the OS's).
struct Prng {
  std::uint64_t s;
  std::uint64_t below(std::uint64_t n) { return vsr::sim::splitmix64(s) % n; }
};

/// A free port for a server, below the kernel's ephemeral range: a port picked from that
/// range (by binding port 0) may be handed out again, to an outgoing connection or to
/// one of this harness's proxies, before the server binds it ("Address already in use").
std::uint16_t free_port(std::uint64_t& state) {
  std::uint32_t ephemeral_low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> ephemeral_low;
  const std::uint32_t low = 10000;
  const std::uint32_t high = std::max(ephemeral_low, low + 1000);
  asio::io_context io;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const auto port = static_cast<std::uint16_t>(low + vsr::sim::splitmix64(state) % (high - low));
    tcp::acceptor a(io);
    boost::system::error_code ec;
    a.open(tcp::v4(), ec);
    if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) a.bind(tcp::endpoint(asio::ip::address_v4::loopback(), port), ec);
    if (!ec) return port;
  }
  tcp::acceptor a(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return a.local_endpoint().port();
}

pid_t spawn(const std::string& bin, const std::vector<std::string>& args, const std::string& log_path) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The child must not keep the harness's sockets (its proxies' connections): a copy
  // held open would keep a connection the proxy closed alive, and a cut would not cut.
  ::close_range(3, ~0U, 0);
  FILE* log = std::fopen(log_path.c_str(), "a");
  if (log != nullptr) {
    ::dup2(::fileno(log), STDERR_FILENO);
    ::dup2(::fileno(log), STDOUT_FILENO);
  }
  std::vector<char*> argv{const_cast<char*>(bin.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(bin.c_str(), argv.data());
  std::fprintf(stderr, "exec %s failed\n", bin.c_str());
  ::_exit(127);
}

/// Runs a command to completion; its exit code (or -1).
int run(const std::string& bin, const std::vector<std::string>& args, const std::string& log_path) {
  const pid_t pid = spawn(bin, args, log_path);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// GET /metrics from 127.0.0.1:port within 1 s; the value of `name` (nullopt if none).
std::optional<std::uint64_t> scrape(std::uint16_t port, const std::string& name) {
  asio::io_context io;
  tcp::socket s(io);
  std::string response;
  std::array<char, 4096> buf{};
  std::function<void()> read = [&] {
    s.async_read_some(asio::buffer(buf), [&](const boost::system::error_code& ec, std::size_t n) {
      response.append(buf.data(), n);
      if (!ec) read();
    });
  };
  s.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), [&](const boost::system::error_code& ec) {
    if (ec) return;
    static const std::string get = "GET /metrics HTTP/1.0\r\n\r\n";
    asio::async_write(s, asio::buffer(get), [&](const boost::system::error_code& wec, std::size_t) {
      if (!wec) read();
    });
  });
  io.run_for(std::chrono::seconds(1));
  std::istringstream in(response);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stoull(line.substr(name.size() + 1));
  }
  return std::nullopt;
}

class Harness {
 public:
  explicit Harness(Flags f) : f_(std::move(f)), prng_{f_.seed} {}

  int run_all();

 private:
  struct Server {
    std::uint32_t index = 0;
    std::uint16_t port = 0;
    std::uint16_t metrics_port = 0;
    std::string dir;
    pid_t pid = -1;
    bool paused = false;
    Clock::time_point back_at{};  // when a faulted server is to be resumed/restarted
    bool wiped = false;           // rebuilding by recovery: counts as faulty until normal
  };

  std::string bin(const std::string& name) const { return f_.bin_dir + "/" + name; }
  std::string replicas_for(std::uint32_t i) const;
  std::string client_replicas() const;
  std::vector<std::string> common(std::uint32_t i) const;
  void start(Server& s);
  void kill(Server& s);
  void log(const std::string& line);
  std::uint32_t faulty() const;
  /// A server that exited without being killed (it failed to start, or crashed).
  std::optional<std::string> exited();
  void step_faults(Clock::time_point now);
  void heal_all();
  bool wait_answer();
  bool converged();
  void pump(std::chrono::milliseconds d) { io_.run_for(d); }

  Flags f_;
  Prng prng_;
  asio::io_context io_;
  std::vector<Server> servers_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::unique_ptr<vsr::cluster::Proxy>> proxies_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, Clock::time_point> cut_until_;
  std::map<std::string, std::uint64_t> counts_;
  Clock::time_point began_ = Clock::now();
};

void Harness::log(const std::string& line) {
  const double t = std::chrono::duration<double>(Clock::now() - began_).count();
  std::cout << fmt::format("[{:7.3f}] {}", t, line) << std::endl;
}

std::string Harness::replicas_for(std::uint32_t i) const {
  std::string out;
  for (std::uint32_t j = 0; j < servers_.size(); ++j) {
    const std::uint16_t port = j == i ? servers_[j].port : proxies_.at({i, j})->port();
    out += fmt::format("{}127.0.0.1:{}", j == 0 ? "" : ",", port);
  }
  return out;
}

std::string Harness::client_replicas() const {
  std::string out;
  for (const Server& s : servers_) out += fmt::format("{}127.0.0.1:{}", out.empty() ? "" : ",", s.port);
  return out;
}

std::vector<std::string> Harness::common(std::uint32_t i) const {
  return {"--cluster", "1", "--replicas", replicas_for(i), "--replica", std::to_string(i),
          "--data-dir", servers_[i].dir, "--data-mib", "64"};
}

void Harness::start(Server& s) {
  std::vector<std::string> args{"start"};
  for (auto& a : common(s.index)) args.push_back(a);
  args.insert(args.end(), {"--metrics", fmt::format("127.0.0.1:{}", s.metrics_port), "--telemetry"});
  s.pid = spawn(bin("vsr-server"), args, f_.work_dir + fmt::format("/server{}.log", s.index));
  s.paused = false;
}

void Harness::kill(Server& s) {
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGKILL);
  int status = 0;
  ::waitpid(s.pid, &status, 0);
  s.pid = -1;
  s.paused = false;
}

std::uint32_t Harness::faulty() const {
  std::uint32_t n = 0;
  for (const Server& s : servers_) n += (s.pid <= 0 || s.paused || s.wiped) ? 1 : 0;
  return n;
}

std::optional<std::string> Harness::exited() {
  for (Server& s : servers_) {
    if (s.pid <= 0) continue;
    int status = 0;
    if (::waitpid(s.pid, &status, WNOHANG) != s.pid) continue;
    s.pid = -1;
    return fmt::format("server {} exited on its own ({} {}; see server{}.log)", s.index,
                       WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                       s.index);
  }
  return std::nullopt;
}

void Harness::step_faults(Clock::time_point now) {
  // Undo faults whose time is up.
  for (Server& s : servers_) {
    if (s.back_at == Clock::time_point{} || now < s.back_at) continue;
    s.back_at = {};
    if (s.paused) {
      ::kill(s.pid, SIGCONT);
      s.paused = false;
      log(fmt::format("SIGCONT server {}", s.index));
    } else if (s.pid <= 0) {
      start(s);
      log(fmt::format("restarted server {}{}", s.index, s.wiped ? " (empty directory: recovery)" : ""));
    }
  }
  for (Server& s : servers_) {
    if (s.wiped && s.pid > 0 && !s.paused && scrape(s.metrics_port, "vsr_status") == std::optional<std::uint64_t>(0)) {
      s.wiped = false;
      log(fmt::format("server {} recovered (normal again)", s.index));
    }
  }
  for (auto it = cut_until_.begin(); it != cut_until_.end();) {
    if (now < it->second) {
      ++it;
      continue;
    }
    proxies_.at(it->first)->set_cut(false);
    log(fmt::format("healed {} -> {}", it->first.first, it->first.second));
    it = cut_until_.erase(it);
  }
  // A new fault, one in three steps.
  if (prng_.below(3) != 0) return;
  std::vector<std::string> kinds;
  std::istringstream in(f_.faults);
  for (std::string k; std::getline(in, k, ',');) kinds.push_back(k);
  const std::string kind = kinds[prng_.below(kinds.size())];
  const std::uint32_t f = (f_.replicas - 1) / 2;
  Server& s = servers_[prng_.below(servers_.size())];
  const auto hold = std::chrono::milliseconds(300 + prng_.below(1700));
  if (kind == "partition") {
    const std::uint32_t to = static_cast<std::uint32_t>(prng_.below(servers_.size()));
    if (to == s.index) return;
    const bool both = prng_.below(2) == 0;
    for (auto pair : {std::pair{s.index, to}, std::pair{to, s.index}}) {
      if (pair.first == to && !both) continue;
      proxies_.at(pair)->set_cut(true);
      cut_until_[pair] = now + hold;
    }
    ++counts_["partition"];
    return log(fmt::format("cut {} {} {} for {} ms", s.index, both ? "<->" : "->", to, hold.count()));
  }
  if (s.pid <= 0 || s.paused || s.wiped || faulty() >= f) return;
  s.back_at = now + hold;
  if (kind == "kill") {
    kill(s);
    ++counts_["kill"];
    log(fmt::format("SIGKILL server {} for {} ms", s.index, hold.count()));
  } else if (kind == "pause") {
    ::kill(s.pid, SIGSTOP);
    s.paused = true;
    ++counts_["pause"];
    log(fmt::format("SIGSTOP server {} for {} ms", s.index, hold.count()));
  } else if (kind == "wipe") {
    kill(s);
    std::error_code ec;
    std::filesystem::remove_all(s.dir, ec);
    s.wiped = true;
    ++counts_["wipe"];
    log(fmt::format("SIGKILL server {} and delete its directory, for {} ms", s.index, hold.count()));
  }
}

void Harness::heal_all() {
  for (auto& [pair, proxy] : proxies_) proxy->set_cut(false);
  cut_until_.clear();
  for (Server& s : servers_) {
    s.back_at = {};
    if (s.paused) ::kill(s.pid, SIGCONT);
    s.paused = false;
    if (s.pid <= 0) start(s);
  }
  log("healed: every proxy open, every server running");
}

bool Harness::wait_answer() {
  const auto healed = Clock::now();
  const std::string probe_log = f_.work_dir + "/probe.log";
  while (Clock::now() - healed < std::chrono::seconds(f_.answer_bound_s)) {
    // The proxies need the loop to forward while the probe runs: run it as a child
    // and pump until it exits.
    const pid_t pid = spawn(bin("vsr-kv"), {"--cluster", "1", "--replicas", client_replicas(), "--timeout-ms", "2000",
                                            "put", "probe", "1"}, probe_log);
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) pump(std::chrono::milliseconds(10));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      log(fmt::format("the cluster answered a write {:.2f} s after the heal",
                      std::chrono::duration<double>(Clock::now() - healed).count()));
      return true;
    }
  }
  return false;
}

bool Harness::converged() {
  const auto until = Clock::now() + std::chrono::seconds(f_.answer_bound_s);
  while (Clock::now() < until) {
    std::optional<std::uint64_t> first;
    bool same = true;
    for (const Server& s : servers_) {
      const auto status = scrape(s.metrics_port, "vsr_status");
      const auto commit = scrape(s.metrics_port, "vsr_commit");
      if (status != std::optional<std::uint64_t>(0) || !commit) same = false;
      if (commit && first && *commit != *first) same = false;
      if (!first) first = commit;
    }
    if (same) {
      log(fmt::format("every server is normal at commit {}", first.value_or(0)));
      return true;
    }
    pump(std::chrono::milliseconds(200));
  }
  for (const Server& s : servers_) {
    auto show = [&](const char* name) {
      const auto v = scrape(s.metrics_port, name);
      return v ? std::to_string(*v) : std::string("?");
    };
    log(fmt::format("server {}: status {} view {} op {} commit {}", s.index, show("vsr_status"), show("vsr_view"),
                    show("vsr_op"), show("vsr_commit")));
  }
  return false;
}

int Harness::run_all() {
  // A fresh run: the data directories of an earlier run in the same place go.
  for (std::uint32_t i = 0; i < f_.replicas; ++i) std::filesystem::remove_all(f_.work_dir + fmt::format("/data{}", i));
  std::filesystem::create_directories(f_.work_dir);
  log(fmt::format("{} servers, seed {}, faults {} for {} s, work dir {}", f_.replicas, f_.seed, f_.faults,
                  f_.fault_s, f_.work_dir));
  // Ports from the process id and the seed, so concurrent harnesses rarely collide.
  std::uint64_t ports = (static_cast<std::uint64_t>(::getpid()) << 32) ^ f_.seed;
  for (std::uint32_t i = 0; i < f_.replicas; ++i) {
    Server s;
    s.index = i;
    s.port = free_port(ports);
    s.metrics_port = free_port(ports);
    s.dir = f_.work_dir + fmt::format("/data{}", i);
    servers_.push_back(s);
  }
  for (std::uint32_t i = 0; i < f_.replicas; ++i) {
    for (std::uint32_t j = 0; j < f_.replicas; ++j) {
      if (i == j) continue;
      proxies_[{i, j}] = std::make_unique<vsr::cluster::Proxy>(
          io_, tcp::endpoint(asio::ip::address_v4::loopback(), servers_[j].port));
    }
  }
  for (Server& s : servers_) {
    std::vector<std::string> args{"format"};
    for (auto& a : common(s.index)) args.push_back(a);
    if (run(bin("vsr-server"), args, f_.work_dir + fmt::format("/server{}.log", s.index)) != 0) {
      log(fmt::format("FAIL: vsr-server format for server {} failed (see server{}.log)", s.index, s.index));
      return 1;
    }
  }
  for (Server& s : servers_) start(s);
  const std::string history = f_.work_dir + "/history.jsonl";
  const std::uint32_t bench_s = f_.fault_s + f_.heal_s;
  const pid_t bench = spawn(bin("vsr-kv"),
                            {"--cluster", "1", "--replicas", client_replicas(), "--timeout-ms", "1000", "bench",
                             "--clients", std::to_string(f_.clients), "--keys", "5", "--read-percent", "40",
                             "--duration-s", std::to_string(bench_s), "--history", history},
                            f_.work_dir + "/bench.log");
  const auto fault_end = Clock::now() + std::chrono::seconds(f_.fault_s);
  pump(std::chrono::milliseconds(500));
  bool ok = true;
  std::string why;
  while (Clock::now() < fault_end && ok) {
    step_faults(Clock::now());
    pump(std::chrono::milliseconds(150));
    if (auto gone = exited()) {
      ok = false;
      why = *gone;
    }
  }
  heal_all();
  if (ok && !wait_answer()) {
    ok = false;
    why = fmt::format("the cluster did not answer a write within {} s of the heal", f_.answer_bound_s);
  }
  int status = 0;
  while (::waitpid(bench, &status, WNOHANG) == 0) pump(std::chrono::milliseconds(20));
  if (ok && !(WIFEXITED(status) && (WEXITSTATUS(status) == 0))) {
    ok = false;
    why = "vsr-kv bench failed (see bench.log)";
  }
  if (auto gone = exited(); ok && gone) {
    ok = false;
    why = *gone;
  }
  if (ok && !converged()) {
    ok = false;
    why = "the servers did not all reach normal status and the same commit number";
  }
  if (ok) {
    const int check = run(bin("vsr-check"), {history}, f_.work_dir + "/check.log");
    std::ifstream c(f_.work_dir + "/check.log");
    std::stringstream text;
    text << c.rdbuf();
    log(fmt::format("vsr-check: {}", text.str().substr(0, text.str().find('\n'))));
    if (check != 0) {
      ok = false;
      why = fmt::format("the history is not linearizable (vsr-check exit {}; see check.log)", check);
    }
  }
  for (Server& s : servers_) kill(s);
  log(fmt::format("faults injected: {} kill, {} pause, {} wipe, {} partition", counts_["kill"], counts_["pause"],
                  counts_["wipe"], counts_["partition"]));
  if (!ok) {
    log("FAIL: " + why + fmt::format(" (logs in {})", f_.work_dir));
    return 1;
  }
  log("PASS");
  if (!f_.keep) std::filesystem::remove_all(f_.work_dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vsr-cluster-test: vsr-server processes on loopback under kills, pauses, wipes and partitions"};
  Flags f;
  app.add_option("--bin-dir", f.bin_dir, "Directory holding vsr-server, vsr-kv and vsr-check")->required();
  app.add_option("--replicas", f.replicas, "Servers")->check(CLI::Range(3u, 7u));
  app.add_option("--fault-s", f.fault_s, "Seconds of faults");
  app.add_option("--heal-s", f.heal_s, "Seconds of load after the heal");
  app.add_option("--answer-bound-s", f.answer_bound_s, "The cluster must answer within this after the heal");
  app.add_option("--clients", f.clients, "Requests in flight (vsr-kv bench --clients)");
  app.add_option("--seed", f.seed, "Seed of the fault schedule");
  app.add_option("--faults", f.faults, "Fault kinds: kill,pause,wipe,partition");
  app.add_option("--work-dir", f.work_dir, "Data directories, logs and the history (default: a temp dir)");
  app.add_flag("--keep", f.keep, "Keep the work directory after a pass");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; any usage error: 2, with CLI11's message
  }
  if (f.work_dir.empty()) {
    f.work_dir = (std::filesystem::temp_directory_path() / fmt::format("vsr-cluster-{}-{}", ::getpid(), f.seed)).string();
  }
  std::signal(SIGPIPE, SIG_IGN);
  return Harness(f).run_all();
}
