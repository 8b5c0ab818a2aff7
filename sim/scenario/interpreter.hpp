// The scenario interpreter: runs a parsed file's commands in order, each through its
// handler in the command table (sim/scenario/commands.hpp), and collects what each
// printed. It reads no file and prints nothing itself (tools/scenario_files.hpp does).
#pragma once

#include "sim/history.hpp"
#include "sim/scenario/scenario_file.hpp"

namespace vsr::sim {

/// Runs every block. A script error (a command that cannot run: replica out of range,
/// restarting a replica that is up, a busy client...) is an error "<path>:<line>:
/// <reason>". A failed check, a protocol assertion or an exception ends the run: the
/// block says "FAILED: ...", later blocks say "skipped: ...", and ScenarioRun::failure
/// is set.
InputResult<ScenarioRun> run_scenario(const ScenarioFile& file);

}  // namespace vsr::sim
