#include "sim/network.hpp"

#include <algorithm>

namespace vsr::sim {

Network::Network(const SwarmParams& params, Prng& rng)
    : params_(&params),
      rng_(&rng),
      replicas_(params.replica_count),
      nodes_(params.replica_count + params.client_count),
      blocked_(replicas_, std::vector<bool>(replicas_, false)),
      clogged_until_us_(static_cast<std::size_t>(nodes_) * nodes_, 0) {}

void Network::cut(const std::vector<Link>& cuts) {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  for (const auto& [a, b] : cuts) {
    if (a < replicas_ && b < replicas_ && a != b) blocked_[a][b] = true;
  }
  partitioned_ = true;
}

std::vector<Link> Network::cuts() const {
  std::vector<Link> links;
  for (std::uint32_t a = 0; a < replicas_; ++a) {
    for (std::uint32_t b = 0; b < replicas_; ++b) {
      if (blocked_[a][b]) links.emplace_back(a, b);
    }
  }
  return links;
}

void Network::heal() {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  partitioned_ = false;
}

void Network::clog(std::uint32_t a, std::uint32_t b, std::uint64_t until_us) {
  clogged_until_us_[static_cast<std::size_t>(a) * nodes_ + b] = until_us;
}

void Network::clear_clogs() { std::fill(clogged_until_us_.begin(), clogged_until_us_.end(), 0); }

std::uint64_t Network::delay_us() {
  const SwarmParams& p = *params_;
  auto d = p.delay_min_us + static_cast<std::uint64_t>(rng_->exponential(static_cast<double>(p.delay_mean_us)));
  if (rng_->chance(p.tail_probability)) {
    d += static_cast<std::uint64_t>(rng_->exponential(static_cast<double>(p.tail_mean_us)));
  }
  return d;
}

Route Network::route(std::uint32_t a, std::uint32_t b, bool client_link, const Message&, std::uint64_t now_us,
                     bool faults) {
  Route route;
  if (faults) {
    if (!client_link && blocked_[a][b]) {
      route.dropped = true;
      route.reason = "partition";
      return route;
    }
    double p = client_link ? params_->client_drop_probability : params_->drop_probability;
    if (rng_->chance(p)) {
      route.dropped = true;
      route.reason = "drop";
      return route;
    }
  }
  std::uint64_t clogged = faults ? clogged_until_us_[static_cast<std::size_t>(a) * nodes_ + b] : 0;
  route.copies = rng_->chance(params_->duplicate_probability) ? 2 : 1;
  for (int i = 0; i < route.copies; ++i) route.deliver_us[i] = std::max(now_us, clogged) + delay_us();
  return route;
}

std::uint32_t Network::hold(Parcel p) {
  if (free_.empty()) {
    parcels_.push_back(std::move(p));
    return static_cast<std::uint32_t>(parcels_.size() - 1);
  }
  std::uint32_t index = free_.back();
  free_.pop_back();
  parcels_[index] = std::move(p);
  return index;
}

}  // namespace vsr::sim
