// A replica's static configuration: cluster size, its own index, and every timeout
// (in ticks). Built only through Config::make, which validates it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/outcome.hpp>

#include "vsr/types.hpp"

namespace vsr {

namespace outcome = BOOST_OUTCOME_V2_NAMESPACE;

/// An error from outside input (a config, bytes off the wire, a file): what and where.
struct Error {
  std::string message;
};

template <typename T>
using Result = outcome::result<T, Error, outcome::policy::terminate>;

/// Timeouts, all in ticks of the replica's own clock.
struct Timeouts {
  /// A primary with nothing to prepare sends a Commit heartbeat this often.
  std::uint32_t heartbeat_ticks = 4;
  /// A backup that hears nothing from its primary for this long starts a view change.
  std::uint32_t primary_silence_ticks = 20;
  /// A view change that has not completed after this long moves on to the next view.
  std::uint32_t view_change_timeout_ticks = 30;
  /// StartViewChange / DoViewChange are re-sent this often while a view change lasts.
  std::uint32_t view_change_resend_ticks = 8;
  /// Unanswered repair requests (GetState) are re-sent this often.
  std::uint32_t repair_resend_ticks = 8;
  /// The primary re-sends Prepares not yet acknowledged by a backup this often.
  std::uint32_t prepare_resend_ticks = 8;
  /// A recovering replica re-sends Recovery this often.
  std::uint32_t recovery_resend_ticks = 10;
};

/// Timeouts for real time at one tick per 10 ms on a LAN (vsr-server, the Maelstrom
/// node): heartbeat 50 ms, primary silence 300 ms, view change 500 ms.
Timeouts lan_timeouts();

/// The smallest Config::max_message_bytes: room for the largest fixed part of a message
/// and a small entry (4 × whole_log_overhead_bytes, codec.hpp).
inline constexpr std::size_t min_message_bytes = 256;

struct Config {
  std::uint32_t replica_count = 1;
  ReplicaIndex self{0};
  Timeouts timeouts{};
  /// At most this many log entries in one NewState or one Prepare-resend burst.
  std::uint32_t max_repair_entries = 128;
  /// The primary prepares at most this many ops beyond its commit number (pipelining
  /// bound); further requests are dropped until commits catch up, and clients retry.
  std::uint32_t max_pipeline_ops = 64;
  /// No message a replica sends encodes to more bytes than this (the default is
  /// vsr::max_frame_bytes). A request whose log entry would not fit a message with
  /// entries (encoded_entry_size + whole_log_overhead_bytes) is rejected (too_large);
  /// so every message carries at least one entry, and log suffixes and runs of entries
  /// are cut to fit.
  std::size_t max_message_bytes = std::size_t{64} << 20;
  /// A replica takes a checkpoint (output.hpp) after every this many executed ops (op
  /// numbers that are multiples of it); 0: never (the log then grows without bound, up
  /// to max_log_bytes). A restart resumes from the latest durable checkpoint and
  /// re-executes only the committed ops after it. The default keeps a replica's log
  /// within about interval + log_retention_ops entries.
  std::uint32_t checkpoint_interval_ops = 1024;
  /// Compaction: when a replica takes a checkpoint at op k it discards its log entries
  /// up to k - log_retention_ops (never above the checkpoint: only committed, executed
  /// ops covered by it), keeping this many below it for peers that lag a little; a peer
  /// that lags more receives the checkpoint's snapshot. The default, 128, is twice the
  /// default max_pipeline_ops. At most 2^30. No effect while checkpoints are off.
  std::uint32_t log_retention_ops = 128;
  /// A snapshot chunk carries at most this many bytes of the blob (0: as many as fit
  /// max_message_bytes). Small values make snapshot transfers take many chunks.
  std::uint32_t snapshot_chunk_bytes = 0;
  /// The client table holds at most this many sessions (0: unbounded). Opening a
  /// session in a full table evicts the least recently used one, at the same op on every
  /// replica (the table is replicated state); its client's later requests are answered
  /// Reply::evicted. While bounded, requests must name a session (Request).
  std::uint32_t max_client_sessions = 0;
  /// The storage engine's header ring (vsr/storage.hpp): a base record (the whole
  /// durable state) compacts the journal at least every journal_ring_slots / 2 records
  /// (one record per output batch that persists anything, commit advances included),
  /// or when a quarter of the journal is in use. The ring takes journal_ring_slots
  /// sectors (2 MiB by default). At least 4. A host's storage refuses a device
  /// formatted with another value.
  std::uint32_t journal_ring_slots = 4096;

  /// Validates every field; the error names the first field that is wrong.
  static Result<Config> make(std::uint32_t replica_count, ReplicaIndex self,
                             Timeouts timeouts = {});
  /// The checks of make() on a config whose bounds were set afterwards.
  [[nodiscard]] Result<void> validate() const;

  /// ⌊n/2⌋+1: any two quorums intersect.
  [[nodiscard]] std::uint32_t quorum() const { return replica_count / 2 + 1; }
  /// Failures tolerated while a quorum survives.
  [[nodiscard]] std::uint32_t max_faulty() const { return replica_count - quorum(); }
  /// The primary of a view is chosen round-robin (paper §4).
  [[nodiscard]] ReplicaIndex primary_of(ViewNumber v) const {
    return ReplicaIndex(static_cast<std::uint8_t>(v.value % replica_count));
  }
};

}  // namespace vsr
