// Linearizability checker for key-value histories (the model: a map from key to an
// optional int64; ops read, write, cas, delete). Keys are checked independently
// (linearizability is compositional), in parallel when jobs > 1.
//
// Determinism: the verdict and the explanation depend only on the history, except
// that a resource bound (timeout, memory) turns a key into `unknown`. The memory
// bound is split evenly between the worker threads, so with a fixed `jobs` it is
// deterministic too; only the timeout depends on the machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/history.hpp"

namespace vsr::sim {

enum class Verdict : std::uint8_t { linearizable, not_linearizable, unknown };

std::string_view to_string(Verdict verdict);

struct CheckOptions {
  /// Worker threads checking keys in parallel (>= 1).
  unsigned jobs = 1;
  /// Whole-check wall-clock bound; keys not finished in time are `unknown`.
  std::optional<std::chrono::milliseconds> timeout;
  /// Bound on the search's memo tables, all workers together.
  std::uint64_t max_memory_bytes = std::uint64_t{1} << 30;
  /// On a violation, also compute the minimal explanation (a few more searches).
  bool explain = true;
};

/// Why a key is not linearizable, minimised: the shortest prefix of the key's events
/// that cannot be linearized ends with the completion of `op`, which cannot be placed.
struct Violation {
  std::size_t op = 0;                 // index in History::ops of the op that cannot be placed
  std::size_t prefix_events = 0;      // length of the shortest failing prefix (key's events)
  std::vector<std::size_t> prefix_ops;  // History::ops indices of the ops invoked in it
  /// Every value the key could hold at a point where `op` could be linearized (sorted,
  /// absent first). `op` needs a value outside this set, or (op_fits_somewhere) fits
  /// only at points from which the other completed ops cannot all be placed.
  std::vector<Value> possible_values;
  bool possible_values_complete = true;  // false if the bound stopped the enumeration
  bool op_fits_somewhere = false;
  /// `op` needs a value (a read's result, a successful cas's `from`) that no op of the
  /// key invoked before `op` completed writes: no linearization could ever explain it.
  bool needs_unwritten_value = false;
  bool minimal = true;  // false if a resource bound stopped the minimisation
};

struct KeyResult {
  std::string key;
  Verdict verdict = Verdict::unknown;
  std::size_t op_count = 0;        // ops of this key considered by the search
  std::uint64_t configs = 0;       // search configurations memoised
  std::uint64_t memo_bytes = 0;    // peak memo size
  std::string unknown_reason;      // "timeout" or "memory bound" when unknown
  std::optional<Violation> violation;
};

struct CheckResult {
  Verdict verdict = Verdict::linearizable;  // not_linearizable > unknown > linearizable
  std::vector<KeyResult> keys;              // sorted by key
  std::size_t op_count = 0;                 // ops in the history
};

/// Checks `history` against the KV model. Never throws on any history built by
/// HistoryRecorder.
CheckResult check(const History& history, const CheckOptions& options = {});

/// Human-readable explanation of a violating key (several lines, no trailing newline).
std::string explain(const History& history, const KeyResult& key);

}  // namespace vsr::sim
