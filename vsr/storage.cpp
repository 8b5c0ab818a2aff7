#include "vsr/storage.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vsr/assert.hpp"

#include "vsr/state_machine.hpp"

namespace vsr {

namespace {

/// The chain's root: the parent of the first record after a format. Salted with the
/// superblock number, which each format takes above every valid one found, so no record
/// of an earlier chain on the same device can ever pass for one of the new chain.
std::uint64_t chain_root(std::uint64_t superblock_seq) {
  return hash_combine(0x726f6f74ULL, superblock_seq);
}

Bytes padded(const Sector& header, const Bytes& body) {
  const std::uint64_t body_sectors = (body.size() + sector_bytes - 1) / sector_bytes;
  Bytes out((1 + body_sectors) * sector_bytes, 0);
  std::copy(header.begin(), header.end(), out.begin());
  std::copy(body.begin(), body.end(), out.begin() + sector_bytes);
  return out;
}

/// The ops a delta's entries are (none: last < first).
std::pair<OpNumber, OpNumber> op_range(const PersistDelta& d) {
  if (d.append.empty()) return {OpNumber(1), OpNumber(0)};
  return {d.append_first, OpNumber(d.append_first.value + d.append.size() - 1)};
}

}  // namespace

// ------------------------------------------------------------------ format

Result<void> Storage::format() {
  check_afresh_ = true;
  auto geometry = StorageGeometry::of(device_->size_bytes(), options_.ring_slots);
  if (!geometry) return geometry.error();
  geometry_ = geometry.value();
  // Above every valid superblock copy on the device (see chain_root).
  std::uint64_t seq = 0;
  Sector s{};
  for (std::uint32_t copy = 0; copy < superblock_sectors; ++copy) {
    if (!device_->read(StorageGeometry::superblock_offset(copy), s)) continue;
    if (auto sb = decode_superblock(s)) seq = std::max(seq, sb.value().seq);
  }
  image_ = PersistedState{};
  records_.clear();
  unringed_.clear();
  repairs_.clear();
  pending_base_.reset();
  superblock_seq_ = seq;  // write_superblock takes the next number
  head_ = used_ = 0;
  written_seq_ = synced_seq_ = 0;
  last_checksum_ = chain_root(seq + 1);
  ready_ = true;
  BOOST_OUTCOME_TRY(write_base());
  BOOST_OUTCOME_TRY(device_->sync());
  // Both slots name the new base (superblocks seq + 1 and seq + 2), so no copy of an
  // older superblock survives.
  BOOST_OUTCOME_TRY(write_superblock(*pending_base_));
  BOOST_OUTCOME_TRY(write_superblock(*pending_base_));
  for (auto& [ring_seq, header] : unringed_) {
    BOOST_OUTCOME_TRY(device_->write(geometry_.ring_offset(ring_seq), header));
  }
  BOOST_OUTCOME_TRY(device_->sync());
  unringed_.clear();
  pending_base_.reset();
  synced_seq_ = written_seq_;
  return outcome::success();
}

Result<void> Storage::write_superblock(const JournalRecord& base) {
  Superblock sb;
  sb.seq = ++superblock_seq_;
  sb.replica = options_.replica;
  sb.replica_count = options_.replica_count;
  sb.geometry = geometry_;
  sb.base_seq = base.seq;
  sb.base_position = base.position;
  sb.base_checksum = base.checksum;
  const Sector sector = encode_superblock(sb);
  const std::uint32_t slot = static_cast<std::uint32_t>(sb.seq % 2);
  BOOST_OUTCOME_TRY(device_->write(StorageGeometry::superblock_offset(2 * slot), sector));
  BOOST_OUTCOME_TRY(device_->write(StorageGeometry::superblock_offset(2 * slot + 1), sector));
  return outcome::success();
}

// ------------------------------------------------------------------ writing

Result<std::uint64_t> Storage::write(const PersistDelta& delta) {
  VSR_ASSERT(ready_, "storage: write before format() or a clean recover()");
  if (delta.empty()) return written_seq_;
  auto fits = check_delta(image_, delta);
  VSR_ASSERT(fits.has_value(), fmt::format("storage: a delta that does not apply: {}",
                                           fits ? std::string() : fits.error().message));
  const auto [first, last] = op_range(delta);
  BOOST_OUTCOME_TRY(append_record(RecordKind::delta, encode_delta_body(delta), first, last,
                                  delta.state ? delta.state->view : ViewNumber{}));
  apply_delta(image_, delta);
  if (wants_base()) {
    BOOST_OUTCOME_TRY(write_base());
  }
  return written_seq_;
}

bool Storage::wants_base() const {
  // With a base pending (the caller has not synced since it was written), the next one
  // waits until the journal is half full: write_base publishes the pending one first.
  if (pending_base_) return used_ > geometry_.journal_sectors / 2;
  return used_ > geometry_.journal_sectors / 4 ||
         written_seq_ - records_.front().seq >= geometry_.ring_slots / 2;
}

Result<void> Storage::write_base() {
  if (pending_base_) {
    BOOST_OUTCOME_TRY(sync());  // publishes the pending base: the journal below it is free
  }
  BOOST_OUTCOME_TRY(append_record(RecordKind::base, encode_base_body(image_), image_.log_base.op.next(),
                                  image_.last_op(), image_.state.view));
  pending_base_ = records_.back();
  return outcome::success();
}

std::optional<std::uint64_t> Storage::place(std::uint64_t sectors) const {
  const std::uint64_t j = geometry_.journal_sectors;
  const bool wrap = head_ + sectors > j;
  const std::uint64_t extra = wrap ? (j - head_) + sectors : sectors;
  if (used_ + extra > j) return std::nullopt;
  return wrap ? 0 : head_;
}

Result<void> Storage::make_room(std::uint64_t sectors) {
  if (!pending_base_) {
    BOOST_OUTCOME_TRY(write_base());
  }
  BOOST_OUTCOME_TRY(sync());  // publishes the base: the journal below it is free
  if (!place(sectors)) {
    return Error{fmt::format("storage: journal full: a record of {} sectors does not fit in {} "
                             "sectors beside the live state",
                             sectors, geometry_.journal_sectors)};
  }
  return outcome::success();
}

Result<void> Storage::append_record(RecordKind kind, const Bytes& body, OpNumber first,
                                    OpNumber last, ViewNumber view) {
  RecordHeader h;
  h.seq = written_seq_ + 1;
  h.parent = last_checksum_;
  h.kind = kind;
  h.body_bytes = static_cast<std::uint32_t>(body.size());
  h.body_checksum = body_checksum(body);
  h.first_op = first;
  h.last_op = last;
  h.view = view;
  const std::uint64_t j = geometry_.journal_sectors;
  if (body.size() > UINT32_MAX || h.sectors() > j / 4) {
    return Error{fmt::format("storage: a record of {} bytes is too large for a journal of {} sectors",
                             body.size(), j)};
  }
  // Without a pending base, a delta leaves the ring's last slot free: a base record must
  // be able to follow it (wants_base writes one long before, except after a recovery
  // whose pending base did not survive the crash).
  const std::uint64_t ring_limit = geometry_.ring_slots - (kind == RecordKind::delta && !pending_base_ ? 1 : 0);
  // A base record may take a full ring's slot: the record it overwrites the witness of
  // is older than every record the ring vouches for in normal operation; the chain
  // outgrows the ring only after recovery fell back to an older superblock, and then
  // the base is the way out (D3: once published, the records below it are dead).
  const bool ring_full = kind == RecordKind::delta && !records_.empty() && h.seq - records_.front().seq >= ring_limit;
  if (ring_full || !place(h.sectors())) {
    if (kind == RecordKind::base) {
      // make_room would publish this base's pending predecessor, or write this very
      // base again (no progress: an endless recursion).
      return Error{fmt::format("storage: journal full: no room for a base record of {} sectors",
                               h.sectors())};
    }
    BOOST_OUTCOME_TRY(make_room(h.sectors()));
    h.seq = written_seq_ + 1;  // make_room may have written a base record
    h.parent = last_checksum_;
  }
  const std::uint64_t position = *place(h.sectors());
  h.position = position;
  const Sector header = encode_header(h);
  BOOST_OUTCOME_TRY(device_->write(geometry_.journal_offset(position), padded(header, body)));
  if (position != head_) used_ += j - head_;  // the wrap leaves the end unused
  used_ += h.sectors();
  head_ = position + h.sectors();
  records_.push_back({h.seq, kind, position, h.sectors(), h.checksum});
  written_seq_ = h.seq;
  last_checksum_ = h.checksum;
  unringed_.emplace_back(h.seq, header);
  return outcome::success();
}

Result<void> Storage::sync() {
  if (unringed_.empty() && repairs_.empty() && !pending_base_) return outcome::success();
  BOOST_OUTCOME_TRY(device_->sync());  // D2: the journal first
  for (auto& [offset, sector] : repairs_) {
    BOOST_OUTCOME_TRY(device_->write(offset, sector));
  }
  for (auto& [seq, header] : unringed_) {
    BOOST_OUTCOME_TRY(device_->write(geometry_.ring_offset(seq), header));
  }
  if (pending_base_) {
    BOOST_OUTCOME_TRY(write_superblock(*pending_base_));
  }
  BOOST_OUTCOME_TRY(device_->sync());  // then the ring copies and the superblock
  repairs_.clear();
  unringed_.clear();
  synced_seq_ = written_seq_;
  if (pending_base_) {
    // D3: only now is the journal below the new base free.
    while (records_.front().seq != pending_base_->seq) records_.pop_front();
    pending_base_.reset();
    recount_used();
  }
  return outcome::success();
}

void Storage::recount_used() {
  const std::uint64_t j = geometry_.journal_sectors;
  used_ = 0;
  for (std::size_t i = 0; i < records_.size(); ++i) {
    if (i > 0) {
      const std::uint64_t prev_end = records_[i - 1].position + records_[i - 1].sectors;
      if (records_[i].position != prev_end) used_ += j - prev_end;
    }
    used_ += records_[i].sectors;
  }
  head_ = records_.empty() ? 0 : records_.back().position + records_.back().sectors;
}

// ------------------------------------------------------------------ recovery

Result<Superblock> Storage::read_superblock(RecoveryReport& report) {
  std::optional<Superblock> best;
  std::array<bool, superblock_sectors> valid{};
  Sector s{};
  std::optional<Error> first_error;
  for (std::uint32_t copy = 0; copy < superblock_sectors; ++copy) {
    auto read = device_->read(StorageGeometry::superblock_offset(copy), s);
    auto sb = read ? decode_superblock(s) : Result<Superblock>(read.error());
    if (!sb) {
      if (!first_error) first_error = Error{fmt::format("copy {}: {}", copy, sb.error().message)};
      continue;
    }
    valid[copy] = true;
    ++report.superblock_copies_valid;
    if (!best || sb.value().seq > best->seq) best = sb.value();
  }
  if (!best) {
    return Error{fmt::format("storage: no valid superblock copy (not a vsr data file, or all "
                             "copies damaged); {}",
                             first_error ? first_error->message : "")};
  }
  const std::uint32_t other = static_cast<std::uint32_t>((best->seq + 1) % 2);
  report.superblock_fell_back = !valid[2 * other] && !valid[2 * other + 1];
  report.superblock_seq = best->seq;
  if (best->replica != options_.replica || best->replica_count != options_.replica_count) {
    return Error{fmt::format("storage: the device belongs to replica {} of {}, not replica {} of {}",
                             best->replica, best->replica_count, options_.replica,
                             options_.replica_count)};
  }
  if (best->geometry != geometry_) {
    return Error{fmt::format("storage: the device was formatted with {} ring slots and {} journal "
                             "sectors, this engine expects {} and {}",
                             best->geometry.ring_slots, best->geometry.journal_sectors,
                             geometry_.ring_slots, geometry_.journal_sectors)};
  }
  return *best;
}

std::optional<Storage::Found> Storage::find_header(std::uint64_t seq, std::uint64_t parent,
                                                   std::uint64_t next,
                                                   std::optional<std::uint64_t> exact_checksum,
                                                   bool& partial) {
  const std::uint64_t j = geometry_.journal_sectors;
  std::vector<std::uint64_t> candidates;
  if (next + 1 <= j) candidates.push_back(next);
  if (next != 0 && !exact_checksum) candidates.push_back(0);
  auto fits = [&](const RecordHeader& h) {
    const bool chained = exact_checksum ? h.checksum == *exact_checksum : h.parent == parent;
    return h.seq == seq && chained && std::find(candidates.begin(), candidates.end(), h.position) != candidates.end() &&
           h.position + h.sectors() <= j;
  };
  Sector s{};
  std::optional<RecordHeader> ring;
  if (device_->read(geometry_.ring_offset(seq), s)) {
    if (auto h = decode_header(s); h && fits(h.value())) ring = h.value();
  }
  std::optional<RecordHeader> journal;
  for (std::uint64_t pos : candidates) {
    if (ring && ring->position != pos) continue;
    if (!device_->read(geometry_.journal_offset(pos), s)) continue;
    auto h = decode_header(s);
    if (h && fits(h.value()) && h.value().position == pos && (!ring || *ring == h.value())) {
      journal = h.value();
      break;
    }
    // A header sector that is there but wrong at the very next place: a write that
    // started and did not finish (or a stale record, which a later one overwrote).
    if (pos == next && !h && has_header_magic(s)) partial = true;
  }
  if (!ring && !journal) return std::nullopt;
  return Found{ring ? *ring : *journal, journal.has_value(), ring.has_value()};
}

Result<Bytes> Storage::read_body(const RecordHeader& h) {
  Bytes body(h.body_sectors() * sector_bytes);
  BOOST_OUTCOME_TRY(device_->read(geometry_.journal_offset(h.position + 1), body));
  body.resize(h.body_bytes);
  if (body_checksum(body) != h.body_checksum) {
    return Error{fmt::format("record {}: body checksum mismatch", h.seq)};
  }
  return body;
}

namespace {

/// Decodes and applies a whole record's body to `image`; an error if it makes no sense.
Result<void> replay(PersistedState& image, const RecordHeader& h, const Bytes& body) {
  if (h.kind == RecordKind::base) {
    auto base = decode_base_body(body);
    if (!base) return base.error();
    image = std::move(base.value());
    return outcome::success();
  }
  auto delta = decode_delta_body(body);
  if (!delta) return delta.error();
  BOOST_OUTCOME_TRY(check_delta(image, delta.value()));
  apply_delta(image, delta.value());
  return outcome::success();
}

FaultyRecord faulty_record(const RecordHeader& h, std::string why) {
  return FaultyRecord{h.seq, h.kind, h.first_op, h.last_op, h.view, std::move(why)};
}

}  // namespace

Result<Recovered> Storage::recover() {
  check_afresh_ = true;
  ready_ = false;
  auto geometry = StorageGeometry::of(device_->size_bytes(), options_.ring_slots);
  if (!geometry) return geometry.error();
  geometry_ = geometry.value();
  Recovered out;
  RecoveryReport& report = out.report;
  auto read = read_superblock(report);
  if (!read) return read.error();
  const Superblock sb = read.value();
  image_ = PersistedState{};
  records_.clear();
  unringed_.clear();
  repairs_.clear();
  pending_base_.reset();
  superblock_seq_ = sb.seq;
  std::uint64_t seq = sb.base_seq;
  std::uint64_t next = sb.base_position;
  std::uint64_t parent = 0;
  std::optional<std::uint64_t> exact = sb.base_checksum;
  for (;; ++seq) {
    bool partial = false;
    std::optional<Found> found = find_header(seq, parent, next, exact, partial);
    if (!found) {
      if (exact) {
        // The superblock was written after its base was durable (D2, D3).
        report.faulty = FaultyRecord{seq, RecordKind::base, OpNumber(1), OpNumber(0), ViewNumber{},
                                     "the base record the superblock names has no valid header copy"};
      }
      report.torn_tail = partial;
      break;
    }
    const RecordHeader& h = found->header;
    auto body = read_body(h);
    if (!body) {
      if (found->ring_ok || exact) {
        // Durable, so maybe promised: its ring copy says so, or the superblock names it
        // as its base (written only once the base was durable, D2 and D3).
        report.faulty = faulty_record(h, body.error().message);
      } else {
        report.torn_tail = true;  // never durable: no ring copy (D2)
      }
      break;
    }
    if (auto applied = replay(image_, h, body.value()); !applied) {
      report.faulty = faulty_record(h, applied.error().message);
      break;
    }
    if (!found->journal_ok) {
      ++report.copies_repaired;
      RecordHeader copy = h;
      repairs_.emplace_back(geometry_.journal_offset(h.position), encode_header(copy));
    }
    if (!found->ring_ok) {
      ++report.ring_copies_missing;
      // Whole but not known durable: it will be once the next sync() writes its ring copy.
      RecordHeader copy = h;
      unringed_.emplace_back(h.seq, encode_header(copy));
    }
    records_.push_back({h.seq, h.kind, h.position, h.sectors(), h.checksum});
    ++report.records;
    report.last_seq = h.seq;
    parent = h.checksum;
    exact.reset();
    next = h.position + h.sectors();
  }
  out.state = image_;
  if (report.faulty) return out;
  written_seq_ = synced_seq_ = report.last_seq;
  last_checksum_ = parent;
  // A ring slot belongs to the newest record of the chain that maps to it. The chain
  // spans more than the ring only after a fallback to an older superblock (the newest
  // one's copies damaged): rewriting an older record's copy there would erase the one
  // that vouches for the newer record.
  const std::size_t before = unringed_.size();
  std::erase_if(unringed_, [&](const auto& u) { return u.first + geometry_.ring_slots <= report.last_seq; });
  report.ring_copies_missing -= before - unringed_.size();
  // A base record after the superblock's was written and never published (a crash came
  // before its superblock was durable): it is pending again, and the next sync()
  // publishes it. Without it the journal since the superblock's base could fill the
  // ring with no base left to compact into.
  for (auto r = records_.rbegin(); r + 1 < records_.rend(); ++r) {
    if (r->kind == RecordKind::base) {
      pending_base_ = *r;
      break;
    }
  }
  recount_used();
  ready_ = true;
  return out;
}

Result<void> Storage::check() const {
  if (!ready_) return outcome::success();
  const std::uint64_t j = geometry_.journal_sectors;
  auto fail = [](std::string what) { return Result<void>(Error{"storage check: " + what}); };
  if (records_.empty() || records_.front().kind != RecordKind::base) {
    return fail("the journal does not start with a base record");
  }
  if (records_.back().seq != written_seq_ || synced_seq_ > written_seq_) {
    return fail(fmt::format("counters: last record {}, written {}, synced {}", records_.back().seq,
                            written_seq_, synced_seq_));
  }
  if (written_seq_ - records_.front().seq >= geometry_.ring_slots) {
    return fail(fmt::format("{} records since the base, more than the ring's {} slots",
                            written_seq_ - records_.front().seq + 1, geometry_.ring_slots));
  }
  // Walks only the records after the last one verified, unless the oldest one changed
  // (a base published, a recovery, a format) or the journal is shorter than verified.
  const std::uint64_t front = records_.front().seq;
  if (check_afresh_ || front != checked_front_ || written_seq_ < checked_last_ || checked_last_ + 1 < front) {
    check_afresh_ = false;
    checked_front_ = front;
    checked_last_ = front - 1;
    checked_used_ = 0;
  }
  for (std::uint64_t seq = checked_last_ + 1; seq <= written_seq_; ++seq) {
    const JournalRecord& r = records_[seq - front];
    if (r.seq != seq) return fail(fmt::format("record {} where record {} belongs", r.seq, seq));
    if (r.position + r.sectors > j) return fail(fmt::format("record {} runs past the journal's end", r.seq));
    if (seq > front) {
      const JournalRecord& p = records_[seq - front - 1];
      const std::uint64_t prev_end = p.position + p.sectors;
      if (r.position != prev_end && r.position != 0) {
        return fail(fmt::format("record {} at sector {}, not after record {} (ends at {})", r.seq,
                                r.position, p.seq, prev_end));
      }
      if (r.position != prev_end) checked_used_ += j - prev_end;
    }
    checked_used_ += r.sectors;
    checked_last_ = seq;
  }
  const std::uint64_t used = checked_used_;
  if (used != used_ || used > j) return fail(fmt::format("{} sectors in use, counted {}", used, used_));
  if (head_ != records_.back().position + records_.back().sectors) return fail("the head is not after the last record");
  if (pending_base_ && pending_base_->seq < records_.front().seq) return fail("a pending base below the published one");
  return outcome::success();
}

}  // namespace vsr
