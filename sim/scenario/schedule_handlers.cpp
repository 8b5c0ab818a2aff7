// The handlers of a simulator schedule's commands (sim/scenario/handlers.hpp): `sim`,
// `at` and `op` read it (sim/scenario/schedule_text.hpp), `simulate` replays it.
#include <fmt/format.h>

#include "sim/scenario/handlers.hpp"
#include "sim/scenario/values.hpp"
#include "sim/simulator.hpp"

namespace vsr::sim {

void on_sim(ScenarioSession& s, const ScriptCommand& c) { or_throw(s.schedule.read_sim(c)); }

void on_at(ScenarioSession& s, const ScriptCommand& c) { or_throw(s.schedule.read_at(c)); }

void on_op(ScenarioSession& s, const ScriptCommand& c) { or_throw(s.schedule.read_op(c)); }

/// Replays the schedule: "passed", or a failure naming the failure class and detail.
void on_simulate(ScenarioSession& s, const ScriptCommand&) {
  RunOptions o;
  o.schedule = or_throw(s.schedule.schedule("simulate"));
  RunResult r = run_simulation(o);
  if (r.verdict != RunVerdict::passed) {
    throw ScriptFailure{fmt::format("{} ({}) at {} us: {}", to_string(r.verdict), r.check, r.failed_at_us, r.detail)};
  }
  s.print("passed");
}

}  // namespace vsr::sim
