// One replica host: a replica, its storage (the engine of vsr/storage.hpp over a block
// device: the durable log and state), the writes in flight and the messages waiting on
// them. Every driver carries a replica's output
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
#include "vsr/memory_device.hpp"
#include "vsr/replica.hpp"
#include "vsr/state_machine.hpp"
#include "vsr/storage.hpp"

namespace vsr {

/// One output batch's persist, in flight, and the messages that may leave only once it
/// (and every write queued before it) is durable.
struct WriteInFlight {
  PersistDelta delta;
  std::vector<Outgoing> after;
  std::uint64_t seq = 0;  // the storage record it was written as (Storage::write)
};

/// The capacity of the in-memory device a host makes when it is given none (allocated
/// as it is written): a base record (a whole log, up to max_log_bytes) takes at most a
/// quarter of the journal, and this leaves room for the largest.
inline constexpr std::uint64_t default_memory_device_bytes = std::uint64_t{320} << 20;

/// How a restart went (ReplicaHost::restart).
struct RestartReport {
  bool from_disk = false;  // restarted from what storage recovered; else recovery (§4.3)
  /// Storage's findings, when the device was read (not after a wipe).
  std::optional<RecoveryReport> storage;
  /// Why the device could not be read at all (no valid superblock...), if so.
  std::optional<Error> unreadable;
};

/// Adds the storage.* probes (vsr/probe.hpp) what `report` found hits to `probes`.
void count_storage_probes(const RestartReport& report, ProbeCounts& probes);

class ReplicaHost {
 public:
  /// A host whose replica is down, on an empty in-memory device (a crash loses its
  /// pending writes). `config` names the replica.
  explicit ReplicaHost(const Config& config);
  /// The same on `device`, which must outlive the host; its driver decides what a crash
  /// does to it (sim/storage_faults.hpp tears writes; a real file keeps what the OS kept).
  ReplicaHost(const Config& config, BlockDevice& device);

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
  /// What is durable, as the completed writes made it (the reference a restart's
  /// recovered state is checked against; it may recover more: storage syncs every
  /// record written, so writes still in flight may be durable too).
  [[nodiscard]] const PersistedState& disk() const { return disk_; }
  [[nodiscard]] const Storage& storage() const { return storage_; }
  /// The deltas of the writes the last crash lost (not completed), oldest first.
  [[nodiscard]] const std::vector<PersistDelta>& lost_writes() const { return lost_; }
  /// Set once the device failed (a write or sync error): the replica is down for good.
  [[nodiscard]] const std::optional<Error>& device_failure() const { return failure_; }
  /// Writes completed (made durable) since the host was made, and the storage syncs
  /// that made them so: one sync covers every write queued before it (group commit),
  /// so with writes in flight together the first exceeds the second.
  [[nodiscard]] std::uint64_t writes_completed() const { return writes_completed_; }
  [[nodiscard]] std::uint64_t syncs() const { return syncs_; }
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

  /// A member of a brand new cluster: formats the device (erasing it). Precondition: down.
  void boot(std::unique_ptr<StateMachine> machine);
  /// The process dies: the replica, its writes in flight and every message waiting on
  /// them are lost. The disk keeps what was durable.
  void crash();
  /// Starts syncing storage as a completing write would, but completes nothing: no
  /// message leaves and the durable reference stays. For drivers that cut the power in
  /// the middle of that sync (the simulator arms MemoryDevice::cut_power_after first)
  /// and crash() the host right after. Precondition: up.
  void sync_storage_then_crash();
  /// The disk is lost as well (the device is erased when it is the host's own; a
  /// driver's device, the driver erases). Precondition: down. Until a recovered state
  /// is durable again, needs_recovery().
  void wipe();
  /// Restarts (precondition: down). Unless needs_recovery(), storage recovers the
  /// device and the replica restarts from what it read. If the device was wiped, holds
  /// a faulty record (storage.hpp: damage that may hide a promise) or cannot be read,
  /// the device is formatted and the replica runs recovery (§4.3) with the nonce
  /// `next_nonce()` returns: it then votes for nothing until it holds the current
  /// primary's log, so it never vouches for what it could not read.
  template <typename NextNonce>
  RestartReport restart(std::unique_ptr<StateMachine> machine, NextNonce&& next_nonce) {
    RestartReport report;
    if (!needs_recovery_ && try_restart_from_disk(machine, report)) return report;
    start_recovery(std::move(machine), Nonce(next_nonce()));
    return report;
  }
  /// Restarts from what the disk holds. Preconditions: down, !needs_recovery(), and
  /// the device recovers without a faulty record (asserted).
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
    const std::uint64_t seq = write_to_storage(out.persist);
    if (failure_) return false;
    writes_.push_back({std::move(out.persist), std::move(out.send_after_persist), seq});
    out.persist = PersistDelta{};
    out.send_after_persist.clear();
    return true;
  }

  /// The oldest write in flight becomes durable (storage syncs it, rule D1), then the
  /// messages that waited on it go to `send`, in the order the replica produced them.
  /// Precondition: a write in flight. On a device failure nothing is sent.
  template <typename Send>
  void complete_oldest_write(Send&& send) {
    std::vector<Outgoing> after = make_oldest_durable();
    for (Outgoing& o : after) send(std::move(o));
  }

 private:
  /// Writes a batch's persist as a storage record; its number (0 on a device failure).
  std::uint64_t write_to_storage(const PersistDelta& delta);
  /// Records a device failure: the replica goes down for good.
  void fail(Error e);
  bool try_restart_from_disk(std::unique_ptr<StateMachine>& machine, RestartReport& report);

  /// Applies the oldest write to the disk and returns the messages that waited on it.
  std::vector<Outgoing> make_oldest_durable();

  Config config_;
  std::unique_ptr<MemoryDevice> own_device_;  // when the host was given no device
  BlockDevice* device_;
  Storage storage_;
  std::optional<Replica> replica_;  // empty while down
  PersistedState disk_;
  std::vector<PersistDelta> lost_;
  std::optional<Error> failure_;
  std::deque<WriteInFlight> writes_;
  bool needs_recovery_ = false;
  std::uint64_t writes_completed_ = 0;
  std::uint64_t syncs_ = 0;
};

}  // namespace vsr
