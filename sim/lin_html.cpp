#include "sim/lin_html.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/format.h>

namespace vsr::sim {
namespace {

constexpr std::size_t max_ops_drawn = 400;
constexpr double lane_height = 34, left_margin = 110, plot_width = 1100, bar_height = 22;

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

bool completed(const Op& op) { return op.outcome == Outcome::ok || op.outcome == Outcome::fail; }

/// The ops to draw: the end of the failing prefix, always including the target.
std::vector<std::size_t> drawn_ops(const History& history, const Violation& v) {
  std::vector<std::size_t> ops;
  for (std::size_t i : v.prefix_ops) {
    if (!constrains_nothing(history.ops[i])) ops.push_back(i);
  }
  if (ops.size() > max_ops_drawn) ops.erase(ops.begin(), ops.end() - static_cast<std::ptrdiff_t>(max_ops_drawn));
  if (std::find(ops.begin(), ops.end(), v.op) == ops.end()) ops.insert(ops.begin(), v.op);
  return ops;
}

/// Maps op endpoints to x: by recorded time when times vary, else by event order.
struct Axis {
  bool by_time = false;
  double lo = 0, hi = 1;
  [[nodiscard]] double start(const Op& op) const { return at(by_time ? double(op.invoke_time) : double(op.invoke_seq)); }
  [[nodiscard]] double end(const Op& op, double open_end) const {
    if (!completed(op)) return open_end;
    return at(by_time ? double(op.complete_time) : double(op.complete_seq));
  }
  [[nodiscard]] double at(double t) const { return left_margin + (t - lo) / (hi - lo) * plot_width; }
};

Axis make_axis(const History& h, const std::vector<std::size_t>& ops) {
  Axis a;
  std::int64_t tmin = h.ops[ops.front()].invoke_time, tmax = tmin;
  for (std::size_t i : ops) {
    tmin = std::min(tmin, h.ops[i].invoke_time);
    tmax = std::max(tmax, completed(h.ops[i]) ? h.ops[i].complete_time : h.ops[i].invoke_time);
  }
  a.by_time = tmax > tmin;
  double lo = 1e300, hi = -1e300;
  for (std::size_t i : ops) {
    const Op& op = h.ops[i];
    lo = std::min(lo, a.by_time ? double(op.invoke_time) : double(op.invoke_seq));
    hi = std::max(hi, a.by_time ? double(completed(op) ? op.complete_time : op.invoke_time)
                                : double(completed(op) ? op.complete_seq : op.invoke_seq));
  }
  a.lo = lo;
  a.hi = hi > lo ? hi : lo + 1;
  return a;
}

std::string bar(const Op& op, std::size_t index, bool target, double x0, double x1, double y) {
  const char* cls = target ? "target" : !completed(op) ? "open" : op.outcome == Outcome::fail ? "failed" : "ok";
  const std::string label = describe(op);
  std::string s = fmt::format(
      "<g class=\"{}\"><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{}\" rx=\"3\"/>"
      "<title>op #{}: {} (t={}..{})</title>",
      cls, x0, y, std::max(2.0, x1 - x0), bar_height, index, escape(label), op.invoke_time,
      completed(op) ? std::to_string(op.complete_time) : std::string{"?"});
  if (x1 - x0 > 40) {
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", x0 + 3, y + 15, escape(label.substr(label.find(' ', 8) + 1)));
  }
  return s + "</g>\n";
}

}  // namespace

std::string violation_html(const History& history, const KeyResult& key, std::string_view title) {
  const Violation& v = *key.violation;
  const std::vector<std::size_t> ops = drawn_ops(history, v);
  std::map<std::int64_t, std::size_t> lanes;
  for (std::size_t i : ops) lanes.emplace(history.ops[i].process, 0);
  std::size_t lane = 0;
  for (auto& [p, l] : lanes) l = lane++;
  const Axis axis = make_axis(history, ops);
  const double open_end = left_margin + plot_width + 30;
  const double height = double(lanes.size()) * lane_height + 20;

  std::string svg = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\">\n",
                                open_end + 20, height);
  for (const auto& [p, l] : lanes) {
    const double y = double(l) * lane_height + 10;
    svg += fmt::format("<text class=\"lane\" x=\"4\" y=\"{:.1f}\">process {}</text>"
                       "<line x1=\"{}\" x2=\"{:.0f}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/>\n",
                       y + 15, p, left_margin, open_end, y + bar_height + 5, y + bar_height + 5);
  }
  for (std::size_t i : ops) {
    const Op& op = history.ops[i];
    const double y = double(lanes[op.process]) * lane_height + 10;
    svg += bar(op, i, i == v.op, axis.start(op), axis.end(op, open_end), y);
  }
  svg += "</svg>\n";

  return fmt::format(R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>vsr-check: {0} key {1}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
svg text {{ font-size: 11px; font-family: monospace; }}
svg line {{ stroke: #ddd; }}
.ok rect {{ fill: #9cc3e6; stroke: #4a7fb0; }}
.failed rect {{ fill: #ddd; stroke: #999; }}
.open rect {{ fill: #fff3c4; stroke: #c9a227; stroke-dasharray: 4 3; }}
.target rect {{ fill: #f08080; stroke: #b00000; stroke-width: 2; }}
.legend span {{ display: inline-block; padding: 0 .6em; margin-right: .5em; border: 1px solid #888; }}
</style></head><body>
<h1>{1}: not linearizable</h1>
<p>History <code>{0}</code>. Operations of the shortest failing prefix{2}, one lane per process,
against {3}; failed ops and reads of unknown outcome are left out. Hover a bar for details.</p>
<p class="legend"><span style="background:#9cc3e6">ok</span><span style="background:#ddd">fail</span>
<span style="background:#fff3c4">info / pending (may take effect any time after invocation)</span>
<span style="background:#f08080">the op that cannot be placed</span></p>
<div style="overflow-x:auto">{4}</div>
<h2>Explanation</h2>
<pre>{5}</pre>
</body></html>
)",
                     escape(title), escape(fmt::format("key {:?}", key.key)),
                     ops.size() > max_ops_drawn ? fmt::format(" (its last {} ops)", max_ops_drawn) : "",
                     axis.by_time ? "recorded time" : "event order (the history has no usable times)", svg,
                     escape(explain(history, key)));
}

}  // namespace vsr::sim
