// bench-storage: the storage engine (vsr/storage.hpp) over the real file device
// (vsr/io/file_device.hpp), the path a replica's persists take.
//
// 1. Appends: for each batch size (1, 8, 64 entries of --entry-bytes), one delta per
//    batch (the entries, the view state) written and synced (Storage::sync: the journal,
//    then the ring copies, so two fdatasyncs), for --seconds. Like a replica with
//    checkpoints on, every --checkpoint-ops ops the delta also carries a checkpoint
//    (a --snapshot-bytes blob) and discards the log below it but --retention-ops, so
//    base records (compaction) cost what they cost in a real run. One line per size:
//    appends/s, MB/s of entry payload, engine syncs/s (each two fdatasyncs).
// 2. Recovery: a journal of --recover-entries entries (--recover-entry-bytes each,
//    --recover-batch per record, no checkpoint: every entry is in the journal) is
//    written and synced, the device closed, then reopened and recovered by a fresh
//    engine: the time to open and the time to recover(), and what it replayed.
//
// The data files live in --dir (default $TMPDIR or /tmp), are created sparse, and are
// removed at the end.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vsr/io/file_device.hpp"
#include "vsr/storage.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t entry_bytes = 512;
  double seconds = 3;
  std::string dir;
  std::uint64_t device_mib = 1024;
  std::uint32_t checkpoint_ops = 1024;
  std::uint32_t retention_ops = 128;
  std::size_t snapshot_bytes = 64 * 1024;
  std::uint64_t recover_entries = 1'000'000;
  std::size_t recover_entry_bytes = 100;
  std::size_t recover_batch = 64;
};

double since_s(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string default_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != 0 ? tmp : "/tmp";
}

/// Builds the deltas of a replica's log: entries chained from op 1, their checksums
/// kept from the log base on (for discards).
class LogWriter {
 public:
  explicit LogWriter(std::size_t entry_bytes) : entry_bytes_(entry_bytes) {}

  /// A delta appending `n` entries and the view state that commits them.
  vsr::PersistDelta append(std::size_t n) {
    vsr::PersistDelta d;
    d.append_first = vsr::OpNumber(last_ + 1);
    for (std::size_t i = 0; i < n; ++i) {
      vsr::LogEntry e;
      e.view = vsr::ViewNumber(1);
      e.client = vsr::ClientId(1 + (last_ + i) % 16);
      e.request = vsr::RequestNumber(1 + (last_ + i) / 16);
      e.operation = vsr::Bytes(entry_bytes_, static_cast<std::uint8_t>(last_ + i));
      d.append.push_back(std::move(e));
    }
    vsr::seal_chain(checksums_.empty() ? base_checksum_ : checksums_.back(), d.append_first, d.append);
    for (const auto& e : d.append) checksums_.push_back(e.checksum);
    last_ += n;
    d.state = vsr::DurableState{vsr::ViewNumber(1), vsr::ViewNumber(1), vsr::CommitNumber(last_)};
    return d;
  }

  /// Adds to `d` a checkpoint at its last op and a discard up to `retention` below it.
  void checkpoint(vsr::PersistDelta& d, std::size_t snapshot_bytes, std::uint64_t retention) {
    vsr::Checkpoint cp;
    cp.op = vsr::OpNumber(last_);
    cp.checksum = checksums_.back();
    cp.state_hash = last_;
    cp.machine = vsr::Bytes(snapshot_bytes, 0x5c);
    d.checkpoint = std::move(cp);
    if (last_ <= base_ + retention) return;
    const std::uint64_t to = last_ - retention;
    const std::uint64_t drop = to - base_;
    base_checksum_ = checksums_[drop - 1];
    checksums_.erase(checksums_.begin(), checksums_.begin() + static_cast<std::ptrdiff_t>(drop));
    base_ = to;
    d.discard_to = vsr::LogBase{vsr::OpNumber(to), base_checksum_};
  }

  [[nodiscard]] std::uint64_t last() const { return last_; }

 private:
  std::size_t entry_bytes_;
  std::uint64_t last_ = 0;
  std::uint64_t base_ = 0;
  std::uint64_t base_checksum_ = vsr::empty_log_checksum;
  std::deque<std::uint64_t> checksums_;  // ops base_+1 .. last_
};

vsr::StorageOptions storage_options() {
  vsr::StorageOptions o;
  o.replica = 0;
  o.replica_count = 3;
  return o;
}

/// Opens (creating) a device at `path`; exits with a message on failure.
std::unique_ptr<vsr::io::FileDevice> open_device(const std::string& path, std::uint64_t bytes, bool create) {
  auto device = vsr::io::FileDevice::open(path, bytes, create);
  if (!device) {
    fmt::print(stderr, "bench-storage: {}\n", device.error().message);
    std::exit(1);
  }
  return std::move(device.value());
}

template <class R>
void must(const R& r, std::string_view what) {
  if (!r) {
    fmt::print(stderr, "bench-storage: {}: {}\n", what, r.error().message);
    std::exit(1);
  }
}

void bench_appends(const Options& o, const std::string& path, std::size_t batch) {
  ::unlink(path.c_str());
  auto device = open_device(path, o.device_mib << 20, true);
  vsr::Storage storage(*device, storage_options());
  must(storage.format(), "format");
  LogWriter log(o.entry_bytes);
  std::uint64_t appends = 0, records = 0, since_checkpoint = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(o.seconds);
  while (Clock::now() < deadline) {
    vsr::PersistDelta d = log.append(batch);
    since_checkpoint += batch;
    if (o.checkpoint_ops != 0 && since_checkpoint >= o.checkpoint_ops) {
      log.checkpoint(d, o.snapshot_bytes, o.retention_ops);
      since_checkpoint = 0;
    }
    must(storage.write(d), "write");
    must(storage.sync(), "sync");
    appends += batch;
    ++records;
  }
  const double s = since_s(start);
  const double mb = static_cast<double>(appends * o.entry_bytes) / 1e6;
  fmt::print("batch {:>2}: {:>9.0f} appends/s  {:>7.2f} MB/s  {:>7.0f} engine syncs/s ({} records, {:.1f} s)\n", batch,
             static_cast<double>(appends) / s, mb / s, static_cast<double>(records) / s, records, s);
  device.reset();
  ::unlink(path.c_str());
}

void bench_recovery(const Options& o, const std::string& path) {
  ::unlink(path.c_str());
  // Room for every entry in the journal: a base record only when it passes a quarter
  // of it, and a ring as long as the journal's records.
  const std::uint64_t records = (o.recover_entries + o.recover_batch - 1) / o.recover_batch;
  const std::uint64_t record_bytes = o.recover_batch * (o.recover_entry_bytes + 64) + 2 * vsr::sector_bytes;
  const std::uint64_t bytes = ((records * record_bytes * 5) >> 20 << 20) + (64u << 20);
  vsr::StorageOptions so = storage_options();
  so.ring_slots = static_cast<std::uint32_t>(2 * records + 16);
  {
    auto device = open_device(path, bytes, true);
    vsr::Storage storage(*device, so);
    must(storage.format(), "format");
    LogWriter log(o.recover_entry_bytes);
    const auto start = Clock::now();
    while (log.last() < o.recover_entries) {
      must(storage.write(log.append(std::min<std::uint64_t>(o.recover_batch, o.recover_entries - log.last()))),
           "write");
      must(storage.sync(), "sync");
    }
    fmt::print("recovery: wrote {} entries of {} bytes in {} records ({:.0f} MiB device) in {:.1f} s\n",
               log.last(), o.recover_entry_bytes, storage.records().size(), static_cast<double>(bytes) / (1 << 20),
               since_s(start));
  }
  const auto open_start = Clock::now();
  auto device = open_device(path, bytes, false);
  vsr::Storage storage(*device, so);
  const double open_s = since_s(open_start);
  const auto start = Clock::now();
  auto recovered = storage.recover();
  const double recover_s = since_s(start);
  must(recovered, "recover");
  const auto& r = recovered.value();
  fmt::print("recovery: reopened in {:.3f} s, recovered in {:.3f} s: {} records replayed, ops {}..{}, faulty: {}\n",
             open_s, recover_s, r.report.records, r.state.log_base.op.value + 1, r.state.last_op().value,
             r.report.faulty ? "yes" : "none");
  device.reset();
  ::unlink(path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"bench-storage: the storage engine's appends per second with a sync per batch, and its recovery time"};
  app.add_option("--seconds", o.seconds, "seconds per batch size")->check(CLI::PositiveNumber);
  app.add_option("--entry-bytes", o.entry_bytes, "operation bytes per entry (appends)")->check(CLI::Range(1, 1 << 20));
  app.add_option("--dir", o.dir, "directory of the data files (default $TMPDIR or /tmp)");
  app.add_option("--device-mib", o.device_mib, "device size for the appends, MiB")->check(CLI::Range(16, 1 << 20));
  app.add_option("--checkpoint-ops", o.checkpoint_ops, "a checkpoint every this many ops (0: never)");
  app.add_option("--recover-entries", o.recover_entries, "entries in the journal to recover (0: skip)");
  app.add_option("--recover-entry-bytes", o.recover_entry_bytes, "operation bytes per entry (recovery)")
      ->check(CLI::Range(1, 1 << 16));
  CLI11_PARSE(app, argc, argv);
  if (o.dir.empty()) o.dir = default_dir();
  const std::string path = fmt::format("{}/bench-storage-{}.vsr", o.dir, ::getpid());
  fmt::print("bench-storage: {} ({}-byte entries, checkpoint every {} ops, {} s per size)\n", path, o.entry_bytes,
             o.checkpoint_ops, o.seconds);
  for (std::size_t batch : {1, 8, 64}) bench_appends(o, path, batch);
  if (o.recover_entries > 0) bench_recovery(o, path);
  return 0;
}
