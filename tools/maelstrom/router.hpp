// vsr-maelstrom-router: a small stand-in for Maelstrom, to test vsr-maelstrom without
// it. It launches N real node processes, routes their stdout lines to the right stdin
// with a seeded random latency, cuts links according to a partition schedule (new
// partitions during the first part of the run, everything healed for the tail), plays
// concurrent lin-kv clients (read, write, cas), records their history in the
// vsr-check format, and checks it with the linearizability checker in process.
//
// With --kill-period-s (and --data-dir, which it requires) it also SIGKILLs one node at
// a time during the fault window (a minority at most) and restarts it from its data file
// with init again; messages to a dead node are dropped, and a client whose request was
// in flight at a killed node records it as info when its timeout passes (no reply
// comes), never as fail.
//
// It is a real-time test: the seed fixes the schedule and the workload's choices, but
// the OS schedules the processes, so two runs of one seed differ in detail.
//
// Exit codes: 0 pass; 1 not linearizable; 2 usage or start-up error; 3 checker
// verdict unknown (bound reached); 4 share of ok ops after the heal below the bound;
// 5 a node died, answered nonsense, or failed the bad-input probes.
//
// The router's parts: router_net.cpp (starting and stopping the nodes, routing,
// partitions), router_clients.cpp (the lin-kv clients and their history),
// router_report.cpp (the summary and the exit code), router.cpp (the run and the
// command line); node_process.hpp and partitions.hpp are its building blocks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/history.hpp"
#include "sim/linearizability.hpp"
#include "sim/prng.hpp"
#include "tools/maelstrom/node_process.hpp"
#include "tools/maelstrom/partitions.hpp"

namespace vsr::maelstrom::router {

using nlohmann::json;
using vsr::sim::Prng;

/// The command line (router.cpp's main describes each option).
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
  double kill_period_s = 0;  // 0: no kills
  std::string data_dir;      // empty: nodes keep nothing on disk
};

using Clock = std::chrono::steady_clock;

inline std::uint64_t micros_since(Clock::time_point start) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

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

/// A line on its way to a node or a client, due at `due_us` (ties: in posting order).
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

/// The whole test: start the nodes, play the clients while routing, stop, check, report.
class Router {
 public:
  explicit Router(Options o)
      : o_(std::move(o)),
        net_rng_(o_.seed ^ 0x4e45'5400'0000'0002ULL),
        load_rng_(o_.seed ^ 0x4c4f'4144'0000'0003ULL),
        kill_rng_(o_.seed ^ 0x4b49'4c4c'0000'0004ULL) {}

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
  [[nodiscard]] std::vector<std::string> node_args() const;
  /// Kills and restarts nodes (--kill-period-s); checks restarted nodes answer init.
  void kill_and_restart();
  void kill_node(std::size_t i);
  void restart_node(std::size_t i);

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
  Prng kill_rng_;
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
  std::uint64_t max_node_message_bytes_ = 0;  // the longest node-to-node line (JSON)
  std::uint64_t bad_replies_ = 0;
  std::uint64_t probes_ok_ = 0;
  std::uint64_t probes_sent_ = 0;
  std::vector<std::string> node_failures_;
  std::vector<std::string> partition_log_;  // partitions, heals, kills and restarts
  // kills (--kill-period-s)
  std::uint64_t next_kill_us_ = 0;
  std::uint64_t kills_ = 0;
  std::uint64_t restarts_ = 0;
  std::uint64_t dropped_dead_ = 0;  // lines for a node while it was dead
  struct PendingInit {
    std::size_t node = 0;
    std::uint64_t deadline_us = 0;
  };
  std::map<std::int64_t, PendingInit> restart_inits_;  // by init msg_id
};

}  // namespace vsr::maelstrom::router
