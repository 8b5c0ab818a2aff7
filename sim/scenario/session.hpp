// What the commands of one scenario file share while it runs: the seed, the cluster
// (once `cluster` made it), the schedule being read (`sim`, `at`, `op`), and the
// output of the block being run. The interpreter (sim/scenario/interpreter.hpp) owns
// it and hands it to each command's handler (sim/scenario/handlers.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/scenario/driver.hpp"
#include "sim/scenario/schedule_text.hpp"

namespace vsr::sim {

struct ScenarioSession {
  std::uint64_t seed = 1;                 // `seed N`, before `cluster`
  std::unique_ptr<ScenarioDriver> driver;  // `cluster`: one per file
  ScheduleReader schedule;                 // `sim`, `at`, `op`; `simulate` runs it
  std::vector<std::string>* out = nullptr;  // the current block's output lines

  void print(std::string line) const { out->push_back(std::move(line)); }
};

}  // namespace vsr::sim
