// One replica host: a replica, its disk (the durable log and state), the writes in
// flight and the messages waiting on them. Every driver carries a replica's output
// batch (vsr/output.hpp) out through this one class: the simulator, the scenario
// driver, the fuzzers, the unit tests' pump and, later, the real node.
//
// Pure (DESIGN.md): no clock, no device, no randomness. Time and delivery stay with
// the driver: it decides when the oldest write completes (at once, after a simulated
// latency, when a test says so, when a real fsync returns) and where a message goes
// (the `send` callable it passes in). The simulated disk latency, the wipe budget and
// the invariant checker's hooks wrap this class in sim/sim_host.hpp.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "vsr/assert.hpp"
#include "vsr/config.hpp"
#include "vsr/output.hpp"
#include "vsr/replica.hpp"
#include "vsr/state_machine.hpp"

namespace vsr {

/// One output batch's persist, in flight, and the messages that may leave only once it
/// (and every write queued before it) is durable.
struct WriteInFlight {
  PersistDelta delta;
  std::vector<Outgoing> after;
};

class ReplicaHost {
 public:
  /// A host whose replica is down, on an empty disk. `config` names the replica.
  explicit ReplicaHost(const Config& config) : config_(config) {}

  [[nodiscard]] const Config& config() const { return config_; }
  [[nodiscard]] ReplicaIndex self() const { return config_.self; }
  [[nodiscard]] bool up() const { return replica_.has_value(); }
  /// Precondition: up().
  [[nodiscard]] Replica& replica() {
    VSR_ASSERT(replica_.has_value(), "the replica is down");
    return *replica_;
  }
  [[nodiscard]] const Replica& replica() const {
    VSR_ASSERT(replica_.has_value(), "the replica is down");
    return *replica_;
  }
  /// What is durable: what a restart from disk gets back.
  [[nodiscard]] const PersistedState& disk() const { return disk_; }
  /// Writes queued and not yet durable, oldest first.
  [[nodiscard]] const std::deque<WriteInFlight>& writes() const { return writes_; }
  /// Writes in flight that change the disk (a batch may wait with an empty delta).
  [[nodiscard]] std::size_t unpersisted_writes() const;
  /// Messages waiting on the writes in flight.
  [[nodiscard]] std::size_t waiting_messages() const;
  /// True from a wipe until a recovered state is durable: the disk holds nothing this
  /// replica may restart from, and a restart must run recovery (§4.3).
  [[nodiscard]] bool needs_recovery() const { return needs_recovery_; }

  // ------------------------------------------------------------ life cycle

  /// A member of a brand new cluster, on an empty disk. Precondition: down.
  void boot(std::unique_ptr<StateMachine> machine);
  /// The process dies: the replica, its writes in flight and every message waiting on
  /// them are lost. The disk keeps what was durable.
  void crash();
  /// The disk is lost as well. Precondition: down. Until a recovered state is durable
  /// again, needs_recovery().
  void wipe();
  /// Restarts from what the disk holds. Preconditions: down, !needs_recovery().
  void restart_from_disk(std::unique_ptr<StateMachine> machine);
  /// Restarts in recovery (§4.3) with `nonce`, fresh for each recovery, on an empty
  /// disk. Precondition: down.
  void start_recovery(std::unique_ptr<StateMachine> machine, Nonce nonce);

  // ------------------------------------------------------------ output

  /// Carries out `out` (taken from the replica; the driver may read `committed`,
  /// `events` and `probes` first): every `send_now` message goes to `send` at once,
  /// and `persist` with the `send_after_persist` messages is queued as one write in
  /// flight, unless both are empty. `out`'s sends and persist are moved out. Returns
  /// whether a write was queued (the driver then decides when it completes).
  /// A message to the replica itself goes to `send` like any other: the driver must
  /// deliver it back, never drop it (output.hpp).
  /// `send` is called as send(Outgoing&&).
  template <typename Send>
  bool carry_out(Output& out, Send&& send) {
    for (Outgoing& o : out.send_now) send(std::move(o));
    out.send_now.clear();
    if (out.persist.empty() && out.send_after_persist.empty()) return false;
    writes_.push_back({std::move(out.persist), std::move(out.send_after_persist)});
    out.persist = PersistDelta{};
    out.send_after_persist.clear();
    return true;
  }

  /// The oldest write in flight becomes durable, then the messages that waited on it go
  /// to `send`, in the order the replica produced them. Precondition: a write in flight.
  template <typename Send>
  void complete_oldest_write(Send&& send) {
    std::vector<Outgoing> after = make_oldest_durable();
    for (Outgoing& o : after) send(std::move(o));
  }

 private:
  /// Applies the oldest write to the disk and returns the messages that waited on it.
  std::vector<Outgoing> make_oldest_durable();

  Config config_;
  std::optional<Replica> replica_;  // empty while down
  PersistedState disk_;
  std::deque<WriteInFlight> writes_;
  bool needs_recovery_ = false;
};

}  // namespace vsr
