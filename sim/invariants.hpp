// Cross-replica safety checks, run by the simulator after every event. Each check is
// incremental: it looks only at what changed since it last ran.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/op_runs.hpp"
#include "vsr/replica.hpp"

namespace vsr::sim {

/// A broken safety property: which check, and what exactly (replicas, view, op).
struct CheckFailure {
  std::string check;
  std::string detail;
};

class InvariantChecker {
 public:
  /// `max_message_bytes`: the replicas' Config::max_message_bytes.
  explicit InvariantChecker(std::uint32_t replica_count,
                            std::size_t max_message_bytes = std::size_t{64} << 20);

  /// After any input to `r`: the replica's own invariants, monotonic view and commit,
  /// one primary per view, committed ops agree, state hashes agree at equal commits,
  /// acknowledged ops are in every later primary's log, every replica's checkpoint at
  /// op k has the same state hash, an installed snapshot is a donor's checkpoint
  /// (snapshot-matches-donor), no log is compacted beyond its checkpoint; and
  /// (message-fits) no message a replica released since the last call encoded to more
  /// than max_message_bytes.
  std::optional<CheckFailure> after_step(const Replica& r);

  /// An op `r` executed: no (client, request) runs twice on one replica.
  std::optional<CheckFailure> on_committed(ReplicaIndex r, const Committed& c);

  /// `r` released a message promising durable state of `view`.
  void on_promise(ReplicaIndex r, ViewNumber view);
  /// `r` released `m` to the network: records its promise, if it makes one
  /// (PrepareOk, StartViewChange, DoViewChange, StartView), and whether it fits
  /// max_message_bytes (reported by the next after_step).
  void on_message_sent(ReplicaIndex r, const Message& m);

  /// `r` restarted (from disk, or wiped and recovering). Checks that a disk restart
  /// kept every view it promised, and resets the per-incarnation baselines.
  std::optional<CheckFailure> on_restart(const Replica& r, bool wiped);

  /// A client saw request `request` of `client` answered by the primary of `view`.
  /// From then on, the primary of every view >= `view` must hold the op.
  void on_client_ack(ClientId client, RequestNumber request, ViewNumber view);

  [[nodiscard]] std::uint64_t max_view() const { return max_view_; }
  /// How many ops some replica has committed, and the digest (entry_hash) of op `op`.
  [[nodiscard]] std::uint64_t committed_ops() const { return committed_entry_hash_.size(); }
  [[nodiscard]] std::uint64_t committed_hash(OpNumber op) const { return committed_entry_hash_[op.value - 1]; }

 private:
  struct PerReplica {
    ViewNumber view{};
    CommitNumber commit{};
    OpNumber checked{};           // committed prefix already compared
    ViewNumber promised_view{};   // highest view in a released durable promise
    bool was_acting_primary = false;
    OpNumber installed_snapshot{};  // the latest installed snapshot already checked
    std::map<ClientId, RequestNumber> executed;  // this incarnation
  };
  std::optional<CheckFailure> check_monotonic(const Replica& r, PerReplica& p);
  std::optional<CheckFailure> check_primary(const Replica& r, PerReplica& p);
  std::optional<CheckFailure> check_committed_prefix(const Replica& r, PerReplica& p);
  std::optional<CheckFailure> check_state_hash(const Replica& r);
  std::optional<CheckFailure> check_checkpoint(const Replica& r, PerReplica& p);

  std::vector<PerReplica> replicas_;
  std::map<std::uint64_t, ReplicaIndex> primary_of_view_;
  std::vector<std::uint64_t> committed_entry_hash_;   // [op-1]
  /// Each client's latest committed request and its op. A client has one request in
  /// flight and is answered only after it commits, so the request it sees acknowledged
  /// is its latest; one entry per client keeps this bounded however long the run.
  std::map<ClientId, std::pair<RequestNumber, OpNumber>> latest_request_;
  /// The ops clients saw acknowledged, by the view they were acknowledged in, as runs
  /// of consecutive op numbers (first -> last): nearly every committed op is
  /// acknowledged, so a one-hour run needs a few runs per view, not an entry per op.
  std::map<ViewNumber, OpRuns> acknowledged_ops_;
  std::vector<std::uint64_t> state_hash_at_commit_;  // [commit]; 0 = not seen yet
  std::map<std::uint64_t, std::uint64_t> checkpoint_hash_;  // op -> state hash of a checkpoint there
  std::uint64_t max_view_ = 0;
  std::size_t max_message_bytes_;
  std::optional<CheckFailure> oversized_;  // the first message that did not fit
};

/// A deterministic digest of a log entry (view, client, request, operation); never 0.
std::uint64_t entry_hash(const LogEntry& e);

}  // namespace vsr::sim
