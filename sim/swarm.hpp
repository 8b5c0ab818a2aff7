// Swarm testing: every seed draws its own cluster shape and fault mix, so a sweep
// covers many regimes instead of one average. Also the fault model, in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vsr::sim {

class Tape;  // prng.hpp

enum class FaultLevel : std::uint8_t { none, normal, harsh };

std::optional<FaultLevel> parse_fault_level(std::string_view s);
std::string_view to_string(FaultLevel f);

enum class PartitionStyle : std::uint8_t {
  none,
  random_split,     // replicas split into two random sides
  isolate_primary,  // the current primary alone on one side
  isolate_one,      // one random replica alone
  asymmetric,       // one-way cuts: a random set of directed links drops everything
  mixed,            // each partition picks one of the four above
};

std::string_view to_string(PartitionStyle p);

/// Everything a seed draws before the run starts. Times in microseconds of virtual time.
struct SwarmParams {
  std::uint64_t seed = 0;
  FaultLevel faults = FaultLevel::normal;
  std::uint32_t replica_count = 3;
  std::uint32_t client_count = 4;
  std::uint32_t key_count = 3;
  // clocks: a tick is nominally tick_us; each replica runs up to drift_ppm faster/slower
  std::uint64_t tick_us = 10'000;
  std::uint32_t drift_ppm = 0;
  // network
  std::uint64_t delay_min_us = 200;
  std::uint64_t delay_mean_us = 800;
  double tail_probability = 0;  // a message takes the long tail
  std::uint64_t tail_mean_us = 0;
  double drop_probability = 0;
  double duplicate_probability = 0;
  double client_drop_probability = 0;
  double clog_rate_per_s = 0;  // per cluster: a random directed link stalls
  std::uint64_t clog_mean_us = 0;
  // partitions
  PartitionStyle partition_style = PartitionStyle::none;
  double partition_rate_per_s = 0;
  std::uint64_t partition_mean_us = 0;
  // crashes and pauses
  double crash_rate_per_s = 0;
  double wipe_probability = 0;  // of a crash, the chance it also wipes the disk
  std::uint64_t restart_mean_us = 0;
  /// After a replica starts leading, starts or joins a view change, or finishes a
  /// recovery or state transfer, the chance that it crashes within the next moments
  /// (before its writes can complete): the windows where durability bugs hide.
  double crash_after_event_probability = 0;
  double pause_rate_per_s = 0;
  std::uint64_t pause_mean_us = 0;
  // disk
  std::uint64_t disk_latency_mean_us = 100;
  double disk_slow_probability = 0;  // a write takes the slow path (a disk stall)
  std::uint64_t disk_slow_mean_us = 0;
  // workload
  std::uint64_t think_mean_us = 5'000;
  std::uint64_t give_up_us = 2'000'000;  // a client abandons a request (recorded info)
  // protocol: the primary's bound on uncommitted ops (Config::max_pipeline_ops); small
  // for some seeds, so requests meet a full pipeline
  std::uint32_t pipeline_ops = 64;
  // protocol: Config::checkpoint_interval_ops (0: none); 1..64 for half the seeds, so
  // checkpoints and restarts from them run in an ordinary sweep (issue 15)
  std::uint32_t checkpoint_interval_ops = 0;
  // protocol: Config::log_retention_ops; 0..2 x pipeline for seeds with checkpoints, so
  // compaction leaves lagging peers needing snapshots in an ordinary sweep
  std::uint32_t log_retention_ops = 128;
  // protocol: Config::snapshot_chunk_bytes; small for half the seeds with checkpoints,
  // so snapshots travel in many chunks
  std::uint32_t snapshot_chunk_bytes = 0;
  // a fault: a snapshot chunk arrives with its data or its state hash corrupted (a bad
  // donor disk or memory), which the receiver must refuse
  double snapshot_corrupt_probability = 0;
  // protocol: Config::max_client_sessions (0: unbounded); for a quarter of the seeds
  // clients-1 .. clients+2, so sessions are evicted (given-up clients leave theirs
  // behind) and clients open sessions again (issue 15)
  std::uint32_t max_client_sessions = 0;
  // protocol: Config::max_message_bytes; 1..16 KiB for a quarter of the seeds, so log
  // suffixes, runs and repairs are cut to fit in an ordinary sweep (issue 15)
  std::uint64_t max_message_bytes = std::uint64_t{64} << 20;
  // storage faults (issue 17; sim/storage_faults.hpp, each drawn from Stream::storage
  // when it strikes): per write in flight at a crash, the chance it is torn (a
  // sector-aligned prefix lands; otherwise it lands whole or not at all, evenly); per
  // crash, the chances of at-rest corruption (a bit flip) and of a latent sector error
  // on the stored journal or superblock; per record written, the chance its journal
  // write lands at another place. Damage stays within the fault atlas.
  double torn_write_probability = 0;
  double corruption_probability = 0;
  double latent_error_probability = 0;
  double misdirect_probability = 0;
  // storage: Config::journal_ring_slots; small rings (32..256) for a quarter of the seeds, so
  // base records (compaction) and their superblocks come often
  std::uint32_t journal_ring_slots = 4096;

  bool operator==(const SwarmParams&) const = default;
};

/// Draws the parameters of `seed`. Explicit replica/client counts override the draw
/// without changing any other drawn value.
/// With `tape` (tape mode, see prng.hpp), the draws read the tape first.
SwarmParams draw_swarm(std::uint64_t seed, FaultLevel faults,
                       std::optional<std::uint32_t> replicas,
                       std::optional<std::uint32_t> clients, Tape* tape = nullptr);

/// One line per group of parameters, for run output and failure reports.
std::string describe(const SwarmParams& p);

/// The fault model, as printed by `vsr-sim --help` and the README.
std::string_view fault_model_text();

}  // namespace vsr::sim
