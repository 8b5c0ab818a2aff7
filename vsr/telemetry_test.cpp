// The telemetry reference (docs/TELEMETRY.md) and the code agree, in both directions:
// every event kind is documented with its role and detail unit, every documented name
// exists, the span table matches the roles, and the documented fields are the ones
// telemetry_json writes, in order. The document's path comes from meson
// (VSR_TELEMETRY_DOC in the test's environment).
#include "vsr/telemetry.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace vsr {
namespace {

std::string read_doc() {
  const char* path = std::getenv("VSR_TELEMETRY_DOC");
  REQUIRE_MESSAGE(path != nullptr, "VSR_TELEMETRY_DOC is not set (meson sets it)");
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read ", path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The cells of a Markdown table row ("| a | b |" -> {"a", "b"}), trimmed.
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i] != '|') {
      cell += line[i];
      continue;
    }
    auto b = cell.find_first_not_of(' ');
    auto e = cell.find_last_not_of(' ');
    out.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
    cell.clear();
  }
  return out;
}

/// The first `code` span in a cell ("`op`: the op" -> "op"), or "" if none.
std::string first_code(const std::string& cell) {
  auto b = cell.find('`');
  if (b == std::string::npos) return "";
  auto e = cell.find('`', b + 1);
  return e == std::string::npos ? "" : cell.substr(b + 1, e - b - 1);
}

/// The table rows of the section headed `heading` ("## Events"), as cells; the header
/// and separator rows are skipped.
std::vector<std::vector<std::string>> section_rows(const std::string& doc, const std::string& heading) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(doc);
  std::string line;
  bool inside = false;
  int table_line = 0;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {
      inside = line == heading;
      table_line = 0;
      continue;
    }
    if (!inside || line.rfind("|", 0) != 0) continue;
    if (++table_line <= 2) continue;  // header, separator
    rows.push_back(cells(line));
  }
  return rows;
}

struct DocEvent {
  std::string role;
  std::string detail;
  std::string peer;
  std::string when;
};

std::map<std::string, DocEvent> doc_events(const std::string& doc) {
  std::map<std::string, DocEvent> out;
  for (const auto& row : section_rows(doc, "## Events")) {
    REQUIRE(row.size() == 5);
    std::string name = first_code(row[0]);
    CHECK_MESSAGE(out.count(name) == 0, name, " is documented twice");
    out[name] = DocEvent{first_code(row[1]), first_code(row[4]), row[3], row[2]};
  }
  return out;
}

std::vector<EventKind> all_kinds() {
  std::vector<EventKind> kinds;
  for (std::size_t i = 0; i < event_kind_count; ++i) kinds.push_back(static_cast<EventKind>(i));
  return kinds;
}

/// The span a start/stop event belongs to: its name minus the last segment.
std::string span_of(std::string_view name) {
  return std::string(name.substr(0, name.rfind('.')));
}

TEST_CASE("telemetry reference: every event in the code is documented, with its role and detail") {
  auto doc = doc_events(read_doc());
  for (EventKind k : all_kinds()) {
    std::string name(event_name(k));
    INFO(name);
    REQUIRE_MESSAGE(doc.count(name) == 1, name, " is missing from docs/TELEMETRY.md");
    const DocEvent& d = doc[name];
    CHECK(d.role == event_role(k));
    CHECK(d.detail == event_detail(k));
    CHECK_FALSE(d.when.empty());
    CHECK_FALSE(d.peer.empty());
  }
}

TEST_CASE("telemetry reference: every documented event exists in the code") {
  std::set<std::string> code;
  for (EventKind k : all_kinds()) code.insert(std::string(event_name(k)));
  // Not a structured binding: clang 14 cannot capture one in doctest's assertion lambdas.
  for (const auto& entry : doc_events(read_doc())) {
    const std::string& name = entry.first;
    CHECK_MESSAGE(code.count(name) == 1, name, " is documented but not in VSR_TELEMETRY_EVENTS");
  }
}

TEST_CASE("telemetry reference: the span table matches the roles; every span has one start and one stop") {
  std::map<std::string, std::pair<int, int>> counted;  // span -> (starts, stops)
  for (EventKind k : all_kinds()) {
    if (event_role(k) == "point") continue;
    REQUIRE((event_role(k) == "start" || event_role(k) == "stop"));
    auto& c = counted[span_of(event_name(k))];
    (event_role(k) == "start" ? c.first : c.second) += 1;
    if (event_role(k) == "stop") CHECK_MESSAGE(event_detail(k) == "duration_ticks", event_name(k));
  }
  std::set<std::string> documented;
  for (const auto& row : section_rows(read_doc(), "## Spans")) {
    REQUIRE(row.size() == 4);
    std::string span = first_code(row[0]);
    documented.insert(span);
    INFO(span);
    REQUIRE(counted.count(span) == 1);
    CHECK(counted[span] == std::pair(1, 1));
    for (int col : {1, 2}) {
      std::string name = first_code(row[static_cast<std::size_t>(col)]);
      CHECK(span_of(name) == span);
      bool found = false;
      for (EventKind k : all_kinds()) {
        if (event_name(k) == name) found = event_role(k) == (col == 1 ? "start" : "stop");
      }
      CHECK_MESSAGE(found, name, " is not the code's ", col == 1 ? "start" : "stop");
    }
  }
  for (const auto& entry : counted) {
    const std::string& span = entry.first;  // not a structured binding (clang 14, see above)
    CHECK_MESSAGE(documented.count(span) == 1, span, " undocumented");
  }
}

/// The keys of a flat JSON object, in order.
std::vector<std::string> json_keys(const std::string& json) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] != '"' || (json[i - 1] != '{' && json[i - 1] != ',')) continue;
    auto e = json.find('"', i + 1);
    if (json[e + 1] == ':') keys.push_back(json.substr(i + 1, e - i - 1));
    i = e;
  }
  return keys;
}

TEST_CASE("telemetry reference: the documented fields are telemetry_json's keys, in order") {
  std::vector<std::string> documented;
  for (const auto& row : section_rows(read_doc(), "## Fields")) documented.push_back(first_code(row[0]));
  std::vector<std::string> code = {"t_us", "ev"};
  for (auto f : telemetry_json_fields) code.emplace_back(f);
  CHECK(documented == code);
  CHECK(json_keys(telemetry_json(TelemetryEvent{}, 0)) == code);
}

TEST_CASE("telemetry_json: the simulator's trace line, byte for byte") {
  TelemetryEvent e{EventKind::view_change_complete, ReplicaIndex(2), ViewNumber(7),
                   StatusKind::normal, OpNumber(41), CommitNumber(40), 1, 12};
  CHECK(telemetry_json(e, 123456) ==
        R"({"t_us":123456,"ev":"telemetry","name":"vsr.view_change.complete","replica":2,"view":7,)"
        R"("status":"normal","op":41,"commit":40,"peer":1,"detail":12})");
  e.kind = EventKind::state_transfer_start;
  e.status = StatusKind::state_transfer;
  e.peer = -1;
  CHECK(telemetry_json(e, 0).find(R"("name":"vsr.state_transfer.start")") != std::string::npos);
  CHECK(telemetry_json(e, 0).find(R"("status":"state_transfer","op":41,"commit":40,"peer":-1,)") !=
        std::string::npos);
}

TEST_CASE("telemetry names follow the scheme: vsr.<area>...<action>, lower case") {
  for (EventKind k : all_kinds()) {
    std::string_view n = event_name(k);
    INFO(n);
    CHECK(n.rfind("vsr.", 0) == 0);
    CHECK(n.find_first_not_of("abcdefghijklmnopqrstuvwxyz_.") == std::string_view::npos);
    CHECK(std::count(n.begin(), n.end(), '.') >= 2);
  }
}

}  // namespace
}  // namespace vsr
