#include "sim/liveness.hpp"

#include <fmt/format.h>

namespace vsr::sim {

std::optional<std::string> replicas_diverge(const Cluster& cluster) {
  const Replica* first = nullptr;
  for (std::uint32_t i = 0; i < cluster.size(); ++i) {
    const SimHost& host = cluster.host(i);
    if (!host.up()) return "a replica is down";
    const Replica& r = host.replica();
    if (r.status() != StatusKind::normal || r.commit() != to_commit(r.op())) {
      return fmt::format("replica {} is {} in view {} with op {} commit {}", r.index(), status_name(r.status()),
                         r.view(), r.op(), r.commit());
    }
    if (first == nullptr) first = &r;
    if (r.view() != first->view() || r.commit() != first->commit() || r.state_hash() != first->state_hash()) {
      return fmt::format("replicas {} and {} differ: view {}/{} commit {}/{}", first->index(), r.index(),
                         first->view(), r.view(), first->commit(), r.commit());
    }
  }
  return std::nullopt;
}

}  // namespace vsr::sim
