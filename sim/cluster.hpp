// One cluster of simulated replica hosts (sim/sim_host.hpp) and the one place that
// carries out their output and runs the safety checks after every input. Delivery and
// time are the driver's: the simulator's event queue, a scenario's hand-delivered queue
// or a fuzzer's byte tape. The cluster tells the driver, through ClusterDriver, what
// left a host and which writes wait for it to complete; the driver calls back in with
// the inputs (a message, a tick, a write completing, a crash, a restart).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "sim/invariants.hpp"
#include "sim/kv_system.hpp"
#include "sim/sim_host.hpp"
#include "vsr/config.hpp"
#include "vsr/message.hpp"
#include "vsr/output.hpp"

namespace vsr::sim {

/// What a Cluster asks of the driver that runs it. Calls come from inside the
/// cluster's input methods, in this order for one output batch: observe, then send
/// for each send_now message, then write_queued (if the batch queued a write).
class ClusterDriver {
 public:
  virtual ~ClusterDriver() = default;
  /// Replica `r` produced `out`; it has not been carried out yet (metrics, narration,
  /// trace). The driver must not call back into the cluster from here.
  virtual void observe(std::uint32_t r, const Output& out) = 0;
  /// A message left replica `r`'s host: a send_now message at once, the others when the
  /// write they waited on completed. A message to `r` itself must be delivered back,
  /// never dropped (vsr/output.hpp).
  virtual void send(std::uint32_t r, Outgoing&& o) = 0;
  /// Replica `r` queued a write; the driver completes it, later or from within this
  /// call, with Cluster::complete_oldest_write(r). Writes complete in queue order.
  virtual void write_queued(std::uint32_t r) = 0;
  /// The first safety check that failed. Called once; the cluster checks nothing more.
  virtual void check_failed(const CheckFailure& failure) = 0;
  /// Replica `r` restarted; `report` says how its storage recovery went (probes).
  virtual void restarted(std::uint32_t r, const RestartReport& report) {
    (void)r;
    (void)report;
  }
};

class Cluster {
 public:
  /// A cluster of `configs.size()` replicas, all down on empty disks; replica r runs
  /// with configs[r] (configs[r].self == r) and `system`'s state machine, whose
  /// invariant (if any) is checked after every input. `driver` and `system` must
  /// outlive the cluster.
  Cluster(std::vector<Config> configs, ClusterDriver& driver, const System& system = kv_system());
  Cluster(const Cluster&) = delete;  // the hosts point at checker_
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] std::uint32_t size() const { return static_cast<std::uint32_t>(hosts_.size()); }
  /// Precondition for every method taking `r`: r < size().
  [[nodiscard]] SimHost& host(std::uint32_t r) { return hosts_[r]; }
  [[nodiscard]] const SimHost& host(std::uint32_t r) const { return hosts_[r]; }
  [[nodiscard]] const Config& config(std::uint32_t r) const { return hosts_[r].host().config(); }
  [[nodiscard]] InvariantChecker& checker() { return checker_; }
  [[nodiscard]] const InvariantChecker& checker() const { return checker_; }
  [[nodiscard]] bool failed() const { return failed_; }

  /// Replicas whose disk was wiped and whose recovered state is not durable yet, or
  /// whose device storage faults damaged since their last restart (rule A2).
  [[nodiscard]] std::uint32_t needing_recovery() const;
  /// Whether crashing `r` may also wipe its disk within VR's fault model (at most f
  /// replicas without a trustworthy disk at a time).
  [[nodiscard]] bool wipe_allowed(std::uint32_t r) const;

  // ------------------------------------------------------------ inputs
  // Each carries out the output the input produced, then runs the checks.

  /// Boots `r` as a member of a brand new cluster. Precondition: down, never booted.
  void boot(std::uint32_t r);
  /// Delivers `m` to `r`. Precondition: up.
  void step(std::uint32_t r, const Message& m);
  /// One tick of `r`'s clock. Precondition: up.
  void tick(std::uint32_t r);
  /// The oldest write of `r` becomes durable; the messages waiting on it leave.
  /// Precondition: up, a write in flight.
  void complete_oldest_write(std::uint32_t r);
  /// Crashes `r` (precondition: up): its writes in flight and the messages waiting on
  /// them are lost; with `wipe` its disk too. The caller applies any wipe budget.
  void crash(std::uint32_t r, bool wipe) { hosts_[r].crash(wipe); }
  /// Restarts `r` (precondition: down): from its disk, or in recovery with the nonce
  /// `next_nonce()` returns if its disk was wiped. Checks the restart, then carries
  /// out the replica's first output.
  template <typename NextNonce>
  void restart(std::uint32_t r, NextNonce&& next_nonce) {
    auto f = hosts_[r].restart(next_nonce);
    driver_->restarted(r, hosts_[r].last_restart());
    if (f) {
      report(std::move(*f));
      return;
    }
    after_input(r);
  }

 private:
  void after_input(std::uint32_t r);
  void check_committed_durable();
  void check_disk(std::uint32_t r);
  void check_storage(std::uint32_t r);
  void check_machine(std::uint32_t r);
  void report(CheckFailure failure);

  ClusterDriver* driver_;
  const System* system_;
  InvariantChecker checker_;
  std::vector<SimHost> hosts_;
  Output scratch_;                      // reused for every output batch
  std::uint64_t durable_checked_ = 0;  // committed ops already checked by check_committed_durable
  bool failed_ = false;
};

}  // namespace vsr::sim
