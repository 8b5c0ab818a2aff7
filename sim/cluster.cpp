#include "sim/cluster.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vsr/assert.hpp"

namespace vsr::sim {

Cluster::Cluster(std::vector<Config> configs, ClusterDriver& driver, const System& system)
    : driver_(&driver),
      system_(&system),
      checker_(static_cast<std::uint32_t>(configs.size()), configs.at(0).max_message_bytes) {
  VSR_ASSERT(system.make_machine != nullptr, "a system needs a machine factory");
  hosts_.reserve(configs.size());
  for (std::uint32_t r = 0; r < configs.size(); ++r) {
    VSR_ASSERT(configs[r].self.value == r, "configs[r] must name replica r");
    hosts_.emplace_back(configs[r], checker_, system.make_machine);
  }
}

std::uint32_t Cluster::needing_recovery() const {
  return static_cast<std::uint32_t>(
      std::count_if(hosts_.begin(), hosts_.end(), [](const SimHost& h) { return h.lacks_trusted_disk(); }));
}

bool Cluster::wipe_allowed(std::uint32_t r) const {
  return sim::wipe_allowed(hosts_[r].lacks_trusted_disk(), needing_recovery(), config(r).max_faulty());
}

void Cluster::boot(std::uint32_t r) {
  hosts_[r].boot();
  after_input(r);
}

void Cluster::step(std::uint32_t r, const Message& m) {
  hosts_[r].replica().step(m);
  after_input(r);
}

void Cluster::tick(std::uint32_t r) {
  hosts_[r].replica().tick();
  after_input(r);
}

void Cluster::complete_oldest_write(std::uint32_t r) {
  hosts_[r].complete_oldest_write([&](Outgoing&& o) { driver_->send(r, std::move(o)); });
  check_disk(r);
  check_storage(r);
}

/// Issue 17: the device has not failed, and the journal of an up replica passes its own
/// check and holds what the replica has.
void Cluster::check_storage(std::uint32_t r) {
  if (failed_) return;
  if (const auto& failure = hosts_[r].host().device_failure()) {
    report(CheckFailure{"storage-device", failure->message});
    return;
  }
  if (auto f = hosts_[r].check_journal()) report(std::move(*f));
}

/// Issue 15: a disk never holds a compacted log without the checkpoint that covers
/// its discarded prefix (the discard and its checkpoint are durable together, or the
/// checkpoint first).
void Cluster::check_disk(std::uint32_t r) {
  if (failed_) return;
  const PersistedState& disk = hosts_[r].disk();
  const OpNumber covered = disk.checkpoint ? disk.checkpoint->op : OpNumber{};
  if (disk.log_base.op > covered) {
    report(CheckFailure{"prefix-discarded-durably",
                        fmt::format("replica {}'s disk holds a log from op {} but its checkpoint "
                                    "covers only ops up to {}",
                                    r, disk.log_base.op.next(), covered)});
  }
}

/// After every input: the exactly-once check on what the batch executed, the driver's
/// look at it, the batch carried out, then the checks on the replica's new state.
void Cluster::after_input(std::uint32_t r) {
  SimHost& host = hosts_[r];
  host.replica().take_output(scratch_);
  if (!failed_) {
    if (auto f = host.check_committed(scratch_)) report(std::move(*f));
  }
  driver_->observe(r, scratch_);
  if (host.carry_out(scratch_, [&](Outgoing&& o) { driver_->send(r, std::move(o)); })) driver_->write_queued(r);
  check_storage(r);
  if (failed_ || !host.up()) return;
  if (auto f = host.check_after_input()) {
    report(std::move(*f));
    return;
  }
  if (system_->check_machine) check_machine(r);
  check_committed_durable();
}

/// The system's own invariant on the replica's state machine (System::check_machine).
void Cluster::check_machine(std::uint32_t r) {
  std::string why = system_->check_machine(hosts_[r].replica().machine());
  if (!why.empty()) report(CheckFailure{"state-machine", fmt::format("replica {}'s {} machine: {}", r, system_->name, why)});
}

/// An op, when first committed anywhere, is on the disks of a quorum (replicas wiped
/// and not yet recovered count as holding it: they may have). A commit that rests on
/// an acknowledgement the disk does not back is caught here, before any crash or view
/// change has to expose it.
void Cluster::check_committed_durable() {
  const std::uint32_t quorum = size() / 2 + 1;
  for (; !failed_ && durable_checked_ < checker_.committed_ops(); ++durable_checked_) {
    OpNumber op(durable_checked_ + 1);
    std::uint32_t holders = 0;
    for (const SimHost& h : hosts_) {
      const PersistedState& disk = h.disk();
      // An op at or below the disk's log base is in its stored checkpoint (which the
      // prefix-discarded-durably check ties to that base). An op first committed by a
      // replica that compacted it in the same step has no known digest yet (0): any
      // entry there counts.
      const std::uint64_t want = checker_.committed_hash(op);
      bool holds = op <= disk.log_base.op ||
                   (op <= disk.last_op() &&
                    (want == 0 || entry_hash(disk.log[op.value - disk.log_base.op.value - 1]) == want));
      if (holds || h.needs_recovery()) ++holders;
    }
    if (holders < quorum) {
      report(CheckFailure{"committed-op-durable",
                          fmt::format("op {} was committed while only {} replica disk(s) held it; a quorum is {}",
                                      op, holders, quorum)});
    }
  }
}

void Cluster::report(CheckFailure failure) {
  if (failed_) return;
  failed_ = true;
  driver_->check_failed(failure);
}

}  // namespace vsr::sim
