#include "sim/cluster.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vsr/assert.hpp"

namespace vsr::sim {

Cluster::Cluster(std::vector<Config> configs, ClusterDriver& driver)
    : driver_(&driver), checker_(static_cast<std::uint32_t>(configs.size()), configs.at(0).max_message_bytes) {
  hosts_.reserve(configs.size());
  for (std::uint32_t r = 0; r < configs.size(); ++r) {
    VSR_ASSERT(configs[r].self.value == r, "configs[r] must name replica r");
    hosts_.emplace_back(configs[r], checker_);
  }
}

std::uint32_t Cluster::needing_recovery() const {
  return static_cast<std::uint32_t>(
      std::count_if(hosts_.begin(), hosts_.end(), [](const SimHost& h) { return h.needs_recovery(); }));
}

bool Cluster::wipe_allowed(std::uint32_t r) const {
  return sim::wipe_allowed(hosts_[r].needs_recovery(), needing_recovery(), config(r).max_faulty());
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
  if (failed_) return;
  if (auto f = host.check_after_input()) {
    report(std::move(*f));
    return;
  }
  check_committed_durable();
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
      const auto& log = h.disk().log;
      bool holds = log.size() >= op.value && entry_hash(log[op.value - 1]) == checker_.committed_hash(op);
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
