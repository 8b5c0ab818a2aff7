// The scenario driver: a cluster of real replicas (sim/cluster.hpp, which carries out
// their output and runs the safety checks after every input) and clients, whose
// messages are delivered by hand, one command at a time (sim/scenario/scenario.hpp
// describes the model: one queue in send order, persists at the end of each input
// unless held, partitions checked on delivery). It narrates what happens
// (sim/scenario/narration.hpp) into the current output.
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
#include "sim/cluster.hpp"
#include "sim/invariants.hpp"
#include "sim/prng.hpp"
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

/// Protocol bounds a scenario's `cluster` command may set (the rest stay Config's defaults).
struct ScenarioBounds {
  std::uint32_t checkpoint_interval_ops = 0;
  std::uint32_t log_retention_ops = Config{}.log_retention_ops;
  std::uint32_t max_client_sessions = 0;
};

class ScenarioDriver final : private ClusterDriver {
 public:
  /// `replicas` replicas r0.. (booted: r0 is primary of view 0) and `clients` clients
  /// c1..; `seed` seeds `run`'s schedule and workload and the recovery nonces.
  /// `bounds`: protocol bounds of every replica; with bounds.max_client_sessions, the
  /// clients open sessions (ClientConfig::open_sessions).
  ScenarioDriver(std::uint32_t replicas, std::uint32_t clients, std::uint64_t seed,
                 ScenarioBounds bounds = {});
  ScenarioDriver(const ScenarioDriver&) = delete;  // cluster_ points at it
  ScenarioDriver& operator=(const ScenarioDriver&) = delete;

  /// Where narration goes until the next call; null: nowhere.
  void set_output(std::vector<std::string>* lines) { out_ = lines; }

  [[nodiscard]] std::uint32_t size() const { return cluster_.size(); }
  [[nodiscard]] std::uint32_t client_count() const { return static_cast<std::uint32_t>(clients_.size()); }
  /// Throws ScriptError unless r names a replica.
  void check_replica(std::uint32_t r) const;

  /// Client c submits `call` (it must be idle); prints the messages it sends
  /// (sim/scenario/driver_clients.cpp).
  void request(std::uint32_t c, OpCall call);

  // ---- messages, time, faults (sim/scenario/driver.cpp)
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
  /// Storage faults (issue 17) on down replica `r`'s device: `how` is corrupt (a bit
  /// flip in the body of the journal record holding op `op`) or latent (that body's
  /// sector fails every read). The device counts as damaged (the wipe budget).
  void damage(std::uint32_t r, std::string_view how, OpNumber op);
  /// Crashes up replica `r` so that each write in flight is torn: only its header
  /// sector lands (a write of one sector lands whole).
  void crash_torn(std::uint32_t r);
  /// The next journal write of up replica `r` lands at a free place of the journal
  /// instead of its own.
  void misdirect_next_write(std::uint32_t r);

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
  /// A restart under way: its line comes before what the restarted replica does.
  struct Restart {
    std::uint32_t replica = 0;
    bool recover = false;
  };
  /// A client's history process after an eviction: its previous one plus this.
  static constexpr std::int64_t evicted_process_step = 1'000'000;
  void complete_evicted(std::uint32_t c);
  struct ClientNode {
    Client client;
    std::optional<HistoryRecorder::OpIndex> op;
    OpCall call;
    std::int64_t process = 0;  // its history process: a new one after each eviction
  };

  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) const {
    if (out_ != nullptr) out_->push_back(indent_ + fmt::format(format, std::forward<Args>(args)...));
  }
  SimHost& up_host(std::uint32_t r);
  ClientNode& client(std::uint32_t c);
  [[nodiscard]] std::string cut_links() const;
  [[nodiscard]] bool quiet() const;

  // delivery
  void tick_round();
  void deliver_until_empty();
  void random_deliveries(double drop);
  void deliver_one(QueuedMessage m, const std::string& line, const std::string& indent);

  // clients (sim/scenario/driver_clients.cpp)
  void submit(ClientNode& node, std::uint32_t c, OpCall call);
  OpCall random_call();
  void pump_client(std::uint32_t c);
  void complete(std::uint32_t c, const ClientCompletion& done);

  // hosting: the cluster's inputs, each followed by stop_if_failed, and its callbacks
  void step(std::uint32_t r, const Message& m);
  void tick(std::uint32_t r);
  void release(std::uint32_t r);
  void say_restarted();
  void stop_if_failed() const;
  void narrate(std::uint32_t r, const Output& o);
  void observe(std::uint32_t r, const Output& out) override;
  void send(std::uint32_t r, Outgoing&& o) override;
  void write_queued(std::uint32_t r) override;
  void check_failed(const CheckFailure& f) override { failure_ = f; }

  Cluster cluster_;
  std::vector<bool> hold_;  // [replica] hold-persist: writes stay in flight until flush-persist
  std::optional<CheckFailure> failure_;
  std::optional<Restart> restarting_;
  HistoryRecorder recorder_;
  Prng schedule_rng_;
  Prng workload_rng_;
  Prng nonce_rng_;
  std::vector<ClientNode> clients_;
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  std::deque<QueuedMessage> queue_;
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
