// bench-device: the file device's append throughput with one fsync per batch
// (vsr/io/file_device.hpp). For each batch size (1, 8, 64 records) it appends batches
// for --seconds: one write of the whole batch at the end of the log, then one sync.
// Prints one line per batch size: appends/s, MB/s and fsyncs/s.
//
// The data file lives in --dir (default $TMPDIR or /tmp), is created sparse with the
// device's size, and is removed at the end. When a batch would run past the device's
// end, appending wraps to offset 0: from then on it overwrites blocks already allocated.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vsr/io/file_device.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::size_t entry_bytes = vsr::sector_bytes;
  double seconds = 3;
  std::string dir;
  std::uint64_t device_mib = 256;
};

struct Figures {
  std::uint64_t appends = 0;
  std::uint64_t syncs = 0;
  double seconds = 0;
};

/// The default directory: $TMPDIR, or /tmp.
std::string default_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != 0 ? tmp : "/tmp";
}

/// Appends batches of `batch` entries to `device` for `seconds`: one write and one sync
/// per batch. Stops at the first error (returned in `error`).
Figures append_batches(vsr::io::FileDevice& device, const Options& options, std::size_t batch,
                       std::string& error) {
  std::vector<std::uint8_t> data(batch * options.entry_bytes);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131 + 7);
  Figures f;
  std::uint64_t offset = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration<double>(options.seconds);
  while (Clock::now() < deadline) {
    if (offset + data.size() > device.size_bytes()) offset = 0;  // wrap around
    auto written = device.write(offset, data);
    auto synced = written ? device.sync() : vsr::Result<void>(written.error());
    if (!synced) {
      error = synced.error().message;
      break;
    }
    offset += data.size();
    f.appends += batch;
    f.syncs += 1;
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return f;
}

/// One line of figures for a batch size.
void report(std::size_t batch, const Figures& f, std::size_t entry_bytes) {
  double appends_per_s = static_cast<double>(f.appends) / f.seconds;
  fmt::print("batch {:>3}: {:>10.0f} appends/s  {:>8.2f} MB/s  {:>8.0f} fsyncs/s\n", batch,
             appends_per_s, appends_per_s * static_cast<double>(entry_bytes) / 1e6,
             static_cast<double>(f.syncs) / f.seconds);
}

/// Runs every batch size over a fresh data file in options.dir; the exit code.
int run(const Options& options) {
  std::string path = fmt::format("{}/bench-device-{}.data", options.dir, ::getpid());
  std::uint64_t size = options.device_mib << 20;
  auto device = vsr::io::FileDevice::open(path, size, true);
  if (!device) {
    fmt::print(stderr, "bench-device: {}\n", device.error().message);
    return 1;
  }
  fmt::print("{}: {}-byte entries, {} MiB device, {} s per batch size\n", path,
             options.entry_bytes, options.device_mib, options.seconds);
  int status = 0;
  for (std::size_t batch : {1, 8, 64}) {
    std::string error;
    Figures f = append_batches(*device.value(), options, batch, error);
    if (!error.empty()) {
      fmt::print(stderr, "bench-device: {}\n", error);
      status = 1;
      break;
    }
    report(batch, f, options.entry_bytes);
  }
  device.value().reset();
  ::unlink(path.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench-device: appends/s and MB/s of the file device, one fsync per batch"};
  Options options;
  options.dir = default_dir();
  app.add_option("--entry-bytes", options.entry_bytes, "Bytes per appended entry (a multiple of 512)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{512}, std::size_t{1} << 20));
  app.add_option("--seconds", options.seconds, "Seconds per batch size")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 3600.0));
  app.add_option("--dir", options.dir, "Directory of the temporary data file")
      ->capture_default_str()
      ->check(CLI::ExistingDirectory);
  app.add_option("--device-mib", options.device_mib, "Device size in MiB (appends wrap around)")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
  CLI11_PARSE(app, argc, argv);
  if (options.entry_bytes % vsr::sector_bytes != 0) {
    fmt::print(stderr, "bench-device: --entry-bytes {} is not a multiple of {}\n",
               options.entry_bytes, vsr::sector_bytes);
    return 2;
  }
  if ((options.device_mib << 20) < 64 * options.entry_bytes) {
    fmt::print(stderr, "bench-device: --device-mib {} cannot hold a batch of 64 entries\n",
               options.device_mib);
    return 2;
  }
  return run(options);
}
