#include "sim/simulator.hpp"

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
    CHECK(a.history.ops.size() == b.history.ops.size());
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
