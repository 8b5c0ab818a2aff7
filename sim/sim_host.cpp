#include "sim/sim_host.hpp"

#include <fmt/format.h>

namespace vsr::sim {

std::uint64_t draw_disk_latency_us(const SwarmParams& params, Prng& rng) {
  std::uint64_t latency =
      params.disk_latency_mean_us == 0
          ? 0
          : static_cast<std::uint64_t>(rng.exponential(static_cast<double>(params.disk_latency_mean_us)));
  if (rng.chance(params.disk_slow_probability)) {
    latency += static_cast<std::uint64_t>(rng.exponential(static_cast<double>(params.disk_slow_mean_us)));
  }
  return latency;
}

std::optional<CheckFailure> SimHost::check_committed(const Output& out) {
  std::optional<CheckFailure> first;
  for (const Committed& c : out.committed) {
    auto f = checker_->on_committed(host_.self(), c);
    if (f && !first) first = std::move(f);
  }
  return first;
}

void SimHost::crash(bool wipe) {
  if (fault_params_ && host_.up() && has_writes() && fault_rng_->chance(fault_params_->torn_write_probability)) {
    // The power fails in the middle of the sync of the writes in flight (D1-D3 in
    // vsr/storage.hpp order its device calls): the first few calls go through.
    device_->cut_power_after(fault_rng_->below(6));
    ++fault_counts_.sync_cut;
    host_.sync_storage_then_crash();
  } else {
    host_.crash();
  }
  if (fault_params_) {
    crash_device(*device_, *fault_params_, *fault_rng_, fault_counts_);
  } else {
    device_->crash_losing_pending();
  }
  ++incarnation_;
  if (wipe) {
    device_->wipe();
    host_.wipe();
    atlas_.clear();
    damaged_ = false;
    return;
  }
  if (fault_params_ && may_damage_() &&
      damage_at_rest(*device_, host_.storage(), atlas_, *fault_params_, *fault_rng_, fault_counts_)) {
    damaged_ = true;
  }
}

void SimHost::crash_tearing_writes() {
  host_.crash();
  device_->crash([](const MemoryDevice::Pending&) { return std::uint64_t{1}; });
  ++incarnation_;
  fault_counts_.torn += 1;
}

std::optional<CheckFailure> SimHost::check_readback(const PersistedState& reference,
                                                    const std::vector<PersistDelta>& lost,
                                                    bool was_damaged, bool was_wiped) const {
  const RestartReport& r = last_restart_;
  const std::uint32_t self = host_.self().value;
  if (!r.from_disk) {
    if (was_wiped || was_damaged) return std::nullopt;
    return CheckFailure{"storage-recovers",
                        fmt::format("replica {}: storage could not restart it from its disk, and no "
                                    "damage struck: {}",
                                    self,
                                    r.unreadable               ? r.unreadable->message
                                    : r.storage && r.storage->faulty ? r.storage->faulty->why
                                                                     : std::string("?"))};
  }
  PersistedState candidate = reference;
  if (host_.disk() == candidate) return std::nullopt;
  for (const PersistDelta& d : lost) {
    apply_delta(candidate, d);
    if (host_.disk() == candidate) return std::nullopt;
  }
  const PersistedState& got = host_.disk();
  return CheckFailure{"storage-durable",
                      fmt::format("replica {} restarted from disk with ops {}..{} in view {}, but ops "
                                  "{}..{} in view {} were durable (an acknowledgement retracted)",
                                  self, got.log_base.op.next(), got.last_op(), got.state.view,
                                  reference.log_base.op.next(), reference.last_op(), reference.state.view)};
}

std::optional<CheckFailure> SimHost::check_journal() {
  if (!host_.up()) return std::nullopt;
  const Storage& storage = host_.storage();
  // Storage changes only by writing or syncing, which move its counters; the replica's
  // side by its log and view. An input that moved neither needs no second look.
  const Replica& r = host_.replica();
  const JournalKey key{incarnation_, storage.written_seq(), storage.synced_seq(), r.op(), r.log_base(), r.view()};
  if (key == last_journal_check_) return std::nullopt;
  last_journal_check_ = key;
  if (auto ok = storage.check(); !ok) {
    return CheckFailure{"journal-consistent", fmt::format("replica {}: {}", host_.self(), ok.error().message)};
  }
  const PersistedState& image = storage.image();
  const bool same_log = image.log_base.op == r.log_base() && image.last_op() == r.op() &&
                        (r.op() == r.log_base() || image.log.back().checksum == r.checksum_at(r.op()));
  if (!same_log || image.state.view != r.view()) {
    return CheckFailure{"journal-consistent",
                        fmt::format("replica {}: its journal holds ops {}..{} in view {}, the replica "
                                    "ops {}..{} in view {}",
                                    host_.self(), image.log_base.op.next(), image.last_op(), image.state.view,
                                    r.log_base().next(), r.op(), r.view())};
  }
  return std::nullopt;
}

}  // namespace vsr::sim
