#include "vsr/storage_format.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "vsr/snapshot.hpp"
#include "vsr/state_machine.hpp"
#include "vsr/wire.hpp"

namespace vsr {

namespace {

constexpr std::uint64_t superblock_magic = 0x31307270'75537276ULL;  // "vrSupr01"
constexpr std::uint64_t header_magic = 0x31306365'52727376ULL;      // "vsrRec01"
constexpr std::size_t sealed_from = 16;  // magic and checksum come first
constexpr std::uint64_t min_journal_sectors = 64;

/// The storage checksum: 8 bytes at a time (little-endian words), each step a bijection
/// of the state (xor in, multiply by an odd constant, xor-shift), so two inputs of one
/// length that differ in any bit (in one word) always hash apart; the length is
/// mixed in first. The same on every platform, and several times faster than the
/// byte-wise hash_bytes on the bodies the simulator writes at every batch.
std::uint64_t storage_hash(const std::uint8_t* data, std::size_t size, std::uint64_t seed) {
  constexpr std::uint64_t k = 0xff51afd7ed558ccdULL;
  std::uint64_t h = hash_mix(seed ^ (size * 0x9e3779b97f4a7c15ULL));
  auto step = [&](std::uint64_t word) {
    h = (h ^ word) * k;
    h ^= h >> 32;
  };
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, data + i, 8);
    if constexpr (std::endian::native == std::endian::big) word = wire::load_le(data + i, 8);
    step(word);
  }
  if (i < size) step(wire::load_le(data + i, size - i));
  return hash_mix(h);
}

/// The checksum of a sector's bytes [16, 512), salted with its magic.
std::uint64_t sector_checksum(std::span<const std::uint8_t> sector, std::uint64_t magic) {
  return storage_hash(sector.data() + sealed_from, sector_bytes - sealed_from, magic);
}

/// Seals a sector whose fields from byte 16 on are written: magic and checksum.
Sector seal(const Bytes& fields, std::uint64_t magic) {
  VSR_ASSERT(fields.size() <= sector_bytes - sealed_from, "fields fit one sector");
  Sector s{};
  std::copy(fields.begin(), fields.end(), s.begin() + sealed_from);
  wire::store_le(s.data(), magic, 8);
  wire::store_le(s.data() + 8, sector_checksum(s, magic), 8);
  return s;
}

/// Checks a sector's magic and checksum; `what` names it in the error.
Result<void> check_seal(std::span<const std::uint8_t> sector, std::uint64_t magic, std::string_view what) {
  if (sector.size() != sector_bytes) {
    return Error{fmt::format("{}: {} bytes, not one sector of {}", what, sector.size(), sector_bytes)};
  }
  if (wire::load_le(sector.data(), 8) != magic) return Error{fmt::format("{}: bad magic", what)};
  if (wire::load_le(sector.data() + 8, 8) != sector_checksum(sector, magic)) {
    return Error{fmt::format("{}: checksum mismatch", what)};
  }
  return outcome::success();
}

void put_entry(wire::Writer& w, const LogEntry& e) {
  w.u64(e.view.value);
  w.u64(e.client.value);
  w.u64(e.request.value);
  w.bytes(e.operation);
  w.u64(e.checksum);
  w.u64(e.session.value);
}

/// view, client, request, operation length, checksum, session.
constexpr std::size_t min_entry_bytes = 8 * 5 + 4;

LogEntry get_entry(wire::Reader& r) {
  LogEntry e;
  e.view = ViewNumber(r.u64("entry view"));
  e.client = ClientId(r.u64("entry client"));
  e.request = RequestNumber(r.u64("entry request"));
  e.operation = r.bytes("entry operation");
  e.checksum = r.u64("entry checksum");
  e.session = SessionNumber(r.u64("entry session"));
  return e;
}

void put_entries(wire::Writer& w, const std::vector<LogEntry>& entries) {
  w.count(entries.size());
  for (const LogEntry& e : entries) put_entry(w, e);
}

std::vector<LogEntry> get_entries(wire::Reader& r) {
  std::vector<LogEntry> out;
  const std::size_t n = r.count("entries", min_entry_bytes);
  out.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) out.push_back(get_entry(r));
  return out;
}

void put_base(wire::Writer& w, const LogBase& b) {
  w.u64(b.op.value);
  w.u64(b.checksum);
}

LogBase get_base(wire::Reader& r) {
  LogBase b;
  b.op = OpNumber(r.u64("base op"));
  b.checksum = r.u64("base checksum");
  return b;
}

void put_state(wire::Writer& w, const DurableState& s) {
  w.u64(s.view.value);
  w.u64(s.last_normal_view.value);
  w.u64(s.commit.value);
}

DurableState get_state(wire::Reader& r) {
  DurableState s;
  s.view = ViewNumber(r.u64("view"));
  s.last_normal_view = ViewNumber(r.u64("last normal view"));
  s.commit = CommitNumber(r.u64("commit"));
  return s;
}

void put_checkpoint(wire::Writer& w, const Checkpoint& cp) {
  w.u64(cp.op.value);
  w.u64(cp.checksum);
  w.u64(cp.state_hash);
  w.bytes(encode_snapshot(cp.machine, cp.clients));
}

Checkpoint get_checkpoint(wire::Reader& r) {
  Checkpoint cp;
  cp.op = OpNumber(r.u64("checkpoint op"));
  cp.checksum = r.u64("checkpoint checksum");
  cp.state_hash = r.u64("checkpoint state hash");
  const Bytes blob = r.bytes("checkpoint snapshot");
  if (!r.ok()) return cp;
  auto snapshot = decode_snapshot(blob);
  if (!snapshot) {
    r.fail(fmt::format("checkpoint at op {}: {}", cp.op, snapshot.error().message));
    return cp;
  }
  cp.machine = std::move(snapshot.value().machine);
  cp.clients = std::move(snapshot.value().clients);
  return cp;
}

enum DeltaFlag : std::uint8_t {
  has_reset = 1,
  has_truncate = 2,
  has_state = 4,
  has_checkpoint = 8,
  has_discard = 16,
};

}  // namespace

Result<StorageGeometry> StorageGeometry::of(std::uint64_t device_bytes, std::uint32_t ring_slots) {
  const std::uint64_t sectors = device_bytes / sector_bytes;
  if (ring_slots < 4) return Error{fmt::format("storage: {} ring slots, need at least 4", ring_slots)};
  if (sectors < superblock_sectors + ring_slots + min_journal_sectors) {
    return Error{fmt::format("storage: a device of {} bytes is too small for {} ring slots and a "
                             "journal of {} sectors",
                             device_bytes, ring_slots, min_journal_sectors)};
  }
  return StorageGeometry{ring_slots, sectors - superblock_sectors - ring_slots};
}

Sector encode_superblock(const Superblock& sb) {
  Bytes fields;
  wire::Writer w(fields);
  w.u32(storage_format_version);
  w.u64(sb.seq);
  w.u32(sb.replica);
  w.u32(sb.replica_count);
  w.u32(sb.geometry.ring_slots);
  w.u64(sb.geometry.journal_sectors);
  w.u64(sb.base_seq);
  w.u64(sb.base_position);
  w.u64(sb.base_checksum);
  return seal(fields, superblock_magic);
}

Result<Superblock> decode_superblock(std::span<const std::uint8_t> sector) {
  BOOST_OUTCOME_TRY(check_seal(sector, superblock_magic, "superblock"));
  wire::Reader r(sector, sealed_from, "superblock");
  Superblock sb;
  const std::uint32_t version = r.u32("version");
  sb.seq = r.u64("seq");
  sb.replica = r.u32("replica");
  sb.replica_count = r.u32("replica count");
  sb.geometry.ring_slots = r.u32("ring slots");
  sb.geometry.journal_sectors = r.u64("journal sectors");
  sb.base_seq = r.u64("base seq");
  sb.base_position = r.u64("base position");
  sb.base_checksum = r.u64("base checksum");
  if (version != storage_format_version) {
    return Error{fmt::format("superblock: format version {}, this build reads {}", version,
                             storage_format_version)};
  }
  return sb;
}

Sector encode_header(RecordHeader& h) {
  Bytes fields;
  fields.reserve(sector_bytes - sealed_from);  // one allocation, not one per doubling
  wire::Writer w(fields);
  w.u64(h.seq);
  w.u64(h.parent);
  w.u64(h.position);
  w.u8(static_cast<std::uint8_t>(h.kind));
  w.u32(h.body_bytes);
  w.u64(h.body_checksum);
  w.u64(h.first_op.value);
  w.u64(h.last_op.value);
  w.u64(h.view.value);
  Sector s = seal(fields, header_magic);
  h.checksum = wire::load_le(s.data() + 8, 8);
  return s;
}

bool has_header_magic(std::span<const std::uint8_t> sector) {
  return sector.size() >= 8 && wire::load_le(sector.data(), 8) == header_magic;
}

Result<RecordHeader> decode_header(std::span<const std::uint8_t> sector) {
  BOOST_OUTCOME_TRY(check_seal(sector, header_magic, "record header"));
  wire::Reader r(sector, sealed_from, "record header");
  RecordHeader h;
  h.checksum = wire::load_le(sector.data() + 8, 8);
  h.seq = r.u64("seq");
  h.parent = r.u64("parent");
  h.position = r.u64("position");
  const std::uint8_t kind = r.u8("kind");
  h.body_bytes = r.u32("body bytes");
  h.body_checksum = r.u64("body checksum");
  h.first_op = OpNumber(r.u64("first op"));
  h.last_op = OpNumber(r.u64("last op"));
  h.view = ViewNumber(r.u64("view"));
  if (kind != static_cast<std::uint8_t>(RecordKind::delta) && kind != static_cast<std::uint8_t>(RecordKind::base)) {
    return Error{fmt::format("record header {}: unknown kind {}", h.seq, kind)};
  }
  h.kind = static_cast<RecordKind>(kind);
  return h;
}

std::uint64_t body_checksum(std::span<const std::uint8_t> body) {
  return storage_hash(body.data(), body.size(), 0x626f6479ULL);
}

Bytes encode_delta_body(const PersistDelta& d) {
  Bytes out;
  wire::Writer w(out);
  std::uint8_t flags = 0;
  if (d.reset_log) flags |= has_reset;
  if (d.truncate_to) flags |= has_truncate;
  if (d.state) flags |= has_state;
  if (d.checkpoint) flags |= has_checkpoint;
  if (d.discard_to) flags |= has_discard;
  w.u8(flags);
  if (d.reset_log) put_base(w, *d.reset_log);
  if (d.truncate_to) w.u64(d.truncate_to->value);
  w.u64(d.append_first.value);
  put_entries(w, d.append);
  if (d.state) put_state(w, *d.state);
  if (d.checkpoint) put_checkpoint(w, *d.checkpoint);
  if (d.discard_to) put_base(w, *d.discard_to);
  return out;
}

Result<PersistDelta> decode_delta_body(std::span<const std::uint8_t> body) {
  wire::Reader r(body, 0, "delta record");
  PersistDelta d;
  const std::uint8_t flags = r.u8("flags");
  if (flags >= 32) r.fail(fmt::format("unknown flags {:#x}", flags));
  if (flags & has_reset) d.reset_log = get_base(r);
  if (flags & has_truncate) d.truncate_to = OpNumber(r.u64("truncate to"));
  d.append_first = OpNumber(r.u64("append first"));
  d.append = get_entries(r);
  if (flags & has_state) d.state = get_state(r);
  if (flags & has_checkpoint) d.checkpoint = get_checkpoint(r);
  if (flags & has_discard) d.discard_to = get_base(r);
  BOOST_OUTCOME_TRY(r.finish());
  return d;
}

Bytes encode_base_body(const PersistedState& image) {
  Bytes out;
  wire::Writer w(out);
  put_state(w, image.state);
  put_base(w, image.log_base);
  put_entries(w, image.log);
  w.boolean(image.checkpoint.has_value());
  if (image.checkpoint) put_checkpoint(w, *image.checkpoint);
  return out;
}

Result<PersistedState> decode_base_body(std::span<const std::uint8_t> body) {
  wire::Reader r(body, 0, "base record");
  PersistedState image;
  image.state = get_state(r);
  image.log_base = get_base(r);
  image.log = get_entries(r);
  if (r.boolean("has checkpoint")) image.checkpoint = get_checkpoint(r);
  BOOST_OUTCOME_TRY(r.finish());
  if (image.last_op().value < image.log_base.op.value) return Error{"base record: the log's last op overflows"};
  if (image.checkpoint && image.checkpoint->op > image.last_op()) {
    return Error{fmt::format("base record: checkpoint at op {} beyond the log's last op {}",
                             image.checkpoint->op, image.last_op())};
  }
  return image;
}

Result<void> check_delta(const PersistedState& stored, const PersistDelta& d) {
  OpNumber base = stored.log_base.op;
  OpNumber last = stored.last_op();
  if (d.reset_log) base = last = d.reset_log->op;
  if (d.truncate_to && *d.truncate_to < last) {
    if (*d.truncate_to < base) {
      return Error{fmt::format("truncation to op {} below the log's base {}", *d.truncate_to, base)};
    }
    last = *d.truncate_to;
  }
  if (!d.append.empty()) {
    if (d.append_first != last.next()) {
      return Error{fmt::format("append at op {} after a log ending at op {}", d.append_first, last)};
    }
    if (d.append.size() > UINT64_MAX - last.value) return Error{"append overflows the op number"};
    last = OpNumber(last.value + d.append.size());
  }
  if (d.checkpoint) {
    if (d.checkpoint->op > last) {
      return Error{fmt::format("checkpoint at op {} beyond the log's last op {}", d.checkpoint->op, last)};
    }
    if (stored.checkpoint && d.checkpoint->op < stored.checkpoint->op) {
      return Error{fmt::format("checkpoint at op {} below the stored one at op {}", d.checkpoint->op,
                               stored.checkpoint->op)};
    }
  }
  if (d.discard_to && d.discard_to->op > base && d.discard_to->op > last) {
    return Error{fmt::format("discard to op {} beyond the log's last op {}", d.discard_to->op, last)};
  }
  return outcome::success();
}

}  // namespace vsr
