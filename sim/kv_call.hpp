// The bridge from the checker's model of an operation (sim/history.hpp) to the KV
// machine's operation (vsr/kv.hpp): integers travel as decimal strings.
#pragma once

#include "sim/history.hpp"
#include "vsr/kv.hpp"

namespace vsr::sim {

/// The KV operation a client sends for `call`.
KvOp to_kv(const OpCall& call);

}  // namespace vsr::sim
