#include "vsr/io/file_device.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vsr/state_machine.hpp"

using namespace vsr;
using vsr::io::FileDevice;

namespace {

using Bytes = std::vector<std::uint8_t>;

// ---- Helpers -----------------------------------------------------------------------

/// SplitMix64 with a fixed seed per test (never std::*_distribution).
struct Prng {
  std::uint64_t state;
  std::uint64_t next() {
    state += 0x9e3779b97f4a7c15ULL;
    return hash_mix(state);
  }
  /// A value in [0, n); slightly biased, which a test does not mind. Precondition: n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

/// A fresh directory under $TMPDIR (or /tmp), removed with its content at the end.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/vsr-file-device-XXXXXX",
                                      base != nullptr && *base != 0 ? base : "/tmp");
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A record fills one sector: [checksum: 8 bytes LE][payload], the checksum being
// hash_bytes of the payload. The payload starts with "record " and the index as 16 hex
// digits. No byte of a record is zero, so that a power loss that truncates or zeroes
// any of its bytes always changes it: the test then expects the checksum to reject it.
constexpr std::size_t checksum_bytes = 8;

std::uint64_t load_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void store_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

/// The record of slot `index` (its content depends on `salt` too). Its last payload
/// byte is a nonce, bumped until the checksum has no zero byte.
Bytes make_record(std::uint64_t index, std::uint64_t salt = 0) {
  Bytes r(sector_bytes);
  std::string head = fmt::format("record {:016x} ", index);
  std::copy(head.begin(), head.end(), r.begin() + checksum_bytes);
  Prng prng{hash_combine(index, salt)};
  for (std::size_t i = checksum_bytes + head.size(); i < r.size(); ++i) {
    r[i] = static_cast<std::uint8_t>(prng.next() | 1);
  }
  auto has_zero = [&] { return std::find(r.begin(), r.end(), 0) != r.end(); };
  do {
    r.back() = static_cast<std::uint8_t>(r.back() + 2);  // stays odd: never zero
    store_u64(r.data(), hash_bytes(r.data() + checksum_bytes, r.size() - checksum_bytes));
  } while (has_zero());
  return r;
}

/// The index a sector holds when its checksum is good and it names an index; nullopt
/// when it is not a valid record (torn, zeroed, garbled).
std::optional<std::uint64_t> decode_record(const std::uint8_t* sector) {
  std::uint64_t sum = hash_bytes(sector + checksum_bytes, sector_bytes - checksum_bytes);
  if (load_u64(sector) != sum) return std::nullopt;
  std::string head(reinterpret_cast<const char*>(sector + checksum_bytes), 24);
  if (head.rfind("record ", 0) != 0) return std::nullopt;
  return std::strtoull(head.c_str() + 7, nullptr, 16);
}

/// Opens a device that must open.
std::unique_ptr<FileDevice> open_ok(const std::string& path, std::uint64_t size_bytes,
                                    bool create) {
  auto device = FileDevice::open(path, size_bytes, create);
  INFO(path);
  REQUIRE_MESSAGE(device.has_value(), (device ? "" : device.error().message));
  return std::move(device).value();
}

/// The whole device's content.
Bytes read_all(FileDevice& device) {
  Bytes all(device.size_bytes());
  auto r = device.read(0, all);
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().message));
  return all;
}

/// Writes record `slot` at its sector; the error text, empty when it worked.
std::string write_record(FileDevice& device, std::uint64_t slot, std::uint64_t salt = 0) {
  Bytes r = make_record(slot, salt);
  auto w = device.write(slot * sector_bytes, r);
  return w ? "" : w.error().message;
}

Bytes file_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Makes the file `path` hold `bytes`. It is overwritten in place and then cut, never
/// truncated to zero first: ext4 flushes a file rewritten that way when it is closed
/// (auto_da_alloc), which would make a loop of copies wait on the disk.
void write_file(const std::string& path, const Bytes& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  bool ok = ::pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()) &&
            ::ftruncate(fd, static_cast<off_t>(bytes.size())) == 0;
  ::close(fd);
  REQUIRE(ok);
}

/// Sector `slot` of `image`.
Bytes sector_of(const Bytes& image, std::uint64_t slot) {
  auto begin = image.begin() + static_cast<std::ptrdiff_t>(slot * sector_bytes);
  return {begin, begin + static_cast<std::ptrdiff_t>(sector_bytes)};
}

/// Writes all of `text` to `fd` (a pipe).
void write_fd(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

/// Everything readable from `fd` until its end.
std::string read_fd(int fd) {
  std::string out;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

/// Runs `body` in a forked child (so that what it changes, rlimits and mounts, stays
/// there) and returns the text it returned: its report. The child never returns into
/// doctest (no assertion may run in it); a child that dies reports how.
std::string run_in_child(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string report = body();
    write_fd(fds[1], report.data(), report.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string report = read_fd(fds[0]);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fmt::format("the child died (wait status {:#x}); it said: {}", status, report);
  }
  return report;
}

/// Checks a device image after a power loss at byte `k` of the records [0, count)
/// written from offset 0: the records wholly before k are intact, every later one
/// (the record holding k included) is rejected by its checksum. Appends failures.
void check_after_loss(const Bytes& image, const Bytes& written, std::size_t count,
                      std::size_t k, const char* how, std::vector<std::string>& failures) {
  for (std::size_t slot = 0; slot < count; ++slot) {
    bool before_k = (slot + 1) * sector_bytes <= k;
    const std::uint8_t* sector = image.data() + slot * sector_bytes;
    // Slots past the written records (never written) have nothing to compare with.
    bool intact = (slot + 1) * sector_bytes <= written.size() &&
                  std::equal(sector, sector + sector_bytes,
                             written.begin() + static_cast<std::ptrdiff_t>(slot * sector_bytes));
    bool accepted = decode_record(sector) == std::optional<std::uint64_t>(slot);
    if (before_k && !(intact && accepted)) {
      failures.push_back(fmt::format("{} at byte {}: record {} (before it) is damaged", how, k, slot));
    } else if (!before_k && accepted) {
      failures.push_back(fmt::format("{} at byte {}: record {} (from it on) was accepted", how, k, slot));
    }
  }
}

/// Whether the power-loss test truncates at byte `k` of the writes: every byte within
/// 32 of a record boundary (the checksum and the index live there), every 16th byte
/// elsewhere. A truncated copy costs an fsync (open extends it back to the device's size
/// durably), milliseconds on a busy disk; the garbling half takes every byte.
bool truncate_at(std::size_t k) {
  std::size_t into_record = k % sector_bytes;
  return std::min(into_record, sector_bytes - into_record) <= 32 || k % 16 == 0;
}

}  // namespace

// ---- Plain use ---------------------------------------------------------------------

TEST_CASE("file device: writes read back, and a reopened device sees them") {
  TempDir dir;
  std::string path = dir.file("data");
  constexpr std::uint64_t size = 64 * 1024;
  {
    auto device = open_ok(path, size, true);
    CHECK(device->size_bytes() == size);
    CHECK(std::filesystem::file_size(path) == size);
    CHECK(read_all(*device) == Bytes(size, 0));  // never written: zeros
    CHECK(write_record(*device, 0) == "");
    Bytes batch = make_record(8);                // two sectors in one write
    Bytes second = make_record(9);
    batch.insert(batch.end(), second.begin(), second.end());
    REQUIRE(device->write(8 * sector_bytes, batch));
    REQUIRE(device->sync());
    Bytes back(2 * sector_bytes);
    REQUIRE(device->read(8 * sector_bytes, back));
    CHECK(back == batch);
  }
  for (bool create : {false, true}) {  // reopening, with create or not, keeps the content
    auto device = open_ok(path, size, create);
    Bytes all = read_all(*device);
    CHECK(sector_of(all, 0) == make_record(0));
    CHECK(sector_of(all, 8) == make_record(8));
    CHECK(sector_of(all, 9) == make_record(9));
    CHECK(sector_of(all, 1) == Bytes(sector_bytes, 0));
  }
}

TEST_CASE("file device: a caller's unaligned or out-of-bounds access is an error, not a crash") {
  TempDir dir;
  std::string path = dir.file("data");
  constexpr std::uint64_t size = 8 * sector_bytes;
  auto device = open_ok(path, size, true);
  Bytes sector(sector_bytes, 7), odd(100, 7), two(2 * sector_bytes, 7);
  auto error_of = [](const Result<void>& r) { return r ? std::string("no error") : r.error().message; };

  CHECK(error_of(device->read(100, sector)) ==
        fmt::format("read {} at offset 100: offset and size (512 bytes) must be multiples of 512", path));
  CHECK(error_of(device->write(0, odd)) ==
        fmt::format("write {} at offset 0: offset and size (100 bytes) must be multiples of 512", path));
  CHECK(error_of(device->write(size, sector)) ==
        fmt::format("write {} at offset {}: 512 bytes do not fit in the device ({} bytes)", path, size, size));
  CHECK(error_of(device->read(size - sector_bytes, two)).find("do not fit") != std::string::npos);
  // An offset whose end overflows 64 bits is out of bounds too.
  CHECK(error_of(device->read(UINT64_MAX - 511, sector)).find("do not fit") != std::string::npos);
  CHECK(device->read(size, std::span<std::uint8_t>()));  // empty, at the end: fine
  CHECK(read_all(*device) == Bytes(size, 0));            // nothing was written
}

TEST_CASE("file device: open's errors name the path and what is wrong") {
  TempDir dir;
  std::string path = dir.file("data");
  auto error_of = [](const std::string& p, std::uint64_t size, bool create) {
    auto d = FileDevice::open(p, size, create);
    return d ? std::string("no error") : d.error().message;
  };
  CHECK(error_of(path, 4096, false) == fmt::format("open {}: No such file or directory", path));
  CHECK(error_of(dir.file("no/such/dir"), 4096, true) ==
        fmt::format("create {}: No such file or directory", dir.file("no/such/dir")));
  CHECK(error_of(path, 1000, true) ==
        fmt::format("open {}: device size 1000 bytes is not a multiple of 512", path));
  CHECK(error_of(dir.file(""), 4096, false) == fmt::format("open {}: Is a directory", dir.file("")));
  CHECK(error_of("/dev/null", 4096, false) == "open /dev/null: not a regular file");
  CHECK_FALSE(std::filesystem::exists(path));  // none of these created it

  {
    auto device = open_ok(path, 4096, true);
    CHECK(write_record(*device, 7) == "");
    SUBCASE("a second open is refused while the first holds the file") {
      CHECK(error_of(path, 4096, false) == fmt::format("lock {}: locked by another process", path));
    }
  }
  CHECK(error_of(path, 8192, false) ==
        fmt::format("open {}: the file is 4096 bytes, the device 8192 bytes", path));
  // create never shrinks a longer file; it extends a shorter one, keeping its content.
  CHECK(error_of(path, 2048, true) ==
        fmt::format("open {}: the file is 4096 bytes, the device 2048 bytes", path));
  CHECK(std::filesystem::file_size(path) == 4096);
  auto device = open_ok(path, 8192, true);
  CHECK(std::filesystem::file_size(path) == 8192);
  Bytes all = read_all(*device);
  CHECK(sector_of(all, 7) == make_record(7));
  CHECK(sector_of(all, 15) == Bytes(sector_bytes, 0));

  auto synced = io::sync_directory(dir.file("missing"));
  REQUIRE_FALSE(synced);
  CHECK(synced.error().message ==
        fmt::format("open directory {}: No such file or directory", dir.file("missing")));
}

TEST_CASE("file device: bytes past the file's current end read as zeros") {
  TempDir dir;
  std::string path = dir.file("data");
  auto device = open_ok(path, 8 * sector_bytes, true);
  CHECK(write_record(*device, 1) == "");
  REQUIRE(::truncate(path.c_str(), sector_bytes + 100) == 0);  // shortened behind its back
  Bytes all(device->size_bytes(), 0xaa);                       // no zero to start with
  REQUIRE(device->read(0, all));
  Bytes expected(all.size(), 0);
  Bytes record = make_record(1);
  std::copy(record.begin(), record.begin() + 100, expected.begin() + sector_bytes);
  CHECK(all == expected);
}

// ---- Power loss ----------------------------------------------------------------------

// Three records written one by one, then a power loss at byte k of what they wrote:
// (a) the file cut at k, (b) every byte from k on garbled. Reopened, the records wholly
// before k must read intact and every later one must fail its checksum.
TEST_CASE("file device: a power loss at every byte of a sequence of writes is detected") {
  TempDir dir;
  std::string path = dir.file("data");
  constexpr std::size_t count = 3;                           // records written, in order
  constexpr std::uint64_t size = (count + 2) * sector_bytes;  // and two slots never written
  Bytes written;
  {
    auto device = open_ok(path, size, true);
    for (std::size_t slot = 0; slot < count; ++slot) {
      REQUIRE(write_record(*device, slot) == "");
      Bytes r = make_record(slot);
      written.insert(written.end(), r.begin(), r.end());
    }
    REQUIRE(device->sync());
  }
  Bytes image = file_content(path);
  REQUIRE(image.size() == size);
  Prng prng{0x5eed};
  std::vector<std::string> failures;
  std::string copy = dir.file("copy");
  for (std::size_t k = 0; k <= written.size(); ++k) {
    // (a) the file ends at k (the writes' tail never reached it); open extends it.
    if (truncate_at(k)) {
      write_file(copy, Bytes(image.begin(), image.begin() + static_cast<std::ptrdiff_t>(k)));
      check_after_loss(read_all(*open_ok(copy, size, true)), written, count + 2, k,
                       "truncated", failures);
    }
    // (b) every byte from k to the end of the last write is garbage (always changed).
    Bytes garbled = image;
    for (std::size_t i = k; i < written.size(); ++i) {
      garbled[i] ^= static_cast<std::uint8_t>(1 + prng.below(255));
    }
    write_file(copy, garbled);
    check_after_loss(read_all(*open_ok(copy, size, false)), written, count + 2, k, "garbled",
                     failures);
  }
  INFO(fmt::format("{} failures, the first: {}", failures.size(), failures.empty() ? "" : failures[0]));
  CHECK(failures.empty());
}

TEST_CASE("file device: random bit flips found on reopen are rejected, the rest reads intact") {
  TempDir dir;
  std::string path = dir.file("data");
  constexpr std::size_t count = 64;
  {
    auto device = open_ok(path, count * sector_bytes, true);
    for (std::size_t slot = 0; slot < count; ++slot) REQUIRE(write_record(*device, slot) == "");
    REQUIRE(device->sync());
  }
  Bytes image = file_content(path);
  Prng prng{0xf11b};
  std::string copy = dir.file("copy");
  std::size_t rejected = 0;
  for (int trial = 0; trial < 50; ++trial) {
    Bytes flipped = image;
    for (auto records = 1 + prng.below(5); records > 0; --records) {
      std::uint64_t slot = prng.below(count);
      for (auto bits = 1 + prng.below(8); bits > 0; --bits) {
        std::uint64_t bit = prng.below(sector_bytes * 8);
        flipped[slot * sector_bytes + bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
      }
    }
    write_file(copy, flipped);
    Bytes back = read_all(*open_ok(copy, count * sector_bytes, false));
    REQUIRE(back == flipped);
    for (std::size_t slot = 0; slot < count; ++slot) {
      bool touched = sector_of(back, slot) != sector_of(image, slot);  // two flips may cancel
      auto decoded = decode_record(back.data() + slot * sector_bytes);
      INFO("trial ", trial, ", record ", slot);
      CHECK(decoded == (touched ? std::nullopt : std::optional<std::uint64_t>(slot)));
      rejected += touched;
    }
  }
  CHECK(rejected >= 50);
}

// ---- Full disk -----------------------------------------------------------------------

TEST_CASE("file device: a full tmpfs fails the write with ENOSPC, keeps what was written") {
  TempDir dir;
  std::string mount_point = dir.file("tmpfs");
  REQUIRE(std::filesystem::create_directory(mount_point));
  std::string path = mount_point + "/data";
  // In a child with its own mount namespace: the mount vanishes with it, whatever happens.
  std::string report = run_in_child([&]() -> std::string {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=16k") != 0) {
      return fmt::format("SKIP: cannot mount a tmpfs here ({})", std::strerror(errno));
    }
    constexpr std::uint64_t slots = 256;  // 128 KiB: sparse, more than the 16 KiB tmpfs
    std::uint64_t slot = 0;
    std::string error;
    {
      auto device = FileDevice::open(path, slots * sector_bytes, true);
      if (!device) return "open: " + device.error().message;
      while (slot < slots && (error = write_record(*device.value(), slot)).empty()) ++slot;
    }
    std::string expected = fmt::format("write {} at offset {}: No space left on device", path,
                                       slot * sector_bytes);
    if (slot == 0 || slot == slots || error != expected) {
      return fmt::format("after {} records, the error '{}', expected '{}'", slot, error, expected);
    }
    auto device = FileDevice::open(path, slots * sector_bytes, false);
    if (!device) return "reopen: " + device.error().message;
    Bytes back(sector_bytes);
    for (std::uint64_t s = 0; s < slot; ++s) {
      if (!device.value()->read(s * sector_bytes, back) || back != make_record(s)) {
        return fmt::format("record {} (written before the disk was full) reads back damaged", s);
      }
    }
    return "";
  });
  if (report.rfind("SKIP", 0) == 0) {
    MESSAGE(report);
    return;
  }
  CHECK(report == "");
}

TEST_CASE("file device: a write past RLIMIT_FSIZE fails with EFBIG, keeps what was written") {
  TempDir dir;
  std::string path = dir.file("data");
  constexpr std::uint64_t slots = 32;
  constexpr std::uint64_t limit_bytes = 16 * sector_bytes + 256;  // inside record 16
  open_ok(path, slots * sector_bytes, true);  // created full size, then closed
  // In a child: the limit and the ignored SIGXFSZ stay there.
  std::string report = run_in_child([&]() -> std::string {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{limit_bytes, limit_bytes};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit failed";
    auto device = FileDevice::open(path, slots * sector_bytes, false);
    if (!device) return "open: " + device.error().message;
    for (std::uint64_t slot = 0; slot < slots; ++slot) {
      std::string error = write_record(*device.value(), slot);
      if (!error.empty()) return fmt::format("record {}: {}", slot, error);
    }
    return "no write failed";
  });
  CHECK(report == fmt::format("record 16: write {} at offset 8192: File too large "
                              "(after 256 of 512 bytes)", path));
  Bytes all = read_all(*open_ok(path, slots * sector_bytes, false));
  for (std::uint64_t slot = 0; slot < 16; ++slot) CHECK(sector_of(all, slot) == make_record(slot));
  CHECK_FALSE(decode_record(all.data() + 16 * sector_bytes).has_value());  // a torn record
}

// ---- Process death -------------------------------------------------------------------

namespace {

/// The child of the SIGKILL test: writes record i at slot i, syncs, reports i on `fd`;
/// then waits to be killed. Never returns.
[[noreturn]] void append_until_killed(const std::string& path, std::uint64_t slots, int fd) {
  auto device = FileDevice::open(path, slots * sector_bytes, false);
  if (!device) ::_exit(2);
  for (std::uint64_t slot = 0; slot < slots; ++slot) {
    if (!write_record(*device.value(), slot).empty() || !device.value()->sync()) ::_exit(3);
    write_fd(fd, &slot, sizeof slot);
  }
  for (;;) ::pause();
}

/// Forks the appending child, kills it with SIGKILL `delay_us` after its first report,
/// and returns the last slot it reported synced.
std::uint64_t kill_appender(const std::string& path, std::uint64_t slots, std::uint64_t delay_us) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    append_until_killed(path, slots, fds[1]);
  }
  ::close(fds[1]);
  std::uint64_t first = UINT64_MAX;
  bool reported = ::read(fds[0], &first, sizeof first) == sizeof first;  // blocks: slot 0
  ::usleep(static_cast<useconds_t>(delay_us));
  ::kill(pid, SIGKILL);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  std::string rest = read_fd(fds[0]);
  ::close(fds[0]);
  CHECK(reported);
  CHECK(first == 0);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  REQUIRE(rest.size() % sizeof(std::uint64_t) == 0);
  std::uint64_t last = 0;
  if (!rest.empty()) std::memcpy(&last, rest.data() + rest.size() - sizeof last, sizeof last);
  return last;
}

}  // namespace

TEST_CASE("file device: a process killed with SIGKILL keeps every record it synced") {
  TempDir dir;
  constexpr std::uint64_t slots = 2048;
  Prng prng{0x6b11};
  for (int round = 0; round < 10; ++round) {
    std::string path = dir.file(fmt::format("data-{}", round));
    open_ok(path, slots * sector_bytes, true);  // created, then closed: the child locks it
    std::uint64_t last = kill_appender(path, slots, 1000 + prng.below(20000));
    // The lock died with the child: the file opens again.
    Bytes all = read_all(*open_ok(path, slots * sector_bytes, false));
    INFO("round ", round, ": synced through record ", last);
    for (std::uint64_t slot = 0; slot <= last; ++slot) {
      CHECK(sector_of(all, slot) == make_record(slot));
    }
    // Past it: records written but not reported, or nothing; never anything else.
    for (std::uint64_t slot = last + 1; slot < slots; ++slot) {
      Bytes sector = sector_of(all, slot);
      CHECK((sector == make_record(slot) || sector == Bytes(sector_bytes, 0)));
    }
  }
}
