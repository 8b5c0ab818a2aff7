// The block device the storage engine (vsr/storage.hpp) runs over: read, write and
// sync at byte offsets. Pure interface: the real device (a file, vsr/io/file_device.hpp)
// and the simulator's faulty one (sim/storage_faults.hpp) implement it, and the engine's
// format and recovery code is the same over both.
//
// Completions: every call completes before it returns, with its result. Asynchrony is
// the host's business: a driver issues a batch's writes when the replica produces them
// and calls sync() when it decides the batch's persist completes (at once, after a
// simulated latency, on a real fsync), and only then releases the messages waiting on
// it (vsr/host.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "vsr/config.hpp"

namespace vsr {

/// The unit of every device access: offsets and lengths are multiples of it. A write
/// torn by a power loss lands a sector-aligned prefix of itself (sim/storage_faults.hpp).
inline constexpr std::size_t sector_bytes = 512;

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  /// The device's capacity in bytes (a multiple of sector_bytes).
  [[nodiscard]] virtual std::uint64_t size_bytes() const = 0;

  /// Reads `into.size()` bytes at `offset`. Bytes never written read as zero. An error
  /// (a latent sector error, an I/O error) names the offset; `into` is then unspecified.
  /// Preconditions: offset and size are multiples of sector_bytes, within size_bytes().
  virtual Result<void> read(std::uint64_t offset, std::span<std::uint8_t> into) = 0;

  /// Writes `data` at `offset`. The bytes may stay volatile until the next sync(): a
  /// crash before it may lose them, or land a sector-aligned prefix of them. An error
  /// (a full disk, an I/O error) names what failed; what was durable before is kept.
  /// Preconditions: offset and size are multiples of sector_bytes, within size_bytes().
  virtual Result<void> write(std::uint64_t offset, std::span<const std::uint8_t> data) = 0;

  /// Makes every write issued before it durable. A failed sync leaves them undefined:
  /// the caller must treat the device as failed (stop, restart, recover).
  virtual Result<void> sync() = 0;
};

}  // namespace vsr
