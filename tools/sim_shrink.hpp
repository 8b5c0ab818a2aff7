// `vsr-sim shrink`: record a failing seed's schedule, shrink it (sim/shrink.hpp), and
// write the minimal run as a scenario file that fails the same way.
#pragma once

#include <cstdint>
#include <string>

#include "sim/simulator.hpp"

namespace vsr::sim {

struct ShrinkCommand {
  RunOptions options;       // the seed and its shape, as `vsr-sim run` would run it
  std::string output_path;  // the scenario file to write
  std::uint32_t max_runs = 5000;
  std::uint32_t reseeds = 3;  // ShrinkOptions::reseeds
  std::string origin;       // how the failing run was made, for the file's header
  std::string program = "vsr-sim";  // the binary, as the messages name it
};

/// Returns the process exit code: 0 shrunk and written, 1 the seed did not fail (or
/// did not fail again when replayed from its schedule), 2 the file cannot be written.
int run_shrink_command(const ShrinkCommand& c);

}  // namespace vsr::sim
