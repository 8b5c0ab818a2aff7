// The timeline model (tools/timeline_html.hpp): arrows paired from sends to deliveries
// and drops, faults and telemetry spans as bands, client operations, the violation; and,
// over simulated runs with harsh faults, every telemetry span opening and closing as
// docs/TELEMETRY.md promises. The page itself is checked in a browser by
// tools/timeline-browser-test.
#include "tools/timeline_html.hpp"

#include <sstream>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "sim/simulator.hpp"

namespace vsr::tools {
namespace {

using nlohmann::json;

json build(const std::string& trace, const TimelineRun& run = {}) {
  auto m = build_timeline(trace, run);
  REQUIRE(m.has_value());
  return m.value();
}

std::string telemetry(std::uint64_t t, int replica, const char* name, std::uint64_t detail, int view = 0) {
  return fmt::format(R"({{"t_us":{},"ev":"telemetry","name":"{}","replica":{},"view":{},"status":"normal","op":0,"commit":0,"peer":-1,"detail":{}}})",
                     t, name, replica, view, detail) + "\n";
}

TEST_CASE("timeline: a send pairs with its delivery; drops, duplicates and drops at send are marked") {
  const std::string trace =
      R"({"t_us":10,"ev":"send","from":"r0","to":"r1","type":"prepare","msg":"prepare{op=1}"})" "\n"
      R"({"t_us":11,"ev":"send","from":"r0","to":"r2","type":"prepare","msg":"prepare{op=1}"})" "\n"
      R"({"t_us":15,"ev":"deliver","from":"r0","to":"r1","type":"prepare","msg":"prepare{op=1}"})" "\n"
      R"({"t_us":16,"ev":"deliver","from":"r0","to":"r1","type":"prepare","msg":"prepare{op=1}"})" "\n"
      R"({"t_us":20,"ev":"drop","from":"r0","to":"r2","type":"prepare","msg":"prepare{op=1}","reason":"down"})" "\n"
      R"({"t_us":30,"ev":"drop","from":"r1","to":"r0","type":"prepare_ok","msg":"prepare_ok{op=1}","reason":"drop"})" "\n"
      R"({"t_us":40,"ev":"send","from":"c7","to":"r0","type":"request","msg":"request{}"})" "\n";
  json m = build(trace);
  CHECK(m["lanes"] == json({"r0", "r1", "r2", "c7"}));
  CHECK(m["types"] == json({"prepare", "prepare_ok", "request"}));
  const json& msgs = m["msgs"];
  REQUIRE(msgs.size() == 5);
  CHECK(msgs[0] == json({10, 15, 0, 1, 0, 0, ""}));       // delivered
  CHECK(msgs[1] == json({11, 20, 0, 2, 0, 1, "down"}));   // dropped in flight
  CHECK(msgs[2] == json({10, 16, 0, 1, 0, 0, ""}));       // a duplicate of the first send
  CHECK(msgs[3] == json({30, 30, 1, 0, 1, 2, "drop"}));   // dropped at its send
  CHECK(msgs[4] == json({40, 40, 3, 0, 2, 3, ""}));       // never arrived
  CHECK(m["texts"][1] == "prepare{op=1}");
  CHECK(m["violation"].is_null());
}

TEST_CASE("timeline: crashes, pauses, partitions and telemetry spans become bands; views are marked") {
  std::string trace = telemetry(0, 0, "vsr.leadership.start", 0);
  trace += R"({"t_us":50,"ev":"partition","style":"isolate-one","cut":["0->1","1->0"]})" "\n";
  trace += telemetry(60, 1, "vsr.view_change.start", 1, 1);
  trace += telemetry(70, 1, "vsr.view_change.start", 2, 2);
  trace += R"({"t_us":80,"ev":"crash","replica":0,"wipe":true})" "\n";
  trace += R"({"t_us":90,"ev":"heal"})" "\n";
  trace += R"({"t_us":95,"ev":"pause","replica":2})" "\n";
  trace += R"({"t_us":96,"ev":"resume","replica":2,"burst":0})" "\n";
  trace += telemetry(100, 1, "vsr.view_change.complete", 40, 2);
  trace += R"({"t_us":110,"ev":"restart","replica":0,"recovering":true})" "\n";
  json m = build(trace);
  const json& bands = m["bands"];
  REQUIRE(bands.size() == 4);
  CHECK(bands[0] == json({0, "leader", 0, 80, "primary v0"}));  // closed by the crash
  CHECK(bands[1] == json({1, "view_change", 60, 100, "view_change v1 → v2"}));
  CHECK(bands[2] == json({0, "down", 80, 110, "crashed, disk wiped"}));
  CHECK(bands[3] == json({2, "paused", 95, 96, "paused"}));
  CHECK(m["partitions"] == json::array({json({50, 90, "isolate-one", "0->1 1->0"})}));
  CHECK(m["views"] == json::array({json({0, 0, 0}), json({1, 60, 1}), json({1, 70, 2})}));
  CHECK(m["marks"][0] == json({0, 110, "restart (recovering)"}));
  CHECK(m["span_error_count"] == 0);
}

TEST_CASE("timeline: a stop without its start is reported as a span error") {
  json m = build(telemetry(5, 0, "vsr.state_transfer.stop", 3));
  CHECK(m["span_error_count"] == 1);
  CHECK(m["span_errors"][0].get<std::string>().find("no open span") != std::string::npos);
}

TEST_CASE("timeline: client operations are bars from invoke to completion; a failed run pins its violation") {
  const std::string trace =
      R"({"t_us":5,"ev":"invoke","process":3,"client":4,"op":"process 3 read [pending]"})" "\n"
      R"({"t_us":9,"ev":"invoke","process":5,"client":6,"op":"process 5 write 1 [pending]"})" "\n"
      R"({"t_us":25,"ev":"complete","process":3,"op":"process 3 read -> absent [ok]"})" "\n"
      R"({"t_us":30,"ev":"give_up","process":5})" "\n";
  TimelineRun run{"vsr-sim replay --seed 1", "liveness", "liveness", "not converged", 1000, ""};
  json m = build(trace, run);
  CHECK(m["ops"][0] == json({0, 5, 25, "process 3 read -> absent [ok]", "ok"}));
  CHECK(m["ops"][1] == json({1, 9, 30, "process 5 write 1 [pending] (gave up)", "info"}));
  CHECK(m["violation"] == json({{"t", 1000}, {"check", "liveness"}, {"detail", "not converged"}}));
  CHECK(m["end_us"] == 1000);
}

TEST_CASE("timeline: a malformed trace line is an error naming the line") {
  auto m = build_timeline("{\"t_us\":1,\"ev\":\"heal\"}\nnot json\n", {});
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().message == "trace line 2: not a JSON object");
  auto typed = build_timeline(R"({"t_us":"soon","ev":"heal"})", {});
  REQUIRE_FALSE(typed.has_value());
  CHECK(typed.error().message.rfind("trace line 1:", 0) == 0);
}

TEST_CASE("timeline page: self-contained, and the embedded model cannot close its script early") {
  json m = build(R"({"t_us":1,"ev":"send","from":"r0","to":"r1","type":"prepare","msg":"</script><b>"})");
  std::string page = timeline_html(m);
  CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(page.find("<\\/script><b>") != std::string::npos);
  std::size_t closes = 0;
  for (auto i = page.find("</script"); i != std::string::npos; i = page.find("</script", i + 1)) ++closes;
  CHECK(closes == 2);
  // No fetches: no src/href attributes, and the only URL is the SVG namespace name.
  CHECK(page.find(" src=") == std::string::npos);
  CHECK(page.find(" href=") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  std::size_t urls = 0;
  for (auto i = page.find("http://"); i != std::string::npos; i = page.find("http://", i + 1)) {
    CHECK(page.compare(i, 26, "http://www.w3.org/2000/svg") == 0);
    ++urls;
  }
  CHECK(urls == 2);
}

TEST_CASE("telemetry spans pair up in simulated runs with harsh faults (docs/TELEMETRY.md, Spans)") {
  for (std::uint64_t seed = 1; seed <= 24; ++seed) {
    CAPTURE(seed);
    std::ostringstream trace;
    sim::RunOptions o;
    o.seed = seed;
    o.faults = sim::FaultLevel::harsh;
    o.duration_us = 2'000'000;
    o.trace = &trace;
    sim::RunResult r = sim::run_simulation(o);
    json m = build(trace.str());
    INFO(m["span_errors"].dump());
    CHECK(m["span_error_count"] == 0);
    CHECK(m["lanes"].size() >= r.params.replica_count);
    for (const auto& msg : m["msgs"]) CHECK(msg[1].get<std::uint64_t>() >= msg[0].get<std::uint64_t>());
  }
}

}  // namespace
}  // namespace vsr::tools
