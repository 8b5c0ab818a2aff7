// The scenario driver: a cluster of real replicas (sim/sim_host.hpp) and clients whose
// messages are delivered by hand, one command at a time (sim/scenario/scenario.hpp
// describes the model: one queue in send order, persists at the end of each input
// unless held, partitions checked on delivery, the safety checks after every input).
// It narrates what happens (sim/scenario/narration.hpp) into the current output.
//
// Errors: a command that cannot run (a replica out of range or down, a busy client)
// throws ScriptError; a failed check throws ScriptFailure (sim/scenario/values.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "sim/history.hpp"
#include "sim/invariants.hpp"
#include "sim/prng.hpp"
#include "sim/sim_host.hpp"
#include "vsr/client.hpp"
#include "vsr/message.hpp"
#include "vsr/output.hpp"

namespace vsr::sim {

/// A message in the driver's queue.
struct QueuedMessage {
  Endpoint from;
  Endpoint to;
  Message message;
};

/// Which queued messages a `deliver` or `pending` command means: every one by default.
struct QueueFilter {
  std::optional<std::size_t> type;  // Message's variant index
  std::optional<Endpoint> from;
  std::optional<Endpoint> to;

  [[nodiscard]] bool matches(const QueuedMessage& m) const {
    return (!type || m.message.index() == *type) && (!from || m.from == *from) && (!to || m.to == *to);
  }
};

class ScenarioDriver {
 public:
  /// `replicas` replicas r0.. (booted: r0 is primary of view 0) and `clients` clients
  /// c1..; `seed` seeds `run`'s schedule and workload and the recovery nonces.
  ScenarioDriver(std::uint32_t replicas, std::uint32_t clients, std::uint64_t seed);
  ScenarioDriver(const ScenarioDriver&) = delete;  // the hosts point at checker_
  ScenarioDriver& operator=(const ScenarioDriver&) = delete;

  /// Where narration goes until the next call; null: nowhere.
  void set_output(std::vector<std::string>* lines) { out_ = lines; }

  [[nodiscard]] std::uint32_t size() const { return static_cast<std::uint32_t>(nodes_.size()); }
  [[nodiscard]] std::uint32_t client_count() const { return static_cast<std::uint32_t>(clients_.size()); }
  /// Throws ScriptError unless r names a replica.
  void check_replica(std::uint32_t r) const;

  // ---- messages (sim/scenario/driver.cpp)
  /// Client c submits `call` (it must be idle); prints the messages it sends.
  void request(std::uint32_t c, OpCall call);
  /// Delivers (or drops) the messages queued now that match, at most `count`.
  void deliver(const QueueFilter& filter, bool drop, std::optional<std::uint64_t> count);
  [[nodiscard]] std::size_t queued() const { return queue_.size(); }

  // ---- time
  void tick_replica(std::uint32_t r, std::uint64_t n);
  void tick_client(std::uint32_t c, std::uint64_t n);
  void tick_all(std::uint64_t n);
  /// The random schedule (see scenario_help): `rounds` rounds of one tick each.
  void run(std::uint64_t rounds, double drop, bool load);
  /// Exactly `ticks` rounds of: deliver everything, tick everyone; then says whether
  /// the cluster is quiet.
  void settle(std::uint64_t ticks);
  /// Delivers everything and ticks until quiet, at most `max_ticks` ticks.
  void stabilize(std::uint64_t max_ticks);

  // ---- faults
  /// Cuts every link between two groups; a replica in no group is alone.
  void partition(const std::vector<std::vector<std::uint32_t>>& groups);
  void cut_one_way(std::uint32_t from, std::uint32_t to);
  void heal();
  void crash(std::uint32_t r, bool wipe);
  void restart(std::uint32_t r);
  void hold_persist(std::uint32_t r);
  void flush_persist(std::uint32_t r);

  // ---- what it shows (sim/scenario/driver_views.cpp)
  void pending(const QueueFilter& filter) const;
  /// "queued 2 message(s): commit x2" for the messages queued after the first `before`.
  void print_queued_since(std::size_t before) const;
  void status() const;
  void log(std::uint32_t r) const;
  void history() const;
  /// Checks the client history; false when it is not linearizable.
  bool check() const;

 private:
  struct Node {
    explicit Node(SimHost h) : host(std::move(h)) {}
    SimHost host;       // replica, disk, writes in flight and the messages waiting on them
    bool hold = false;  // hold-persist: writes stay in flight until flush-persist
  };
  struct ClientNode {
    Client client;
    std::optional<HistoryRecorder::OpIndex> op;
    OpCall call;
  };

  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) const {
    if (out_ != nullptr) out_->push_back(indent_ + fmt::format(format, std::forward<Args>(args)...));
  }
  Node& up_node(std::uint32_t r);
  ClientNode& client(std::uint32_t c);
  [[nodiscard]] std::string cut_links() const;
  [[nodiscard]] bool quiet() const;

  // delivery
  void tick_round();
  void deliver_until_empty();
  void random_deliveries(double drop);
  void deliver_one(QueuedMessage m, const std::string& line, const std::string& indent);

  // clients
  void submit(ClientNode& node, std::uint32_t c, OpCall call);
  OpCall random_call();
  void pump_client(std::uint32_t c);
  void complete(std::uint32_t c, const ClientCompletion& done);

  // hosting
  /// Where replica r's messages go: the queue, in the order they leave.
  auto queue_from(std::uint32_t r);
  void absorb(std::uint32_t r);
  void narrate(std::uint32_t r, const Output& o);
  void release(std::uint32_t r);
  [[noreturn]] static void fail(const CheckFailure& f);

  InvariantChecker checker_;
  HistoryRecorder recorder_;
  Prng schedule_rng_;
  Prng workload_rng_;
  Prng nonce_rng_;
  std::vector<Node> nodes_;
  std::vector<ClientNode> clients_;
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  std::deque<QueuedMessage> queue_;
  Output scratch_;
  std::vector<std::string>* out_ = nullptr;
  std::string indent_;
  std::size_t last_sent_ = 0;  // messages the last client pump queued
  std::uint64_t now_ = 0;      // tick rounds so far (history times)
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t view_changes_ = 0;
  std::int64_t next_value_ = 100;
  std::map<std::string, std::int64_t> last_written_;
};

}  // namespace vsr::sim
