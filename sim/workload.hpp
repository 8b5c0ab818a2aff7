// The simulated clients' workload: which operation each client slot issues next and
// how long it thinks first. Drawn from the workload stream (the operations by the
// system under test, sim/system.hpp), or, in a replay, taken from a schedule's client
// steps; recorded into a schedule when asked.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "sim/prng.hpp"
#include "sim/schedule.hpp"
#include "sim/swarm.hpp"
#include "sim/system.hpp"

namespace vsr::sim {

class Workload {
 public:
  /// Slots 0..params.client_count-1; `system` draws the operations. `plan` (a replay)
  /// and `record` may be null; all pointers must outlive the workload.
  /// `record->clients` gets one list per slot.
  Workload(const SwarmParams& params, Prng& rng, SystemRun& system, const Schedule* plan, Schedule* record);

  /// The think time before slot `c`'s next operation: drawn (0 without `think`), or
  /// the plan's; nullopt when the plan has no operation left for the slot.
  std::optional<std::uint64_t> next_think_us(std::uint32_t c, bool think);
  /// The operation slot `c` issues now (recorded with its think time), or nullopt
  /// when the plan has none left.
  std::optional<Bytes> next_operation(std::uint32_t c);

 private:
  const SwarmParams* params_;
  Prng* rng_;
  SystemRun* system_;
  const Schedule* plan_;
  Schedule* record_;
  std::vector<std::size_t> next_step_;   // replay: [slot] the next planned operation
  std::vector<std::uint64_t> think_us_;  // [slot] the think time before the next issue
};

}  // namespace vsr::sim
