#include "sim/schedule.hpp"

#include <doctest/doctest.h>

#include "sim/simulator.hpp"

using namespace vsr::sim;

namespace {
RunOptions recording(std::uint64_t seed, FaultLevel faults) {
  RunOptions o;
  o.seed = seed;
  o.faults = faults;
  o.duration_us = 2'000'000;
  o.record_schedule = true;
  return o;
}
FaultStep at(std::uint64_t at_us, FaultStep f) {
  f.at_us = at_us;
  return f;
}
}  // namespace

TEST_CASE("schedule: replaying a recorded run gives the same trace hash and verdict") {
  std::size_t faults_seen = 0;
  std::size_t ops_seen = 0;
  for (FaultLevel level : {FaultLevel::normal, FaultLevel::harsh}) {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
      CAPTURE(seed);
      RunResult original = run_simulation(recording(seed, level));
      const Schedule& s = original.schedule;
      faults_seen += s.faults.size();
      ops_seen += s.op_count();
      CHECK(s.params.seed == seed);
      CHECK(s.duration_us == 2'000'000);
      RunOptions replay;
      replay.schedule = &s;
      replay.record_schedule = true;
      RunResult again = run_simulation(replay);
      CHECK(again.trace_hash == original.trace_hash);
      CHECK(again.verdict == original.verdict);
      CHECK(again.schedule == s);  // what the replay did is what was planned
    }
  }
  CHECK(faults_seen > 20);  // the comparison covered faults, not just quiet runs
  CHECK(ops_seen > 1000);
}

TEST_CASE("schedule: recording does not change the run") {
  RunOptions plain = recording(7, FaultLevel::harsh);
  plain.record_schedule = false;
  CHECK(run_simulation(plain).trace_hash == run_simulation(recording(7, FaultLevel::harsh)).trace_hash);
  CHECK(run_simulation(plain).schedule.faults.empty());
}

TEST_CASE("schedule: a replay follows an edited schedule") {
  RunResult original = run_simulation(recording(3, FaultLevel::none));
  Schedule s = original.schedule;
  REQUIRE(s.op_count() > 10);
  for (auto& steps : s.clients) steps.resize(std::min<std::size_t>(steps.size(), 2));
  s.faults.push_back(at(500'000, FaultStep::of(FaultStep::Kind::crash, 1)));
  s.faults.push_back(at(900'000, FaultStep::of(FaultStep::Kind::restart, 1)));
  RunOptions replay;
  replay.schedule = &s;
  replay.record_schedule = true;
  RunResult r = run_simulation(replay);
  CHECK(r.verdict == RunVerdict::passed);
  CHECK(r.history.ops.size() == 2 * s.clients.size());
  CHECK(r.stats.crashes == 1);
  REQUIRE(r.schedule.faults.size() == 2);
  CHECK(r.schedule.faults[0].at_us == 500'000);
  CHECK(r.schedule.faults[1].kind == FaultStep::Kind::restart);
}

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
  s.clients.push_back({ClientStep{5, vsr::sim::OpCall::cas("k1", 1, 2)}});
  std::string text = schedule_to_scenario(s, "shrunk\nby a test");
  CHECK(text.find("# shrunk\n# by a test\n") == 0);
  CHECK(text.find("\nsim seed=9 replicas=3 clients=1 for=1500000us ") != std::string::npos);
  CHECK(text.find("\nat 10us crash 2 wipe\n----\n\n") != std::string::npos);
  CHECK(text.find("\nat 20us partition cut=0>1,1>0\n") != std::string::npos);
  CHECK(text.find("\nat 30us clog from=0 to=3 until=99us\n") != std::string::npos);
  CHECK(text.find("\nop client=1 think=5us cas key=k1 from=1 to=2\n") != std::string::npos);
  CHECK(text.ends_with("\nsimulate\n----\npassed\n\n"));
}
