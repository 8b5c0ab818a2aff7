// Histories recorded from a real atomic key-value register under random concurrency:
// linearizable by construction. For the checker's property tests and benchmark.
// Deterministic in the seed (own SplitMix64 stream; no std distributions).
#pragma once

#include <cstdint>

#include "sim/history.hpp"

namespace vsr::sim {

struct RegisterGenOptions {
  std::uint64_t seed = 1;
  std::size_t ops = 1000;     // ops to invoke in total
  unsigned processes = 5;     // clients running at once
  unsigned keys = 1;          // keys "k0".."k{keys-1}", chosen uniformly per op
  unsigned info_percent = 0;  // ops that end indeterminate (half of those take effect)
  unsigned values = 5;        // values written are drawn from [0, values)
};

/// Each op is invoked, takes effect atomically at a random instant inside its interval
/// (info ops: with probability 1/2, else never), and completes. Mix: 50% read, 25%
/// write, 20% cas, 5% delete. A process whose op ends `info` is replaced by a fresh
/// process id, as Jepsen does.
History generate_register_history(const RegisterGenOptions& options);

}  // namespace vsr::sim
