// A block device in memory that behaves like a disk with a volatile write cache: writes
// stay pending until sync(), and a crash decides, per pending write, how much of it
// landed. It can also be damaged at rest (bits flipped, sectors that fail to read,
// a write sent to the wrong place). Pure and deterministic: it never decides anything
// by itself; tests, the fuzzers and the simulator's storage faults (sim/storage_faults.hpp)
// choose every fault. The default device of ReplicaHost.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "vsr/block_device.hpp"

namespace vsr {

class MemoryDevice : public BlockDevice {
 public:
  /// A device of `size_bytes` (rounded down to whole sectors) reading all zeros.
  explicit MemoryDevice(std::uint64_t size_bytes) : size_bytes_(size_bytes / sector_bytes * sector_bytes) {}

  [[nodiscard]] std::uint64_t size_bytes() const override { return size_bytes_; }
  /// Reads the newest bytes (pending writes included, as a real page cache would).
  /// Fails on a sector marked unreadable.
  Result<void> read(std::uint64_t offset, std::span<std::uint8_t> into) override;
  /// Queues the write (pending until sync). A write redirected by redirect_next_write
  /// lands at the other offset instead.
  Result<void> write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  Result<void> sync() override;

  /// A pending write: where it goes and what.
  struct Pending {
    std::uint64_t offset = 0;
    Bytes data;
  };
  [[nodiscard]] const std::vector<Pending>& pending() const { return pending_; }
  /// Power loss: for each pending write, oldest first, `landed(write)` says how many of
  /// its sectors (a prefix) reach the platter: 0 (lost) up to all. Then nothing is pending.
  void crash(const std::function<std::uint64_t(const Pending&)>& landed);
  /// Power loss that loses every pending write.
  void crash_losing_pending() {
    crash([](const Pending&) { return std::uint64_t{0}; });
  }
  /// Flips bit `bit` (0..7) of the durable byte at `offset`.
  void flip_bit(std::uint64_t offset, std::uint32_t bit);
  /// Marks the sector holding `offset` unreadable (a latent sector error) until it is
  /// written again.
  void fail_reads_at(std::uint64_t offset);
  /// The next write lands at `to` instead of its own offset (a misdirected write).
  void redirect_next_write(std::uint64_t to) { redirect_ = to; }
  /// A power cut in the middle of what follows: the next `calls` writes and syncs go
  /// through, every later one is ignored (reported done: the caller never learns, a
  /// driver crashes it next) until crash() or wipe().
  void cut_power_after(std::uint64_t calls) { power_calls_left_ = calls; }
  /// A copy of the durable bytes (what a crash keeps) up to the last one ever written,
  /// for tests and checks.
  [[nodiscard]] Bytes durable() const;
  /// Erases everything (durable and pending).
  void wipe();
  /// Counts sync() calls, for tests.
  [[nodiscard]] std::uint64_t syncs() const { return syncs_; }

 private:
  Result<void> check_range(std::string_view what, std::uint64_t offset, std::size_t size) const;
  void land(std::uint64_t offset, std::span<const std::uint8_t> data);

  std::uint64_t size_bytes_;
  /// Durable bytes in chunks allocated when first written (a null chunk reads as
  /// zeros): no large copy or fill as the device fills up.
  static constexpr std::uint64_t chunk_bytes = std::uint64_t{64} << 10;  // below malloc's mmap threshold: reused, not faulted in
  std::uint8_t* chunk_for_write(std::uint64_t index);
  std::vector<std::unique_ptr<std::uint8_t[]>> chunks_;
  std::uint64_t extent_ = 0;  // one past the last durable byte ever written
  std::vector<Pending> pending_;
  std::set<std::uint64_t> unreadable_;  // sector indexes
  std::optional<std::uint64_t> redirect_;
  std::optional<std::uint64_t> power_calls_left_;  // set: a power cut is armed
  /// Whether the power is still on for one more call (counts it).
  bool powered();
  std::uint64_t syncs_ = 0;
};

}  // namespace vsr
