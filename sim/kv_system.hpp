// The key-value store as a system under test (sim/system.hpp): the KV machine
// (vsr/kv.hpp) on every replica; a workload of reads, writes, compare-and-sets and
// deletes of integers over the swarm's keys; and the streaming KV check
// (sim/kv_model.hpp), which keeps the whole history only when asked (`--history`).
// The simulator's default system.
#pragma once

#include "sim/system.hpp"

namespace vsr::sim {

/// The KV system, named "kv". One instance for the whole program.
const System& kv_system();

}  // namespace vsr::sim
