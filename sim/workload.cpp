#include "sim/workload.hpp"

#include <array>

#include <fmt/format.h>

namespace vsr::sim {

Workload::Workload(const SwarmParams& params, Prng& rng, const Schedule* plan, Schedule* record)
    : params_(&params),
      rng_(&rng),
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

std::optional<OpCall> Workload::next_call(std::uint32_t c) {
  OpCall call;
  if (plan_ != nullptr) {
    if (next_step_[c] >= plan_->clients[c].size()) return std::nullopt;
    call = plan_->clients[c][next_step_[c]++].call;
  } else {
    call = draw_call();
  }
  if (record_ != nullptr) record_->clients[c].push_back(ClientStep{think_us_[c], call});
  return call;
}

/// 40% reads, 35% writes of a fresh value, 20% compare-and-sets (usually from the value
/// last written, so some succeed), 5% deletes, on a key drawn uniformly.
OpCall Workload::draw_call() {
  std::string key = fmt::format("k{}", rng_->below(params_->key_count));
  constexpr std::array<std::uint32_t, 4> weights = {40, 35, 20, 5};
  switch (rng_->weighted(weights)) {
    case 0: return OpCall::read(key);
    case 1: {
      std::int64_t v = next_value_++;
      last_value_[key] = v;
      return OpCall::write(key, v);
    }
    case 2: {
      auto it = last_value_.find(key);
      std::int64_t from = it == last_value_.end() || rng_->chance(0.2) ? 0 : it->second;
      std::int64_t to = next_value_++;
      last_value_[key] = to;
      return OpCall::cas(key, from, to);
    }
    default: return OpCall::del(key);
  }
}

}  // namespace vsr::sim
