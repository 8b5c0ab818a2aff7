// The simulated replica host: vsr::ReplicaHost (a replica, its disk, the writes in
// flight and the messages waiting on them) wrapped with what only a simulation has:
// the invariant checker's hooks, crashes that lose the writes in flight, wipes and the
// wipe budget, restart from disk versus recovery after a wipe, and the simulated
// disk's latency. The simulator, the scenario driver and fuzz_replica all host their
// replicas with it, so the checker sees the same messages in all of them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "sim/invariants.hpp"
#include "sim/prng.hpp"
#include "sim/storage_faults.hpp"
#include "sim/swarm.hpp"
#include "sim/system.hpp"
#include "vsr/host.hpp"

namespace vsr::sim {

/// The wipe budget (VR's fault model): at most f replicas without a trustworthy disk
/// at a time. Wiping a replica that already needs recovery costs nothing more.
[[nodiscard]] inline bool wipe_allowed(bool already_needs_recovery, std::uint32_t needing_recovery,
                                       std::uint32_t max_faulty) {
  return already_needs_recovery || needing_recovery + 1 <= max_faulty;
}

/// The simulated device's capacity (allocated as written): base records up to 16 MiB,
/// a log of about 150,000 small KV entries; a run whose log outgrows it fails its
/// replica's device (and so its liveness) rather than the host.
inline constexpr std::uint64_t sim_device_bytes = std::uint64_t{64} << 20;

/// The simulated disk's latency for one write, drawn from `rng` with the swarm's disk
/// parameters: exponential around the mean, plus a rare stall.
[[nodiscard]] std::uint64_t draw_disk_latency_us(const SwarmParams& params, Prng& rng);

class SimHost {
 public:
  /// A host of replica `config.self`, down, on an empty disk, whose replica runs the
  /// machines `machines` makes; `checker` and `machines` must outlive it.
  SimHost(const Config& config, InvariantChecker& checker, const MachineFactory& machines)
      : device_(std::make_unique<MemoryDevice>(sim_device_bytes)),
        host_(config, *device_),
        checker_(&checker),
        machines_(&machines) {}

  /// Storage faults (sim/storage_faults.hpp) with the seed's rates, drawn from `rng`;
  /// `may_damage()` says whether damage keeps the atlas's budget (rule A2). Without
  /// this call, a crash loses every pending write and nothing else strikes the device.
  /// `params` and `rng` must outlive the host.
  void set_storage_faults(const SwarmParams& params, Prng& rng, std::function<bool()> may_damage) {
    fault_params_ = &params;
    fault_rng_ = &rng;
    may_damage_ = std::move(may_damage);
  }
  [[nodiscard]] MemoryDevice& device() { return *device_; }
  [[nodiscard]] const StorageFaultCounts& storage_faults() const { return fault_counts_; }
  /// Damaged since its last restart (counts in the wipe budget, rule A2).
  [[nodiscard]] bool damaged() const { return damaged_; }
  /// Marks the device damaged by hand (scenarios' storage commands).
  void mark_damaged() { damaged_ = true; }
  /// Crashes the replica (precondition: up) so that each write in flight is torn: its
  /// first sector lands, nothing after it (scenarios).
  void crash_tearing_writes();
  /// The next record written goes to a free place of the journal (scenarios).
  void misdirect_next_record() { misdirect_next_ = true; }

  [[nodiscard]] ReplicaHost& host() { return host_; }
  [[nodiscard]] const ReplicaHost& host() const { return host_; }
  [[nodiscard]] bool up() const { return host_.up(); }
  [[nodiscard]] Replica& replica() { return host_.replica(); }
  [[nodiscard]] const Replica& replica() const { return host_.replica(); }
  [[nodiscard]] const PersistedState& disk() const { return host_.disk(); }
  [[nodiscard]] bool needs_recovery() const { return host_.needs_recovery(); }
  /// One of the f replicas that may lack a trustworthy disk (the wipe budget): wiped
  /// and not yet recovered, or damaged by storage faults since its last restart.
  [[nodiscard]] bool lacks_trusted_disk() const { return needs_recovery() || damaged_; }
  [[nodiscard]] bool has_writes() const { return !host_.writes().empty(); }
  /// Counts crashes: an event scheduled for an earlier incarnation is stale.
  [[nodiscard]] std::uint64_t incarnation() const { return incarnation_; }

  /// A member of a brand new cluster, on a fresh machine.
  void boot() { host_.boot((*machines_)()); }

  /// The checker's view of the ops `out` reports executed (exactly-once); the first
  /// failure, if any. Call before carry_out, which moves the sends out.
  [[nodiscard]] std::optional<CheckFailure> check_committed(const Output& out);

  /// ReplicaHost::carry_out, with every message that leaves shown to the checker.
  /// With storage faults on, the batch's record may be misdirected first.
  template <typename Send>
  bool carry_out(Output& out, Send&& send) {
    if (misdirect_next_ && !out.persist.empty()) {
      misdirect_next_ = false;
      SwarmParams always;
      always.misdirect_probability = 1;
      Prng rng(host_.self().value);
      if (maybe_misdirect(*device_, host_.storage(), out.persist, atlas_, always, rng, fault_counts_)) damaged_ = true;
    }
    // may_damage_ counts the cluster's damaged hosts: asked only for a batch that
    // writes a record on a seed that misdirects writes.
    if (fault_params_ && fault_params_->misdirect_probability > 0 && !out.persist.empty() && may_damage_() &&
        maybe_misdirect(*device_, host_.storage(), out.persist, atlas_, *fault_params_, *fault_rng_, fault_counts_)) {
      damaged_ = true;
    }
    return host_.carry_out(out, shown_to_checker(send));
  }
  /// ReplicaHost::complete_oldest_write, with every released message shown to the checker.
  template <typename Send>
  void complete_oldest_write(Send&& send) {
    host_.complete_oldest_write(shown_to_checker(send));
  }
  /// Every write in flight completes, in order.
  template <typename Send>
  void complete_all_writes(Send&& send) {
    while (has_writes()) complete_oldest_write(send);
  }

  /// The checks after any input to the replica (InvariantChecker::after_step).
  [[nodiscard]] std::optional<CheckFailure> check_after_input() { return checker_->after_step(host_.replica()); }

  /// Crashes the replica (precondition: up): its writes in flight and the messages
  /// waiting on them are lost; with `wipe`, its disk too. The caller applies the wipe
  /// budget (wipe_allowed).
  void crash(bool wipe);

  /// Restarts the replica (precondition: down) on a fresh machine: in recovery, with
  /// the nonce `next_nonce()` returns, if its disk was wiped, no recovered state is
  /// durable yet, or storage found a faulty record; from its disk otherwise. Checks what
  /// storage read back (check_readback), then tells the checker (on_restart).
  template <typename NextNonce>
  [[nodiscard]] std::optional<CheckFailure> restart(NextNonce&& next_nonce) {
    const PersistedState reference = host_.disk();
    const std::vector<PersistDelta> lost = host_.lost_writes();
    const bool was_damaged = damaged_;
    const bool was_wiped = host_.needs_recovery();
    last_restart_ = host_.restart((*machines_)(), next_nonce);
    damaged_ = false;
    if (!last_restart_.from_disk) atlas_.clear();  // formatted for recovery
    if (host_.device_failure()) {
      return CheckFailure{"storage-device", host_.device_failure()->message};
    }
    if (auto f = check_readback(reference, lost, was_damaged, was_wiped)) return f;
    return checker_->on_restart(host_.replica(), !last_restart_.from_disk);
  }
  /// How the last restart went.
  [[nodiscard]] const RestartReport& last_restart() const { return last_restart_; }

  /// The journal's own consistency check, and that it holds what the replica has
  /// (every batch is written to storage when carried out, so after any input storage's
  /// image is the replica's log and view state). Call after the input's carry_out.
  [[nodiscard]] std::optional<CheckFailure> check_journal();

  /// The time a write queued at `now_us` with `latency_us` becomes durable: writes
  /// complete in queue order, so never before the previous one.
  std::uint64_t write_done_us(std::uint64_t now_us, std::uint64_t latency_us) {
    last_write_done_us_ = std::max(last_write_done_us_, now_us + latency_us);
    return last_write_done_us_;
  }
  /// After a restart at `now_us`: the new incarnation's first write waits for nothing.
  void reset_disk_clock(std::uint64_t now_us) { last_write_done_us_ = now_us; }

 private:
  /// The one definition of "a promise" for the checker: every message that leaves the
  /// host is shown to InvariantChecker::on_message_sent (which picks out the promise
  /// types: PrepareOk, StartViewChange, DoViewChange, StartView): `send_now` messages
  /// when they leave, `send_after_persist` ones when their write completes. Every one,
  /// not only the released ones, because a promise that leaves in `send_now`, before
  /// the state it speaks for is durable, is exactly the bug durable-promises exists to
  /// catch; shown only released messages, the check could never see it. Messages lost
  /// with a crash never left and are never shown.
  template <typename Send>
  auto shown_to_checker(Send& send) {
    return [this, &send](Outgoing&& o) {
      checker_->on_message_sent(host_.self(), o.message);
      send(std::move(o));
    };
  }

  /// No acknowledgement retracted: a restart from disk recovered the durable reference
  /// plus, at most, some of the writes the crash lost (in order); and storage reports a
  /// faulty record only when damage struck.
  [[nodiscard]] std::optional<CheckFailure> check_readback(const PersistedState& reference,
                                                           const std::vector<PersistDelta>& lost,
                                                           bool was_damaged, bool was_wiped) const;

  std::unique_ptr<MemoryDevice> device_;  // stable: host_ keeps a reference
  ReplicaHost host_;
  const SwarmParams* fault_params_ = nullptr;
  Prng* fault_rng_ = nullptr;
  std::function<bool()> may_damage_;
  StorageFaultCounts fault_counts_;
  DamageAtlas atlas_;
  bool damaged_ = false;
  bool misdirect_next_ = false;
  /// What check_journal last looked at.
  struct JournalKey {
    std::uint64_t incarnation = 0, written = 0, synced = 0;
    OpNumber op{}, log_base{};
    ViewNumber view{};
    bool operator==(const JournalKey&) const = default;
  };
  std::optional<JournalKey> last_journal_check_;
  RestartReport last_restart_;
  InvariantChecker* checker_;
  const MachineFactory* machines_;
  std::uint64_t incarnation_ = 0;
  std::uint64_t last_write_done_us_ = 0;
};

}  // namespace vsr::sim
