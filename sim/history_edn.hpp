// Jepsen / Knossos EDN histories: one map per op event, e.g.
// {:process 0, :type :invoke, :f :cas, :value [1 2]}. Accepts what real Jepsen files
// hold: `;` comments, an enclosing vector, maps over several lines, extra keys,
// tagged records (#jepsen.history.Op{...}) and non-client (e.g. :nemesis) ops, which
// are skipped. See docs/HISTORY_FORMAT.md.
#pragma once

#include <string_view>

#include "sim/history.hpp"

namespace vsr::sim {

/// Key given to every op of a history without `:key` (a single register).
inline constexpr std::string_view single_register_key = "register";

/// Parses a whole EDN history; errors are "file:line: what". Never throws.
InputResult<History> parse_history_edn(std::string_view text, std::string_view file);

}  // namespace vsr::sim
