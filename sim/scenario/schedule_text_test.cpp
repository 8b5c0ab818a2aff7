#include "sim/scenario/schedule_text.hpp"
#include "sim/kv_call.hpp"

#include <string>

#include <doctest/doctest.h>

#include "sim/scenario/commands.hpp"
#include "sim/scenario/scenario_file.hpp"
#include "sim/simulator.hpp"

using namespace vsr::sim;

namespace {

FaultStep at(std::uint64_t at_us, FaultStep f) {
  f.at_us = at_us;
  return f;
}

/// Reads back the `sim`, `at` and `op` commands of a scenario text.
InputResult<Schedule> read_back(const std::string& text) {
  VSR_SIM_TRY(ScenarioFile file, parse_scenario("t.txt", text));
  ScheduleReader reader;
  for (const ScenarioBlock& b : file.blocks) {
    VSR_SIM_TRY(ParsedCommand p, parse_command(b.command));
    const ScriptCommand& c = p.command;
    if (c.name == "sim") {
      VSR_SIM_TRYV(reader.read_sim(c));
    } else if (c.name == "at") {
      VSR_SIM_TRYV(reader.read_at(c));
    } else if (c.name == "op") {
      VSR_SIM_TRYV(reader.read_op(c));
    } else if (c.name != "simulate") {
      return InputError{"unexpected command " + c.name};
    }
  }
  VSR_SIM_TRY(const Schedule* s, reader.schedule("end"));
  return *s;
}

/// A schedule with every fault kind, every operation kind, and a value off the
/// defaults in every key the format carries.
Schedule every_kind() {
  Schedule s;
  SwarmParams& p = s.params;
  p.faults = FaultLevel::none;  // the text carries no fault rates: a replay draws none
  p.seed = 18446744073709551615ULL;
  p.replica_count = 5;
  p.client_count = 2;
  p.key_count = 7;
  p.tick_us = 9'999;
  p.drift_ppm = 120;
  p.delay_min_us = 0;
  p.delay_mean_us = 1'234;
  p.tail_probability = 1e-05;
  p.tail_mean_us = 3'600'000'000;
  p.drop_probability = 0.1 + 0.2;  // 0.30000000000000004: the shortest form keeps the bits
  p.duplicate_probability = 1;
  p.client_drop_probability = 0.125;
  p.disk_latency_mean_us = 77;
  p.disk_slow_probability = 0.333;
  p.disk_slow_mean_us = 5;
  p.give_up_us = 1;
  p.pipeline_ops = 3;
  s.duration_us = 1'500'001;
  s.liveness_us = 7;
  s.faults.push_back(at(0, FaultStep::of(FaultStep::Kind::crash, 4, true)));
  s.faults.push_back(at(10, FaultStep::of(FaultStep::Kind::crash, 2)));
  s.faults.push_back(at(10, FaultStep::of(FaultStep::Kind::restart, 2)));
  FaultStep cut = at(20, FaultStep::of(FaultStep::Kind::partition));
  cut.cuts = {{0, 1}, {1, 0}, {4, 3}};
  s.faults.push_back(cut);
  s.faults.push_back(at(25, FaultStep::of(FaultStep::Kind::partition)));  // cut=none
  s.faults.push_back(at(30, FaultStep::of(FaultStep::Kind::heal)));
  s.faults.push_back(at(40, FaultStep::of(FaultStep::Kind::pause, 1)));
  s.faults.push_back(at(50, FaultStep::of(FaultStep::Kind::resume, 1)));
  s.faults.push_back(at(60, FaultStep::clog_link(6, 0, 99)));
  s.clients.push_back({ClientStep{5, kv_request(OpCall::cas("k1", -1, 2))}, ClientStep{0, kv_request(OpCall::read("k1"))}});
  s.clients.push_back({ClientStep{3'600'000'000, kv_request(OpCall::write("k2", -9223372036854775807LL - 1))},
                       ClientStep{1, kv_request(OpCall::del("k2"))}});
  return s;
}

}  // namespace

TEST_CASE("schedule: printed as a scenario, one command per step") {
  Schedule s;
  s.params.seed = 9;
  s.params.replica_count = 3;
  s.params.client_count = 1;
  s.duration_us = 1'500'000;
  s.faults.push_back(at(10, FaultStep::of(FaultStep::Kind::crash, 2, true)));
  FaultStep cut = at(20, FaultStep::of(FaultStep::Kind::partition));
  cut.cuts = {{0, 1}, {1, 0}};
  s.faults.push_back(cut);
  s.faults.push_back(at(30, FaultStep::clog_link(0, 3, 99)));
  s.clients.push_back({ClientStep{5, kv_request(vsr::sim::OpCall::cas("k1", 1, 2))}});
  std::string text = schedule_to_scenario(s, "shrunk\nby a test");
  CHECK(text.find("# shrunk\n# by a test\n") == 0);
  CHECK(text.find("\nsim seed=9 replicas=3 clients=1 for=1500000us ") != std::string::npos);
  CHECK(text.find("\nat 10us crash 2 wipe\n----\n\n") != std::string::npos);
  CHECK(text.find("\nat 20us partition cut=0>1,1>0\n") != std::string::npos);
  CHECK(text.find("\nat 30us clog from=0 to=3 until=99us\n") != std::string::npos);
  CHECK(text.find("\nop client=1 think=5us cas key=k1 from=1 to=2\n") != std::string::npos);
  CHECK(text.ends_with("\nsimulate\n----\npassed\n\n"));
}

TEST_CASE("schedule text: written then read, every kind of line gives back the same Schedule") {
  Schedule s = every_kind();
  std::string text = schedule_to_scenario(s, "a header\n\nof two paragraphs");
  auto back = read_back(text);
  REQUIRE_MESSAGE(back.has_value(), back.error().message);
  CHECK(back.value() == s);
  CHECK(schedule_to_scenario(back.value(), "a header\n\nof two paragraphs") == text);
}

TEST_CASE("schedule text: another system's schedule names it, and its operations travel as hex bytes") {
  Schedule s = every_kind();
  s.system = "ledger";
  s.clients[0][0].operation = {0x00, 0x7f, 0xff};
  s.clients[1][1].operation = {};
  std::string text = schedule_to_scenario(s, "");
  CHECK(text.find("sim system=ledger seed=") != std::string::npos);
  CHECK(text.find("op client=1 think=5us bytes=007fff\n") != std::string::npos);
  auto back = read_back(text);
  REQUIRE_MESSAGE(back.has_value(), back.error().message);
  CHECK(back.value() == s);
  // A KV call is no operation of another system; bad hex and a bad name are refused.
  CHECK(!read_back("sim system=ledger clients=1\n----\n\nop client=1 read key=k\n----\n").has_value());
  CHECK(!read_back("sim clients=1\n----\n\nop client=1 bytes=0g\n----\n").has_value());
  CHECK(!read_back("sim clients=1\n----\n\nop client=1 bytes=012\n----\n").has_value());
  CHECK(!read_back("sim clients=1\n----\n\nop client=1 read key=k bytes=01\n----\n").has_value());
  CHECK(!read_back("sim system=a/b\n----\n").has_value());
}

TEST_CASE("schedule text: a `sim` line leaves out what a quiet run has") {
  auto back = read_back("sim\n----\n");
  REQUIRE(back.has_value());
  const Schedule& s = back.value();
  CHECK(s.params.faults == FaultLevel::none);
  CHECK(s.params.seed == 1);
  CHECK(s.params.replica_count == 3);
  CHECK(s.params.client_count == 1);
  CHECK(s.clients.size() == 1);
  CHECK(s.duration_us == 1'000'000);
  CHECK(s.liveness_us == 20'000'000);
  CHECK(s.params.delay_mean_us == SwarmParams{}.delay_mean_us);
  CHECK(s.faults.empty());
}

TEST_CASE("schedule text: recorded runs read back the same and replay with the same trace hash") {
  for (FaultLevel level : {FaultLevel::normal, FaultLevel::harsh}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      CAPTURE(seed);
      RunOptions o;
      o.seed = seed;
      o.faults = level;
      o.duration_us = 2'000'000;
      o.record_schedule = true;
      RunResult original = run_simulation(o);
      auto back = read_back(schedule_to_scenario(original.schedule, ""));
      REQUIRE_MESSAGE(back.has_value(), back.error().message);
      const Schedule& s = back.value();
      CHECK(s.faults == original.schedule.faults);
      CHECK(s.clients == original.schedule.clients);
      CHECK(s.duration_us == original.schedule.duration_us);
      CHECK(s.liveness_us == original.schedule.liveness_us);
      RunOptions replay;
      replay.schedule = &s;
      RunResult again = run_simulation(replay);
      CHECK(again.trace_hash == original.trace_hash);
      CHECK(again.verdict == original.verdict);
    }
  }
}
