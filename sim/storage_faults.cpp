#include "sim/storage_faults.hpp"

#include <vector>

namespace vsr::sim {

bool DamageAtlas::may_damage(std::uint64_t seq, Side side) const {
  auto it = sides_.find(seq);
  if (it == sides_.end()) return true;
  return (it->second | static_cast<std::uint8_t>(side)) != 3;  // not both sides
}

bool DamageAtlas::may_damage_superblock(std::uint32_t copy) const {
  return superblock_.count(copy ^ 1u) == 0;  // the slot's other copy is whole
}

void DamageAtlas::prune(std::uint64_t first_live) {
  sides_.erase(sides_.begin(), sides_.lower_bound(first_live));
}

void crash_device(MemoryDevice& device, const SwarmParams& params, Prng& rng, StorageFaultCounts& counts) {
  device.crash([&](const MemoryDevice::Pending& p) -> std::uint64_t {
    const std::uint64_t sectors = p.data.size() / sector_bytes;
    if (sectors > 1 && rng.chance(params.torn_write_probability)) {
      ++counts.torn;
      return rng.between(1, sectors - 1);  // a strict, non-empty prefix
    }
    return rng.chance(0.5) ? sectors : 0;
  });
}

namespace {

/// A place on the device to damage: a byte offset, and whose it is.
struct Target {
  std::uint64_t offset = 0;
  std::uint64_t seq = 0;  // the record (when not a superblock copy)
  DamageAtlas::Side side = DamageAtlas::Side::journal;
  std::optional<std::uint32_t> superblock_copy;
};

/// A random live sector within rule A1, if one is drawn that keeps it.
std::optional<Target> draw_target(const Storage& storage, const DamageAtlas& atlas, Prng& rng) {
  const auto& records = storage.records();
  if (records.empty()) return std::nullopt;
  if (rng.chance(0.1)) {
    const auto copy = static_cast<std::uint32_t>(rng.below(superblock_sectors));
    if (!atlas.may_damage_superblock(copy)) return std::nullopt;
    return Target{StorageGeometry::superblock_offset(copy), 0, DamageAtlas::Side::journal, copy};
  }
  const JournalRecord& r = records[rng.below(records.size())];
  const bool ring = rng.chance(0.25);
  const auto side = ring ? DamageAtlas::Side::ring : DamageAtlas::Side::journal;
  if (!atlas.may_damage(r.seq, side)) return std::nullopt;
  const std::uint64_t offset =
      ring ? storage.geometry().ring_offset(r.seq)
           : storage.geometry().journal_offset(r.position + rng.below(r.sectors));
  return Target{offset, r.seq, side, std::nullopt};
}

void mark(DamageAtlas& atlas, const Target& t) {
  if (t.superblock_copy) {
    atlas.damage_superblock(*t.superblock_copy);
  } else {
    atlas.damage(t.seq, t.side);
  }
}

}  // namespace

bool damage_at_rest(MemoryDevice& device, const Storage& storage, DamageAtlas& atlas,
                    const SwarmParams& params, Prng& rng, StorageFaultCounts& counts) {
  if (!storage.ready() || storage.records().empty()) return false;
  atlas.prune(storage.records().front().seq);
  bool damaged = false;
  if (rng.chance(params.corruption_probability)) {
    if (auto t = draw_target(storage, atlas, rng)) {
      // Two draws, in this order on every compiler (not as two arguments of one call,
      // whose evaluation order is unspecified).
      const std::uint64_t byte = rng.below(sector_bytes);
      const auto bit = static_cast<std::uint32_t>(rng.below(8));
      device.flip_bit(t->offset + byte, bit);
      mark(atlas, *t);
      ++counts.corrupted;
      damaged = true;
    }
  }
  if (rng.chance(params.latent_error_probability)) {
    if (auto t = draw_target(storage, atlas, rng)) {
      device.fail_reads_at(t->offset);
      mark(atlas, *t);
      ++counts.latent;
      damaged = true;
    }
  }
  return damaged;
}

bool maybe_misdirect(MemoryDevice& device, const Storage& storage, const PersistDelta& persist,
                     DamageAtlas& atlas, const SwarmParams& params, Prng& rng, StorageFaultCounts& counts) {
  if (persist.empty() || !storage.ready() || !rng.chance(params.misdirect_probability)) return false;
  const std::uint64_t seq = storage.written_seq() + 1;
  if (!atlas.may_damage(seq, DamageAtlas::Side::journal)) return false;
  const std::uint64_t sectors = 1 + (encode_delta_body(persist).size() + sector_bytes - 1) / sector_bytes;
  const auto position = storage.next_position(sectors);
  const std::uint64_t j = storage.geometry().journal_sectors;
  if (!position || sectors * 4 > j) return false;
  // A place clear of every live record and of the record's own place: the damage is
  // the record missing from where it belongs, which its ring copy will reveal.
  auto clear = [&](std::uint64_t at) {
    auto overlaps = [&](std::uint64_t pos, std::uint64_t n) { return at < pos + n && pos < at + sectors; };
    if (overlaps(*position, sectors)) return false;
    for (const JournalRecord& r : storage.records()) {
      if (overlaps(r.position, r.sectors)) return false;
    }
    return true;
  };
  for (int attempt = 0; attempt < 8; ++attempt) {
    const std::uint64_t at = rng.below(j - sectors + 1);
    if (!clear(at)) continue;
    device.redirect_next_write(storage.geometry().journal_offset(at));
    atlas.damage(seq, DamageAtlas::Side::journal);
    ++counts.misdirected;
    return true;
  }
  return false;
}

}  // namespace vsr::sim
