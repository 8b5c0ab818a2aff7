#include "sim/workload.hpp"

namespace vsr::sim {

Workload::Workload(const SwarmParams& params, Prng& rng, SystemRun& system, const Schedule* plan,
                   Schedule* record)
    : params_(&params),
      rng_(&rng),
      system_(&system),
      plan_(plan),
      record_(record),
      next_step_(params.client_count, 0),
      think_us_(params.client_count, 0) {
  if (record_ != nullptr) record_->clients.resize(params.client_count);
}

std::optional<std::uint64_t> Workload::next_think_us(std::uint32_t c, bool think) {
  std::uint64_t think_us = 0;
  if (plan_ != nullptr) {
    const auto& steps = plan_->clients[c];
    if (next_step_[c] >= steps.size()) return std::nullopt;
    think_us = steps[next_step_[c]].think_us;
  } else if (think) {
    think_us = static_cast<std::uint64_t>(rng_->exponential(static_cast<double>(params_->think_mean_us)));
  }
  think_us_[c] = think_us;
  return think_us;
}

std::optional<Bytes> Workload::next_operation(std::uint32_t c) {
  Bytes operation;
  if (plan_ != nullptr) {
    if (next_step_[c] >= plan_->clients[c].size()) return std::nullopt;
    operation = plan_->clients[c][next_step_[c]++].operation;
  } else {
    operation = system_->next_operation(c, *rng_);
  }
  if (record_ != nullptr) record_->clients[c].push_back(ClientStep{think_us_[c], operation});
  return operation;
}

}  // namespace vsr::sim
