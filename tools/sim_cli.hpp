// Parsing helpers for vsr-sim's command line: durations, seed ranges, shards.
// Each returns nullopt on bad input; the caller names the flag in its error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>


namespace vsr::sim {

/// "10s", "500ms", "2m", "1500us"; a bare number means seconds. At most one hour.
std::optional<std::uint64_t> parse_duration_us(std::string_view text);

struct SeedRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

/// "A..B" with A <= B, or a single seed "A". At most 10 million seeds.
std::optional<SeedRange> parse_seed_range(std::string_view text);

struct Shard {
  std::uint64_t index = 1;  // 1-based
  std::uint64_t count = 1;
};

/// "K/N" with 1 <= K <= N.
std::optional<Shard> parse_shard(std::string_view text);

/// The seeds of `range` that belong to `shard`: the i-th seed (from 0) when
/// i mod N == K-1. The union over K = 1..N is the whole range, without overlap.
std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard);

}  // namespace vsr::sim
