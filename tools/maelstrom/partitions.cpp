#include "tools/maelstrom/partitions.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "sim/prng.hpp"

namespace vsr::maelstrom::router {
namespace {

using vsr::sim::Prng;

/// A random partition: one node isolated, a minority cut from a majority, or a bridge
/// (two sides that cannot talk, and one node that talks to both: not transitive).
std::pair<Links, std::string> random_partition(std::size_t n, Prng& rng) {
  std::vector<std::size_t> perm(n);
  for (std::size_t i = 0; i < n; ++i) perm[i] = i;
  for (std::size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  std::vector<int> side(n, 0);
  std::string name;
  const std::uint64_t shape = rng.below(3);
  if (shape == 0) {
    side[perm[0]] = 1;
    name = fmt::format("isolate n{}", perm[0] + 1);
  } else if (shape == 1) {
    std::vector<std::string> minority;
    for (std::size_t i = 0; i < n / 2; ++i) {
      side[perm[i]] = 1;
      minority.push_back(fmt::format("n{}", perm[i] + 1));
    }
    name = fmt::format("cut minority {{{}}}", fmt::join(minority, ","));
  } else {
    side[perm[0]] = 2;  // the bridge
    for (std::size_t i = 1; i < n; ++i) side[perm[i]] = i <= (n - 1) / 2 ? 1 : 0;
    name = fmt::format("bridge n{}", perm[0] + 1);
  }
  Links links = all_connected(n);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      links[i][j] = side[i] == side[j] || side[i] == 2 || side[j] == 2;
    }
  }
  return {links, name};
}

}  // namespace

std::vector<PartitionWindow> partition_schedule(std::size_t nodes, double period_s, std::uint64_t seed,
                                                std::uint64_t heal_after_us) {
  std::vector<PartitionWindow> windows;
  if (period_s <= 0) return windows;
  Prng rng = Prng(seed ^ 0x9a27'7e11'0000'0001ULL);
  const std::uint64_t period_us = us_of_s(period_s);
  for (std::uint64_t t = period_us / 2; t < heal_after_us; t += period_us * 3 / 2) {
    auto [links, name] = random_partition(nodes, rng);
    windows.push_back({t, std::min(t + period_us, heal_after_us), std::move(links), std::move(name)});
  }
  return windows;
}

}  // namespace vsr::maelstrom::router
