// The real block device: a regular file read and written with pread/pwrite, made
// durable with fdatasync (vsr/block_device.hpp's contract). Part of vsr/io/, the only
// code of the project that touches the operating system.
//
// One process at a time: open() takes an exclusive flock on the file, so a second
// process (or a second open in the same process) that opens the same data file gets an
// error instead of silently sharing it. The lock goes with the file descriptor: it is
// released when the device is destroyed or its process dies.
//
// Errors are vsr::Error values whose message names the operation, the path, the offset
// and the system's reason, e.g. "write /data/r0 at offset 4096: No space left on
// device". Caller bugs (an unaligned or out-of-bounds access) are errors too, not
// assertions: the device is a boundary, and a buggy caller must not crash the process.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "vsr/block_device.hpp"
#include "vsr/config.hpp"

namespace vsr::io {

class FileDevice final : public BlockDevice {
 public:
  /// Opens the data file `path` as a device of `size_bytes` bytes (a multiple of
  /// sector_bytes).
  /// - create = false: the file must exist, be a regular file, and be exactly
  ///   size_bytes long.
  /// - create = true: a missing file is created (mode 0644, then the file and its
  ///   directory are synced, so the new name survives a power loss); an existing file
  ///   shorter than size_bytes is extended with zeros. An existing file's content is
  ///   never rewritten and never shrunk: a longer file is an error.
  /// Errors: a missing file (without create), a size mismatch (naming both sizes), a
  /// file locked by another process, and any failing system call.
  static Result<std::unique_ptr<FileDevice>> open(const std::string& path,
                                                  std::uint64_t size_bytes, bool create);

  /// Closes the file (which releases its lock). Writes not yet synced stay in the
  /// operating system's cache: they are not lost unless the machine loses power.
  ~FileDevice() override;
  FileDevice(const FileDevice&) = delete;
  FileDevice& operator=(const FileDevice&) = delete;

  [[nodiscard]] std::uint64_t size_bytes() const override { return size_bytes_; }
  [[nodiscard]] const std::string& path() const { return path_; }

  /// BlockDevice::read. Bytes past the file's current end (a file shortened behind the
  /// device's back) read as zeros.
  Result<void> read(std::uint64_t offset, std::span<std::uint8_t> into) override;
  /// BlockDevice::write: all of `data`, retrying short writes and interruptions.
  Result<void> write(std::uint64_t offset, std::span<const std::uint8_t> data) override;
  /// BlockDevice::sync: fdatasync (the size is fixed at open, so data is what changes).
  Result<void> sync() override;

 private:
  /// Takes ownership of `fd` (open, locked, of size `size_bytes`).
  FileDevice(int fd, std::string path, std::uint64_t size_bytes);

  /// The BlockDevice preconditions for an access of `size` bytes at `offset`, as an
  /// error naming `operation` ("read", "write") when they do not hold.
  [[nodiscard]] Result<void> check_access(const char* operation, std::uint64_t offset,
                                          std::size_t size) const;

  /// The error of a write of `size` bytes at `offset` that stopped after `done` bytes:
  /// from errno, or (`no_progress`) a pwrite that returned 0.
  [[nodiscard]] Error write_error(std::uint64_t offset, std::size_t done, std::size_t size,
                                  bool no_progress) const;

  int fd_;
  std::string path_;
  std::uint64_t size_bytes_;
};

/// Makes the directory `dir`'s entries durable (fsync of the directory itself): after a
/// file is created in it, its name survives a power loss only once this returns.
Result<void> sync_directory(const std::string& dir);

}  // namespace vsr::io
