#include "sim/scenario/scenario.hpp"

#include <string>

#include "sim/simulator.hpp"

#include <doctest/doctest.h>

using namespace vsr::sim;

namespace {

/// Parses and runs `text`; returns the error message, or "" if both succeeded.
std::string error_of(const std::string& text) {
  auto file = parse_scenario("t.txt", text);
  if (!file) return file.error().message;
  auto run = run_scenario(file.value());
  if (!run) return run.error().message;
  return "";
}

ScenarioRun run_ok(const std::string& text) {
  auto file = parse_scenario("t.txt", text);
  REQUIRE_MESSAGE(file.has_value(), file.error().message);
  auto run = run_scenario(file.value());
  REQUIRE_MESSAGE(run.has_value(), run.error().message);
  return run.value();
}

}  // namespace

TEST_CASE("parse errors name the file, the line and the reason") {
  CHECK(error_of("cluster replicas=3\n----\n\nfrobnicate\n----\n") ==
        "t.txt:4: unknown command 'frobnicate'");
  CHECK(error_of("# c\ncluster replicas=3\n") ==
        "t.txt:2: missing '----' after the command 'cluster replicas=3' (run with --rewrite to fill "
        "in the expected output)");
  CHECK(error_of("cluster replicas=\n----\n") == "t.txt:1: bad argument 'replicas=': expected key=value");
  CHECK(error_of("cluster replicas=3 colour=red\n----\n").starts_with(
      "t.txt:1: cluster: unknown argument 'colour'"));
  CHECK(error_of("----\n") == "t.txt:1: '----' without a command before it");
  CHECK(error_of("crash\n----\n").starts_with("t.txt:1: crash: wrong number of arguments"));
}

TEST_CASE("run-time script errors name the line too") {
  CHECK(error_of("cluster replicas=3\n----\n\ncrash 3\n----\n") ==
        "t.txt:4: replica 3 is out of range (replicas are 0..2)");
  CHECK(error_of("status\n----\n").starts_with("t.txt:1: status: no cluster yet"));
  CHECK(error_of("cluster replicas=3\n----\n\nrestart 1\n----\n") ==
        "t.txt:4: restart: replica 1 is up (crash it first)");
  CHECK(error_of("cluster replicas=3 clients=1\n----\n\nrequest client=2 read key=x\n----\n") ==
        "t.txt:4: client 2 is out of range (clients are 1..1)");
  CHECK(error_of("cluster\n----\n\nrequest client=1 write key=x value=abc\n----\n").starts_with(
      "t.txt:4: value: 'abc' is not an integer"));
  CHECK(error_of("cluster\n----\n\ndeliver type=nope\n----\n").starts_with(
      "t.txt:4: type: unknown message type 'nope'"));
  CHECK(error_of("cluster\n----\n\npartition (0) (0,1)\n----\n") ==
        "t.txt:4: partition: replica 0 is in two groups");
  CHECK(error_of("cluster\n----\n\nrun\n----\n") == "t.txt:4: run: for=DURATION is required (e.g. for=2s)");
}

TEST_CASE("a write commits through the queue, step by step") {
  ScenarioRun run = run_ok(
      "cluster replicas=3 clients=1\n----\n\n"
      "request client=1 write key=x value=1\n----\n\n"
      "deliver\n----\n\n"
      "deliver\n----\n\n"
      "deliver\n----\n\n"
      "deliver type=reply\n----\n\n"
      "log 0\n----\n\n"
      "check\n----\n");
  REQUIRE(run.failure.empty());
  REQUIRE(run.actual.size() == 8);
  CHECK(run.actual[0] == std::vector<std::string>{"3 replicas, 1 client; r0 is primary of view 0"});
  CHECK(run.actual[1] == std::vector<std::string>{"c1->r0 request{client=1 req=1 op=write x=1}"});
  CHECK(run.actual[2] == std::vector<std::string>{"c1->r0 request{client=1 req=1 op=write x=1}"});
  CHECK(run.actual[3] == std::vector<std::string>{
                             "r0->r1 prepare{from=0 view=0 op=1 commit=0 entry={v=0 c=1 req=1 op=write x=1}}",
                             "r0->r2 prepare{from=0 view=0 op=1 commit=0 entry={v=0 c=1 req=1 op=write x=1}}",
                             "r0->r0 prepare_ok{from=0 view=0 op=1}",
                         });
  CHECK(run.actual[4] == std::vector<std::string>{
                             "r1->r0 prepare_ok{from=1 view=0 op=1}",
                             "  r0 executes op 1: c1#1 write x=1 -> ok",
                             "r2->r0 prepare_ok{from=2 view=0 op=1}",
                         });
  CHECK(run.actual[5] == std::vector<std::string>{
                             "r0->c1 reply{from=0 view=0 client=1 req=1 result=ok}",
                             "  c1 completes #1 write x=1 -> ok (view 0)",
                         });
  CHECK(run.actual[6] == std::vector<std::string>{"1 v0 c1#1 write x=1 [committed]"});
  CHECK(run.actual[7].back() == "linearizable: yes (1 ops, 0 still pending)");
}

TEST_CASE("rewrite fills in outputs and keeps comments; diff shows the mismatch") {
  std::string text = "# hello\ncluster replicas=1 clients=1\n\n# status\nstatus\n----\nwrong\n";
  auto file = parse_scenario("t.txt", text, /*allow_missing_separator=*/true);
  REQUIRE(file.has_value());
  auto run = run_scenario(file.value());
  REQUIRE(run.has_value());
  std::string diff = diff_scenario(file.value(), run.value());
  CHECK(diff.find("t.txt:2: output differs for `cluster replicas=1 clients=1`") != std::string::npos);
  CHECK(diff.find("t.txt:5: output differs for `status`\n--- expected\n+++ actual\n-wrong\n+r0: view=0 normal primary op=0 commit=0\n") !=
        std::string::npos);
  std::string rewritten = rewrite_scenario(file.value(), run.value());
  CHECK(rewritten ==
        "# hello\ncluster replicas=1 clients=1\n----\n1 replica, 1 client; r0 is primary of view 0\n\n"
        "# status\nstatus\n----\nr0: view=0 normal primary op=0 commit=0\nc1: idle after #0 (believes view 0)\n"
        "pending messages: 0\n");
  auto again = parse_scenario("t.txt", rewritten);
  REQUIRE(again.has_value());
  auto rerun = run_scenario(again.value());
  REQUIRE(rerun.has_value());
  CHECK(diff_scenario(again.value(), rerun.value()).empty());
}

TEST_CASE("schedules: a shrunk schedule printed as a scenario replays the same failure") {
  // A liveness bound of 1 us is a failure every run with work left has: a real failing
  // run on the real code, so the round trip schedule -> text -> schedule is checked.
  RunOptions o;
  o.seed = 6;
  o.faults = FaultLevel::harsh;
  o.duration_us = 1'000'000;
  o.liveness_us = 1;
  o.record_schedule = true;
  RunResult failing = run_simulation(o);
  REQUIRE(failing.verdict == RunVerdict::liveness);
  std::string text = schedule_to_scenario(failing.schedule, "seed 6, with a 1 us liveness bound");
  ScenarioRun run = run_ok(text);
  CHECK(run.failure.find("liveness (liveness)") != std::string::npos);
  CHECK(run.actual.back().at(0).starts_with("FAILED: liveness (liveness) at "));
  // The same schedule with a sane liveness bound passes.
  Schedule sane = failing.schedule;
  sane.liveness_us = 20'000'000;
  ScenarioRun ok = run_ok(schedule_to_scenario(sane, ""));
  CHECK(ok.failure.empty());
  CHECK(ok.actual.back() == std::vector<std::string>{"passed"});
}

TEST_CASE("schedules: malformed schedule commands are errors with file, line and reason") {
  CHECK(error_of("at 5us heal\n----\n") == "t.txt:1: at: no schedule yet (start with: sim seed=N ...)");
  // One duration syntax everywhere (sim/limits.hpp): `at 5` is 5 s; junk is still an error.
  CHECK(error_of("sim replicas=3\n----\n\nat 5x heal\n----\n") ==
        "t.txt:4: at: '5x' is not a duration (a whole number with a unit: 250us, 500ms, 10s, 2m, 1h; a bare "
        "number is seconds)");
  CHECK(error_of("sim replicas=3\n----\n\nat 5us crash 3\n----\n") == "t.txt:4: replica: 3 exceeds the maximum 2");
  CHECK(error_of("sim replicas=3\n----\n\nat 9us heal\n----\n\nat 5us heal\n----\n") ==
        "t.txt:7: at: faults must be in time order");
  CHECK(error_of("sim replicas=3\n----\n\nat 5us partition cut=0>0\n----\n") ==
        "t.txt:4: cut: '0>0' links a replica to itself");
  CHECK(error_of("sim drop=1.5\n----\n") == "t.txt:1: drop: '1.5' is not a probability between 0 and 1");
  CHECK(error_of("sim clients=1\n----\n\nop client=2 read key=x\n----\n") == "t.txt:4: client: 2 exceeds the maximum 1");
  CHECK(error_of("sim\n----\n\nsim\n----\n") == "t.txt:4: sim: one schedule per file");
}

TEST_CASE("limits: every scenario command enforces sim/limits.hpp and states the limit") {
  // A fault phase of hours ran for hours; one hour is the limit everywhere.
  CHECK(error_of("sim seed=1 replicas=3 clients=1 for=99999999s\n----\n") ==
        "t.txt:1: for: '99999999s' exceeds the maximum 1h");
  CHECK(error_of("sim liveness=2h\n----\n") == "t.txt:1: liveness: '2h' exceeds the maximum 1h");
  CHECK(error_of("sim for=0s\n----\n") == "t.txt:1: for: '0s' is below the minimum 1us");
  CHECK(error_of("sim replicas=3\n----\n\nat 61m heal\n----\n") == "t.txt:4: at: '61m' exceeds the maximum 1h");
  CHECK(error_of("sim replicas=3\n----\n\nop client=1 think=2h read key=x\n----\n") ==
        "t.txt:4: think: '2h' exceeds the maximum 1h");
  CHECK(error_of("cluster\n----\n\nrun for=2h\n----\n") == "t.txt:4: for: '2h' exceeds the maximum 1h");
  CHECK(error_of("cluster\n----\n\nrun for=360001ticks\n----\n") ==
        "t.txt:4: for: 360001 exceeds the maximum 360000");
  CHECK(error_of("cluster\n----\n\nrun for=5ms\n----\n") == "t.txt:4: for: '5ms' is shorter than one tick (10ms)");
  CHECK(error_of("cluster\n----\n\nstabilize ticks=360001\n----\n") == "t.txt:4: ticks: 360001 exceeds the maximum 360000");
  // One cluster size rule: 1..7 replicas, at most 64 clients, in `cluster` and `sim` alike.
  CHECK(error_of("cluster replicas=9\n----\n") == "t.txt:1: replicas: 9 exceeds the maximum 7");
  CHECK(error_of("cluster replicas=0\n----\n") == "t.txt:1: replicas: 0 is below the minimum 1");
  CHECK(error_of("cluster replicas=-1\n----\n") == "t.txt:1: replicas: '-1' is not a whole number in 1..7");
  CHECK(error_of("sim replicas=8\n----\n") == "t.txt:1: replicas: 8 exceeds the maximum 7");
  CHECK(error_of("cluster clients=65\n----\n") == "t.txt:1: clients: 65 exceeds the maximum 64");
  CHECK(error_of("sim clients=65\n----\n") == "t.txt:1: clients: 65 exceeds the maximum 64");
  CHECK(error_of("cluster replicas=7 clients=64\n----\n") == "");
  // One probability syntax: `run drop=` reads what `sim drop=` reads (fmt's shortest form).
  CHECK(error_of("cluster\n----\n\nrun for=1s drop=1e-05\n----\n") == "");
  CHECK(error_of("cluster\n----\n\nrun for=1s drop=-0.1\n----\n") ==
        "t.txt:4: drop: '-0.1' is not a probability between 0 and 1");
  // A bare number is seconds, in `run for=` as in `at`.
  CHECK(error_of("cluster\n----\n\nrun for=1\n----\n") == "");
  CHECK(error_of("sim replicas=3 for=10s\n----\n\nat 5 heal\n----\n\nat 4999ms heal\n----\n") ==
        "t.txt:7: at: faults must be in time order");
}
