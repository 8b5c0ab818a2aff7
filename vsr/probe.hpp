// Protocol-path probes: named counters on rare but important paths of the replica
// (a longer log from an older view losing the view-change choice, a gap repair
// completing, a recovery refused and retried...). They are pure and deterministic:
// each replica counts them into its output batch (Output::probes), no globals; the
// simulator sums them so a sweep can show which paths it exercised, and which it never
// reached (README, "Protocol-path coverage"). The storage.* probes count what a
// restart's storage recovery found (vsr/host.hpp, count_storage_probes): the host's
// paths, not the replica's, counted by whoever drives the host.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vsr {

#define VSR_PROBES(X)                                                                                \
  X(view_change_longer_log_from_older_view, "view_change.longer_log_from_older_view")               \
  X(view_change_commit_raised_by_vote, "view_change.commit_raised_by_vote")                         \
  X(view_change_timed_out, "view_change.timed_out")                                                 \
  X(view_change_late_do_view_change, "view_change.late_do_view_change_answered")                    \
  X(restart_primary_moves_on, "restart.primary_moves_to_next_view")                                 \
  X(restart_resumes_view_change, "restart.resumes_view_change")                                     \
  X(repair_gap_detected, "repair.gap_detected")                                                     \
  X(repair_gap_filled, "repair.gap_filled")                                                         \
  X(state_transfer_from_newer_view, "state_transfer.joined_newer_view")                             \
  X(state_transfer_suffix_truncated, "state_transfer.suffix_truncated")                             \
  X(recovery_refused, "recovery.refused_not_normal")                                                \
  X(recovery_retried, "recovery.retried")                                                           \
  X(client_table_cached_reply, "client_table.cached_reply_resent")                                  \
  X(client_table_old_request, "client_table.old_request_dropped")                                   \
  X(session_evicted, "session.evicted")                                                             \
  X(session_request_after_eviction, "session.request_after_eviction")                               \
  X(commit_jumps_past_pipeline, "commit.jumps_past_pipeline")                                       \
  X(pipeline_full, "pipeline.full")                                                                 \
  X(prepare_resent, "prepare.resent")                                                               \
  X(prepare_stale_view_ignored, "prepare.stale_view_ignored")                                       \
  X(view_change_new_primary_fetches, "view_change.new_primary_fetches_log")                        \
  X(view_change_fetch_completed, "view_change.fetched_log_adopted")                                \
  X(start_view_prefix_unproven, "view_change.start_view_prefix_unproven")                           \
  X(recovery_fetches, "recovery.fetches_log")                                                       \
  X(fetch_served, "fetch.entries_served")                                                           \
  X(checkpoint_taken, "checkpoint.taken")                                                           \
  X(restart_from_checkpoint, "restart.from_checkpoint")                                           \
  X(prefix_discarded, "checkpoint.prefix_discarded")                                                \
  X(snapshot_sent, "snapshot.sent")                                                                 \
  X(snapshot_installed, "snapshot.installed")                                                       \
  X(state_transfer_by_snapshot, "state_transfer.by_snapshot")                                       \
  X(recovery_by_snapshot, "recovery.by_snapshot")                                                   \
  X(view_change_by_snapshot, "view_change.fetch_completed_by_snapshot")                             \
  X(snapshot_refused, "snapshot.refused")                                                            \
  X(storage_torn_tail, "storage.torn_tail_discarded")                                               \
  X(storage_faulty_record, "storage.faulty_record_recovered_from_peers")                            \
  X(storage_header_from_ring, "storage.header_repaired_from_ring")                                  \
  X(storage_ring_rewritten, "storage.ring_copies_rewritten")                                        \
  X(storage_superblock_copy_bad, "storage.superblock_copy_damaged")

enum class Probe : std::uint8_t {
#define VSR_X(id, name) id,
  VSR_PROBES(VSR_X)
#undef VSR_X
};

inline constexpr std::size_t probe_count = 0
#define VSR_X(id, name) +1
    VSR_PROBES(VSR_X)
#undef VSR_X
    ;

/// The stable dotted name of a probe.
constexpr std::string_view probe_name(Probe p) {
  constexpr std::array<std::string_view, probe_count> names = {
#define VSR_X(id, name) name,
      VSR_PROBES(VSR_X)
#undef VSR_X
  };
  return names[static_cast<std::size_t>(p)];
}

/// Hit counts, indexed by Probe.
using ProbeCounts = std::array<std::uint32_t, probe_count>;

}  // namespace vsr
