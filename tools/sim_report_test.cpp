#include "tools/sim_report.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

using namespace vsr::sim;

namespace {

/// A sweep JSON with one run per seed 1..n: `verdict(seed)` and metric
/// messages_per_op = `mpo(seed)`.
template <typename Verdict, typename Mpo>
std::string sweep_file(const std::string& name, int n, Verdict verdict, Mpo mpo) {
  nlohmann::json j;
  j["runs"] = nlohmann::json::array();
  for (int s = 1; s <= n; ++s) {
    j["runs"].push_back({{"seed", s},
                         {"verdict", verdict(s)},
                         {"metrics", {{"messages_per_op", mpo(s)}, {"ops_per_s", 100.0 + s}}}});
  }
  std::string path = "sim_report_test_" + name + ".json";
  std::ofstream(path) << j.dump();
  return path;
}

int compare(const std::string& a, const std::string& b, std::string* out_text = nullptr) {
  std::ostringstream out, err;
  int code = compare_sweeps(a, b, out, err);
  if (out_text) *out_text = out.str() + err.str();
  return code;
}

auto passed = [](int) { return std::string("passed"); };

}  // namespace

LatencyHistogram histogram(std::initializer_list<std::uint64_t> values) {
  LatencyHistogram h;
  for (std::uint64_t v : values) h.add(v);
  return h;
}

TEST_CASE("percentiles: nearest rank, exact below 128 us") {
  Percentiles p = percentiles(histogram({5, 1, 4, 2, 3, 6, 7, 8, 9, 10}));
  CHECK(p.p50 == 5);
  CHECK(p.p90 == 9);
  CHECK(p.p99 == 10);
  CHECK(p.max == 10);
  CHECK(percentiles(LatencyHistogram{}).max == 0);
}

TEST_CASE("percentiles: above 128 us within 1/64, the maximum exact, merging adds") {
  for (std::uint64_t v : {128ULL, 129ULL, 1000ULL, 5'780ULL, 1'234'567ULL, 3'600'000'000ULL}) {
    CAPTURE(v);
    const std::uint64_t top = LatencyHistogram::bucket_top(LatencyHistogram::bucket(v));
    CHECK(top >= v);
    CHECK(static_cast<double>(top - v) <= static_cast<double>(v) / 64.0);
    CHECK(LatencyHistogram::bucket(top) == LatencyHistogram::bucket(v));       // the top is in it
    CHECK(LatencyHistogram::bucket(top + 1) == LatencyHistogram::bucket(v) + 1);  // and is its last value
  }
  LatencyHistogram a = histogram({1000, 2000, 3000});
  const LatencyHistogram b = histogram({4000, 5001});
  a.merge(b);
  CHECK(a.count() == 5);
  CHECK(a.max() == 5001);
  const Percentiles p = percentiles(a);
  CHECK(p.p50 >= 3000);
  CHECK(p.p50 <= 3000 + 3000 / 64);
  CHECK(p.p99 == 5001);  // capped at the exact maximum
}

TEST_CASE("compare: identical sweeps are the same, exit 0") {
  auto base = sweep_file("same_a", 20, passed, [](int s) { return 10.0 + s % 3; });
  auto head = sweep_file("same_b", 20, passed, [](int s) { return 10.0 + s % 3; });
  std::string text;
  CHECK(compare(base, head, &text) == 0);
  CHECK(text.find("messages_per_op") != std::string::npos);
  CHECK(text.find("same") != std::string::npos);
  CHECK(text.find("verdict: ok") != std::string::npos);
}

TEST_CASE("compare: a seed that newly fails is exit 1 and named") {
  auto base = sweep_file("fail_a", 10, passed, [](int) { return 10.0; });
  auto head = sweep_file("fail_b", 10, [](int s) { return std::string(s == 7 ? "safety" : "passed"); },
                         [](int) { return 10.0; });
  std::string text;
  CHECK(compare(base, head, &text) == 1);
  CHECK(text.find("seed 7: safety") != std::string::npos);
  CHECK(compare(head, base, &text) == 0);  // the other way round it newly passes
  CHECK(text.find("newly passing: 1") != std::string::npos);
}

TEST_CASE("compare: a consistent shift is beyond noise; scattered small changes are not") {
  auto base = sweep_file("shift_a", 30, passed, [](int s) { return 10.0 + s % 5; });
  auto worse = sweep_file("shift_b", 30, passed, [](int s) { return 12.0 + s % 5 + (s % 2) * 0.1; });
  std::string text;
  CHECK(compare(base, worse, &text) == 3);
  CHECK(text.find("WORSE") != std::string::npos);
  CHECK(compare(worse, base, &text) == 0);
  CHECK(text.find("better") != std::string::npos);
  auto noisy = sweep_file("shift_c", 30, passed, [](int s) { return 10.0 + s % 5 + (s % 2 ? 0.3 : -0.3); });
  CHECK(compare(base, noisy, &text) == 0);
  CHECK(text.find("noise") != std::string::npos);
}

TEST_CASE("compare: unreadable input is exit 2 with the file and the spot") {
  std::ofstream("sim_report_test_bad.json") << "{\"runs\": [{\"verdict\": \"passed\"}]}";
  std::ofstream("sim_report_test_junk.json") << "not json";
  auto good = sweep_file("good", 3, passed, [](int) { return 1.0; });
  std::string text;
  CHECK(compare(good, "sim_report_test_bad.json", &text) == 2);
  CHECK(text.find("sim_report_test_bad.json: runs[0] lacks a seed or a verdict") != std::string::npos);
  CHECK(compare("sim_report_test_junk.json", good, &text) == 2);
  CHECK(text.find("not a `vsr-sim sweep --json` file") != std::string::npos);
  CHECK(compare("does-not-exist.json", good, &text) == 2);
  CHECK(text.find("cannot read 'does-not-exist.json'") != std::string::npos);
}

TEST_CASE("coverage: lists the probes no run reached") {
  Coverage c;
  RunStats s;
  s.probes.fill(1);
  s.probes[static_cast<std::size_t>(vsr::Probe::pipeline_full)] = 0;
  c.add(s);
  auto missed = c.missed_probes();
  REQUIRE(missed.size() == 1);
  CHECK(missed[0] == "pipeline.full");
  std::ostringstream out;
  print_coverage(out, c);
  CHECK(out.str().find("NEVER HIT") != std::string::npos);
  s.probes.fill(1);
  c.add(s);
  CHECK(c.missed_probes().empty());
}

namespace {

/// Writes `j` to a file of the test's own and returns its path.
std::string json_file(const std::string& name, const nlohmann::json& j) {
  std::string path = "sim_report_test_" + name + ".json";
  std::ofstream(path) << j.dump();
  return path;
}

nlohmann::json run(std::uint64_t seed) {
  return {{"seed", seed}, {"verdict", "passed"}, {"metrics", {{"messages_per_op", 10.0}}}};
}

}  // namespace

TEST_CASE("compare: two sweeps with no seed in common are exit 2, not \"verdict: ok\"") {
  auto low = json_file("low", {{"runs", {run(1), run(2), run(3)}}});
  auto high = json_file("high", {{"runs", {run(4), run(5)}}});
  std::string text;
  CHECK(compare(low, high, &text) == 2);
  CHECK(text.find("error: no seed is in both sweeps (sim_report_test_low.json: 3 runs, seeds 1..3; "
                  "sim_report_test_high.json: 2 runs, seeds 4..5): nothing to compare") != std::string::npos);
  CHECK(text.find("verdict: ok") == std::string::npos);
  auto none = json_file("none", {{"runs", nlohmann::json::array()}});
  CHECK(compare(none, none, &text) == 2);
  CHECK(text.find("no runs") != std::string::npos);
}

TEST_CASE("compare: a seed listed twice is exit 2 naming both entries") {
  auto dup = json_file("dup", {{"runs", {run(1), run(2), run(1)}}});
  auto good = json_file("dup_good", {{"runs", {run(1), run(2)}}});
  std::string text;
  CHECK(compare(good, dup, &text) == 2);
  CHECK(text.find("sim_report_test_dup.json: seed 1 is listed twice (runs[0] and runs[2])") != std::string::npos);
}

TEST_CASE("compare: sweeps run with different settings are refused unless --allow-mismatch") {
  nlohmann::json base = {{"faults", "default"}, {"replicas", nullptr}, {"clients", nullptr},
                         {"duration_us", 10'000'000}, {"liveness_us", 20'000'000}, {"runs", {run(1), run(2)}}};
  nlohmann::json head = base;
  head["faults"] = "harsh";
  head["replicas"] = 5;
  auto a = json_file("settings_a", base);
  auto b = json_file("settings_b", head);
  std::string text;
  CHECK(compare(a, b, &text) == 2);
  CHECK(text.find("error: the sweeps ran with different settings: faults: \"default\" (base) vs \"harsh\" (head)") !=
        std::string::npos);
  CHECK(text.find("replicas: null (base) vs 5 (head)") != std::string::npos);
  CHECK(text.find("--allow-mismatch compares them anyway") != std::string::npos);
  std::ostringstream out, err;
  CHECK(compare_sweeps(a, b, out, err, CompareOptions{true}) == 0);
  CHECK(err.str().find("WARNING: the sweeps ran with different settings: faults") != std::string::npos);
  CHECK(out.str().find("verdict: ok") != std::string::npos);
  // `default` and `normal` are one fault level; a key only one file records is not compared.
  nlohmann::json normal = base;
  normal["faults"] = "normal";
  normal.erase("liveness_us");
  CHECK(compare(a, json_file("settings_c", normal), &text) == 0);
}

TEST_CASE("compare: truncated JSON and a directory are exit 2 with the byte offset or the name") {
  auto good = sweep_file("trunc_good", 3, passed, [](int) { return 1.0; });
  std::ofstream("sim_report_test_trunc.json") << "{\"runs\": [{\"seed\": 1, ";
  std::string text;
  CHECK(compare("sim_report_test_trunc.json", good, &text) == 2);
  CHECK(text.find("sim_report_test_trunc.json: not a `vsr-sim sweep --json` file: not valid JSON: it ends inside a "
                  "value at byte 22 (truncated?)") != std::string::npos);
  std::ofstream("sim_report_test_garbled.json") << "{\"runs\": [}";
  CHECK(compare("sim_report_test_garbled.json", good, &text) == 2);
  CHECK(text.find("sim_report_test_garbled.json: not a `vsr-sim sweep --json` file: not valid JSON: at byte 11 of 11") !=
        std::string::npos);
  CHECK(compare(".", good, &text) == 2);
  CHECK(text.find("compare: '.' is a directory, not a file") != std::string::npos);
}
