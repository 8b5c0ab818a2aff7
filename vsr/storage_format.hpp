// The storage engine's on-disk format (issue 17): the device's layout, the superblock,
// the record header and the two record bodies. Pure encoders and total decoders: any
// bytes read back decode to a value or to an error naming what is wrong, never a crash.
//
// Layout, in sectors of sector_bytes (vsr/block_device.hpp):
//   [0, 4)            the superblock: two slots of two copies each. Superblock number n
//                     is written to both copies of slot n % 2, so a write torn by a
//                     crash leaves the other slot (n-1) whole.
//   [4, 4 + R)        the header ring: R slots; slot s % R holds a copy of record s's
//                     header, written only once record s is durable (the witness that
//                     it was: see Storage::recover).
//   [4 + R, end)      the journal: J sectors used as a circle. A record is its header
//                     sector followed by its body's sectors; it never wraps (a record
//                     that does not fit before the end starts at journal sector 0).
// Records form a chain: record s names its parent (the header checksum of record s-1)
// and its journal position, so a stale record, one of another chain, or one written
// at the wrong place (a misdirected write) never passes for record s.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "vsr/block_device.hpp"
#include "vsr/output.hpp"

namespace vsr {

inline constexpr std::uint64_t superblock_sectors = 4;
inline constexpr std::uint32_t storage_format_version = 1;

/// Where everything is, from the device size and the ring size.
struct StorageGeometry {
  std::uint32_t ring_slots = 0;
  std::uint64_t journal_sectors = 0;

  /// The geometry of a device of `device_bytes` with `ring_slots` ring slots; an error
  /// if the device is too small to hold a useful journal (64 sectors).
  static Result<StorageGeometry> of(std::uint64_t device_bytes, std::uint32_t ring_slots);
  [[nodiscard]] static std::uint64_t superblock_offset(std::uint32_t copy) { return copy * sector_bytes; }
  [[nodiscard]] std::uint64_t ring_offset(std::uint64_t seq) const {
    return (superblock_sectors + seq % ring_slots) * sector_bytes;
  }
  [[nodiscard]] std::uint64_t journal_offset(std::uint64_t position) const {
    return (superblock_sectors + ring_slots + position) * sector_bytes;
  }
  auto operator<=>(const StorageGeometry&) const = default;
};

/// The root of everything durable: who the device belongs to, its geometry, and the
/// base record (a full image of the stored state) recovery starts from.
struct Superblock {
  std::uint64_t seq = 0;  // superblock number: the highest valid copy wins
  std::uint32_t replica = 0;
  std::uint32_t replica_count = 0;
  StorageGeometry geometry;
  std::uint64_t base_seq = 0;       // the base record's number
  std::uint64_t base_position = 0;  // its journal sector
  std::uint64_t base_checksum = 0;  // its header checksum
  auto operator<=>(const Superblock&) const = default;
};

using Sector = std::array<std::uint8_t, sector_bytes>;

/// A superblock copy. Bytes [0, 8) magic, [8, 16) checksum of bytes [16, 512).
Sector encode_superblock(const Superblock& sb);
Result<Superblock> decode_superblock(std::span<const std::uint8_t> sector);

enum class RecordKind : std::uint8_t {
  delta = 1,  // one output batch's PersistDelta
  base = 2,   // a full image of the stored state (PersistedState): compaction
};

/// What a record is, in its header sector (and its ring copy): its type, number, the
/// ops and view it carries, and its body's length and checksum.
struct RecordHeader {
  std::uint64_t checksum = 0;  // of the header's bytes [16, 512): set by encode_header
  std::uint64_t seq = 0;
  std::uint64_t parent = 0;    // record seq-1's header checksum (0 before the first)
  std::uint64_t position = 0;  // journal sector of this header
  RecordKind kind = RecordKind::delta;
  std::uint32_t body_bytes = 0;
  std::uint64_t body_checksum = 0;
  OpNumber first_op{};  // the ops whose entries the body carries (none: last < first)
  OpNumber last_op{};
  ViewNumber view{};    // the view state the body stores (0: none)
  auto operator<=>(const RecordHeader&) const = default;

  /// Body sectors: the body rounded up to whole sectors.
  [[nodiscard]] std::uint64_t body_sectors() const {
    return (std::uint64_t{body_bytes} + sector_bytes - 1) / sector_bytes;
  }
  /// Header sector plus body sectors.
  [[nodiscard]] std::uint64_t sectors() const { return 1 + body_sectors(); }
};

/// Encodes `h` with its checksum computed (and stored back into h.checksum).
Sector encode_header(RecordHeader& h);
/// Whether `sector` starts with a record header's magic (whatever its checksum).
bool has_header_magic(std::span<const std::uint8_t> sector);
/// Decodes a header sector; an error if its magic or checksum is wrong.
Result<RecordHeader> decode_header(std::span<const std::uint8_t> sector);

/// The checksum of a record body (padding excluded).
std::uint64_t body_checksum(std::span<const std::uint8_t> body);

Bytes encode_delta_body(const PersistDelta& delta);
Result<PersistDelta> decode_delta_body(std::span<const std::uint8_t> body);
Bytes encode_base_body(const PersistedState& image);
Result<PersistedState> decode_base_body(std::span<const std::uint8_t> body);

/// Whether apply_delta(stored, delta) meets its preconditions (output.hpp); the broken
/// one if not. Recovery checks every decoded record with it before applying it, so a
/// record that passed its checksum but makes no sense is reported, never asserted.
Result<void> check_delta(const PersistedState& stored, const PersistDelta& delta);

}  // namespace vsr
