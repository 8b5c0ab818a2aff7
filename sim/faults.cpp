#include "sim/faults.hpp"

#include <variant>

namespace vsr::sim {

FaultScheduler::FaultScheduler(const SwarmParams& params, FaultStreams streams, EventQueue& events,
                               FaultTarget& target, const Schedule* plan, Schedule* record)
    : params_(&params), rng_(streams), events_(&events), target_(&target), plan_(plan), record_(record) {}

/// The time to the next fault of a kind that happens `rate_per_s` times a second.
std::uint64_t FaultScheduler::interval_us(double rate_per_s) {
  return 1 + static_cast<std::uint64_t>(rng_.faults.exponential(1e6 / rate_per_s));
}

/// A fault's duration: 1 us plus an exponential time around `mean_us`.
std::uint64_t FaultScheduler::after_us(Prng& rng, std::uint64_t mean_us) const {
  return now_us_ + 1 + static_cast<std::uint64_t>(rng.exponential(static_cast<double>(mean_us)));
}

void FaultScheduler::start(std::uint64_t end_us) {
  if (plan_ != nullptr) {
    for (std::size_t i = 0; i < plan_->faults.size(); ++i) {
      if (plan_->faults[i].at_us < end_us) events_->schedule(plan_->faults[i].at_us, Action::planned_fault, 0, i);
    }
    return;
  }
  const SwarmParams& p = *params_;
  if (p.crash_rate_per_s > 0) events_->schedule(interval_us(p.crash_rate_per_s), Action::crash);
  if (p.partition_rate_per_s > 0) events_->schedule(interval_us(p.partition_rate_per_s), Action::partition);
  if (p.pause_rate_per_s > 0) events_->schedule(interval_us(p.pause_rate_per_s), Action::pause);
  if (p.clog_rate_per_s > 0) events_->schedule(interval_us(p.clog_rate_per_s), Action::clog);
}

void FaultScheduler::on(const Event& e, std::uint64_t now_us) {
  now_us_ = now_us;
  switch (e.action) {
    case Action::crash: crash_random(); break;
    case Action::crash_replica:
      if (!stopped_ && target_->up(e.node) && target_->incarnation(e.node) == e.arg) {
        crash_and_plan_restart(e.node, rng_.buggify);
      }
      break;
    case Action::restart:
      if (target_->restart(e.node)) record(FaultStep::of(FaultStep::Kind::restart, e.node));
      break;
    case Action::partition: partition_random(); break;
    case Action::heal:
      if (target_->heal()) record(FaultStep::of(FaultStep::Kind::heal));
      break;
    case Action::pause: pause_random(); break;
    case Action::resume:
      if (e.arg == target_->incarnation(e.node) && target_->resume(e.node)) {
        record(FaultStep::of(FaultStep::Kind::resume, e.node));
      }
      break;
    case Action::clog: clog_random(); break;
    case Action::planned_fault: apply_planned(plan_->faults[e.arg]); break;
    default: break;
  }
}

void FaultScheduler::after_fact(std::uint32_t r, const vsr::Fact& fact, std::uint64_t now_us) {
  if (plan_ != nullptr || stopped_ || params_->crash_after_event_probability <= 0) return;
  bool opens_window = std::holds_alternative<vsr::LeadershipStarted>(fact) ||
                      std::holds_alternative<vsr::ViewChangeStarted>(fact) ||
                      std::holds_alternative<vsr::DoViewChangeSent>(fact) ||
                      std::holds_alternative<vsr::RecoveryCompleted>(fact) ||
                      std::holds_alternative<vsr::StateTransferReceived>(fact);
  if (!opens_window) return;
  aim_crash(r, now_us);
}

void FaultScheduler::after_base_record(std::uint32_t r, std::uint64_t now_us) {
  if (plan_ != nullptr || stopped_ || params_->crash_after_event_probability <= 0) return;
  aim_crash(r, now_us);
}

/// With the seed's crash-after-event probability, a crash of `r` within the next disk
/// latency.
void FaultScheduler::aim_crash(std::uint32_t r, std::uint64_t now_us) {
  if (!rng_.buggify.chance(params_->crash_after_event_probability)) return;
  std::uint64_t within = 1 + rng_.buggify.below(2 * params_->disk_latency_mean_us + 1);
  events_->schedule(now_us + within, Action::crash_replica, r, target_->incarnation(r));
}

void FaultScheduler::crash_random() {
  if (stopped_) return;
  events_->schedule(now_us_ + interval_us(params_->crash_rate_per_s), Action::crash);
  std::vector<std::uint32_t> up;
  for (std::uint32_t r = 0; r < params_->replica_count; ++r) {
    if (target_->up(r)) up.push_back(r);
  }
  if (up.empty()) return;
  crash_and_plan_restart(up[rng_.faults.below(up.size())], rng_.faults);
}

/// Crashes `r` (with the seed's wipe probability, within the wipe budget) and plans
/// its restart.
void FaultScheduler::crash_and_plan_restart(std::uint32_t r, Prng& rng) {
  bool wipe = rng.chance(params_->wipe_probability);
  target_->crash(r, wipe);
  record(FaultStep::of(FaultStep::Kind::crash, r, wipe));
  events_->schedule(after_us(rng, params_->restart_mean_us), Action::restart, r, target_->needs_recovery(r) ? 1 : 0);
}

void FaultScheduler::partition_random() {
  if (stopped_) return;
  events_->schedule(now_us_ + interval_us(params_->partition_rate_per_s), Action::partition);
  if (params_->replica_count < 2) return;
  PartitionStyle style = params_->partition_style;
  if (style == PartitionStyle::mixed) style = static_cast<PartitionStyle>(1 + rng_.partitions.below(4));
  FaultStep step = FaultStep::of(FaultStep::Kind::partition);
  step.cuts = target_->partition(draw_cuts(style), to_string(style));
  record(std::move(step));
  events_->schedule(after_us(rng_.partitions, params_->partition_mean_us), Action::heal);
}

/// The links a partition of `style` cuts: between two sides (random, the primary
/// alone, one replica alone), or each directed link with probability 0.3 (asymmetric).
std::vector<Link> FaultScheduler::draw_cuts(PartitionStyle style) {
  const std::uint32_t n = params_->replica_count;
  Prng& rng = rng_.partitions;
  std::vector<Link> cuts;
  if (style == PartitionStyle::asymmetric) {
    for (std::uint32_t a = 0; a < n; ++a) {
      for (std::uint32_t b = 0; b < n; ++b) {
        if (a != b && rng.chance(0.3)) cuts.emplace_back(a, b);
      }
    }
    return cuts;
  }
  std::vector<bool> side(n, false);
  switch (style) {
    case PartitionStyle::random_split:
      for (std::uint32_t r = 0; r < n; ++r) side[r] = rng.chance(0.5);
      break;
    case PartitionStyle::isolate_primary: {
      std::uint32_t fallback = static_cast<std::uint32_t>(rng.below(n));  // drawn either way
      side[target_->acting_primary().value_or(fallback)] = true;
      break;
    }
    case PartitionStyle::isolate_one: side[rng.below(n)] = true; break;
    default: break;
  }
  for (std::uint32_t a = 0; a < n; ++a) {
    for (std::uint32_t b = 0; b < n; ++b) {
      if (side[a] != side[b]) cuts.emplace_back(a, b);
    }
  }
  return cuts;
}

void FaultScheduler::pause_random() {
  if (stopped_) return;
  events_->schedule(now_us_ + interval_us(params_->pause_rate_per_s), Action::pause);
  auto r = static_cast<std::uint32_t>(rng_.faults.below(params_->replica_count));
  if (!target_->up(r) || target_->paused(r)) return;
  target_->pause(r);
  record(FaultStep::of(FaultStep::Kind::pause, r));
  events_->schedule(after_us(rng_.faults, params_->pause_mean_us), Action::resume, r, target_->incarnation(r));
}

void FaultScheduler::clog_random() {
  if (stopped_) return;
  events_->schedule(now_us_ + interval_us(params_->clog_rate_per_s), Action::clog);
  std::uint32_t nodes = params_->replica_count + params_->client_count;
  auto a = static_cast<std::uint32_t>(rng_.faults.below(nodes));
  auto b = static_cast<std::uint32_t>(rng_.faults.below(nodes));
  if (a == b) return;
  std::uint64_t until = after_us(rng_.faults, params_->clog_mean_us);
  target_->clog(a, b, until);
  record(FaultStep::clog_link(a, b, until));
}

/// Replay: carries out planned fault `f`. Steps naming replicas or nodes the cluster
/// does not have (a shrunk schedule) are ignored; so is a crash of a replica that is
/// down, and a crash whose wipe the budget forbids crashes without the wipe.
void FaultScheduler::apply_planned(const FaultStep& f) {
  const std::uint32_t n = params_->replica_count;
  const bool replica_ok = f.replica < n;
  switch (f.kind) {
    case FaultStep::Kind::crash:
      if (replica_ok && target_->up(f.replica)) {
        bool wipe = f.wipe;
        target_->crash(f.replica, wipe);
        record(FaultStep::of(FaultStep::Kind::crash, f.replica, wipe));
      }
      break;
    case FaultStep::Kind::restart:
      if (replica_ok && target_->restart(f.replica)) record(FaultStep::of(f.kind, f.replica));
      break;
    case FaultStep::Kind::partition: {
      FaultStep step = FaultStep::of(FaultStep::Kind::partition);
      step.cuts = target_->partition(f.cuts, "planned");
      record(std::move(step));
      break;
    }
    case FaultStep::Kind::heal:
      if (target_->heal()) record(FaultStep::of(f.kind));
      break;
    case FaultStep::Kind::pause:
      if (replica_ok && target_->up(f.replica) && !target_->paused(f.replica)) {
        target_->pause(f.replica);
        record(FaultStep::of(f.kind, f.replica));
      }
      break;
    case FaultStep::Kind::resume:
      if (replica_ok && target_->resume(f.replica)) record(FaultStep::of(f.kind, f.replica));
      break;
    case FaultStep::Kind::clog: {
      std::uint32_t nodes = n + params_->client_count;
      if (f.from < nodes && f.to < nodes && f.from != f.to) {
        target_->clog(f.from, f.to, f.until_us);
        record(FaultStep::clog_link(f.from, f.to, f.until_us));
      }
      break;
    }
  }
}

/// Appends `step`, at the current time, to the recorded schedule (when recording).
void FaultScheduler::record(FaultStep step) {
  if (record_ == nullptr || stopped_) return;
  step.at_us = now_us_;
  record_->faults.push_back(std::move(step));
}

}  // namespace vsr::sim
