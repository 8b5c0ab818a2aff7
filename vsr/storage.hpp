// The storage engine (issue 17): a replica's durable state (its log, view state and
// checkpoint, vsr/output.hpp's PersistedState) kept in a journal of checksummed records
// on a block device (vsr/block_device.hpp), and recovered from it after a crash. Pure:
// the same code runs over a file (vsr/io/file_device.hpp) and over the simulator's
// faulty device (MemoryDevice, driven by sim/storage_faults.hpp). The format is in vsr/storage_format.hpp.
//
// The durability rules, in one place (ReplicaHost enforces them: it releases a batch's
// send_after_persist messages only once sync() covering the batch has returned):
//   D1. A batch's record is written (write()) before its messages may leave, and the
//       messages leave only after a sync() that returned after it: the record and its
//       ring copy are then durable. Nothing that promises state (PrepareOk,
//       StartViewChange, DoViewChange, StartView, RecoveryResponse) leaves earlier.
//   D2. sync() makes the journal durable first, then writes the ring copies of the
//       records it made durable (and a new superblock, if a base record is waiting),
//       and makes those durable: so a valid ring copy of a record proves the record
//       was durable, which is how recovery tells a damaged record from a torn one.
//   D3. Journal space below a base record is reused only after a superblock naming
//       that base is durable, so a torn superblock write falls back to an older
//       superblock whose records are all still there.
//
// Recovery's argument (why committed data survives every fault within the fault model,
// sim/storage_faults.hpp's atlas: on any one record, never both its journal copy and its
// ring copy damaged; never both copies of one superblock slot damaged):
//   - A record whose journal copy is whole (header and body checksums, chain and
//     position right) is accepted, whether or not it was acknowledged: it is a batch
//     the replica wrote in full, and a driver that crashed before syncing it never
//     promised anything about it.
//   - A record that is not whole but whose ring copy is valid was durable (D2), so it
//     may have been acknowledged: it is FAULTY, never discarded. Recovery stops there
//     and reports it; the host then rebuilds the replica from its peers with the
//     recovery protocol (§4.3), in which it votes for nothing until it holds the
//     current primary's log (Replica::recovering). So a damaged entry is never treated
//     as missing, and a replica never vouches for an entry it cannot read.
//   - A record with neither copy valid was never durable: if it had been, its ring
//     copy would be valid or its journal copy whole (one of the two survives). So no
//     promise was made for it, nor for any later record (a sync covers all earlier
//     writes), and the chain ends there: a torn tail, discarded.
// So recovery returns exactly the durable state plus, perhaps, whole records that were
// written and not yet synced; or it reports a faulty record. It never returns less.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "vsr/block_device.hpp"
#include "vsr/output.hpp"
#include "vsr/storage_format.hpp"

namespace vsr {

struct StorageOptions {
  std::uint32_t replica = 0;        // the device's owner: recover() refuses another's
  std::uint32_t replica_count = 0;
  std::uint32_t ring_slots = 4096;  // also the most records between two base records
};

/// A record that was durable (its ring copy says so) and cannot be read back whole.
struct FaultyRecord {
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::delta;
  OpNumber first_op{};  // the ops whose entries it held (none: last < first)
  OpNumber last_op{};
  ViewNumber view{};
  std::string why;
};

/// What recovery found.
struct RecoveryReport {
  std::uint64_t superblock_seq = 0;
  std::uint32_t superblock_copies_valid = 0;  // of 4
  bool superblock_fell_back = false;  // the newest slot's copies were both bad: torn
  std::uint64_t records = 0;          // records replayed, the base included
  std::uint64_t last_seq = 0;         // the last record replayed
  std::uint64_t copies_repaired = 0;  // journal headers read from the ring copy, rewritten
  std::uint64_t ring_copies_missing = 0;  // whole records whose ring copy is missing or bad
                                          // (not yet synced, or damaged), rewritten
  bool torn_tail = false;             // a record after the last was partly written
  std::optional<FaultyRecord> faulty; // set: the state is only the prefix before it
};

struct Recovered {
  PersistedState state;
  RecoveryReport report;
};

/// A record of the journal from the published base on (for checks and the simulator).
struct JournalRecord {
  std::uint64_t seq = 0;
  RecordKind kind = RecordKind::delta;
  std::uint64_t position = 0;  // journal sector of its header
  std::uint64_t sectors = 0;   // header and body
  std::uint64_t checksum = 0;  // its header's
};

class Storage {
 public:
  /// An engine over `device` (which must outlive it). Call format() or recover() first.
  Storage(BlockDevice& device, StorageOptions options) : device_(&device), options_(options) {}

  /// Makes the device hold an empty state (an empty log, view 0): a base record and
  /// superblocks, all durable on return. Erases whatever the device held.
  Result<void> format();
  /// Reads the device back (see the argument above). An error if no superblock copy is
  /// valid or it belongs to another replica or geometry: nothing is written then. On
  /// success without a faulty record, the engine is ready to write after the last
  /// record; with one, format() must come before any write.
  Result<Recovered> recover();

  /// Writes `delta` as the next record (nothing for an empty delta) and, when the
  /// journal since the last base record has grown large, a new base record after it.
  /// Returns the number of the last record written. Precondition: ready to write, and
  /// `delta` applies to image() (its producer, a replica, guarantees it).
  Result<std::uint64_t> write(const PersistDelta& delta);
  /// Makes every record written so far durable, with its ring copy (rules D1-D3).
  Result<void> sync();

  /// The state after every record written (durable or not).
  [[nodiscard]] const PersistedState& image() const { return image_; }
  [[nodiscard]] std::uint64_t written_seq() const { return written_seq_; }
  [[nodiscard]] std::uint64_t synced_seq() const { return synced_seq_; }
  [[nodiscard]] bool ready() const { return ready_; }
  /// The base record written and not yet published by a superblock, if any.
  [[nodiscard]] std::optional<std::uint64_t> pending_base_seq() const {
    return pending_base_ ? std::optional(pending_base_->seq) : std::nullopt;
  }
  [[nodiscard]] const StorageGeometry& geometry() const { return geometry_; }
  /// Where the next record of `sectors` sectors goes, if the journal has room for it
  /// without compacting first.
  [[nodiscard]] std::optional<std::uint64_t> next_position(std::uint64_t sectors) const { return place(sectors); }
  /// The records from the durable superblock's base on, oldest first.
  [[nodiscard]] const std::deque<JournalRecord>& records() const { return records_; }
  /// The journal's own consistency check (positions chain, no overlap, ring bound,
  /// counters agree); the first inconsistency if any. Incremental: records it already
  /// verified (since the oldest live record last changed) are not walked again, so a
  /// check after every write costs what the write added.
  [[nodiscard]] Result<void> check() const;

 private:
  Result<void> write_superblock(const JournalRecord& base);
  Result<void> append_record(RecordKind kind, const Bytes& body, OpNumber first, OpNumber last,
                             ViewNumber view);
  /// Where a record of `sectors` goes (head_, or 0 to wrap), if the journal has room.
  [[nodiscard]] std::optional<std::uint64_t> place(std::uint64_t sectors) const;
  /// Makes room for a record of `sectors`: publishes a pending base, or writes one.
  Result<void> make_room(std::uint64_t sectors);
  Result<void> write_base();
  [[nodiscard]] bool wants_base() const;
  void recount_used();
  Result<Superblock> read_superblock(RecoveryReport& report);
  /// The header of record `seq` (parent `parent`, at `next` or 0), from either copy.
  struct Found {
    RecordHeader header;
    bool journal_ok = false;
    bool ring_ok = false;
  };
  std::optional<Found> find_header(std::uint64_t seq, std::uint64_t parent, std::uint64_t next,
                                   std::optional<std::uint64_t> exact_checksum, bool& partial);
  Result<Bytes> read_body(const RecordHeader& h);

  BlockDevice* device_;
  StorageOptions options_;
  StorageGeometry geometry_;
  bool ready_ = false;
  PersistedState image_;
  std::deque<JournalRecord> records_;  // from the published base on
  std::uint64_t superblock_seq_ = 0;
  std::uint64_t head_ = 0;        // the journal sector after the last record
  std::uint64_t used_ = 0;        // sectors from the published base's position to head_
  // check()'s own tally, kept apart from used_: the records it verified are those from
  // seq checked_front_ to checked_last_, which take checked_used_ sectors.
  mutable std::uint64_t checked_front_ = 0;
  mutable std::uint64_t checked_last_ = 0;
  mutable std::uint64_t checked_used_ = 0;
  mutable bool check_afresh_ = true;  // set by format() and recover(): a new journal
  std::uint64_t written_seq_ = 0;
  std::uint64_t synced_seq_ = 0;
  std::uint64_t last_checksum_ = 0;  // the last record's header checksum (next parent)
  std::vector<std::pair<std::uint64_t, Sector>> unringed_;  // (seq, header): ring copies due
  std::vector<std::pair<std::uint64_t, Sector>> repairs_;   // (offset, sector): rewrites due
  std::optional<JournalRecord> pending_base_;  // written, its superblock not yet
};

}  // namespace vsr
