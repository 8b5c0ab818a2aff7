// A self-contained HTML page (inline SVG and CSS, nothing fetched) drawing a
// violating key's operations as bars on per-process lanes against time, with the op
// that cannot be placed highlighted, above the textual explanation.
#pragma once

#include <string>
#include <string_view>

#include "sim/history.hpp"
#include "sim/linearizability.hpp"

namespace vsr::sim {

/// Precondition: key.violation is set. `title` names the history (e.g. its file).
std::string violation_html(const History& history, const KeyResult& key, std::string_view title);

}  // namespace vsr::sim
