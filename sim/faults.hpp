// The fault scheduler: when each fault happens and to whom. It draws crashes (some
// with a disk wipe, each followed by a restart), partitions (in the swarm's style, each
// followed by a heal), pauses (each followed by a resume) and link clogs from the
// fault, partition and buggify streams, or, in a replay, takes them from a schedule;
// it records every fault that took effect when asked. What a fault does to the cluster
// is the FaultTarget's business (the simulator); the event loop only hands the
// scheduler its fault events.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "sim/event_queue.hpp"
#include "sim/network.hpp"
#include "sim/prng.hpp"
#include "sim/schedule.hpp"
#include "sim/swarm.hpp"
#include "vsr/facts.hpp"

namespace vsr::sim {

/// What faults can do to a cluster, and what the scheduler may ask about it. Each
/// action returns whether it took effect (a restart of a replica that is up does not).
class FaultTarget {
 public:
  virtual ~FaultTarget() = default;
  [[nodiscard]] virtual bool up(std::uint32_t r) const = 0;
  [[nodiscard]] virtual bool paused(std::uint32_t r) const = 0;
  /// Counts r's crashes: an event aimed at an earlier incarnation is stale.
  [[nodiscard]] virtual std::uint64_t incarnation(std::uint32_t r) const = 0;
  [[nodiscard]] virtual bool needs_recovery(std::uint32_t r) const = 0;
  /// The replica acting as primary in the highest view, if any.
  [[nodiscard]] virtual std::optional<std::uint32_t> acting_primary() const = 0;

  /// Crashes `r` (up); `wipe` is cleared if the wipe budget forbids it.
  virtual void crash(std::uint32_t r, bool& wipe) = 0;
  virtual bool restart(std::uint32_t r) = 0;
  /// Cuts exactly `cuts`; returns the links actually cut (cuts() of the network).
  virtual std::vector<Link> partition(const std::vector<Link>& cuts, std::string_view style) = 0;
  virtual bool heal() = 0;
  /// Pauses `r` (up, not paused).
  virtual void pause(std::uint32_t r) = 0;
  virtual bool resume(std::uint32_t r) = 0;
  /// Clogs the directed link a -> b (network nodes, a != b) until `until_us`.
  virtual void clog(std::uint32_t a, std::uint32_t b, std::uint64_t until_us) = 0;
};

/// The fault scheduler's random streams (owned by the simulation).
struct FaultStreams {
  Prng& faults;
  Prng& partitions;
  Prng& buggify;
};

class FaultScheduler {
 public:
  /// `plan` (a replay) and `record` may be null; every reference and pointer must
  /// outlive the scheduler.
  FaultScheduler(const SwarmParams& params, FaultStreams streams, EventQueue& events, FaultTarget& target,
                 const Schedule* plan, Schedule* record);

  /// Queues the first fault of each kind (or every planned fault before `end_us`).
  void start(std::uint64_t end_us);
  /// Handles a fault event (is_fault(e.action), or Action::restart) due now.
  void on(const Event& e, std::uint64_t now_us);
  /// The fault phase is over: no fault is drawn, aimed, or recorded from now on.
  void stop() { stopped_ = true; }
  /// Replica `r` just reported `fact`: with the seed's probability, when it opens a
  /// window where only durability keeps promises (it started leading or a view
  /// change, sent DoViewChange, finished recovery or received a state transfer), a
  /// crash is aimed at `r` within the next disk latency.
  void after_fact(std::uint32_t r, const vsr::Fact& fact, std::uint64_t now_us);
  /// Replica `r`'s storage just wrote a base record (compaction, vsr/storage.hpp), not
  /// yet published by a superblock: the same chance of a crash aimed within the next
  /// disk latency, so crashes (and syncs cut by them) strike the base's publication.
  void after_base_record(std::uint32_t r, std::uint64_t now_us);

 private:
  void aim_crash(std::uint32_t r, std::uint64_t now_us);
  void crash_random();
  void crash_and_plan_restart(std::uint32_t r, Prng& rng);
  void partition_random();
  void pause_random();
  void clog_random();
  void apply_planned(const FaultStep& f);
  std::vector<Link> draw_cuts(PartitionStyle style);
  void record(FaultStep step);
  std::uint64_t interval_us(double rate_per_s);
  std::uint64_t after_us(Prng& rng, std::uint64_t mean_us) const;

  const SwarmParams* params_;
  FaultStreams rng_;
  EventQueue* events_;
  FaultTarget* target_;
  const Schedule* plan_;
  Schedule* record_;
  std::uint64_t now_us_ = 0;
  bool stopped_ = false;
};

}  // namespace vsr::sim
