#include "tools/sim_cli.hpp"

#include <cstdio>
#include <fstream>
#include <set>
#include <string>

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

namespace {

std::string error_of_range(std::string_view text) {
  std::string error;
  CHECK_FALSE(parse_seed_range(text, &error).has_value());
  return error;
}

}  // namespace

TEST_CASE("cli: seed errors say what is wrong: a sign, wrap-around, a reversed or too long range") {
  CHECK(error_of_range("5..1") == "--seeds: '5..1' is reversed: 5 > 1 (write 1..5)");
  CHECK(error_of_range("-1..3") ==
        "--seeds: '-1..3' is not a range A..B of seeds ('-1' is not a seed (a whole number 0..18446744073709551615))");
  CHECK(error_of_range("1..18446744073709551616").starts_with("--seeds: '1..18446744073709551616' is not a range"));
  CHECK(error_of_range("1..100000000") == "--seeds: '1..100000000' has 100000000 seeds; the maximum is 10000000");
  CHECK(error_of_range("0..18446744073709551615") ==
        "--seeds: '0..18446744073709551615' has 18446744073709551616 seeds; the maximum is 10000000");
  CHECK(parse_seed_range("1..10000000").has_value());
  CHECK(parse_seed_range("18446744073709551615")->first == UINT64_MAX);
  std::string error;
  CHECK_FALSE(parse_duration_us("2h", &error).has_value());
  CHECK(error == "--duration: '2h' exceeds the maximum 1h");
  CHECK(parse_duration_us("1h") == 3'600'000'000u);
  CHECK_FALSE(parse_duration_us("0", &error, "--liveness").has_value());
  CHECK(error == "--liveness: '0' is below the minimum 1us");
}

TEST_CASE("cli: --jobs is clamped to the seed count, and absurd values are rejected") {
  CHECK(parse_jobs("100000", 3, 2).has_value() == false);
  std::string error;
  parse_jobs("100000", 3, 2, &error);
  CHECK(error == "--jobs: 100000 exceeds the maximum 1024 (0: every core)");
  parse_jobs("-1", 3, 2, &error);
  CHECK(error == "--jobs: '-1' is not a whole number in 0..1024 (0: every core)");
  CHECK(parse_jobs("1000", 3, 2) == 3u);
  CHECK(parse_jobs("1024", 5000, 2) == 1024u);
  CHECK(parse_jobs("0", 200, 8) == 8u);
  CHECK(parse_jobs("0", 3, 8) == 3u);
  CHECK(parse_jobs("0", 10, 0) == 1u);  // hardware_concurrency() may say 0
  CHECK(parse_jobs("4", 0, 2) == 1u);   // an empty shard still gets one (idle) worker
}

TEST_CASE("cli: a huge shard count neither wraps nor repeats seeds") {
  SeedRange range{0, 9};
  CHECK(shard_seeds(range, Shard{2, UINT64_MAX}) == std::vector<std::uint64_t>{1});
  CHECK(shard_seeds(range, Shard{11, 20}).empty());
  std::string error;
  CHECK_FALSE(parse_shard("0/3", &error).has_value());
  CHECK(error == "--shard: '0/3' is not K/N with 1 <= K <= N (K is at least 1)");
  CHECK_FALSE(parse_shard("-1/3", &error).has_value());
}

TEST_CASE("cli: output files: checked before any work, a failed write names the flag and the path") {
  std::string error;
  CHECK_FALSE(check_writable("/nonexistent/dir/x.json", "--json", &error));
  CHECK(error == "--json: cannot write '/nonexistent/dir/x.json': No such file or directory");
  std::string path = "sim_cli_test_out.txt";
  std::remove(path.c_str());
  CHECK(check_writable(path, "--trace", &error));
  CHECK_FALSE(std::ifstream(path).good());  // checking leaves no file behind
  CHECK(write_output_file(path, "abc", "--trace", &error));
  CHECK(check_writable(path, "--trace", &error));
  std::ifstream in(path);
  std::string back;
  std::getline(in, back);
  CHECK(back == "abc");  // checking does not truncate
  std::remove(path.c_str());
  if (std::ifstream("/dev/full").good()) {
    CHECK(check_writable("/dev/full", "--history", &error));
    CHECK_FALSE(write_output_file("/dev/full", std::string(100'000, 'x'), "--history", &error));
    CHECK(error == "--history: writing '/dev/full' failed: No space left on device");
  }
}
