#include "sim/swarm.hpp"

#include <set>

#include <doctest/doctest.h>

using namespace vsr::sim;

TEST_CASE("swarm: a seed always draws the same parameters") {
  CHECK(describe(draw_swarm(11, FaultLevel::normal, {}, {})) ==
        describe(draw_swarm(11, FaultLevel::normal, {}, {})));
  CHECK(describe(draw_swarm(11, FaultLevel::normal, {}, {})) !=
        describe(draw_swarm(12, FaultLevel::normal, {}, {})));
}

TEST_CASE("swarm: cluster sizes 1..7 all occur, and nothing else") {
  std::set<std::uint32_t> sizes;
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) {
    auto p = draw_swarm(seed, FaultLevel::normal, {}, {});
    REQUIRE(p.replica_count >= 1);
    REQUIRE(p.replica_count <= 7);
    REQUIRE(p.client_count >= 1);
    sizes.insert(p.replica_count);
  }
  CHECK(sizes.size() == 7);
}

TEST_CASE("swarm: overriding the shape keeps every other draw") {
  auto drawn = draw_swarm(21, FaultLevel::normal, {}, {});
  auto forced = draw_swarm(21, FaultLevel::normal, 5u, 2u);
  CHECK(forced.replica_count == 5);
  CHECK(forced.client_count == 2);
  CHECK(forced.drop_probability == drawn.drop_probability);
  CHECK(forced.crash_rate_per_s == drawn.crash_rate_per_s);
  CHECK(forced.partition_style == drawn.partition_style);
}

TEST_CASE("swarm: --faults none switches every fault off; harsh draws more") {
  double normal_drop = 0, harsh_drop = 0;
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    auto p = draw_swarm(seed, FaultLevel::none, {}, {});
    CHECK(p.drop_probability == 0);
    CHECK(p.crash_rate_per_s == 0);
    CHECK(p.crash_after_event_probability == 0);
    CHECK(p.partition_rate_per_s == 0);
    CHECK(p.pause_rate_per_s == 0);
    CHECK(p.clog_rate_per_s == 0);
    normal_drop += draw_swarm(seed, FaultLevel::normal, {}, {}).drop_probability;
    harsh_drop += draw_swarm(seed, FaultLevel::harsh, {}, {}).drop_probability;
  }
  CHECK(harsh_drop > normal_drop);
}

TEST_CASE("swarm: fault levels parse, and unknown ones do not") {
  CHECK(parse_fault_level("none") == FaultLevel::none);
  CHECK(parse_fault_level("default") == FaultLevel::normal);
  CHECK(parse_fault_level("harsh") == FaultLevel::harsh);
  CHECK_FALSE(parse_fault_level("extreme").has_value());
}
