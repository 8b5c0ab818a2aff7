// The simulation driver as a library: vsr-sim's whole command line (run, replay,
// sweep, compare, shrink, scenario, systems) over the systems a program declares.
// vsr-sim is run_cli over the KV store and the ledger example; a user's own binary
// that links vsr-sim's library and calls run_cli with its system gets every flag
// vsr-sim has (README, "Testing your own state machine"):
//
//   int main(int argc, char** argv) { return vsr::sim::run_cli(argc, argv, {&my_system()}); }
//
// The parts are callable on their own too: run_simulation (sim/simulator.hpp) runs
// and replays one seed of any system (RunOptions::system), shrink (sim/shrink.hpp)
// shrinks a failing schedule, and the reports live in tools/sim_report.hpp.
#pragma once

#include <string>
#include <vector>

#include "sim/system.hpp"

namespace vsr::sim {

struct CliOptions {
  std::string program = "vsr-sim";  // how the replay commands it prints name the binary
  std::string title = "vsr-sim: deterministic simulation of Viewstamped Replication";
};

/// Parses the command line and runs it; returns the exit code (0 passed, 2 usage, 3..6
/// the failure classes: `--help` lists them). `systems` (at least one; the first is
/// the default of --system) are registered by name (sim/systems.hpp) and must outlive
/// the call. Never throws.
int run_cli(int argc, char** argv, const std::vector<const System*>& systems, const CliOptions& options = {});

}  // namespace vsr::sim
