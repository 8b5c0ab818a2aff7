// The JSON-lines history format (docs/HISTORY_FORMAT.md): one event per line,
// {"process":3,"type":"invoke","f":"cas","key":"x","value":[1,2],"time":1234}.
#pragma once

#include <string>
#include <string_view>

#include "sim/history.hpp"

namespace vsr::sim {

/// Parses a whole JSON-lines history. `file` names the source in error messages
/// ("file:line: what"). Rejects anything malformed; never throws.
InputResult<History> parse_history_json(std::string_view text, std::string_view file);

/// Writes `history` as JSON lines, events in their recorded order (round-trips
/// through parse_history_json).
std::string to_json_lines(const History& history);

}  // namespace vsr::sim
