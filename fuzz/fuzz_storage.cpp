// fuzz_storage: the storage engine's recovery (vsr/storage.hpp) over device contents
// the fuzzer chooses.
//
// Input: byte 0 picks the mode.
//   even: BUILT. The rest drives (1) a real journal: a 64 KiB MemoryDevice (the ring
//         size from byte 1: 16, 4, 8 or 32 slots, so the journal wraps and compacts),
//         formatted, then steps: write a delta decoded from the bytes (appends chained
//         with seal_chain, truncations never below the log base nor the checkpoint,
//         state, checkpoints, discards, snapshot installs: what a replica produces),
//         sync, or format again. Every state the engine had after a write (or tried to
//         write) is remembered. Bytes 2-3 may arm a fuse: the device dies at that write
//         or sync after the first format, wherever it falls (inside a sync, between the
//         journal's sync and the ring copies, inside a compaction), and the build ends.
//         (2) Power loss: each pending write lands whole, not at all, or a torn prefix
//         of its sectors, as the bytes say (MemoryDevice::crash). (3) Damage at rest:
//         bits flipped anywhere, whole sectors overwritten with input bytes, sectors
//         made unreadable. (4) recover() on a fresh engine.
//   odd:  RAW. The device (72 sectors, 4 ring slots) holds only what the input puts
//         there: chunks of [sector index][n][2(n+1) bytes], the sector's first bytes
//         (zeros after them). Then recover().
//
// Properties (a violation aborts, so libFuzzer keeps the input):
// - nothing crashes, asserts or trips a sanitizer; an error carries a message;
// - BUILT: while the device lives, write() and sync() of records within the engine's
//   documented limit (header and body at most a quarter of the journal) never fail;
// - BUILT, no damage (a crash only): recover() succeeds, reports no faulty record, and
//   returns exactly one of the states written since the last successful sync (the
//   synced one or a later one, never an older one);
// - BUILT, damage to one sector (within the fault model, vsr/storage.hpp): recover()
//   succeeds and, unless it reports a faulty record, returns one of those same states;
// - BUILT, any damage: whatever recover() returns without a faulty record is a state
//   the engine wrote since its last format (it never trusts a record whose checksum
//   fails, so it never makes up a state), and with a faulty record the prefix before
//   it is such a state too. The one exception is a damaged sector that is itself a
//   validly sealed header or superblock (the fuzzer forged a checksum: the 64-bit
//   checksums guard against accidents, not against an adversary); then only the first
//   property is checked;
// - after a recovery without a faulty record (not forged), the engine is consistent
//   (Storage::check), can go on writing and syncing, and a second recovery returns
//   exactly its image, without a faulty record;
// - RAW: recover() gives an error or a report; after a clean report the engine is
//   consistent and can go on writing.
// FUZZ_STORAGE_TRACE=1 in the environment prints every step (for reproducers).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "vsr/assert.hpp"
#include "vsr/memory_device.hpp"
#include "vsr/storage.hpp"
#include "vsr/storage_format.hpp"

namespace {

using namespace vsr;

constexpr std::uint64_t built_device_bytes = 64 * 1024;
constexpr std::uint32_t raw_ring_slots = 4;
constexpr std::uint64_t raw_device_bytes = (superblock_sectors + raw_ring_slots + 64) * sector_bytes;
constexpr std::size_t max_steps = 256;
constexpr std::size_t max_damage = 16;
constexpr std::size_t continued_writes = 3;

/// The fuzzer's bytes, read as small numbers; zeros once exhausted.
class Input {
 public:
  explicit Input(std::span<const std::uint8_t> b) : b_(b) {}
  [[nodiscard]] bool done() const { return pos_ >= b_.size(); }
  std::uint8_t u8() { return pos_ < b_.size() ? b_[pos_++] : 0; }
  std::uint16_t u16() {
    const std::uint8_t low = u8();
    return static_cast<std::uint16_t>(low | (u8() << 8));
  }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
    return v;
  }
  /// The next `n` bytes (fewer at the end).
  std::span<const std::uint8_t> take(std::size_t n) {
    const std::size_t k = std::min(n, b_.size() - std::min(pos_, b_.size()));
    auto out = b_.subspan(std::min(pos_, b_.size()), k);
    pos_ += k;
    return out;
  }

 private:
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
};

const bool tracing = std::getenv("FUZZ_STORAGE_TRACE") != nullptr;

template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... args) {
  if (tracing) fmt::print(stderr, "{}\n", fmt::format(f, std::forward<Args>(args)...));
}

/// A device that dies (every write and sync fails from then on) at the n-th write or
/// sync after it is armed: a power loss at any point of the engine's I/O sequence.
class FuseDevice final : public BlockDevice {
 public:
  explicit FuseDevice(MemoryDevice& inner) : inner_(&inner) {}
  [[nodiscard]] std::uint64_t size_bytes() const override { return inner_->size_bytes(); }
  Result<void> read(std::uint64_t offset, std::span<std::uint8_t> into) override {
    return inner_->read(offset, into);
  }
  Result<void> write(std::uint64_t offset, std::span<const std::uint8_t> data) override {
    if (blow()) return Error{fmt::format("fuse: the device died at a write at offset {}", offset)};
    return inner_->write(offset, data);
  }
  Result<void> sync() override {
    if (blow()) return Error{"fuse: the device died at a sync"};
    return inner_->sync();
  }
  /// Dies at the `ops`-th write or sync from now (0: never).
  void arm(std::uint64_t ops) { countdown_ = ops; }
  /// While paused, operations pass and do not count.
  void pause(bool paused) { paused_ = paused; }
  [[nodiscard]] bool dead() const { return dead_; }

 private:
  bool blow() {
    if (dead_) return true;
    if (paused_ || countdown_ == 0) return false;
    if (--countdown_ == 0) dead_ = true;
    return dead_;
  }
  MemoryDevice* inner_;
  std::uint64_t countdown_ = 0;
  bool paused_ = false;
  bool dead_ = false;
};

/// The checksum the log has at `op` (its base's, or an entry's). Precondition: base <= op <= last.
std::uint64_t checksum_at(const PersistedState& s, OpNumber op) {
  if (op == s.log_base.op) return s.log_base.checksum;
  return s.log[op.value - s.log_base.op.value - 1].checksum;
}

/// Sectors a record of `body_bytes` takes (its header included).
std::uint64_t record_sectors(std::size_t body_bytes) { return 1 + (body_bytes + sector_bytes - 1) / sector_bytes; }

/// A delta that applies to `s`, decoded from the input, as a replica would produce it.
PersistDelta decode_delta(const PersistedState& s, Input& in) {
  PersistDelta d;
  const std::uint8_t flags = in.u8();
  OpNumber base = s.log_base.op;
  OpNumber last = s.last_op();
  std::uint64_t parent = s.log.empty() ? s.log_base.checksum : s.log.back().checksum;
  const OpNumber cp_floor = s.checkpoint ? s.checkpoint->op : OpNumber(0);
  // The op the newest checkpoint covers, 0 without one (a plain value: g++ 12 at -O3
  // warns of a maybe-uninitialized std::optional here).
  OpNumber cp_op = s.checkpoint ? s.checkpoint->op : OpNumber(0);
  auto make_checkpoint = [&](OpNumber op) {
    Checkpoint cp;
    cp.op = op;
    cp.state_hash = in.u64();
    const std::size_t machine_bytes = in.u8() * 3u;
    cp.machine = Bytes(machine_bytes, in.u8());
    const ClientId client(1 + in.u8() % 3);
    const RequestNumber request(1 + in.u8());  // a client table never holds request 0
    cp.clients[client] = ClientSession{request, Bytes(in.u8() % 16u, 5), SessionNumber(0), op};
    return cp;
  };
  if ((flags & 0x80) != 0 && (flags & 0x01) != 0) {
    // A snapshot install: the log restarts after a checkpoint at or above the stored one.
    const OpNumber to(std::max(cp_floor.value, base.value) + in.u8() % 24);
    d.reset_log = LogBase{to, in.u64()};
    d.checkpoint = make_checkpoint(to);
    d.checkpoint->checksum = d.reset_log->checksum;
    base = last = to;
    parent = d.reset_log->checksum;
    cp_op = to;
  } else if ((flags & 0x01) != 0) {
    // A replica truncates only above its commit number, so never below its checkpoint.
    const OpNumber keep = std::max(base, cp_floor);
    if (last > keep) {
      const OpNumber to(keep.value + in.u8() % (last.value - keep.value + 1));
      d.truncate_to = to;
      parent = checksum_at(s, to);
      last = to;
    }
  }
  const std::uint64_t n = (flags >> 1) & 3;
  for (std::uint64_t i = 0; i < n; ++i) {
    LogEntry e;
    e.view = s.state.view;
    e.client = ClientId(1 + in.u8() % 3);
    e.request = RequestNumber(in.u8());
    const std::size_t size = (flags & 0x40) != 0 ? in.u8() * 16u : in.u8() % 48u;
    e.operation = Bytes(size, in.u8());
    d.append.push_back(e);
  }
  d.append_first = last.next();
  seal_chain(parent, d.append_first, d.append);
  last = OpNumber(last.value + n);
  if ((flags & 0x08) != 0) {
    const std::uint8_t b = in.u8();
    d.state = DurableState{ViewNumber(s.state.view.value + (b & 1)),
                           (b & 2) != 0 ? s.state.view : s.state.last_normal_view, CommitNumber(last.value)};
  }
  const OpNumber floor = std::max(cp_floor, base);
  if ((flags & 0x10) != 0 && !d.reset_log && last > floor) {
    d.checkpoint = make_checkpoint(OpNumber(floor.value + 1 + in.u8() % (last.value - floor.value)));
    cp_op = d.checkpoint->op;
  }
  if ((flags & 0x20) != 0 && cp_op > base) {
    // Compaction: up to the checkpoint, stored by this batch or an earlier one.
    const OpNumber to(base.value + 1 + in.u8() % (cp_op.value - base.value));
    PersistedState after = s;
    apply_delta(after, d);
    d.discard_to = LogBase{to, checksum_at(after, to)};
  }
  return d;
}

/// A delta that appends one entry after `s`, checkpoints there and discards the log up
/// to it (so the engine's base records stay small whatever `s` holds).
PersistDelta simple_delta(const PersistedState& s, std::uint64_t i) {
  PersistDelta d;
  LogEntry e{s.state.view, ClientId(1), RequestNumber(i + 1), Bytes(40, static_cast<std::uint8_t>(i)), 0,
             SessionNumber(0)};
  d.append = {e};
  d.append_first = s.last_op().next();
  seal_chain(s.log.empty() ? s.log_base.checksum : s.log.back().checksum, d.append_first, d.append);
  d.state = DurableState{s.state.view, s.state.last_normal_view, CommitNumber(d.append_first.value)};
  Checkpoint cp;
  cp.op = d.append_first;
  cp.state_hash = i;
  d.checkpoint = cp;
  d.discard_to = LogBase{d.append_first, d.append.back().checksum};
  return d;
}

bool contains(const std::vector<PersistedState>& states, std::size_t from, const PersistedState& s) {
  return std::find(states.begin() + static_cast<std::ptrdiff_t>(from), states.end(), s) != states.end();
}

std::string describe(const PersistedState& s) {
  return fmt::format("state view {} last normal {} commit {}, log base {} ({} entries, last op {}), checkpoint {}",
                     s.state.view, s.state.last_normal_view, s.state.commit, s.log_base.op, s.log.size(),
                     s.last_op(), s.checkpoint ? fmt::format("at op {}", s.checkpoint->op) : std::string("none"));
}

std::string describe(const RecoveryReport& r) {
  return fmt::format("superblock {} ({} copies valid{}), {} records to seq {}, {} repaired, {} ring copies "
                     "missing, torn tail {}, faulty {}",
                     r.superblock_seq, r.superblock_copies_valid, r.superblock_fell_back ? ", fell back" : "",
                     r.records, r.last_seq, r.copies_repaired, r.ring_copies_missing, r.torn_tail,
                     r.faulty ? fmt::format("record {} ({})", r.faulty->seq, r.faulty->why) : std::string("none"));
}

/// After a recovery without a faulty record: the engine is consistent, writes and syncs
/// a few records, and a second recovery returns exactly its image.
void continue_after(MemoryDevice& device, Storage& storage, StorageOptions options, bool in_model) {
  // Out of the fault model, a fallback to an older superblock may leave more records
  // since its base than the ring holds, until the next sync publishes the newer base.
  auto consistent = storage.check();
  FUZZ_CHECK(consistent.has_value() || !in_model, consistent.error().message);
  if (storage.image().last_op().value > (std::uint64_t{1} << 62)) return;  // no op number to append
  for (std::uint64_t i = 0; i < continued_writes; ++i) {
    auto written = storage.write(simple_delta(storage.image(), i));
    FUZZ_CHECK(written.has_value(), "a write after recovery failed: " + written.error().message);
    if (i % 2 == 1) {
      auto synced = storage.sync();
      FUZZ_CHECK(synced.has_value(), "a sync after recovery failed: " + synced.error().message);
    }
  }
  auto synced = storage.sync();
  FUZZ_CHECK(synced.has_value(), "a sync after recovery failed: " + synced.error().message);
  consistent = storage.check();
  FUZZ_CHECK(consistent.has_value(), consistent.error().message);
  Storage again(device, options);
  auto back = again.recover();
  FUZZ_CHECK(back.has_value(), "the second recovery failed: " + back.error().message);
  FUZZ_CHECK(!back.value().report.faulty, "the second recovery: " + describe(back.value().report));
  FUZZ_CHECK(back.value().state == storage.image(),
             fmt::format("the second recovery returned {}, the engine had {}", describe(back.value().state),
                         describe(storage.image())));
}

/// The durable bytes of the whole device (zeros where nothing was written).
Bytes durable_image(const MemoryDevice& device) {
  Bytes out(device.size_bytes(), 0);
  const Bytes durable = device.durable();
  std::copy(durable.begin(), durable.end(), out.begin());
  return out;
}

/// Whether `sector` is a validly sealed record header or superblock copy.
bool sealed(std::span<const std::uint8_t> sector) {
  return decode_header(sector).has_value() || decode_superblock(sector).has_value();
}

void run_built(Input& in) {
  constexpr std::uint32_t ring_choices[] = {16, 4, 8, 32};
  const StorageOptions options{1, 3, ring_choices[in.u8() % 4]};
  const std::uint16_t fuse_ops = in.u16();
  MemoryDevice memory(built_device_bytes);
  FuseDevice device(memory);
  Storage storage(device, options);
  auto formatted = storage.format();
  FUZZ_CHECK(formatted.has_value(), formatted.error().message);
  const std::uint64_t quarter = storage.geometry().journal_sectors / 4;
  trace("built: {} ring slots, {} journal sectors, fuse {}", options.ring_slots, storage.geometry().journal_sectors,
        fuse_ops);
  // Every state the engine had after a write since the last format; the last synced one
  // is states[synced].
  std::vector<PersistedState> states{PersistedState{}};
  std::size_t synced = 0;
  device.arm(fuse_ops);
  for (std::size_t step = 0; step < max_steps && !in.done() && !device.dead(); ++step) {
    const std::uint8_t op = in.u8();
    if (op % 8 == 7) break;  // on to the crash
    if (op % 8 == 6) {
      if (op < 0x80) {
        trace("step {}: sync", step);
        auto s = storage.sync();
        if (device.dead()) break;
        FUZZ_CHECK(s.has_value(), "sync failed on a live device: " + s.error().message);
        synced = states.size() - 1;
      } else {
        trace("step {}: format", step);
        device.pause(true);
        auto f = storage.format();
        device.pause(false);
        FUZZ_CHECK(f.has_value(), f.error().message);
        states.assign(1, PersistedState{});
        synced = 0;
      }
      continue;
    }
    PersistDelta d = decode_delta(storage.image(), in);
    if (d.empty()) continue;
    PersistedState after = storage.image();
    apply_delta(after, d);
    // Within the engine's documented limit only: the record and the base image it may
    // compact into each take at most a quarter of the journal.
    if (record_sectors(encode_delta_body(d).size()) > quarter || record_sectors(encode_base_body(after).size()) > quarter) {
      trace("step {}: a delta too large, skipped", step);
      continue;
    }
    trace("step {}: write ({} appends at op {}{}{}{}{}{}) -> last op {}", step, d.append.size(), d.append_first,
          d.reset_log ? ", reset" : "", d.truncate_to ? fmt::format(", truncate to {}", *d.truncate_to) : "",
          d.state ? ", state" : "", d.checkpoint ? fmt::format(", checkpoint at {}", d.checkpoint->op) : "",
          d.discard_to ? fmt::format(", discard to {}", d.discard_to->op) : "", after.last_op());
    states.push_back(after);  // before the write: a crash inside it may keep it
    const std::uint64_t written_before = storage.written_seq();
    auto w = storage.write(d);
    if (device.dead()) break;
    FUZZ_CHECK(w.has_value(), "write failed on a live device: " + w.error().message);
    // Making room may have synced everything written before this delta.
    if (storage.synced_seq() == storage.written_seq()) {
      synced = states.size() - 1;
    } else if (storage.synced_seq() >= written_before) {
      synced = std::max(synced, states.size() - 2);
    }
    FUZZ_CHECK(storage.image() == after, "the engine's image differs from apply_delta's");
    auto consistent = storage.check();
    FUZZ_CHECK(consistent.has_value(), consistent.error().message);
  }
  // Power loss: each pending write lands whole, not at all, or a torn prefix.
  memory.crash([&](const MemoryDevice::Pending& p) {
    const std::uint64_t n = p.data.size() / sector_bytes;
    const std::uint8_t b = in.u8();
    const std::uint64_t landed = b % 3 == 0 ? 0 : b % 3 == 1 ? n : in.u8() % (n + 1);
    trace("crash: a write of {} sectors at offset {}: {} land", n, p.offset, landed);
    return landed;
  });
  // Damage at rest.
  const Bytes before = durable_image(memory);
  const std::uint64_t sectors = memory.size_bytes() / sector_bytes;
  std::set<std::uint64_t> touched;     // sectors written or flipped
  std::set<std::uint64_t> unreadable;
  for (std::size_t k = 0; k < max_damage && !in.done(); ++k) {
    const std::uint8_t kind = in.u8();
    if (kind % 4 == 3) break;
    if (kind % 4 == 0) {
      const std::uint64_t offset = in.u16() % memory.size_bytes();
      trace("damage: flip bit {} of byte {}", kind / 4 % 8, offset);
      memory.flip_bit(offset, kind / 4 % 8);
      touched.insert(offset / sector_bytes);
    } else if (kind % 4 == 1) {
      const std::uint64_t sector = in.u8() % sectors;
      Bytes data(sector_bytes, 0);
      auto bytes = in.take(sector_bytes);
      std::copy(bytes.begin(), bytes.end(), data.begin());
      trace("damage: sector {} overwritten", sector);
      (void)memory.write(sector * sector_bytes, data);
      (void)memory.sync();
      touched.insert(sector);
      unreadable.erase(sector);
    } else {
      const std::uint64_t sector = in.u8() % sectors;
      trace("damage: sector {} unreadable", sector);
      memory.fail_reads_at(sector * sector_bytes);
      unreadable.insert(sector);
    }
  }
  const Bytes after_damage = durable_image(memory);
  std::set<std::uint64_t> damaged = unreadable;
  bool forged = false;
  for (std::uint64_t s : touched) {
    auto now = std::span<const std::uint8_t>(after_damage).subspan(s * sector_bytes, sector_bytes);
    if (std::equal(now.begin(), now.end(), before.begin() + static_cast<std::ptrdiff_t>(s * sector_bytes))) continue;
    damaged.insert(s);
    forged = forged || sealed(now);
  }

  Storage fresh(memory, options);
  auto back = fresh.recover();
  if (!back) {
    trace("recover: error: {}", back.error().message);
    FUZZ_CHECK(!back.error().message.empty(), "a recovery error without a message");
    FUZZ_CHECK(damaged.size() > 1, fmt::format("recovery failed with {} damaged sectors: {}", damaged.size(),
                                               back.error().message));
    return;
  }
  const Recovered& r = back.value();
  trace("recover: {}; {}", describe(r.report), describe(r.state));
  if (forged) return;
  const std::string context = fmt::format("{} damaged sectors, fuse {}; recovered {}; {}", damaged.size(),
                                          device.dead() ? "blew" : "intact", describe(r.report), describe(r.state));
  if (damaged.empty()) FUZZ_CHECK(!r.report.faulty, "a faulty record after a crash alone: " + context);
  FUZZ_CHECK(contains(states, 0, r.state), "recovery returned a state the engine never wrote: " + context);
  if (r.report.faulty) return;
  FUZZ_CHECK(r.report.records >= 1 && r.report.last_seq >= 1, "a clean recovery replayed nothing: " + context);
  if (damaged.size() <= 1) {
    FUZZ_CHECK(contains(states, synced, r.state),
               fmt::format("recovery lost synced state (synced state: {}): {}", describe(states[synced]), context));
  }
  continue_after(memory, fresh, options, damaged.size() <= 1);
}

void run_raw(Input& in) {
  const StorageOptions options{1, 3, raw_ring_slots};
  MemoryDevice device(raw_device_bytes);
  const std::uint64_t sectors = device.size_bytes() / sector_bytes;
  while (!in.done()) {
    const std::uint64_t sector = in.u8() % sectors;
    const std::size_t length = (in.u8() + 1u) * 2u;  // the sector's first bytes; zeros after
    Bytes data(sector_bytes, 0);
    auto bytes = in.take(length);
    std::copy(bytes.begin(), bytes.end(), data.begin());
    (void)device.write(sector * sector_bytes, data);
  }
  (void)device.sync();
  Storage storage(device, options);
  auto back = storage.recover();
  if (!back) {
    trace("recover: error: {}", back.error().message);
    FUZZ_CHECK(!back.error().message.empty(), "a recovery error without a message");
    return;
  }
  trace("recover: {}; {}", describe(back.value().report), describe(back.value().state));
  if (back.value().report.faulty) return;
  continue_after(device, storage, options, false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Input in(std::span<const std::uint8_t>(data + 1, size - 1));
  try {
    if ((data[0] & 1) == 0) {
      run_built(in);
    } else {
      run_raw(in);
    }
  } catch (const AssertionError& e) {
    vsr::fuzz::finding(std::string("assertion failed: ") + e.what());
  }
  return 0;
}
