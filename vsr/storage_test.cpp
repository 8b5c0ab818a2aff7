// The storage engine (issue 17) over the in-memory device: round trips, crashes at any
// point with torn writes, damage of every kind, and compaction over many wraps.
#include "vsr/storage.hpp"

#include <doctest/doctest.h>

#include "vsr/memory_device.hpp"

using namespace vsr;

namespace {

/// SplitMix64: the tests' own deterministic randomness.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(std::uint64_t one_in) { return below(one_in) == 0; }
};

constexpr StorageOptions options{1, 3, 32};

/// A random delta that applies to `stored`, as a replica would produce.
PersistDelta random_delta(const PersistedState& stored, Rng& rng) {
  PersistDelta d;
  OpNumber last = stored.last_op();
  std::uint64_t parent = stored.log.empty() ? stored.log_base.checksum : stored.log.back().checksum;
  // A replica truncates only above its commit number, so never below its checkpoint.
  const OpNumber keep = std::max(stored.log_base.op, stored.checkpoint ? stored.checkpoint->op : OpNumber(0));
  if (rng.chance(8) && last > keep) {
    const OpNumber to(keep.value + rng.below(last.value - keep.value + 1));
    d.truncate_to = to;
    parent = to == stored.log_base.op ? stored.log_base.checksum : stored.log[to.value - stored.log_base.op.value - 1].checksum;
    last = to;
  }
  const std::uint64_t n = rng.below(4);
  for (std::uint64_t i = 0; i < n; ++i) {
    LogEntry e;
    e.view = ViewNumber(stored.state.view.value);
    e.client = ClientId(1 + rng.below(3));
    e.request = RequestNumber(1 + rng.below(100));
    e.operation = Bytes(rng.below(rng.chance(5) ? 1500 : 40), static_cast<std::uint8_t>(rng.next()));
    d.append.push_back(e);
  }
  d.append_first = last.next();
  seal_chain(parent, d.append_first, d.append);
  last = OpNumber(last.value + n);
  if (rng.chance(3)) d.state = DurableState{ViewNumber(stored.state.view.value + rng.below(2)), stored.state.view, CommitNumber(last.value)};
  const OpNumber floor = stored.checkpoint ? stored.checkpoint->op : OpNumber(0);
  if (rng.chance(6) && last > floor && last > stored.log_base.op) {
    Checkpoint cp;
    cp.op = OpNumber(std::max(floor.value, stored.log_base.op.value) + 1 + rng.below(last.value - std::max(floor.value, stored.log_base.op.value)));
    cp.state_hash = rng.next();
    cp.machine = Bytes(rng.below(700), 7);
    cp.clients[ClientId(1)] = ClientSession{RequestNumber(3), Bytes{1, 2}, SessionNumber(1), cp.op};
    d.checkpoint = cp;
    if (rng.chance(2)) d.discard_to = LogBase{cp.op, 0};
  }
  return d;
}

/// Fixes a discard's checksum to the log's (after the delta's appends).
void fix_discard(const PersistedState& stored, PersistDelta& d) {
  if (!d.discard_to) return;
  PersistedState after = stored;
  PersistDelta without = d;
  without.discard_to.reset();
  apply_delta(after, without);
  d.discard_to->checksum = after.log[d.discard_to->op.value - after.log_base.op.value - 1].checksum;
}

}  // namespace

TEST_CASE("a formatted device recovers an empty state; the records round trip") {
  MemoryDevice device(1 << 20);
  Storage storage(device, options);
  REQUIRE(storage.format());
  auto empty = storage.recover();
  REQUIRE(empty);
  CHECK(empty.value().state == PersistedState{});
  CHECK_FALSE(empty.value().report.faulty);
  Rng rng{1};
  PersistedState reference;
  for (int i = 0; i < 50; ++i) {
    PersistDelta d = random_delta(reference, rng);
    fix_discard(reference, d);
    REQUIRE(storage.write(d));
    apply_delta(reference, d);
    REQUIRE(storage.sync());
    REQUIRE(storage.check());
  }
  CHECK(storage.image() == reference);
  Storage reopened(device, options);
  auto back = reopened.recover();
  REQUIRE(back);
  CHECK(back.value().state == reference);
  CHECK(back.value().report.records >= 1);
  CHECK_FALSE(back.value().report.torn_tail);
}

TEST_CASE("another replica's device, or garbage, is refused with a clear error") {
  MemoryDevice device(1 << 20);
  Storage storage(device, options);
  auto none = storage.recover();
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no valid superblock") != std::string::npos);
  REQUIRE(storage.format());
  Storage other(device, StorageOptions{2, 3, 32});
  auto refused = other.recover();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("belongs to replica 1") != std::string::npos);
}

// The property behind every crash: recovery returns the durable state plus some whole
// pending records (a prefix of the writes in flight), never less, never garbage.
TEST_CASE("random crashes with torn writes: recovery returns the durable state or more, never less") {
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    CAPTURE(seed);
    Rng rng{seed};
    MemoryDevice device(256 * 1024);  // small: the journal wraps and compacts many times
    Storage storage(device, options);
    REQUIRE(storage.format());
    PersistedState durable;
    std::vector<PersistDelta> in_flight;
    PersistedState written;
    for (int step = 0; step < 300; ++step) {
      PersistDelta d = random_delta(written, rng);
      fix_discard(written, d);
      REQUIRE(storage.write(d));
      apply_delta(written, d);
      in_flight.push_back(d);
      if (rng.chance(3)) {
        REQUIRE(storage.sync());
        durable = written;
        in_flight.clear();
      }
      REQUIRE(storage.check());
      if (!rng.chance(25)) continue;
      // Power loss: each pending write lands whole, not at all, or a torn prefix.
      device.crash([&](const MemoryDevice::Pending& p) {
        const std::uint64_t n = p.data.size() / sector_bytes;
        switch (rng.below(3)) {
          case 0: return std::uint64_t{0};
          case 1: return n;
          default: return rng.below(n + 1);
        }
      });
      storage = Storage(device, options);
      auto back = storage.recover();
      REQUIRE(back);
      if (back.value().report.faulty) FAIL(back.value().report.faulty->seq, " ", back.value().report.faulty->why);
      // Some prefix of the writes in flight survived, whole.
      PersistedState candidate = durable;
      bool matched = back.value().state == candidate;
      for (const PersistDelta& w : in_flight) {
        if (matched) break;
        apply_delta(candidate, w);
        matched = back.value().state == candidate;
      }
      REQUIRE(matched);
      durable = written = back.value().state;
      in_flight.clear();
      REQUIRE(storage.sync());
      REQUIRE(storage.check());
    }
  }
}

namespace {

/// A device with `n` synced single-entry batches and its engine's records.
struct Filled {
  MemoryDevice device{1 << 20};
  Storage storage{device, options};
  PersistedState reference;
  explicit Filled(int n, bool sync_last = true) {
    REQUIRE(storage.format());
    for (int i = 0; i < n; ++i) {
      PersistDelta d;
      LogEntry e{ViewNumber(0), ClientId(1), RequestNumber(1 + static_cast<std::uint64_t>(i)), Bytes(100, static_cast<std::uint8_t>(i)), 0, SessionNumber(0)};
      d.append = {e};
      d.append_first = reference.last_op().next();
      seal_chain(reference.log.empty() ? 0 : reference.log.back().checksum, d.append_first, d.append);
      d.state = DurableState{ViewNumber(1), ViewNumber(1), CommitNumber(0)};
      REQUIRE(storage.write(d));
      apply_delta(reference, d);
      if (i + 1 < n || sync_last) REQUIRE(storage.sync());
    }
  }
  /// The journal offset of record `seq`'s header and of its first body sector.
  std::uint64_t header_offset(std::uint64_t seq) const {
    for (const JournalRecord& r : storage.records()) {
      if (r.seq == seq) return storage.geometry().journal_offset(r.position);
    }
    FAIL("no such record");
    return 0;
  }
  Result<Recovered> reopen() {
    Storage again(device, options);
    return again.recover();
  }
};

}  // namespace

TEST_CASE("a damaged body of a durable record is faulty, never discarded as torn") {
  Filled f(6);
  const std::uint64_t victim = f.storage.records()[3].seq;
  f.device.flip_bit(f.header_offset(victim) + sector_bytes + 10, 3);
  auto back = f.reopen();
  REQUIRE(back);
  REQUIRE(back.value().report.faulty);
  CHECK(back.value().report.faulty->seq == victim);
  CHECK(back.value().report.faulty->first_op == OpNumber(victim - 1));
  CHECK(back.value().report.faulty->why.find("checksum") != std::string::npos);
}

TEST_CASE("the last durable record damaged is faulty too: its ring copy vouches it was durable") {
  Filled f(4);
  const std::uint64_t last = f.storage.records().back().seq;
  f.device.flip_bit(f.header_offset(last) + sector_bytes, 0);
  auto back = f.reopen();
  REQUIRE(back);
  REQUIRE(back.value().report.faulty);
  CHECK(back.value().report.faulty->seq == last);
}

TEST_CASE("a latent read error on a durable record is faulty") {
  Filled f(4);
  f.device.fail_reads_at(f.header_offset(3) + sector_bytes);
  auto back = f.reopen();
  REQUIRE(back);
  REQUIRE(back.value().report.faulty);
  CHECK(back.value().report.faulty->why.find("read error") != std::string::npos);
}

TEST_CASE("a damaged header copy is read from the other and repaired") {
  Filled f(4);
  f.device.flip_bit(f.header_offset(3) + 40, 1);  // the journal's copy
  auto back = f.reopen();
  REQUIRE(back);
  CHECK_FALSE(back.value().report.faulty);
  CHECK(back.value().report.copies_repaired == 1);
  CHECK(back.value().state == f.reference);
  // The ring copy damaged instead.
  Filled g(4);
  g.device.flip_bit(g.storage.geometry().ring_offset(3) + 40, 1);
  auto back2 = g.reopen();
  REQUIRE(back2);
  CHECK(back2.value().state == g.reference);
  CHECK(back2.value().report.ring_copies_missing == 1);
}

TEST_CASE("a torn last write that was never synced is discarded; the state is the durable one") {
  Filled f(4, false);  // the last batch written, not synced
  PersistedState durable = f.reference;
  durable.log.pop_back();
  f.device.crash([](const MemoryDevice::Pending&) { return std::uint64_t{1}; });  // the header lands, not the body
  auto back = f.reopen();
  REQUIRE(back);
  CHECK_FALSE(back.value().report.faulty);
  CHECK(back.value().report.torn_tail);
  CHECK(back.value().state.log == durable.log);
}

TEST_CASE("a misdirected write is detected: its record is faulty, not silently missing") {
  Filled f(3);
  // The next record's journal write lands far away; its ring copy still says where it
  // belongs once synced.
  PersistDelta d;
  LogEntry e{ViewNumber(0), ClientId(1), RequestNumber(9), Bytes(10, 1), 0, SessionNumber(0)};
  d.append = {e};
  d.append_first = f.reference.last_op().next();
  seal_chain(f.reference.log.back().checksum, d.append_first, d.append);
  f.device.redirect_next_write(f.storage.geometry().journal_offset(500));
  REQUIRE(f.storage.write(d));
  REQUIRE(f.storage.sync());
  auto back = f.reopen();
  REQUIRE(back);
  REQUIRE(back.value().report.faulty);
  CHECK(back.value().report.faulty->seq == f.storage.written_seq());
}

TEST_CASE("a superblock write torn by a crash leaves the older slot, and its records, valid") {
  MemoryDevice device(64 * 1024);
  Storage storage(device, options);
  REQUIRE(storage.format());
  Rng rng{3};
  PersistedState written;
  // Write until a base record is pending, then crash while its superblock is in flight.
  bool torn = false;
  for (int i = 0; i < 400 && !torn; ++i) {
    PersistDelta d = random_delta(written, rng);
    fix_discard(written, d);
    const std::uint64_t before = storage.records().front().seq;
    REQUIRE(storage.write(d));
    apply_delta(written, d);
    // Sync by hand: the journal durable, then the superblock and ring writes torn.
    REQUIRE(storage.sync());
    if (storage.records().front().seq != before) {
      // A superblock was just written and synced: tear a copy of the newest slot by
      // hand (both copies), as a crash in the middle of that write would.
      auto back = Storage(device, options).recover();
      REQUIRE(back);
      const std::uint64_t slot = back.value().report.superblock_seq % 2;
      device.flip_bit(StorageGeometry::superblock_offset(static_cast<std::uint32_t>(2 * slot)) + 20, 0);
      device.flip_bit(StorageGeometry::superblock_offset(static_cast<std::uint32_t>(2 * slot + 1)) + 20, 0);
      torn = true;
    }
  }
  REQUIRE(torn);
  auto back = Storage(device, options).recover();
  REQUIRE(back);
  CHECK(back.value().report.superblock_fell_back);
  CHECK_FALSE(back.value().report.faulty);
  CHECK(back.value().state == written);
}
