// The linearizability search over one compiled key (internal to the checker:
// sim/linearizability.hpp is the public API). sim/linearizability_search.cpp describes
// the algorithm and why each pruning is sound.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/linearizability_compiled.hpp"

namespace vsr::sim::lin {

using Clock = std::chrono::steady_clock;

/// The resources one search may use: a wall-clock deadline, and a bound on its memo.
struct Budget {
  std::optional<Clock::time_point> deadline;
  std::uint64_t max_bytes = 0;
};

/// How a search ended: a verdict, or which bound stopped it first.
enum class SearchEnd { linearizable, not_linearizable, timeout, memory };

struct SearchOptions {
  bool prune = true;                 // observer and twin dominance
  bool drop_dead = true;             // dead info classes; info ops only when needed
  std::optional<std::size_t> target;  // req index whose possible states to collect
};

struct SearchResult {
  SearchEnd end = SearchEnd::not_linearizable;
  std::uint64_t configs = 0;     // configurations memoised
  std::uint64_t memo_bytes = 0;  // the memo's size when the search ended
  /// With options.target, by ValueId: the states in which the target was tried.
  std::vector<bool> seen_states;
  bool target_fits = false;  // with options.target: it could take effect in one of them
};

/// Searches for a linearization of every required op of `c` (each info op may be
/// placed or left out). The result depends only on `c`, `options` and
/// budget.max_bytes, unless the deadline stops the search first. With a target and
/// drop_dead off, seen_states is complete when the search ends not_linearizable (with
/// drop_dead on, dead info classes would hide the values they write).
SearchResult search(const Compiled& c, const Budget& budget, SearchOptions options);

}  // namespace vsr::sim::lin
