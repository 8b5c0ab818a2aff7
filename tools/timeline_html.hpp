// The visual timeline of one simulated run (`vsr-sim replay --seed N --html FILE`): one
// self-contained HTML page (inline CSS, JS and SVG; no network) drawing a space-time
// diagram from the run's trace (JSON lines, README "Reading a trace") and its verdict.
//
// Two steps, both pure: build_timeline() reads the trace into a compact model (lanes,
// message arrows paired send -> deliver/drop, fault and telemetry spans, client ops,
// the violation); timeline_html() embeds that model and the renderer in one page.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vsr/config.hpp"

namespace vsr::tools {

/// What the page says about the run besides its trace.
struct TimelineRun {
  std::string title;            // e.g. "vsr-sim replay --seed 5"
  std::string verdict = "passed";  // RunVerdict's name
  std::string check;            // the first violated check, if any
  std::string detail;           // its explanation
  std::uint64_t failed_at_us = 0;
  std::string params;           // the seed's parameters, one line
};

/// The model the page renders (its JSON layout is the renderer's input; see
/// timeline_html.cpp). Errors name the trace line (1-based) that is malformed.
Result<nlohmann::json> build_timeline(std::string_view trace_jsonl, const TimelineRun& run);

/// The whole page for a model from build_timeline.
std::string timeline_html(const nlohmann::json& model);

}  // namespace vsr::tools
