// The schedule text format: a simulator schedule (sim/schedule.hpp) as scenario
// commands, written and read here, both from one table of keys.
//
//   sim seed=N replicas=N clients=M for=TIME liveness=TIME [network, disk, clock keys]
//   at TIME crash N [wipe] | restart N | pause N | resume N | partition cut=A>B,... |
//           heal | clog from=A to=B until=TIME
//   op client=K think=TIME read|write|cas|delete key=K [value=V] [from=A to=B]
//   simulate
//
// `vsr-sim shrink` writes a shrunk schedule in it; `vsr-sim scenario` reads it back and
// replays it. Writing then reading gives back the same Schedule (times in `us`, and
// probabilities in fmt's shortest form, which reads back the same bits). A `sim` key
// left out takes the value of a quiet run: no fault, seed 1, 3 replicas, 1 client, a
// fault phase of 1 s, the swarm's default network, disk and clock.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/history.hpp"
#include "sim/schedule.hpp"
#include "sim/scenario/command.hpp"

namespace vsr::sim {

/// The schedule as a scenario script: a `sim` line, one `at` line per fault, one `op`
/// line per operation, then `simulate`, whose expected output is `passed`. Every line
/// of `header` becomes a `# ` comment at the top.
std::string schedule_to_scenario(const Schedule& s, std::string_view header);

/// One line per fault (its `at` command) and per operation (its `op` command), after
/// two summary lines, for reports.
std::vector<std::string> describe_schedule(const Schedule& s);

/// The command specs of the format's lines (for the command table).
const CommandSpec& sim_spec();
const CommandSpec& at_spec();
const CommandSpec& op_spec();

/// A client operation's words: `read key=K`, `write key=K value=V`, `cas key=K from=A
/// to=B`, `delete key=K`; the `op` and `request` commands share them.
std::string call_text(const OpCall& call);
/// Reads them from a command whose first word is the operation: errors name the
/// command ("request write: value=... is required").
InputResult<OpCall> read_call(const ScriptCommand& command);

/// Builds a Schedule from `sim`, `at` and `op` commands, one at a time, in file order.
class ScheduleReader {
 public:
  /// `sim`: starts the schedule (one per file).
  InputResult<void> read_sim(const ScriptCommand& command);
  /// `at`: one more fault, in time order.
  InputResult<void> read_at(const ScriptCommand& command);
  /// `op`: one more operation of a client slot.
  InputResult<void> read_op(const ScriptCommand& command);

  /// The schedule read so far; before `sim`, the error "<command>: no schedule yet".
  InputResult<const Schedule*> schedule(std::string_view command) const;

 private:
  std::optional<Schedule> schedule_;
};

}  // namespace vsr::sim
