#include "tools/sim_cli.hpp"

#include <set>

#include <doctest/doctest.h>

using namespace vsr::sim;

TEST_CASE("cli: durations parse with units and reject junk") {
  CHECK(parse_duration_us("10s") == 10'000'000u);
  CHECK(parse_duration_us("500ms") == 500'000u);
  CHECK(parse_duration_us("2m") == 120'000'000u);
  CHECK(parse_duration_us("1500us") == 1500u);
  CHECK(parse_duration_us("3") == 3'000'000u);
  for (const char* bad : {"", "s", "10x", "-1s", "0s", "1.5s", "99999999999999999999s", "2h"}) {
    INFO(bad);
    CHECK_FALSE(parse_duration_us(bad).has_value());
  }
}

TEST_CASE("cli: seed ranges and shards") {
  auto r = parse_seed_range("5..9");
  REQUIRE(r.has_value());
  CHECK(r->first == 5);
  CHECK(r->last == 9);
  CHECK(parse_seed_range("7")->last == 7);
  for (const char* bad : {"", "..", "9..5", "a..b", "1..", "1..100000000"}) {
    INFO(bad);
    CHECK_FALSE(parse_seed_range(bad).has_value());
  }
  CHECK(parse_shard("2/3")->index == 2);
  for (const char* bad : {"0/3", "4/3", "3", "/", "a/b"}) {
    INFO(bad);
    CHECK_FALSE(parse_shard(bad).has_value());
  }
}

TEST_CASE("cli: the union of the shards is the whole range, without overlap") {
  SeedRange range{10, 46};
  std::multiset<std::uint64_t> all;
  for (std::uint64_t k = 1; k <= 4; ++k) {
    for (auto s : shard_seeds(range, Shard{k, 4})) all.insert(s);
  }
  CHECK(all.size() == 37);
  for (std::uint64_t s = 10; s <= 46; ++s) CHECK(all.count(s) == 1);
}
