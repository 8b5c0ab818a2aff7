#include "vsr/host.hpp"

#include <fmt/format.h>

namespace vsr {

namespace {
StorageOptions storage_options(const Config& config) {
  StorageOptions o;
  o.replica = config.self.value;
  o.replica_count = config.replica_count;
  o.ring_slots = config.journal_ring_slots;
  return o;
}
}  // namespace

ReplicaHost::ReplicaHost(const Config& config)
    : config_(config),
      own_device_(std::make_unique<MemoryDevice>(default_memory_device_bytes)),
      device_(own_device_.get()),
      storage_(*device_, storage_options(config)) {}

ReplicaHost::ReplicaHost(const Config& config, BlockDevice& device)
    : config_(config), device_(&device), storage_(device, storage_options(config)) {}

std::size_t ReplicaHost::unpersisted_writes() const {
  std::size_t n = 0;
  for (const WriteInFlight& w : writes_) n += w.delta.empty() ? 0 : 1;
  return n;
}

std::size_t ReplicaHost::waiting_messages() const {
  std::size_t n = 0;
  for (const WriteInFlight& w : writes_) n += w.after.size();
  return n;
}

void ReplicaHost::fail(Error e) {
  if (!failure_) failure_ = Error{fmt::format("replica {}: the device failed: {}", config_.self, e.message)};
  replica_.reset();
  writes_.clear();
}

std::uint64_t ReplicaHost::write_to_storage(const PersistDelta& delta) {
  auto seq = storage_.write(delta);
  if (!seq) {
    fail(seq.error());
    return 0;
  }
  return seq.value();
}

void ReplicaHost::boot(std::unique_ptr<StateMachine> machine) {
  VSR_ASSERT(!replica_.has_value(), "boot: the replica is up");
  if (auto formatted = storage_.format(); !formatted) return fail(formatted.error());
  disk_ = PersistedState{};
  replica_.emplace(Replica::fresh(config_, std::move(machine)));
}

void ReplicaHost::crash() {
  replica_.reset();
  lost_.clear();
  for (WriteInFlight& w : writes_) {
    if (!w.delta.empty()) lost_.push_back(std::move(w.delta));
  }
  writes_.clear();
  if (own_device_) own_device_->crash_losing_pending();
}

void ReplicaHost::sync_storage_then_crash() {
  VSR_ASSERT(replica_.has_value(), "sync_storage_then_crash: the replica is down");
  (void)storage_.sync();  // its outcome is moot: the host crashes next
  crash();
}

void ReplicaHost::wipe() {
  VSR_ASSERT(!replica_.has_value(), "wipe: the replica is up (crash it first)");
  if (own_device_) own_device_->wipe();
  disk_ = PersistedState{};
  lost_.clear();
  needs_recovery_ = true;
}

void count_storage_probes(const RestartReport& report, ProbeCounts& probes) {
  if (!report.storage) return;
  const RecoveryReport& s = *report.storage;
  auto hit = [&](Probe p, bool when) { probes[static_cast<std::size_t>(p)] += when ? 1 : 0; };
  hit(Probe::storage_torn_tail, s.torn_tail);
  hit(Probe::storage_faulty_record, s.faulty.has_value());
  hit(Probe::storage_header_from_ring, s.copies_repaired > 0);
  hit(Probe::storage_ring_rewritten, s.ring_copies_missing > 0);
  hit(Probe::storage_superblock_copy_bad, s.superblock_copies_valid < superblock_sectors);
}

bool ReplicaHost::try_restart_from_disk(std::unique_ptr<StateMachine>& machine, RestartReport& report) {
  VSR_ASSERT(!replica_.has_value(), "restart: the replica is up (crash it first)");
  auto recovered = storage_.recover();
  if (!recovered) {
    report.unreadable = recovered.error();
    return false;
  }
  report.storage = recovered.value().report;
  if (recovered.value().report.faulty) return false;
  disk_ = std::move(recovered.value().state);
  lost_.clear();
  replica_.emplace(Replica::restart(config_, std::move(machine), disk_));
  report.from_disk = true;
  return true;
}

void ReplicaHost::restart_from_disk(std::unique_ptr<StateMachine> machine) {
  VSR_ASSERT(!needs_recovery_, "restart: the disk was wiped; the replica must run recovery");
  RestartReport report;
  const bool ok = try_restart_from_disk(machine, report);
  VSR_ASSERT(ok, fmt::format("restart from disk: {}",
                             report.unreadable ? report.unreadable->message
                             : report.storage && report.storage->faulty ? report.storage->faulty->why
                                                                        : std::string("?")));
}

void ReplicaHost::start_recovery(std::unique_ptr<StateMachine> machine, Nonce nonce) {
  VSR_ASSERT(!replica_.has_value(), "recovery: the replica is up (crash it first)");
  // Recovery (§4.3) starts from an empty disk, also when it is the second try. A
  // replica that crashed again before it trusted its disk (needs_recovery(), see
  // make_oldest_durable) has on disk a prefix of the writes it made since the wipe: the
  // log and view it adopted from the primary's RecoveryResponse, perhaps more (in
  // fuzz_replica's finding 9b84d649: op 1 in view 3, then the state of a view change to
  // view 4 it had voted in), but never the write that made it trust its disk again.
  // The recovery's first append assumes an empty log, so that prefix must go. Dropping
  // it is safe: the paper's replicas have no disk at all, every restart is a recovery,
  // and its argument needs only that at most f replicas have failed at once. A replica
  // that needs recovery is one of those f (the wipe budget counts it) for as long as
  // the flag is set, promises it sent meanwhile included, so forgetting its disk again
  // is the paper's own case; recovery then rebuilds it from a quorum's responses (the
  // current primary's log among them), never from its own disk, and its new nonce
  // makes every response to the first try useless.
  // Issue 17: a replica whose storage holds a faulty record comes here too, and is one
  // of those f for the same reason (the simulator's fault atlas budgets it).
  if (auto formatted = storage_.format(); !formatted) return fail(formatted.error());
  disk_ = PersistedState{};
  lost_.clear();
  needs_recovery_ = true;
  replica_.emplace(Replica::recovering(config_, std::move(machine), nonce));
}

std::vector<Outgoing> ReplicaHost::make_oldest_durable() {
  VSR_ASSERT(!writes_.empty(), "no write in flight to complete");
  if (storage_.synced_seq() < writes_.front().seq) {
    if (auto synced = storage_.sync(); !synced) {
      fail(synced.error());
      return {};
    }
    ++syncs_;
  }
  ++writes_completed_;
  WriteInFlight w = std::move(writes_.front());
  writes_.pop_front();
  apply_delta(disk_, w.delta);
  // A recovered replica trusts its disk again once a state write completes while it is
  // normal: its view and the log it adopted are durable from then on.
  if (needs_recovery_ && w.delta.state && replica_->status() == StatusKind::normal) {
    needs_recovery_ = false;
  }
  return std::move(w.after);
}

}  // namespace vsr
