#include "tools/timeline_html.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "tools/timeline_page.hpp"

namespace vsr::tools {

namespace {

using nlohmann::json;

/// One message: sent at t0_us, delivered or dropped at t1_us.
enum class Fate : int { delivered = 0, dropped = 1, dropped_at_send = 2, never_arrived = 3 };

struct Arrow {
  std::uint64_t t0_us = 0;
  std::uint64_t t1_us = 0;
  std::string from, to, type, text, reason;
  Fate fate = Fate::never_arrived;
};

/// A shaded interval on one lane: a fault (down, paused) or a telemetry span.
struct Band {
  std::string lane, kind, label;
  std::uint64_t t0_us = 0, t1_us = 0;
};

struct OpBar {
  std::string lane, text, state;
  std::uint64_t t0_us = 0, t1_us = 0;
};

/// Span kinds drawn from telemetry: start name, stop name, band kind.
struct SpanRule {
  std::string_view start, stop, kind;
};
constexpr SpanRule span_rules[] = {
    {"vsr.leadership.start", "vsr.leadership.stop", "leader"},
    {"vsr.view_change.start", "vsr.view_change.complete", "view_change"},
    {"vsr.state_transfer.start", "vsr.state_transfer.stop", "state_transfer"},
    {"vsr.recovery.start", "vsr.recovery.complete", "recovery"},
};

/// Reads trace lines into the model's parts; finish() lays them out as JSON.
/// Lanes are named ("r0", "c4") while reading and numbered at the end.
class Builder {
 public:
  explicit Builder(const TimelineRun& run) : run_(run) {}

  void add(const json& e);
  json finish();

 private:
  void on_message(const json& e, std::string_view ev);
  void on_telemetry(const json& e);
  void on_fault(const json& e, std::string_view ev);
  void on_client(const json& e, std::string_view ev);
  void open_band(const std::string& lane, const std::string& kind, std::string label);
  bool close_band(const std::string& lane, const std::string& kind);
  void close_lane(const std::string& lane);
  void span_error(std::string what);
  json lanes_json(std::map<std::string, int>* index) const;

  const TimelineRun& run_;
  std::uint64_t now_us_ = 0;
  std::vector<Arrow> arrows_;
  std::map<std::string, std::deque<std::size_t>> in_flight_;  // key -> sent, not yet arrived
  std::map<std::string, std::size_t> last_sent_;              // key -> latest send (duplicates)
  std::vector<Band> bands_;
  std::map<std::pair<std::string, std::string>, std::size_t> open_bands_;  // (lane, kind)
  std::vector<OpBar> ops_;
  std::map<std::int64_t, std::size_t> open_ops_;  // process -> ops_ index
  std::map<std::string, std::uint64_t> view_of_;  // replica lane -> last view seen
  json views_ = json::array();
  json partitions_ = json::array();
  std::optional<std::size_t> open_partition_;
  json marks_ = json::array();
  json violation_;
  std::set<std::string> lanes_;
  std::vector<std::string> span_errors_;
  std::size_t span_error_count_ = 0;
  std::uint64_t liveness_us_ = 0;
  bool liveness_seen_ = false;
};

std::string key_of(const json& e) {
  return e.value("from", "") + '|' + e.value("to", "") + '|' + e.value("msg", "");
}

void Builder::add(const json& e) {
  now_us_ = std::max(now_us_, e.value("t_us", std::uint64_t{0}));
  const std::string ev = e.value("ev", "");
  if (ev == "send" || ev == "deliver" || ev == "drop") {
    on_message(e, ev);
  } else if (ev == "telemetry") {
    on_telemetry(e);
  } else if (ev == "invoke" || ev == "complete" || ev == "give_up") {
    on_client(e, ev);
  } else if (ev == "violation") {
    if (violation_.is_null()) {
      violation_ = {{"t", now_us_}, {"check", e.value("check", "")}, {"detail", e.value("detail", "")}};
    }
  } else if (ev == "liveness_phase") {
    liveness_us_ = now_us_;
    liveness_seen_ = true;
  } else {
    on_fault(e, ev);
  }
}

/// Pairs a send with its delivery or drop (oldest in flight first; a second delivery
/// of one send is a duplicate). A drop with nothing in flight happened at the send.
void Builder::on_message(const json& e, std::string_view ev) {
  const std::string key = key_of(e);
  lanes_.insert(e.value("from", ""));
  lanes_.insert(e.value("to", ""));
  auto& queue = in_flight_[key];
  if (ev == "send") {
    arrows_.push_back({now_us_, now_us_, e.value("from", ""), e.value("to", ""), e.value("type", ""),
                       e.value("msg", ""), "", Fate::never_arrived});
    queue.push_back(arrows_.size() - 1);
    last_sent_[key] = arrows_.size() - 1;
    return;
  }
  const Fate fate = ev == "deliver" ? Fate::delivered : Fate::dropped;
  std::optional<std::size_t> i;
  if (!queue.empty()) {
    i = queue.front();
    queue.pop_front();
  } else if (auto last = last_sent_.find(key); last != last_sent_.end()) {
    Arrow copy = arrows_[last->second];  // a duplicate: same send, another arrival
    arrows_.push_back(std::move(copy));
    i = arrows_.size() - 1;
  }
  if (!i) {
    arrows_.push_back({now_us_, now_us_, e.value("from", ""), e.value("to", ""), e.value("type", ""),
                       e.value("msg", ""), "", Fate::dropped_at_send});
    i = arrows_.size() - 1;
  } else {
    arrows_[*i].fate = fate;
  }
  arrows_[*i].t1_us = now_us_;
  arrows_[*i].reason = e.value("reason", "");
}

void Builder::on_telemetry(const json& e) {
  const std::string lane = fmt::format("r{}", e.value("replica", 0));
  const std::string name = e.value("name", "");
  const auto view = e.value("view", std::uint64_t{0});
  const auto detail = e.value("detail", std::uint64_t{0});
  lanes_.insert(lane);
  auto seen = view_of_.find(lane);
  if (seen == view_of_.end() || seen->second != view) {
    view_of_[lane] = view;
    views_.push_back({lane, now_us_, view});
  }
  for (const SpanRule& rule : span_rules) {
    if (name == rule.start) {
      const std::string kind(rule.kind);
      if (open_bands_.count({lane, kind}) == 0) {
        open_band(lane, kind, kind == "leader" ? fmt::format("primary v{}", detail)
                                               : fmt::format("{} v{}", kind, view));
      } else if (kind == "view_change") {
        bands_[open_bands_[{lane, kind}]].label += fmt::format(" → v{}", detail);  // a retry
      } else {
        span_error(fmt::format("{} at t={}us on {}: span already open", name, now_us_, lane));
      }
    } else if (name == rule.stop && !close_band(lane, std::string(rule.kind))) {
      span_error(fmt::format("{} at t={}us on {}: no open span", name, now_us_, lane));
    }
  }
}

void Builder::span_error(std::string what) {
  if (span_errors_.size() < 20) span_errors_.push_back(std::move(what));
  ++span_error_count_;
}

void Builder::on_fault(const json& e, std::string_view ev) {
  const std::string lane = fmt::format("r{}", e.value("replica", 0));
  if (ev == "crash") {
    close_lane(lane);
    open_band(lane, "down", e.value("wipe", false) ? "crashed, disk wiped" : "crashed");
  } else if (ev == "restart") {
    close_band(lane, "down");
    lanes_.insert(lane);
    marks_.push_back({lane, now_us_, e.value("recovering", false) ? "restart (recovering)" : "restart"});
  } else if (ev == "pause") {
    open_band(lane, "paused", "paused");
  } else if (ev == "resume") {
    close_band(lane, "paused");
  } else if (ev == "partition" || ev == "heal") {
    if (open_partition_) partitions_[*open_partition_][1] = now_us_;
    open_partition_.reset();
    if (ev == "heal") return;
    std::string cut;
    for (const auto& link : e.value("cut", json::array())) cut += (cut.empty() ? "" : " ") + link.get<std::string>();
    partitions_.push_back({now_us_, now_us_, e.value("style", ""), cut});
    open_partition_ = partitions_.size() - 1;
  }
}

/// Client operations: a bar from invoke to complete (or give_up) on the client's lane.
void Builder::on_client(const json& e, std::string_view ev) {
  const auto process = e.value("process", std::int64_t{-1});
  if (ev == "invoke") {
    const std::string lane = fmt::format("c{}", e.value("client", 0));
    lanes_.insert(lane);
    ops_.push_back({lane, e.value("op", ""), "pending", now_us_, now_us_});
    open_ops_[process] = ops_.size() - 1;
    return;
  }
  auto it = open_ops_.find(process);
  if (it == open_ops_.end()) return;
  OpBar& op = ops_[it->second];
  open_ops_.erase(it);
  op.t1_us = now_us_;
  if (ev == "give_up") {
    op.state = "info";
    op.text += " (gave up)";
    return;
  }
  op.text = e.value("op", op.text);
  const auto open = op.text.rfind('[');
  op.state = open == std::string::npos ? "ok" : op.text.substr(open + 1, op.text.size() - open - 2);
}

void Builder::open_band(const std::string& lane, const std::string& kind, std::string label) {
  lanes_.insert(lane);
  close_band(lane, kind);
  bands_.push_back({lane, kind, std::move(label), now_us_, now_us_});
  open_bands_[{lane, kind}] = bands_.size() - 1;
}

bool Builder::close_band(const std::string& lane, const std::string& kind) {
  auto it = open_bands_.find({lane, kind});
  if (it == open_bands_.end()) return false;
  bands_[it->second].t1_us = now_us_;
  open_bands_.erase(it);
  return true;
}

/// A crash ends every open span of the replica (docs/TELEMETRY.md, "Spans").
void Builder::close_lane(const std::string& lane) {
  for (auto it = open_bands_.begin(); it != open_bands_.end();) {
    if (it->first.first == lane) {
      bands_[it->second].t1_us = now_us_;
      it = open_bands_.erase(it);
    } else {
      ++it;
    }
  }
}

/// Replicas first (by index), then clients (by id); `index` maps a name to its lane.
json Builder::lanes_json(std::map<std::string, int>* index) const {
  std::vector<std::pair<std::pair<int, long long>, std::string>> order;
  for (const auto& name : lanes_) {
    if (name.size() < 2) continue;
    order.push_back({{name[0] == 'r' ? 0 : 1, std::stoll(name.substr(1))}, name});
  }
  std::sort(order.begin(), order.end());
  json lanes = json::array();
  for (const auto& [rank, name] : order) {
    (*index)[name] = static_cast<int>(lanes.size());
    lanes.push_back(name);
  }
  return lanes;
}

json Builder::finish() {
  const std::uint64_t end_us = std::max(now_us_, run_.failed_at_us);
  now_us_ = end_us;
  for (auto& [key, i] : open_bands_) bands_[i].t1_us = end_us;
  for (auto& [process, i] : open_ops_) ops_[i].t1_us = end_us;
  if (open_partition_) partitions_[*open_partition_][1] = end_us;
  std::map<std::string, int> lane;
  json m;
  m["lanes"] = lanes_json(&lane);
  std::map<std::string, int> type_index;
  json types = json::array(), msgs = json::array(), texts = json::array();
  for (const Arrow& a : arrows_) {
    auto [it, inserted] = type_index.try_emplace(a.type, static_cast<int>(types.size()));
    if (inserted) types.push_back(a.type);
    msgs.push_back({a.t0_us, a.t1_us, lane[a.from], lane[a.to], it->second, static_cast<int>(a.fate), a.reason});
    texts.push_back(a.text);
  }
  m["types"] = std::move(types);
  m["msgs"] = std::move(msgs);
  m["texts"] = std::move(texts);
  json bands = json::array();
  for (const Band& b : bands_) bands.push_back({lane[b.lane], b.kind, b.t0_us, b.t1_us, b.label});
  m["bands"] = std::move(bands);
  json ops = json::array();
  for (const OpBar& o : ops_) ops.push_back({lane[o.lane], o.t0_us, o.t1_us, o.text, o.state});
  m["ops"] = std::move(ops);
  for (auto& v : views_) v[0] = lane[v[0].get<std::string>()];
  for (auto& k : marks_) k[0] = lane[k[0].get<std::string>()];
  m["views"] = std::move(views_);
  m["marks"] = std::move(marks_);
  m["partitions"] = std::move(partitions_);
  m["end_us"] = end_us;
  m["liveness_us"] = liveness_seen_ ? json(liveness_us_) : json(nullptr);
  m["span_errors"] = span_errors_;
  m["span_error_count"] = span_error_count_;
  m["run"] = {{"title", run_.title}, {"verdict", run_.verdict}, {"params", run_.params}};
  if (run_.verdict != "passed") {
    json v = {{"t", run_.failed_at_us}, {"check", run_.check}, {"detail", run_.detail}};
    m["violation"] = violation_.is_null() ? v : violation_;
  } else {
    m["violation"] = violation_;
  }
  return m;
}

}  // namespace

Result<json> build_timeline(std::string_view trace_jsonl, const TimelineRun& run) {
  Builder b(run);
  std::size_t line_number = 0;
  while (!trace_jsonl.empty()) {
    const auto nl = trace_jsonl.find('\n');
    const std::string_view line = trace_jsonl.substr(0, nl);
    trace_jsonl.remove_prefix(nl == std::string_view::npos ? trace_jsonl.size() : nl + 1);
    ++line_number;
    if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
    json e = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (e.is_discarded() || !e.is_object()) {
      return Error{fmt::format("trace line {}: not a JSON object", line_number)};
    }
    try {
      b.add(e);
    } catch (const json::exception& err) {
      return Error{fmt::format("trace line {}: {}", line_number, err.what())};
    }
  }
  return b.finish();
}

std::string timeline_html(const nlohmann::json& model) {
  std::string data = model.dump(-1, ' ', false, json::error_handler_t::replace);
  // Inside <script>, "</" could close the element early.
  for (std::size_t i = data.find("</"); i != std::string::npos; i = data.find("</", i + 3)) {
    data.replace(i, 2, "<\\/");
  }
  std::string page;
  page.reserve(data.size() + 64 * 1024);
  page += timeline_page_head();
  page += data;
  page += timeline_page_tail();
  return page;
}

}  // namespace vsr::tools
