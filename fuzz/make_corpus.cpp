// make_corpus OUT_DIR: writes the seed corpora of the fuzz targets (tools/make-corpus).
//   OUT_DIR/fuzz_codec/    real encoded messages: every message type, taken from a
//                          3-replica cluster of real replicas driven through normal
//                          operation, a view change, state transfer and recovery;
//                          each as a raw frame (mode byte 0) and as a sealed body (1).
//   OUT_DIR/fuzz_replica/  step scripts in fuzz_replica's input language that reach
//                          commits, view changes, restarts and recoveries.
//   OUT_DIR/fuzz_sim/      tapes that pass in vsr-sim (checked here), of several lengths.
//   OUT_DIR/fuzz_history/  client histories of real simulator runs, as JSON lines and
//                          as Jepsen EDN.
//   OUT_DIR/fuzz_storage/  journals built, crashed and damaged in fuzz_storage's input
//                          language, and real formatted devices as RAW inputs.
// Deterministic: the same binary writes the same files.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "fuzz/tape_cluster.hpp"
#include "sim/history.hpp"
#include "sim/history_json.hpp"
#include "sim/prng.hpp"
#include "sim/simulator.hpp"
#include "vsr/codec.hpp"
#include "vsr/kv.hpp"
#include "vsr/memory_device.hpp"
#include "vsr/message.hpp"
#include "vsr/storage.hpp"

namespace fs = std::filesystem;
using namespace vsr;

namespace {

/// A saved finding is named by its content's SHA-1 (40 hex digits, libFuzzer's names).
bool is_saved_finding(const fs::path& p) {
  std::string name = p.filename().string();
  return name.size() == 40 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// Empties `dir` of what an earlier run wrote, keeping saved findings (regression inputs
/// that the corpus replay test runs).
void remove_generated(const fs::path& dir) {
  if (!fs::is_directory(dir)) return;
  std::vector<fs::path> doomed;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!is_saved_finding(e.path())) doomed.push_back(e.path());
  }
  for (const fs::path& p : doomed) fs::remove_all(p);
}

void write_file(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
void write_file(const fs::path& p, const std::string& text) {
  write_file(p, std::vector<std::uint8_t>(text.begin(), text.end()));
}

// ---------------------------------------------------------------- codec

/// A 3-replica cluster (fuzz/tape_cluster.hpp) with FIFO delivery and instant disks,
/// recording the first few distinct encodings of each message type: of every message
/// that leaves a host, and of every request put in.
class MiniCluster {
 public:
  MiniCluster()
      : cluster_(3, {.instant_disks = true, .first_nonce = 77, .trace = false},
                 [this](ReplicaIndex, const Outgoing& o) { record(o.message); }) {}
  void request(std::uint32_t to, std::uint64_t client, std::uint64_t number, const std::string& key) {
    Request m{ClientId(client), RequestNumber(number),
              encode_kv_op(KvOp{KvOpKind::write, key, std::to_string(number), ""})};
    record(m);
    cluster_.inject("request", std::nullopt, to, m);
  }
  /// Delivers what is in flight, oldest first, until nothing is; what goes to a `deaf`
  /// replica is lost (but a message to itself, which a driver must deliver).
  void run(std::set<std::uint32_t> deaf = {}) {
    for (int guard = 0; guard < 10000 && !cluster_.in_flight().empty(); ++guard) {
      if (deaf.contains(cluster_.in_flight().front().to.value) && cluster_.drop(0)) continue;
      cluster_.deliver(0);
    }
  }
  void tick(std::uint32_t r, int n) {
    for (int k = 0; k < n; ++k) cluster_.tick(r);
  }
  /// Crashes r and wipes its disk; it restarts in recovery (with nonce 77, the first).
  void wipe(std::uint32_t r) { cluster_.crash_restart(r, /*wipe=*/true); }
  void drop_all() { cluster_.drop_all(); }
  std::map<std::size_t, std::vector<Bytes>>& frames() { return frames_; }

 private:
  void record(const Message& m) {
    auto& list = frames_[m.index()];
    Bytes b = encode(m);
    if (list.size() < 4 && std::find(list.begin(), list.end(), b) == list.end()) list.push_back(b);
  }
  std::map<std::size_t, std::vector<Bytes>> frames_;
  fuzz::TapeCluster cluster_;  // last: booting it records into frames_
};

void codec_corpus(const fs::path& dir) {
  MiniCluster c;
  for (std::uint64_t k = 1; k <= 3; ++k) c.request(0, 1, k, "x");
  c.run();
  c.tick(0, 5);  // heartbeat (Commit)
  c.run();
  c.request(0, 2, 1, "y");
  c.drop_all();  // r1, r2 miss a Prepare
  c.request(0, 2, 2, "y");
  c.run();  // the gap: GetState, NewState
  c.tick(1, 25);  // r1 hears nothing: view change to view 1
  c.tick(2, 25);
  c.run({0});
  c.request(1, 3, 1, "z");
  c.run();
  c.wipe(2);  // recovery
  c.run();
  c.tick(2, 12);
  c.run();
  std::size_t n = 0;
  for (const auto& [type, list] : c.frames()) {
    for (const Bytes& frame : list) {
      std::vector<std::uint8_t> raw{0};
      raw.insert(raw.end(), frame.begin(), frame.end());
      write_file(dir / fmt::format("{}-{}-frame", message_name(type), n), raw);
      std::vector<std::uint8_t> sealed{1, frame[3]};
      sealed.insert(sealed.end(), frame.begin() + frame_header_bytes, frame.end());
      write_file(dir / fmt::format("{}-{}-body", message_name(type), n), sealed);
      ++n;
    }
  }
  fmt::print("fuzz_codec: {} message types, {} files\n", c.frames().size(), 2 * n);
}

// ---------------------------------------------------------------- replica

void replica_corpus(const fs::path& dir) {
  // Opcodes of fuzz_replica (see its step()).
  const std::uint8_t tick = 6, tick_all = 7, request = 8, flush = 10,
                     crash = 11, wipe = 12, replay = 13, forge = 14, deliver_many = 15;
  std::vector<std::vector<std::uint8_t>> scripts;
  for (std::uint8_t size_byte : {0, 2, 4, 5}) {  // 3, 5, 2 and 4 replicas
    std::vector<std::uint8_t> s{size_byte};
    auto req = [&](std::uint8_t client, std::uint8_t kind) {
      s.insert(s.end(), {request, client, 0, kind, 3, 0, 0});
    };
    for (std::uint8_t k = 0; k < 4; ++k) req(k, static_cast<std::uint8_t>(3 + k % 3));  // writes
    s.insert(s.end(), {flush, deliver_many, 200, flush, deliver_many, 200, tick_all, deliver_many, 100});
    scripts.push_back(s);
    // A silent primary: backups time out, change views, then the old primary rejoins.
    auto vc = s;
    for (int k = 0; k < 3; ++k) vc.insert(vc.end(), {tick, 1, 15, tick, 2, 15, tick, 3, 15, tick, 4, 15});
    for (int k = 0; k < 6; ++k) vc.insert(vc.end(), {flush, deliver_many, 255});
    scripts.push_back(vc);
    auto cr = vc;
    cr.insert(cr.end(), {crash, 1, flush, deliver_many, 255, wipe, 2, flush, deliver_many, 255, tick_all,
                         flush, deliver_many, 255, tick, 2, 15, flush, deliver_many, 255});
    scripts.push_back(cr);
    auto rp = s;
    for (std::uint8_t k = 0; k < 8; ++k) rp.insert(rp.end(), {replay, k, 0, forge, k, 1, 2, 3, 4, 5});
    rp.insert(rp.end(), {flush, deliver_many, 255});
    scripts.push_back(rp);
  }
  sim::Prng rng(0xf022);
  for (std::size_t len : {64, 128, 256, 512, 1024, 2048}) {
    std::vector<std::uint8_t> s(len);
    for (auto& b : s) b = static_cast<std::uint8_t>(rng.next());
    scripts.push_back(s);
  }
  // Lies a replica can check (fuzz_replica's forge_lie: kinds 5..8 of its forge step),
  // after committed writes and heartbeats: views past max_view (each of its five
  // message types), a StartView and a DoViewChange dropping executed ops, an entry from
  // a later view, an unknown sender, a StartView of the wrong length. Each forge is
  // {forge, kind, to, from, view byte, kind's bytes}. Appended last, so the numbering of
  // the scripts above stays.
  for (std::uint8_t size_byte : {0, 2}) {  // 3 and 5 replicas
    std::vector<std::uint8_t> s{size_byte};
    for (std::uint8_t k = 0; k < 4; ++k) s.insert(s.end(), {request, k, 0, 3, 3, 0, 0});
    s.insert(s.end(), {flush, deliver_many, 200, flush, deliver_many, 200});
    for (int k = 0; k < 4; ++k) s.insert(s.end(), {tick, 0, 15, flush, deliver_many, 100});
    for (std::uint8_t type = 0; type < 5; ++type) {
      s.insert(s.end(), {forge, 5, 1, 2, 2, 0, type});
      if (type == 1) s.push_back(7);  // the Commit's commit number
    }
    s.insert(s.end(), {forge, 6, 0, 1, 2, 0, 0, 1, 0});  // StartView of view 1 to r0
    s.insert(s.end(), {forge, 6, 1, 2, 2, 0, 0, 1, 1});  // DoViewChange of view 1 to r1
    s.insert(s.end(), {forge, 7, 1, 0, 2, 3});
    s.insert(s.end(), {forge, 8, 2, 0, 2, 0, 7});
    s.insert(s.end(), {forge, 8, 2, 0, 2, 1});
    s.insert(s.end(), {flush, deliver_many, 255, tick_all, flush, deliver_many, 255});
    scripts.push_back(s);
  }
  for (std::size_t i = 0; i < scripts.size(); ++i) write_file(dir / fmt::format("script-{:02}", i), scripts[i]);
  fmt::print("fuzz_replica: {} files\n", scripts.size());
}

// ---------------------------------------------------------------- sim

sim::RunOptions tape_run(std::vector<std::uint8_t> input) {
  sim::RunOptions o;
  o.faults = sim::tape_faults;
  o.duration_us = sim::tape_duration_us;
  o.input = std::move(input);
  return o;
}

void sim_corpus(const fs::path& dir) {
  std::size_t n = 0;
  for (std::uint64_t seed = 1; n < 24 && seed < 200; ++seed) {
    sim::Prng rng(seed);
    std::vector<std::uint8_t> tape(64u << (seed % 6));  // 64 B .. 2 KiB
    for (auto& b : tape) b = static_cast<std::uint8_t>(rng.next());
    sim::RunResult r = sim::run_simulation(tape_run(tape));
    if (r.verdict != sim::RunVerdict::passed) {
      fmt::print(stderr, "fuzz_sim: tape of seed {} fails ({}): {}\n", seed, r.check, r.detail);
      continue;
    }
    write_file(dir / fmt::format("tape-{:03}", seed), tape);
    ++n;
  }
  fmt::print("fuzz_sim: {} files\n", n);
}

// ---------------------------------------------------------------- history

std::string edn_value(const sim::Op& op, bool completion) {
  switch (op.call.kind) {
    case sim::OpKind::read:
      return completion && op.outcome == sim::Outcome::ok && op.result ? std::to_string(*op.result) : "nil";
    case sim::OpKind::write: return std::to_string(op.call.value);
    case sim::OpKind::cas: return fmt::format("[{} {}]", op.call.value, op.call.to);
    case sim::OpKind::del: return "nil";
  }
  return "nil";
}

/// The history as Jepsen EDN, one map per event, in event order.
std::string to_edn(const sim::History& h) {
  std::vector<std::tuple<std::uint64_t, std::size_t, bool>> events;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    events.emplace_back(h.ops[i].invoke_seq, i, false);
    if (h.ops[i].outcome != sim::Outcome::pending) events.emplace_back(h.ops[i].complete_seq, i, true);
  }
  std::sort(events.begin(), events.end());
  std::string out = "; a vsr-sim history (tools/make-corpus)\n[\n";
  for (const auto& [seq, i, completion] : events) {
    const sim::Op& op = h.ops[i];
    out += fmt::format("{{:process {}, :type :{}, :f :{}, :key \"{}\", :value {}, :time {}}}\n", op.process,
                       completion ? to_string(op.outcome) : "invoke", to_string(op.call.kind), op.call.key,
                       edn_value(op, completion), completion ? op.complete_time : op.invoke_time);
  }
  return out + "]\n";
}

void history_corpus(const fs::path& dir) {
  std::size_t n = 0;
  for (std::uint64_t seed = 1; seed <= 16; ++seed) {
    sim::RunOptions o;
    o.seed = seed;
    o.duration_us = 150'000;
    o.faults = seed % 2 == 0 ? sim::FaultLevel::harsh : sim::FaultLevel::normal;
    o.clients = 1 + static_cast<std::uint32_t>(seed % 4);
    o.keep_history = true;
    sim::RunResult r = sim::run_simulation(o);
    std::string json = to_json_lines(r.history);
    std::string edn = to_edn(r.history);
    if (json.size() > 12000) continue;
    write_file(dir / fmt::format("seed-{:02}.jsonl", seed), std::string(1, '\0') + json);
    write_file(dir / fmt::format("seed-{:02}.edn", seed), std::string(1, '\1') + edn);
    n += 2;
  }
  fmt::print("fuzz_history: {} files\n", n);
}

// ---------------------------------------------------------------- storage

/// fuzz_storage's BUILT input language (fuzz/fuzz_storage.cpp), written with deltas
/// whose byte count does not depend on the stored state (at least one append, so a
/// checkpoint and a truncation always have ops to name), so every byte lands where it
/// is meant to.
class StorageScript {
 public:
  /// ring: 0..3 picks 16, 4, 8 or 32 ring slots; fuse_ops: 0 never.
  StorageScript(std::uint8_t ring, std::uint16_t fuse_ops, std::uint64_t seed)
      : rng_(seed), b_{0, ring, static_cast<std::uint8_t>(fuse_ops & 0xff), static_cast<std::uint8_t>(fuse_ops >> 8)} {}

  /// A write of n (1..3) entries; `truncate` only right after a write without
  /// `compact` (so the stored log has ops above its checkpoint to drop).
  void write(std::uint8_t n, bool big, bool state, bool compact, bool truncate = false) {
    b_.push_back(0);
    b_.push_back(static_cast<std::uint8_t>((truncate ? 0x01 : 0) | n << 1 | (state ? 0x08 : 0) |
                                           (compact ? 0x30 : 0) | (big ? 0x40 : 0)));
    if (truncate) byte();
    entries(n, big);
    if (state) byte();
    if (compact) {
      checkpoint();
      byte();  // the discard's op
    }
  }
  /// A snapshot install (the log restarts after a checkpoint) and n (1..3) entries.
  void install(std::uint8_t n) {
    b_.push_back(0);
    b_.push_back(static_cast<std::uint8_t>(0x81 | n << 1 | 0x08));
    b_.push_back(static_cast<std::uint8_t>(rng_.next() % 24));  // base op above the checkpoint
    for (int i = 0; i < 8; ++i) byte();                         // its checksum
    checkpoint();
    entries(n, false);
    byte();  // state
  }
  void sync() { b_.push_back(6); }
  void format() { b_.push_back(0x86); }
  /// Ends the build; then, per pending write, the crash: 7 lands whole, 3 is lost,
  /// 11 then a byte tears it (each also stops the damage if no write is left to take it).
  void end(const std::vector<std::uint8_t>& crash) {
    b_.push_back(7);
    b_.insert(b_.end(), crash.begin(), crash.end());
  }
  void flip(std::uint16_t offset, std::uint8_t bit) {
    b_.push_back(static_cast<std::uint8_t>(bit << 2));
    b_.push_back(static_cast<std::uint8_t>(offset & 0xff));
    b_.push_back(static_cast<std::uint8_t>(offset >> 8));
  }
  void overwrite(std::uint8_t sector) {
    b_.push_back(1);
    b_.push_back(sector);
    for (std::size_t i = 0; i < vsr::sector_bytes; ++i) byte();
  }
  void unreadable(std::uint8_t sector) {
    b_.push_back(2);
    b_.push_back(sector);
  }
  [[nodiscard]] const std::vector<std::uint8_t>& bytes() const { return b_; }

 private:
  void byte() { b_.push_back(static_cast<std::uint8_t>(rng_.next())); }
  void entries(std::uint8_t n, bool big) {
    for (std::uint8_t i = 0; i < n; ++i) {
      byte();  // client
      byte();  // request
      b_.push_back(static_cast<std::uint8_t>(rng_.next() % (big ? 64 : 48)));  // size (x16 if big)
      byte();  // fill
    }
  }
  void checkpoint() {
    byte();  // op
    for (int i = 0; i < 8; ++i) byte();  // state hash
    b_.push_back(static_cast<std::uint8_t>(rng_.next() % 40));  // machine bytes / 3
    byte();  // fill
    byte();  // client
    byte();  // request
    byte();  // reply bytes
  }
  sim::Prng rng_;
  std::vector<std::uint8_t> b_;
};

/// A typical stretch of writes: a mix of small, big, compacting and truncating batches,
/// synced every `sync_every` writes.
void storage_writes(StorageScript& s, int count, int sync_every, std::uint64_t salt) {
  for (int i = 0; i < count; ++i) {
    const std::uint64_t k = static_cast<std::uint64_t>(i) * 7 + salt;
    const bool compact = k % 5 == 0;
    s.write(static_cast<std::uint8_t>(1 + k % 3), k % 4 == 1, k % 2 == 0, compact, i > 0 && k % 9 == 3);
    if (sync_every > 0 && (i + 1) % sync_every == 0) s.sync();
  }
}

/// A RAW input of fuzz_storage: every sector of `device` that is not all zeros, as
/// [sector][n][its first 2(n+1) bytes].
std::vector<std::uint8_t> raw_device(const vsr::MemoryDevice& device) {
  std::vector<std::uint8_t> out{1};
  const vsr::Bytes& d = device.durable();
  for (std::size_t sector = 0; sector * vsr::sector_bytes < d.size(); ++sector) {
    const std::size_t from = sector * vsr::sector_bytes;
    const std::size_t to = std::min(d.size(), from + vsr::sector_bytes);
    std::size_t used = to - from;
    while (used > 0 && d[from + used - 1] == 0) --used;
    if (used == 0) continue;
    const std::size_t n = (used + 1) / 2;  // 2n bytes cover it
    out.push_back(static_cast<std::uint8_t>(sector));
    out.push_back(static_cast<std::uint8_t>(n - 1));
    for (std::size_t i = 0; i < 2 * n; ++i) out.push_back(from + i < d.size() ? d[from + i] : 0);
  }
  return out;
}

/// A small journal for RAW seeds, as vsr-storage writes it: `writes` batches of one
/// entry each over fuzz_storage's RAW geometry (72 sectors, 4 ring slots), synced but
/// the last.
std::vector<std::uint8_t> raw_journal(int writes) {
  vsr::MemoryDevice device((4 + 4 + 64) * vsr::sector_bytes);
  vsr::Storage storage(device, vsr::StorageOptions{1, 3, 4});
  if (!storage.format()) return {};
  for (int i = 0; i < writes; ++i) {
    const vsr::PersistedState& s = storage.image();
    vsr::PersistDelta d;
    d.append = {vsr::LogEntry{vsr::ViewNumber(0), vsr::ClientId(1), vsr::RequestNumber(1 + static_cast<std::uint64_t>(i)),
                              vsr::Bytes(24, static_cast<std::uint8_t>(i)), 0, vsr::SessionNumber(0)}};
    d.append_first = s.last_op().next();
    vsr::seal_chain(s.log.empty() ? s.log_base.checksum : s.log.back().checksum, d.append_first, d.append);
    d.state = vsr::DurableState{vsr::ViewNumber(1), vsr::ViewNumber(1), vsr::CommitNumber(d.append_first.value)};
    if (!storage.write(d)) return {};
    if (i + 1 < writes && !storage.sync()) return {};
  }
  device.crash([](const vsr::MemoryDevice::Pending&) { return std::uint64_t{1000}; });
  return raw_device(device);
}

void storage_corpus(const fs::path& dir) {
  std::map<std::string, std::vector<std::uint8_t>> seeds;
  {  // Many wraps and compactions of the 16-slot ring, then a crash amid unsynced writes.
    StorageScript s(0, 0, 1);
    storage_writes(s, 90, 4, 0);
    storage_writes(s, 5, 0, 1);
    s.end({7, 11, 1, 3, 7, 11, 2, 7, 3, 7});
    seeds["built-wraps-crash"] = s.bytes();
  }
  {  // Four ring slots (a base record every two), the device dying mid-way.
    StorageScript s(1, 57, 2);
    storage_writes(s, 40, 3, 2);
    s.end({7, 7, 11, 1, 3, 7});
    seeds["built-fuse"] = s.bytes();
  }
  {  // 32 ring slots, everything synced, then damage: bits in the journal, a ring
     // copy overwritten, a journal sector unreadable.
    StorageScript s(3, 0, 3);
    storage_writes(s, 60, 5, 3);
    s.sync();
    s.end({});
    s.flip(static_cast<std::uint16_t>((4 + 32 + 3) * 512 + 40), 2);
    s.overwrite(4 + 7);
    s.unreadable(4 + 32 + 20);
    seeds["built-damage"] = s.bytes();
  }
  {  // A snapshot install, truncations, and a second format mid-way.
    StorageScript s(2, 0, 4);
    storage_writes(s, 20, 2, 4);
    s.install(2);
    s.write(2, false, true, false);
    s.write(1, false, false, false, true);
    s.sync();
    s.format();
    storage_writes(s, 20, 3, 5);
    s.end({11, 0, 7, 11, 1});
    seeds["built-install-format"] = s.bytes();
  }
  {  // One damaged sector after a crash.
    StorageScript s(0, 0, 5);
    storage_writes(s, 30, 2, 6);
    s.write(3, true, true, false);
    s.end({7});
    s.flip(static_cast<std::uint16_t>((4 + 16 + 2) * 512 + 100), 0);
    seeds["built-crash-flip"] = s.bytes();
  }
  seeds["raw-formatted"] = raw_journal(0);
  seeds["raw-journal"] = raw_journal(7);
  for (const auto& [name, bytes] : seeds) write_file(dir / name, bytes);
  fmt::print("fuzz_storage: {} files\n", seeds.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus OUT_DIR\n");
    return 2;
  }
  fs::path out(argv[1]);
  for (const char* t : {"fuzz_codec", "fuzz_replica", "fuzz_sim", "fuzz_history", "fuzz_storage"}) {
    remove_generated(out / t);
    fs::create_directories(out / t);
  }
  codec_corpus(out / "fuzz_codec");
  replica_corpus(out / "fuzz_replica");
  sim_corpus(out / "fuzz_sim");
  history_corpus(out / "fuzz_history");
  storage_corpus(out / "fuzz_storage");
  return 0;
}
