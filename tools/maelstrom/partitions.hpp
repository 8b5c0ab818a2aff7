// The partition schedule of vsr-maelstrom-router: which node can send to which, and
// when. Deterministic in the seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vsr::maelstrom::router {

/// Seconds to whole microseconds (truncated), the unit of every router schedule.
inline std::uint64_t us_of_s(double s) { return static_cast<std::uint64_t>(s * 1e6); }

/// Who can talk to whom: connected[i][j] for the link i -> j.
using Links = std::vector<std::vector<bool>>;

inline Links all_connected(std::size_t n) { return Links(n, std::vector<bool>(n, true)); }

struct PartitionWindow {
  std::uint64_t start_us = 0;
  std::uint64_t end_us = 0;
  Links links;
  std::string name;
};

/// Cycles of 1.5 periods: half a period healed, then one period partitioned (a new
/// random partition of `nodes` each time), until heal_after_us; healed from then on.
/// Empty when period_s <= 0. Times are from the start of the load.
std::vector<PartitionWindow> partition_schedule(std::size_t nodes, double period_s, std::uint64_t seed,
                                                std::uint64_t heal_after_us);

}  // namespace vsr::maelstrom::router
