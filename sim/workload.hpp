// The simulated clients' workload: which operation each client slot issues next and
// how long it thinks first. Drawn from the workload stream (a mix of reads, writes,
// compare-and-sets and deletes over the swarm's keys), or, in a replay, taken from a
// schedule's client steps; recorded into a schedule when asked.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/history.hpp"
#include "sim/prng.hpp"
#include "sim/schedule.hpp"
#include "sim/swarm.hpp"

namespace vsr::sim {

class Workload {
 public:
  /// Slots 0..params.client_count-1. `plan` (a replay) and `record` may be null; all
  /// pointers must outlive the workload. `record->clients` gets one list per slot.
  Workload(const SwarmParams& params, Prng& rng, const Schedule* plan, Schedule* record);

  /// The think time before slot `c`'s next operation: drawn (0 without `think`), or
  /// the plan's; nullopt when the plan has no operation left for the slot.
  std::optional<std::uint64_t> next_think_us(std::uint32_t c, bool think);
  /// The operation slot `c` issues now (recorded with its think time), or nullopt
  /// when the plan has none left.
  std::optional<OpCall> next_call(std::uint32_t c);

 private:
  OpCall draw_call();

  const SwarmParams* params_;
  Prng* rng_;
  const Schedule* plan_;
  Schedule* record_;
  std::vector<std::size_t> next_step_;   // replay: [slot] the next planned operation
  std::vector<std::uint64_t> think_us_;  // [slot] the think time before the next issue
  std::int64_t next_value_ = 1;
  std::map<std::string, std::int64_t> last_value_;  // the workload's guess for cas
};

}  // namespace vsr::sim
