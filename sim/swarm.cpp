#include "sim/swarm.hpp"

#include <array>

#include <fmt/format.h>

#include "sim/prng.hpp"

namespace vsr::sim {

std::optional<FaultLevel> parse_fault_level(std::string_view s) {
  if (s == "none") return FaultLevel::none;
  if (s == "default" || s == "normal") return FaultLevel::normal;
  if (s == "harsh") return FaultLevel::harsh;
  return std::nullopt;
}

std::string_view to_string(FaultLevel f) {
  switch (f) {
    case FaultLevel::none: return "none";
    case FaultLevel::normal: return "default";
    case FaultLevel::harsh: return "harsh";
  }
  return "?";
}

std::string_view to_string(PartitionStyle p) {
  switch (p) {
    case PartitionStyle::none: return "none";
    case PartitionStyle::random_split: return "random-split";
    case PartitionStyle::isolate_primary: return "isolate-primary";
    case PartitionStyle::isolate_one: return "isolate-one";
    case PartitionStyle::asymmetric: return "asymmetric";
    case PartitionStyle::mixed: return "mixed";
  }
  return "?";
}

namespace {

std::uint32_t draw_replicas(Prng& rng) {
  // 1..7, weighted towards the odd sizes people deploy.
  constexpr std::array<std::uint32_t, 7> weights = {5, 5, 35, 10, 30, 5, 10};
  return static_cast<std::uint32_t>(rng.weighted(weights)) + 1;
}

/// Scales a rate: zero with probability `off`, else uniform in [0, max].
double maybe_rate(Prng& rng, double off, double max) {
  return rng.chance(off) ? 0.0 : rng.real() * max;
}

void draw_network(Prng& rng, double scale, SwarmParams& p) {
  p.delay_min_us = rng.between(50, 500);
  p.delay_mean_us = rng.between(200, 3000);
  p.tail_probability = maybe_rate(rng, 0.3, 0.05 * scale);
  p.tail_mean_us = rng.between(20'000, 300'000);
  p.drop_probability = maybe_rate(rng, 0.25, 0.15 * scale);
  p.duplicate_probability = maybe_rate(rng, 0.4, 0.1 * scale);
  p.client_drop_probability = maybe_rate(rng, 0.5, 0.1 * scale);
  p.clog_rate_per_s = maybe_rate(rng, 0.5, 2.0 * scale);
  p.clog_mean_us = rng.between(50'000, 500'000);
}

void draw_partitions(Prng& rng, double scale, SwarmParams& p) {
  constexpr std::array<std::uint32_t, 6> weights = {20, 15, 20, 15, 15, 15};
  p.partition_style = static_cast<PartitionStyle>(rng.weighted(weights));
  p.partition_rate_per_s =
      p.partition_style == PartitionStyle::none ? 0.0 : 0.05 + rng.real() * 0.6 * scale;
  p.partition_mean_us = rng.between(200'000, 2'000'000);
}

void draw_crashes(Prng& rng, double scale, SwarmParams& p) {
  p.crash_rate_per_s = maybe_rate(rng, 0.3, 0.5 * scale);
  p.wipe_probability = maybe_rate(rng, 0.5, 0.5);
  p.restart_mean_us = rng.between(100'000, 1'500'000);
  p.pause_rate_per_s = maybe_rate(rng, 0.5, 0.4 * scale);
  p.pause_mean_us = rng.between(50'000, 800'000);
}

}  // namespace

SwarmParams draw_swarm(std::uint64_t seed, FaultLevel faults,
                       std::optional<std::uint32_t> replicas,
                       std::optional<std::uint32_t> clients, Tape* tape) {
  Prng rng = Prng::stream(seed, Stream::swarm);
  rng.attach(tape);
  SwarmParams p;
  p.seed = seed;
  p.faults = faults;
  // Shape: always drawn (so overrides do not shift the other draws).
  std::uint32_t drawn_replicas = draw_replicas(rng);
  auto drawn_clients = static_cast<std::uint32_t>(rng.between(1, 8));
  p.replica_count = replicas.value_or(drawn_replicas);
  p.client_count = clients.value_or(drawn_clients);
  p.key_count = static_cast<std::uint32_t>(rng.between(1, 6));
  p.drift_ppm = static_cast<std::uint32_t>(rng.between(0, 50'000));
  p.disk_latency_mean_us = rng.between(20, 2'000);
  p.think_mean_us = rng.between(500, 50'000);
  double scale = faults == FaultLevel::harsh ? 2.0 : 1.0;
  SwarmParams fault_free = p;
  draw_network(rng, scale, p);
  draw_partitions(rng, scale, p);
  draw_crashes(rng, scale, p);
  p.crash_after_event_probability = maybe_rate(rng, 0.5, 0.05 * scale);
  p.disk_slow_probability = maybe_rate(rng, 0.5, 0.05 * scale);
  p.disk_slow_mean_us = rng.between(5'000, 200'000);
  // Drawn last, so adding it shifted no other draw.
  p.pipeline_ops = rng.chance(0.25) ? static_cast<std::uint32_t>(rng.between(1, 4)) : 64;
  // Drawn after the pipeline, for the same reason.
  p.checkpoint_interval_ops = rng.chance(0.5) ? static_cast<std::uint32_t>(rng.between(1, 64)) : 0;
  // Drawn last of all (only with checkpoints), for the same reason.
  if (p.checkpoint_interval_ops > 0) {
    p.log_retention_ops = static_cast<std::uint32_t>(rng.between(0, 2 * p.pipeline_ops));
    p.snapshot_chunk_bytes = rng.chance(0.5) ? static_cast<std::uint32_t>(rng.between(16, 512)) : 0;
    p.snapshot_corrupt_probability = maybe_rate(rng, 0.5, 0.3 * scale);
  }
  // Drawn after the checkpoint interval, for the same reason.
  if (rng.chance(0.25)) {
    p.max_client_sessions = static_cast<std::uint32_t>(
        rng.between(std::max<std::uint64_t>(1, p.client_count - 1), p.client_count + 2));
  }
  // Drawn after the session bound, for the same reason.
  if (rng.chance(0.25)) p.max_message_bytes = rng.between(1024, 16 * 1024);
  // Issue 17, drawn after everything else, for the same reason.
  p.torn_write_probability = maybe_rate(rng, 0.3, 0.5 * scale);
  p.corruption_probability = maybe_rate(rng, 0.5, 0.4 * scale);
  p.latent_error_probability = maybe_rate(rng, 0.6, 0.2 * scale);
  p.misdirect_probability = maybe_rate(rng, 0.6, 0.01 * scale);
  if (rng.chance(0.25)) p.journal_ring_slots = std::uint32_t{32} << rng.below(4);
  if (faults == FaultLevel::none) {
    // Keep the drawn delays and the protocol bounds (they are not faults); switch every
    // fault off.
    fault_free.delay_min_us = p.delay_min_us;
    fault_free.delay_mean_us = p.delay_mean_us;
    fault_free.pipeline_ops = p.pipeline_ops;
    fault_free.checkpoint_interval_ops = p.checkpoint_interval_ops;
    fault_free.log_retention_ops = p.log_retention_ops;
    fault_free.snapshot_chunk_bytes = p.snapshot_chunk_bytes;
    fault_free.max_client_sessions = p.max_client_sessions;
    fault_free.max_message_bytes = p.max_message_bytes;
    fault_free.journal_ring_slots = p.journal_ring_slots;
    return fault_free;
  }
  return p;
}

std::string describe(const SwarmParams& p) {
  std::string s;
  s += fmt::format("cluster: replicas={} clients={} keys={} faults={} drift={}ppm\n",
                   p.replica_count, p.client_count, p.key_count, to_string(p.faults), p.drift_ppm);
  s += fmt::format(
      "network: delay={}us+exp({}us) tail={:.3f}@{}us drop={:.3f} dup={:.3f} client-drop={:.3f} "
      "clog={:.2f}/s@{}us\n",
      p.delay_min_us, p.delay_mean_us, p.tail_probability, p.tail_mean_us, p.drop_probability,
      p.duplicate_probability, p.client_drop_probability, p.clog_rate_per_s, p.clog_mean_us);
  s += fmt::format("partitions: style={} rate={:.2f}/s mean={}us\n", to_string(p.partition_style),
                   p.partition_rate_per_s, p.partition_mean_us);
  s += fmt::format(
      "crashes: rate={:.2f}/s after-event={:.3f} wipe={:.2f} restart-mean={}us pauses={:.2f}/s@{}us\n",
      p.crash_rate_per_s, p.crash_after_event_probability, p.wipe_probability, p.restart_mean_us,
      p.pause_rate_per_s, p.pause_mean_us);
  s += fmt::format("disk: latency-mean={}us stalls={:.3f}@{}us  workload: think-mean={}us give-up={}us  pipeline={} checkpoint={} retention={} chunk={} corrupt={:.3f} sessions={} message-bytes={}",
                   p.disk_latency_mean_us, p.disk_slow_probability, p.disk_slow_mean_us,
                   p.think_mean_us, p.give_up_us, p.pipeline_ops, p.checkpoint_interval_ops, p.log_retention_ops,
                   p.snapshot_chunk_bytes, p.snapshot_corrupt_probability, p.max_client_sessions, p.max_message_bytes);
  s += fmt::format("\nstorage: torn={:.3f} corrupt={:.3f} latent={:.3f} misdirect={:.4f} ring-slots={}",
                   p.torn_write_probability, p.corruption_probability, p.latent_error_probability,
                   p.misdirect_probability, p.journal_ring_slots);
  return s;
}

std::string_view fault_model_text() {
  return R"(Fault model (each seed draws its own mix; --faults scales it):
  network   per-message delay = min + exponential(mean), plus a rare long tail;
            reordering follows from the delays. Drops, duplicates, and link clogs
            (a directed link stalls, then delivers its backlog). Client<->replica
            links drop and clog too. Messages a replica sends itself are never lost.
  partitions random split, isolate the primary, isolate one replica, asymmetric
            (one-way) cuts; each lasts an exponential time, then heals.
  crashes   a crash loses every disk write that had not completed (and the messages
            waiting on it); restart rebuilds the replica from its disk. A crash may
            also wipe the disk: the replica restarts empty and runs recovery (§4.3).
            At most f = n - quorum replicas are ever wiped-and-not-yet-recovered at
            once (never for n <= 2); plain crashes are unbounded. Some crashes are
            aimed: right after a replica starts leading, starts a view change, sends
            DoViewChange, or finishes recovery or state transfer, before its disk
            writes can complete.
  pauses    a replica stops for a while (no ticks, no processing), then handles the
            burst of messages that arrived meanwhile.
  disks     each write completes after an exponential latency, in order; some
            writes stall (a long tail), which keeps promises-in-flight windows open.
            A completed write syncs storage (an fsync: every record written so far).
  storage   the replica's journal (vsr/storage.hpp) on a simulated device. At a crash
            each write in flight lands whole, not at all, or torn (a sector-aligned
            prefix); with the torn-write chance, the crash strikes in the middle of
            the sync of the writes in flight, after some of its device calls. At rest: bit flips (found by checksums) and latent sector errors
            (a read fails); a record's journal write may land at another offset.
            The fault atlas, so that the cluster can always recover:
            - per record, never both its journal copy and its ring copy damaged, and
              never both copies of one superblock slot;
            - damage (not torn writes) strikes only within the wipe budget: a damaged
              replica counts as one of the f that may lack a trustworthy disk, until
              it restarts (from its disk if the damage spared what it reads, else in
              recovery, rebuilt from its peers), so no op is damaged on a quorum.
  clocks    each replica ticks at its own rate (drift up to 5%) and phase (skew).
  phases    fault phase (--duration), then the liveness phase: heal all partitions
            and clogs, restart and resume everyone, stop drops; within 20 s every
            outstanding request must complete and all replicas must agree on view,
            commit number and state hash.)";
}

}  // namespace vsr::sim
