#include "sim/sim_host.hpp"

namespace vsr::sim {

std::uint64_t draw_disk_latency_us(const SwarmParams& params, Prng& rng) {
  std::uint64_t latency =
      params.disk_latency_mean_us == 0
          ? 0
          : static_cast<std::uint64_t>(rng.exponential(static_cast<double>(params.disk_latency_mean_us)));
  if (rng.chance(params.disk_slow_probability)) {
    latency += static_cast<std::uint64_t>(rng.exponential(static_cast<double>(params.disk_slow_mean_us)));
  }
  return latency;
}

std::optional<CheckFailure> SimHost::check_committed(const Output& out) {
  std::optional<CheckFailure> first;
  for (const Committed& c : out.committed) {
    auto f = checker_->on_committed(host_.self(), c);
    if (f && !first) first = std::move(f);
  }
  return first;
}

void SimHost::crash(bool wipe) {
  host_.crash();
  ++incarnation_;
  if (wipe) host_.wipe();
}

}  // namespace vsr::sim
