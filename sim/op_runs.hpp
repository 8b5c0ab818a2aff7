// A set of op numbers stored as runs of consecutive numbers (first -> last): the
// invariant checker's record of acknowledged ops, which are nearly all consecutive, so a
// one-hour run needs a few runs per view instead of an entry per op.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>

namespace vsr::sim {

class OpRuns {
 public:
  /// Adds `op`, merging it with the runs it touches.
  void add(std::uint64_t op) {
    auto next = runs_.upper_bound(op);
    if (next != runs_.begin()) {
      auto prev = std::prev(next);
      if (prev->second >= op) return;  // already in
      if (prev->second + 1 == op) {
        prev->second = op;
        if (next != runs_.end() && next->first == op + 1) {
          prev->second = next->second;
          runs_.erase(next);
        }
        return;
      }
    }
    if (next != runs_.end() && next->first == op + 1) {
      const std::uint64_t last = next->second;
      runs_.erase(next);
      runs_.emplace(op, last);
      return;
    }
    runs_.emplace(op, op);
  }
  /// The runs, ascending, disjoint and never adjacent.
  [[nodiscard]] const std::map<std::uint64_t, std::uint64_t>& runs() const { return runs_; }

 private:
  std::map<std::uint64_t, std::uint64_t> runs_;  // first -> last
};

}  // namespace vsr::sim
