// Every message of the protocol (paper "Viewstamped Replication Revisited", §4–§5):
// plain structs, one std::variant, one fmt formatter each.
// Every replica-to-replica message names its sender (`replica`); a Request names its
// client. So `Replica::step(message)` needs no separate "from" argument.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "vsr/types.hpp"

namespace vsr {

/// One log slot. `view` is the view in which a primary assigned the op its number;
/// the op number itself is the entry's position in the log (first entry is op 1).
/// `checksum` chains the log (as TigerBeetle's headers do): it is
/// entry_checksum(op, entry, checksum of op-1), op 0's checksum being 0. So two logs
/// whose entries at op k have the same checksum hold the same ops 1..k (up to a hash
/// collision, outside the fault model: VR assumes no lying peers), and a receiver can
/// tell from one number whether its prefix matches a sender's without seeing it.
struct LogEntry {
  ViewNumber view{};
  ClientId client{};
  RequestNumber request{};
  Bytes operation;
  std::uint64_t checksum = 0;
  SessionNumber session{};  // the request's session (Request::session)
  auto operator<=>(const LogEntry&) const = default;
};

/// The checksum of the log before op 1.
inline constexpr std::uint64_t empty_log_checksum = 0;

/// The chained checksum of `e` as op `op` after an entry whose checksum is `parent`:
/// a hash of (op, view, client, request, operation, parent) written here (hash_bytes,
/// hash_combine), so it is the same on every compiler and platform. `e.checksum` is
/// not an input.
std::uint64_t entry_checksum(OpNumber op, const LogEntry& e, std::uint64_t parent);

/// Whether `entries`, as ops first, first+1, ..., each carry the chained checksum that
/// follows `parent` (the checksum of op first-1).
bool chain_valid(std::uint64_t parent, OpNumber first, std::span<const LogEntry> entries);

/// Sets the chained checksum of each of `entries`, as ops first, first+1, ..., after
/// `parent`. For a primary building its next entry, and for tests writing logs by hand.
void seal_chain(std::uint64_t parent, OpNumber first, std::span<LogEntry> entries);

/// The session a request names to ask for a new one (see Request).
inline constexpr SessionNumber register_session{~std::uint64_t{0}};

/// Client → replica (§4.1). `request` grows by one per new request of the client, across
/// its sessions. Sessions (issue 15; TigerBeetle's register): a client opens one with a
/// request whose `session` is register_session (its operation is ignored); the reply
/// carries the new session's number, which every later request of the client names.
/// When Config::max_client_sessions bounds the client table, opening a session may evict
/// the least recently used one, and a request naming an evicted session is answered
/// with Reply::evicted, never executed. Session 0 names none: accepted only while the
/// table is unbounded (the paper's implicit sessions, which eviction would make unsafe).
struct Request {
  ClientId client{};
  RequestNumber request{};
  Bytes operation;
  SessionNumber session{};
  auto operator<=>(const Request&) const = default;
};

/// Primary → backup (§4.1, step 3): op `op` holds `entry`; the primary has committed `commit`.
struct Prepare {
  ViewNumber view{};
  OpNumber op{};
  CommitNumber commit{};
  LogEntry entry;
  ReplicaIndex replica{};
  auto operator<=>(const Prepare&) const = default;
};

/// Backup → primary (§4.1, step 4): the backup durably holds every op up to `op` in `view`.
struct PrepareOk {
  ViewNumber view{};
  OpNumber op{};
  ReplicaIndex replica{};
  auto operator<=>(const PrepareOk&) const = default;
};

/// Replica → client (§4.1, step 5): the result of `request`, executed in `view`.
/// `session` is the client's session (for a register request: the one it opened).
/// `evicted`: the request names a session the client table no longer holds (or none,
/// while the table is bounded); it was not executed now and never will be, and whether
/// an earlier copy of it was is unknown (no result).
struct Reply {
  ViewNumber view{};
  ClientId client{};
  RequestNumber request{};
  Bytes result;
  ReplicaIndex replica{};
  SessionNumber session{};
  bool evicted = false;
  auto operator<=>(const Reply&) const = default;
};

/// Primary → backups (§4.1, step 7): heartbeat carrying the commit number.
struct Commit {
  ViewNumber view{};
  CommitNumber commit{};
  ReplicaIndex replica{};
  auto operator<=>(const Commit&) const = default;
};

/// View change, step 1 (§4.2).
struct StartViewChange {
  ViewNumber view{};
  ReplicaIndex replica{};
  auto operator<=>(const StartViewChange&) const = default;
};

/// View change, step 2 (§4.2): the sender's log, sent to the new primary. Deviation:
/// not the whole log but its last log.size() ≤ op entries (ops op-size+1 .. op, at most
/// max_pipeline_ops of them, as many as fit max_message_bytes), and `parent`, the
/// chained checksum of op op-size (empty_log_checksum when the suffix starts at op 1),
/// which stands for the whole prefix; the new primary fetches what it cannot prove it
/// holds (GetEntries). See Replica::become_primary for why this is the paper's choice.
struct DoViewChange {
  ViewNumber view{};
  ViewNumber last_normal_view{};
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> log;  // log[k] is op op-log.size()+k+1
  ReplicaIndex replica{};
  std::uint64_t parent = empty_log_checksum;
  auto operator<=>(const DoViewChange&) const = default;
};

/// View change, step 4 (§4.2): the new primary's log, as a suffix and its parent's
/// checksum as in DoViewChange; a backup that cannot prove its prefix matches it joins
/// the view by state transfer (§5.2).
struct StartView {
  ViewNumber view{};
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> log;  // log[k] is op op-log.size()+k+1
  ReplicaIndex replica{};
  std::uint64_t parent = empty_log_checksum;
  auto operator<=>(const StartView&) const = default;
};

/// State transfer (§5.2): "I hold every op up to `op` of `view`'s log; send what follows."
struct GetState {
  ViewNumber view{};
  OpNumber op{};
  ReplicaIndex replica{};
  auto operator<=>(const GetState&) const = default;
};

/// State transfer (§5.2): ops `first_op` .. first_op+entries.size()-1 of `view`'s log.
/// `op` is the sender's whole log length, so the receiver knows whether more remains.
struct NewState {
  ViewNumber view{};
  OpNumber first_op{};
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> entries;
  ReplicaIndex replica{};
  auto operator<=>(const NewState&) const = default;
};

/// Recovery (§4.3): sent by a replica that restarted with nothing.
struct Recovery {
  Nonce nonce{};
  ReplicaIndex replica{};
  auto operator<=>(const Recovery&) const = default;
};

/// Recovery (§4.3). Only the primary of `view` fills `has_log`, `log`, `op`, `commit`
/// and `parent`; the log is a suffix as in DoViewChange, and the recovering replica
/// fetches the rest (GetEntries) before it recovers.
struct RecoveryResponse {
  ViewNumber view{};
  Nonce nonce{};
  bool has_log = false;
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> log;  // log[k] is op op-log.size()+k+1
  ReplicaIndex replica{};
  std::uint64_t parent = empty_log_checksum;
  auto operator<=>(const RecoveryResponse&) const = default;
};

/// Log fetch (not in the paper; see Replica::become_primary): "send me the entries of
/// your log that end at op `last`, if your entry there has chained checksum `checksum`".
/// Any replica holding that entry may answer, whatever its view or status: the answer
/// is checked against the checksum, so it is right whoever sends it.
struct GetEntries {
  OpNumber last{};
  std::uint64_t checksum = 0;
  ReplicaIndex replica{};
  auto operator<=>(const GetEntries&) const = default;
};

/// Log fetch: ops last-entries.size()+1 .. last of the sender's log (≥ 1 of them), and
/// `parent`, the chained checksum of the op before the first.
struct Entries {
  OpNumber last{};
  std::uint64_t parent = empty_log_checksum;
  std::vector<LogEntry> entries;
  ReplicaIndex replica{};
  auto operator<=>(const Entries&) const = default;
};

/// Snapshot transfer (issue 15; VRR §5.2 with checkpoints): "send me bytes from
/// `offset` of your checkpoint at op `op`". A replica whose checkpoint is at `op`
/// answers with that chunk; one whose checkpoint is newer answers with chunk 0 of its
/// own (the asker decides whether it wants it); others stay silent.
struct GetSnapshot {
  OpNumber op{};
  std::uint64_t offset = 0;
  ReplicaIndex replica{};
  auto operator<=>(const GetSnapshot&) const = default;
};

/// Snapshot transfer: bytes offset .. offset+data.size() of the blob (vsr/snapshot.hpp:
/// the state machine's snapshot and the client table) of the sender's checkpoint at op
/// `op`, whose log has chained checksum `checksum` there and whose replicated state has
/// hash `state_hash`; the whole blob is `total_bytes` long. `data_checksum` is
/// hash_bytes(data). Sent in answer to a GetSnapshot, or, as chunk 0, in place of what a
/// GetState or GetEntries asked for below the sender's log base. Each chunk fits
/// Config::max_message_bytes.
struct SnapshotChunk {
  OpNumber op{};
  std::uint64_t checksum = empty_log_checksum;
  std::uint64_t state_hash = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t offset = 0;
  Bytes data;
  std::uint64_t data_checksum = 0;
  ReplicaIndex replica{};
  auto operator<=>(const SnapshotChunk&) const = default;
};

using Message = std::variant<Request, Prepare, PrepareOk, Reply, Commit, StartViewChange,
                             DoViewChange, StartView, GetState, NewState, Recovery,
                             RecoveryResponse, GetEntries, Entries, GetSnapshot, SnapshotChunk>;

inline constexpr std::size_t message_type_count = std::variant_size_v<Message>;

/// A stable snake_case name per message type ("prepare_ok"), used in traces and filters.
std::string_view message_name(const Message& m);
std::string_view message_name(std::size_t type_index);

/// A message on its way somewhere.
struct Outgoing {
  Endpoint to;
  Message message;
};

/// The replica a message names as its sender (its `replica` field: every message but a
/// client's Request has one); nullopt for a Request. A claim, checked by whoever knows
/// who really sent it (the replica's step, a node's connection).
std::optional<ReplicaIndex> claimed_sender(const Message& m);

std::string format_bytes(const Bytes& b);
/// How formats show a request's or entry's session: " register", " session=N", or
/// nothing for session 0 (so formats without sessions read as before).
std::string session_text(SessionNumber s);

}  // namespace vsr

#define VSR_MESSAGE_FORMATTER(Type)                                                 \
  template <>                                                                       \
  struct fmt::formatter<vsr::Type> : fmt::formatter<std::string_view> {             \
    fmt::format_context::iterator format(const vsr::Type& m, fmt::format_context& ctx) const;                \
  };

VSR_MESSAGE_FORMATTER(LogEntry)
VSR_MESSAGE_FORMATTER(Request)
VSR_MESSAGE_FORMATTER(Prepare)
VSR_MESSAGE_FORMATTER(PrepareOk)
VSR_MESSAGE_FORMATTER(Reply)
VSR_MESSAGE_FORMATTER(Commit)
VSR_MESSAGE_FORMATTER(StartViewChange)
VSR_MESSAGE_FORMATTER(DoViewChange)
VSR_MESSAGE_FORMATTER(StartView)
VSR_MESSAGE_FORMATTER(GetState)
VSR_MESSAGE_FORMATTER(NewState)
VSR_MESSAGE_FORMATTER(Recovery)
VSR_MESSAGE_FORMATTER(RecoveryResponse)
VSR_MESSAGE_FORMATTER(GetEntries)
VSR_MESSAGE_FORMATTER(Entries)
VSR_MESSAGE_FORMATTER(GetSnapshot)
VSR_MESSAGE_FORMATTER(SnapshotChunk)
VSR_MESSAGE_FORMATTER(Message)
#undef VSR_MESSAGE_FORMATTER
