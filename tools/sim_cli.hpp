// Parsing helpers for vsr-sim's command line: durations, seed ranges, shards, jobs, and
// its output files. Each returns nullopt (or false) on bad input, and then, if `error` is
// given, a message that names the flag and states the limit (sim/limits.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vsr::sim {

/// A fault-phase or liveness duration, in sim/limits.hpp's syntax ("10s", "500ms", "2m",
/// "1500us", "1h"; a bare number means seconds): 1us..max_sim_duration_us (1 hour).
std::optional<std::uint64_t> parse_duration_us(std::string_view text, std::string* error = nullptr,
                                               std::string_view flag = "--duration");

struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

/// "A..B" with A <= B, or a single seed "A"; each a seed 0..2^64-1. At most
/// max_sweep_seeds (10 million) seeds. A reversed range says so.
std::optional<SeedRange> parse_seed_range(std::string_view text, std::string* error = nullptr);

struct Shard {
  std::uint64_t index = 1;  // 1-based
  std::uint64_t count = 1;
};

/// "K/N" with 1 <= K <= N.
std::optional<Shard> parse_shard(std::string_view text, std::string* error = nullptr);

/// `--jobs`: 0 means every core (`cores`), at most max_jobs; never more than `seeds`
/// (and at least 1), so a sweep of 3 seeds starts at most 3 threads.
std::optional<unsigned> parse_jobs(std::string_view text, std::size_t seeds, unsigned cores,
                                   std::string* error = nullptr);

/// The seeds of `range` that belong to `shard`: the i-th seed (from 0) when
/// i mod N == K-1. The union over K = 1..N is the whole range, without overlap.
std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard);

/// Checks, before any work, that `path` can be written (`flag` names it in the error),
/// without truncating or leaving a file that was not there: a missing file is created
/// and removed again, an existing one opened for appending.
bool check_writable(const std::string& path, std::string_view flag, std::string* error);

/// Writes `contents` to `path` and closes it; false, with a message naming `flag` and
/// the path, if it cannot be opened or any write (the final flush included) fails.
bool write_output_file(const std::string& path, std::string_view contents, std::string_view flag,
                       std::string* error);

}  // namespace vsr::sim
