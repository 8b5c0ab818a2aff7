#include "vsr/io/file_device.hpp"

#include <algorithm>
#include <cerrno>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <fmt/format.h>

namespace vsr::io {

namespace {

/// The system's text for the current errno ("No space left on device"); thread-safe,
/// unlike strerror.
std::string reason() { return std::generic_category().message(errno); }

/// "OPERATION PATH: REASON", REASON from the current errno.
Error system_error(std::string_view operation, const std::string& path) {
  return Error{fmt::format("{} {}: {}", operation, path, reason())};
}

/// "OPERATION PATH at offset OFFSET: REASON", REASON from the current errno.
Error system_error_at(std::string_view operation, const std::string& path,
                      std::uint64_t offset) {
  return Error{fmt::format("{} {} at offset {}: {}", operation, path, offset, reason())};
}

/// Owns a file descriptor until it is released; closes it otherwise (error paths).
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd& operator=(UniqueFd&&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

struct OpenedFile {
  UniqueFd fd;
  bool created;  ///< true: this call created the file (it was missing)
};

/// Opens `path` read-write. With `create`, a missing file is created (mode 0644), and
/// the answer says whether it was: O_EXCL first, so an existing file is told apart.
Result<OpenedFile> open_file(const std::string& path, bool create) {
  constexpr int flags = O_RDWR | O_CLOEXEC;
  if (create) {
    int fd = -1;
    do fd = ::open(path.c_str(), flags | O_CREAT | O_EXCL, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd >= 0) return OpenedFile{UniqueFd(fd), true};
    if (errno != EEXIST) return system_error("create", path);
  }
  int fd = -1;
  do fd = ::open(path.c_str(), flags);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return system_error("open", path);
  return OpenedFile{UniqueFd(fd), false};
}

/// Takes the exclusive lock on the open file `fd`, without waiting.
Result<void> lock_file(int fd, const std::string& path) {
  int rc = -1;
  do rc = ::flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) return outcome::success();
  if (errno == EWOULDBLOCK) return Error{fmt::format("lock {}: locked by another process", path)};
  return system_error("lock", path);
}

/// The current size of the open file `fd`, which must be a regular file.
Result<std::uint64_t> regular_file_size(int fd, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return system_error("stat", path);
  if (!S_ISREG(st.st_mode)) return Error{fmt::format("open {}: not a regular file", path)};
  return static_cast<std::uint64_t>(st.st_size);
}

/// fsync, retried when interrupted.
Result<void> fsync_fd(int fd, std::string_view operation, const std::string& path) {
  int rc = -1;
  do rc = ::fsync(fd);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return system_error(operation, path);
  return outcome::success();
}

/// Extends the open file `fd` with zeros to `size_bytes` (more than its size now).
Result<void> extend_file(int fd, const std::string& path, std::uint64_t size_bytes) {
  int rc = -1;
  do rc = ::ftruncate(fd, static_cast<off_t>(size_bytes));
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return system_error(fmt::format("extend to {} bytes", size_bytes), path);
  return outcome::success();
}

/// Gives the open file `fd` the device's size: extends a shorter file when `create`
/// allows it (and syncs it: a later open without create must find the new size), never
/// shrinks one.
Result<void> size_file(int fd, const std::string& path, std::uint64_t size_bytes, bool create) {
  auto current = regular_file_size(fd, path);
  if (!current) return current.error();
  if (create && current.value() < size_bytes) {
    if (auto extended = extend_file(fd, path, size_bytes); !extended) return extended.error();
    return fsync_fd(fd, "sync", path);
  }
  if (current.value() != size_bytes) {
    return Error{fmt::format("open {}: the file is {} bytes, the device {} bytes", path,
                             current.value(), size_bytes)};
  }
  return outcome::success();
}

/// The directory holding `path` ("." for a bare name).
std::string parent_directory(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<std::unique_ptr<FileDevice>> FileDevice::open(const std::string& path,
                                                     std::uint64_t size_bytes, bool create) {
  if (size_bytes % sector_bytes != 0) {
    return Error{fmt::format("open {}: device size {} bytes is not a multiple of {}", path,
                             size_bytes, sector_bytes)};
  }
  auto file = open_file(path, create);
  if (!file) return file.error();
  int fd = file.value().fd.get();
  // Locked before sizing: two processes racing to create the file never both extend it.
  if (auto locked = lock_file(fd, path); !locked) return locked.error();
  if (auto sized = size_file(fd, path, size_bytes, create); !sized) return sized.error();
  // A new file: its inode, then its name in the directory, made durable.
  if (file.value().created) {
    if (auto synced = fsync_fd(fd, "sync", path); !synced) return synced.error();
    if (auto synced = sync_directory(parent_directory(path)); !synced) return synced.error();
  }
  return std::unique_ptr<FileDevice>(
      new FileDevice(file.value().fd.release(), path, size_bytes));
}

FileDevice::FileDevice(int fd, std::string path, std::uint64_t size_bytes)
    : fd_(fd), path_(std::move(path)), size_bytes_(size_bytes) {}

FileDevice::~FileDevice() { ::close(fd_); }

Result<void> FileDevice::check_access(const char* operation, std::uint64_t offset,
                                      std::size_t size) const {
  if (offset % sector_bytes != 0 || size % sector_bytes != 0) {
    return Error{fmt::format("{} {} at offset {}: offset and size ({} bytes) must be multiples of {}",
                             operation, path_, offset, size, sector_bytes)};
  }
  if (offset > size_bytes_ || size > size_bytes_ - offset) {
    return Error{fmt::format("{} {} at offset {}: {} bytes do not fit in the device ({} bytes)",
                             operation, path_, offset, size, size_bytes_)};
  }
  return outcome::success();
}

Result<void> FileDevice::read(std::uint64_t offset, std::span<std::uint8_t> into) {
  if (auto ok = check_access("read", offset, into.size()); !ok) return ok.error();
  std::size_t done = 0;
  while (done < into.size()) {
    ssize_t n = ::pread(fd_, into.data() + done, into.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error_at("read", path_, offset + done);
    if (n == 0) break;  // the file's end: the rest reads as zeros
    done += static_cast<std::size_t>(n);
  }
  std::fill(into.begin() + static_cast<std::ptrdiff_t>(done), into.end(), std::uint8_t{0});
  return outcome::success();
}

Result<void> FileDevice::write(std::uint64_t offset, std::span<const std::uint8_t> data) {
  if (auto ok = check_access("write", offset, data.size()); !ok) return ok.error();
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return write_error(offset, done, data.size(), n == 0);
    done += static_cast<std::size_t>(n);
  }
  return outcome::success();
}

Error FileDevice::write_error(std::uint64_t offset, std::size_t done, std::size_t size,
                              bool no_progress) const {
  std::string why = no_progress ? std::string("the system wrote nothing") : reason();
  std::string written = done == 0 ? "" : fmt::format(" (after {} of {} bytes)", done, size);
  return Error{fmt::format("write {} at offset {}: {}{}", path_, offset, why, written)};
}

Result<void> FileDevice::sync() {
  int rc = -1;
  do rc = ::fdatasync(fd_);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) return system_error("sync", path_);
  return outcome::success();
}

Result<void> sync_directory(const std::string& dir) {
  int fd = -1;
  do fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) return system_error("open directory", dir);
  UniqueFd owned(fd);
  return fsync_fd(fd, "sync directory", dir);
}

}  // namespace vsr::io
