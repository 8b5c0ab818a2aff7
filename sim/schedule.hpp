// A run's decisions as an explicit schedule: the swarm parameters, every fault with
// its time, and every client operation with the think time before it. A recorded run
// (RunOptions::record_schedule) replays from its schedule (RunOptions::schedule) with
// the same trace hash; the shrinker (sim/shrink.hpp) edits schedules, and a schedule
// prints as a scenario script (the `sim`, `at`, `op` and `simulate` commands; its
// text format is written and read in sim/scenario/schedule_text.hpp).
//
// What stays random in a replay: the network's per-message fates (drop, duplicate,
// delay), keyed by each message's identity under the seed (sim/network.hpp), so
// removing an operation or a fault leaves unrelated messages' fates alone; disk
// latencies, clock drift and tick phases, and recovery nonces, all from the schedule's
// seed. The fault, partition, workload and
// buggify streams are not used: their decisions are the schedule.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/swarm.hpp"
#include "vsr/types.hpp"

namespace vsr::sim {

/// One fault at a moment of the fault phase. Replicas are 0-based indices, network
/// nodes (clog) are replicas 0..n-1 then client slots n..n+m-1.
struct FaultStep {
  enum class Kind : std::uint8_t { crash, restart, partition, heal, pause, resume, clog };
  std::uint64_t at_us = 0;
  Kind kind = Kind::crash;
  std::uint32_t replica = 0;  // crash, restart, pause, resume
  bool wipe = false;          // crash: the disk is lost too (within the wipe budget)
  std::vector<std::pair<std::uint32_t, std::uint32_t>> cuts;  // partition: directed links cut
  std::uint32_t from = 0;     // clog: network nodes
  std::uint32_t to = 0;
  std::uint64_t until_us = 0;  // clog: the link stalls until then
  bool operator==(const FaultStep&) const = default;

  /// A step of `kind` (at 0 us, set at_us) on `replica`.
  static FaultStep of(Kind kind, std::uint32_t replica = 0, bool wipe = false) {
    FaultStep f;
    f.kind = kind;
    f.replica = replica;
    f.wipe = wipe;
    return f;
  }
  static FaultStep clog_link(std::uint32_t from, std::uint32_t to, std::uint64_t until_us) {
    FaultStep f = of(Kind::clog);
    f.from = from;
    f.to = to;
    f.until_us = until_us;
    return f;
  }
};

std::string_view to_string(FaultStep::Kind k);

/// One operation a client slot issues, `think_us` after its previous operation ended
/// (after the run began, for the first one; 0 after an abandoned request): the
/// request's bytes, an operation of the schedule's system.
struct ClientStep {
  std::uint64_t think_us = 0;
  Bytes operation;
  bool operator==(const ClientStep&) const = default;
};

struct Schedule {
  /// The system under test (sim/system.hpp) by name: its operations are in `clients`.
  std::string system = "kv";
  SwarmParams params;  // seed, cluster shape, network, clocks, disk, give-up time
  std::uint64_t duration_us = 0;   // the fault phase
  std::uint64_t liveness_us = 20'000'000;
  std::vector<FaultStep> faults;                  // in time order
  std::vector<std::vector<ClientStep>> clients;   // [slot]: the slot's operations in order
  bool operator==(const Schedule&) const = default;

  std::size_t op_count() const;
};

}  // namespace vsr::sim
