// The liveness phase's goal: once faults stop and every replica is back, the cluster
// must converge. This says whether it has.
#pragma once

#include <optional>
#include <string>

#include "sim/cluster.hpp"

namespace vsr::sim {

/// Why the replicas have not converged, or nullopt once they have: every replica up
/// and normal, in one view, with its whole log committed, and one state hash.
[[nodiscard]] std::optional<std::string> replicas_diverge(const Cluster& cluster);

}  // namespace vsr::sim
