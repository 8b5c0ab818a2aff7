#include "sim/simulator.hpp"

#include "sim/kv_model.hpp"

#include "sim/linearizability.hpp"
#include "sim/trace.hpp"
#include "sim/trace_event.hpp"

#include <sstream>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

using namespace vsr::sim;

namespace {
RunOptions options(std::uint64_t seed) {
  RunOptions o;
  o.seed = seed;
  o.duration_us = 2'000'000;
  return o;
}
}  // namespace

TEST_CASE("determinism: the same seed run twice gives the same trace hash and stats") {
  for (std::uint64_t seed : {1, 2, 3, 17}) {
    RunResult a = run_simulation(options(seed));
    RunResult b = run_simulation(options(seed));
    CHECK(a.trace_hash == b.trace_hash);
    CHECK(a.stats.events == b.stats.events);
    CHECK(a.stats.ops_ok == b.stats.ops_ok);
    CHECK(a.stats.lin_segments == b.stats.lin_segments);
  }
  CHECK(run_simulation(options(1)).trace_hash != run_simulation(options(2)).trace_hash);
}

TEST_CASE("determinism: writing the trace does not change the run or its hash") {
  std::ostringstream trace;
  RunOptions with = options(5);
  with.trace = &trace;
  with.context_lines = 10;
  RunResult a = run_simulation(with);
  RunResult b = run_simulation(options(5));
  CHECK(a.trace_hash == b.trace_hash);
  std::istringstream lines(trace.str());
  std::string line;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);  // throws on a malformed line
    REQUIRE(j.contains("t_us"));
    REQUIRE(j.contains("ev"));
    ++count;
  }
  CHECK(count > 100);
}

TEST_CASE("simulator: a fault-free cluster completes operations and passes every check") {
  RunOptions o = options(8);
  o.faults = FaultLevel::none;
  o.replicas = 3;
  o.clients = 4;
  o.keep_history = true;
  RunResult r = run_simulation(o);
  CHECK(r.verdict == RunVerdict::passed);
  CHECK(r.stats.ops_ok > 50);
  CHECK(r.stats.ops_info == 0);
  CHECK(r.stats.messages_dropped == 0);
  CHECK(r.history.ops.size() == r.stats.ops_ok + r.stats.ops_failed + r.stats.ops_info);
}

TEST_CASE("simulator: seeds with faults pass on the real protocol") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    RunResult r = run_simulation(options(seed));
    INFO("seed ", seed, ": ", r.check, " ", r.detail);
    CHECK(r.verdict == RunVerdict::passed);
  }
}

TEST_CASE("simulator: the streaming linearizability check sees the history the whole-history checker sees") {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    RunOptions o = options(seed);
    o.faults = seed % 2 == 0 ? FaultLevel::harsh : FaultLevel::normal;
    o.keep_history = true;
    RunResult r = run_simulation(o);
    INFO("seed ", seed, ": ", r.check, " ", r.detail);
    REQUIRE(r.verdict == RunVerdict::passed);
    CHECK(check(r.history).verdict == Verdict::linearizable);
    const KvStreamResult again = check_streaming(r.history);
    CHECK(again.verdict == lin::StreamVerdict::linearizable);
    CHECK(again.stats.segments == r.stats.lin_segments);  // the run fed it every event
    CHECK(again.stats.largest_segment == r.stats.lin_largest_segment);
    CHECK(r.stats.lin_unknown.empty());
    // Keeping the history changes nothing else.
    o.keep_history = false;
    const RunResult plain = run_simulation(o);
    CHECK(plain.trace_hash == r.trace_hash);
    CHECK(plain.history.ops.empty());
  }
}

TEST_CASE("simulator: harsh faults actually inject faults") {
  std::uint64_t crashes = 0, drops = 0, partitions = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    RunOptions o = options(seed);
    o.faults = FaultLevel::harsh;
    RunResult r = run_simulation(o);
    crashes += r.stats.crashes;
    drops += r.stats.messages_dropped;
    partitions += r.stats.partitions;
  }
  CHECK(crashes > 0);
  CHECK(drops > 0);
  CHECK(partitions > 0);
}

namespace {
/// Parses every line of a JSON-lines trace; returns how many there were.
std::size_t parse_every_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::size_t count = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    nlohmann::json j;
    REQUIRE_NOTHROW(j = nlohmann::json::parse(line));
    REQUIRE(j.contains("t_us"));
    REQUIRE(j.contains("ev"));
    ++count;
  }
  return count;
}
}  // namespace

TEST_CASE("trace: every line of harsh runs is valid JSON; ops name their key") {
  for (std::uint64_t seed : {3, 8}) {  // short harsh runs: the trace is slow under ASan
    std::ostringstream trace;
    RunOptions o = options(seed);
    o.faults = FaultLevel::harsh;
    o.duration_us = 500'000;
    o.liveness_us = 5'000'000;
    o.trace = &trace;
    RunResult r = run_simulation(o);
    CHECK(parse_every_line(trace.str()) > 100);
    std::istringstream lines(trace.str());
    std::string line;
    while (std::getline(lines, line)) {
      auto j = nlohmann::json::parse(line);
      if (j["ev"] != "invoke" && j["ev"] != "complete") continue;
      // "process 5 k1 cas 0 -> 1 [pending]": the key follows the process.
      const std::string op = j["op"];
      const std::string prefix = "process " + std::to_string(j["process"].get<std::int64_t>()) + " k";
      CHECK_MESSAGE(op.rfind(prefix, 0) == 0, op);
    }
  }
}

TEST_CASE("trace: a violation whose detail spans several lines is one valid JSON line") {
  // A real multi-line explanation from the checker: a read of a value nobody wrote.
  HistoryRecorder rec;
  auto w = rec.invoke(1, OpCall::write("k0", 1), 0).value();
  REQUIRE(rec.complete(w, Outcome::ok, std::nullopt, 1).has_value());
  auto rd = rec.invoke(2, OpCall::read("k0"), 2).value();
  REQUIRE(rec.complete(rd, Outcome::ok, Value{7}, 3).has_value());
  History h = std::move(rec).finish();
  CheckResult c = check(h);
  REQUIRE(c.verdict == Verdict::not_linearizable);
  const std::string detail = explain(h, c.keys.at(0)) + "\n\ttab \"quoted\" \\ back\x01slash";
  REQUIRE(detail.find('\n') != std::string::npos);

  std::ostringstream out;
  Trace trace(&out, 0);
  auto describe = [] { return std::string("process 1 k0 write 1 [pending]"); };
  trace.emit(5, trace::Invoke<decltype(describe)>{1, 1, describe});
  trace.emit(9, trace::Violation{"linearizability", detail});
  CHECK(parse_every_line(out.str()) == 2);
  std::istringstream lines(out.str());
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  auto j = nlohmann::json::parse(second);
  CHECK(j["ev"] == "violation");
  CHECK(j["check"] == "linearizability");
  CHECK(j["detail"] == detail);
}
