// Storage faults (issue 17): what the simulator does to a replica's device, within the
// fault atlas (sim/swarm.cpp's fault_model_text prints it):
//   A1. Per record, never both its journal copy (header and body) and its ring copy
//       damaged; never both copies of a superblock slot. So every durable record keeps
//       a valid witness, and recovery (vsr/storage.hpp) tells damage from a torn tail.
//   A2. Damage strikes a replica only within the wipe budget: it counts as one of the
//       f replicas that may lack a trustworthy disk until it restarts (and, if storage
//       found the damage, until recovery rebuilt it). So no op is damaged on a quorum.
// Torn writes need no budget: only writes never synced tear, and they promised nothing.
// Every choice is drawn from the seed's storage stream.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>

#include "sim/prng.hpp"
#include "sim/swarm.hpp"
#include "vsr/memory_device.hpp"
#include "vsr/storage.hpp"

namespace vsr::sim {

/// What the atlas has damaged on one device (since its last format).
class DamageAtlas {
 public:
  enum class Side : std::uint8_t { journal = 1, ring = 2 };
  /// Whether damaging `side` of record `seq` keeps rule A1.
  [[nodiscard]] bool may_damage(std::uint64_t seq, Side side) const;
  void damage(std::uint64_t seq, Side side) { sides_[seq] |= static_cast<std::uint8_t>(side); }
  [[nodiscard]] bool may_damage_superblock(std::uint32_t copy) const;
  void damage_superblock(std::uint32_t copy) { superblock_.insert(copy); }
  /// Forgets records below `first_live` (no longer read by recovery).
  void prune(std::uint64_t first_live);
  /// The device was formatted or wiped: nothing on it is damaged.
  void clear() {
    sides_.clear();
    superblock_.clear();
  }

 private:
  std::map<std::uint64_t, std::uint8_t> sides_;
  std::set<std::uint32_t> superblock_;
};

/// The counts of each fault that struck, for run summaries and probes.
struct StorageFaultCounts {
  std::uint64_t torn = 0;
  std::uint64_t corrupted = 0;
  std::uint64_t latent = 0;
  std::uint64_t misdirected = 0;
  std::uint64_t sync_cut = 0;  // crashes in the middle of a sync
};

/// Power loss on `device`: each pending write lands whole, not at all, or torn.
void crash_device(MemoryDevice& device, const SwarmParams& params, Prng& rng, StorageFaultCounts& counts);

/// At-rest damage after a crash (the replica down): with the seed's chances, a bit flip
/// and a latent sector error on a live record or a superblock copy, within rule A1.
/// Returns whether anything was damaged.
bool damage_at_rest(MemoryDevice& device, const Storage& storage, DamageAtlas& atlas,
                    const SwarmParams& params, Prng& rng, StorageFaultCounts& counts);

/// Before `persist` is written: with the seed's chance, points the device's next write
/// (the record's journal write) at a free place of the journal, within rule A1.
/// Returns whether it did.
bool maybe_misdirect(MemoryDevice& device, const Storage& storage, const PersistDelta& persist,
                     DamageAtlas& atlas, const SwarmParams& params, Prng& rng, StorageFaultCounts& counts);

}  // namespace vsr::sim
