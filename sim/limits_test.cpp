#include "sim/limits.hpp"

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

using namespace vsr::sim;

namespace {

std::string error_of(const InputResult<std::uint64_t>& r) { return r ? std::string("(no error)") : r.error().message; }

std::uint64_t duration(std::string_view text) {
  auto r = parse_duration_us(text, "d", 0, max_sim_duration_us);
  REQUIRE_MESSAGE(r.has_value(), text);
  return r.value();
}

}  // namespace

TEST_CASE("limits: one duration syntax, bare numbers are seconds") {
  CHECK(duration("250us") == 250u);
  CHECK(duration("500ms") == 500'000u);
  CHECK(duration("10s") == 10'000'000u);
  CHECK(duration("2m") == 120'000'000u);
  CHECK(duration("1h") == 3'600'000'000u);
  CHECK(duration("5") == 5'000'000u);
  CHECK(duration("0") == 0u);
  for (const char* bad : {"", "s", "ms", "10x", "-1s", "+1s", " 1s", "1s ", "1.5s", "0.5", "1e3s", "10 s", "10sec"}) {
    INFO(bad);
    CHECK(error_of(parse_duration_us(bad, "--duration", 1, max_sim_duration_us))
              .starts_with(fmt::format("--duration: '{}' is not a duration (", bad)));
  }
  CHECK(error_of(parse_duration_us("0.5", "--timeout", 0, max_check_timeout_us)) ==
        "--timeout: '0.5' is not a duration (no fractions, write 500ms for 0.5s; a whole number with a unit: "
        "250us, 500ms, 10s, 2m, 1h; a bare number is seconds)");
}

TEST_CASE("limits: a duration out of range states the limit") {
  CHECK(error_of(parse_duration_us("2h", "--duration", 1, max_sim_duration_us)) ==
        "--duration: '2h' exceeds the maximum 1h");
  CHECK(error_of(parse_duration_us("3600001ms", "for", 1, max_sim_duration_us)) ==
        "for: '3600001ms' exceeds the maximum 1h");
  CHECK(error_of(parse_duration_us("99999999999999999999s", "for", 1, max_sim_duration_us)) ==
        "for: '99999999999999999999s' exceeds the maximum 1h");
  // n * unit would wrap around 64 bits: still "exceeds", never a small value.
  CHECK(error_of(parse_duration_us("18446744073709551615h", "for", 1, max_sim_duration_us)) ==
        "for: '18446744073709551615h' exceeds the maximum 1h");
  CHECK(error_of(parse_duration_us("0s", "--duration", 1, max_sim_duration_us)) ==
        "--duration: '0s' is below the minimum 1us");
  CHECK(parse_duration_us("3600s", "d", 1, max_sim_duration_us).value() == max_sim_duration_us);
  CHECK(parse_duration_us("24h", "d", 0, max_check_timeout_us).value() == max_check_timeout_us);
  CHECK(error_of(parse_duration_us("25h", "--timeout", 0, max_check_timeout_us)) ==
        "--timeout: '25h' exceeds the maximum 24h");
}

TEST_CASE("limits: durations format in their largest exact unit") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(250) == "250us");
  CHECK(format_duration(1'500) == "1500us");
  CHECK(format_duration(500'000) == "500ms");
  CHECK(format_duration(90'000'000) == "90s");
  CHECK(format_duration(120'000'000) == "2m");
  CHECK(format_duration(max_sim_duration_us) == "1h");
}

TEST_CASE("limits: bounded integers and seeds reject signs and wrap-around") {
  CHECK(parse_bounded_uint("7", "--replicas", min_replicas, max_replicas).value() == 7u);
  CHECK(error_of(parse_bounded_uint("8", "--replicas", min_replicas, max_replicas)) ==
        "--replicas: 8 exceeds the maximum 7");
  CHECK(error_of(parse_bounded_uint("0", "--replicas", min_replicas, max_replicas)) ==
        "--replicas: 0 is below the minimum 1");
  CHECK(error_of(parse_bounded_uint("-1", "--jobs", 0, max_jobs)) == "--jobs: '-1' is not a whole number in 0..1024");
  CHECK(error_of(parse_bounded_uint("99999999999999999999", "--jobs", 0, max_jobs)) ==
        "--jobs: 99999999999999999999 exceeds the maximum 1024");
  CHECK(parse_seed("0", "--seed").value() == 0u);
  CHECK(parse_seed("18446744073709551615", "--seed").value() == UINT64_MAX);
  for (const char* bad : {"-1", "18446744073709551616", "99999999999999999999999", "", "1x", " 1", "+1", "0x10"}) {
    INFO(bad);
    CHECK(error_of(parse_seed(bad, "--seed")).starts_with(fmt::format("--seed: '{}' is not a seed (a whole number 0..18446744073709551615)", bad)));
  }
}

TEST_CASE("limits: one probability syntax, which reads back what fmt prints") {
  for (double p : {0.0, 1.0, 0.1, 0.25, 1e-05, 0.123456789012345, 0.9999999999}) {
    std::string text = fmt::format("{}", p);
    INFO(text);
    auto r = parse_probability(text, "drop");
    REQUIRE(r.has_value());
    CHECK(r.value() == p);  // the same bits
  }
  CHECK(parse_probability(".5", "drop").value() == 0.5);
  for (const char* bad : {"", "1.5", "-0", "-0.1", "+0.1", "nan", "inf", "0.1x", "2", "1e400", "0,5", " 0.1"}) {
    INFO(bad);
    auto r = parse_probability(bad, "drop");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().message == fmt::format("drop: '{}' is not a probability between 0 and 1", bad));
  }
}

TEST_CASE("limits: input files: a directory, a missing file, a file too large are errors with the path") {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("vsr_limits_test_{}", ::getpid());
  std::filesystem::create_directories(dir);
  auto file = (dir / "f.txt").string();
  {
    std::ofstream(file) << "hello";
  }
  CHECK(read_input_file(file, "--input", 5).value() == "hello");
  auto too_big = read_input_file(file, "--input", 4);
  REQUIRE_FALSE(too_big.has_value());
  CHECK(too_big.error().message == fmt::format("--input: '{}' is larger than the maximum 4 bytes", file));
  auto is_dir = read_input_file(dir.string(), "--input", 100);
  REQUIRE_FALSE(is_dir.has_value());
  CHECK(is_dir.error().message == fmt::format("--input: '{}' is a directory, not a file", dir.string()));
  auto missing = read_input_file((dir / "nope").string(), "compare", 100);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.starts_with(fmt::format("compare: cannot read '{}': ", (dir / "nope").string())));
  std::filesystem::remove_all(dir);
}
