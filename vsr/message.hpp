// Every message of the protocol (paper "Viewstamped Replication Revisited", §4–§5):
// plain structs, one std::variant, one fmt formatter each.
// Every replica-to-replica message names its sender (`replica`); a Request names its
// client. So `Replica::step(message)` needs no separate "from" argument.
#pragma once

#include <cstdint>
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

/// Client → replica (§4.1). `request` grows by one per new request of the client.
struct Request {
  ClientId client{};
  RequestNumber request{};
  Bytes operation;
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
struct Reply {
  ViewNumber view{};
  ClientId client{};
  RequestNumber request{};
  Bytes result;
  ReplicaIndex replica{};
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

/// View change, step 2 (§4.2): the sender's whole log, sent to the new primary.
struct DoViewChange {
  ViewNumber view{};
  ViewNumber last_normal_view{};
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> log;  // log[k] is op k+1; log.size() == op
  ReplicaIndex replica{};
  auto operator<=>(const DoViewChange&) const = default;
};

/// View change, step 4 (§4.2): the new primary's log.
struct StartView {
  ViewNumber view{};
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> log;  // log.size() == op
  ReplicaIndex replica{};
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

/// Recovery (§4.3). Only the primary of `view` fills `has_log`, `log`, `op`, `commit`.
struct RecoveryResponse {
  ViewNumber view{};
  Nonce nonce{};
  bool has_log = false;
  OpNumber op{};
  CommitNumber commit{};
  std::vector<LogEntry> log;
  ReplicaIndex replica{};
  auto operator<=>(const RecoveryResponse&) const = default;
};

using Message = std::variant<Request, Prepare, PrepareOk, Reply, Commit, StartViewChange,
                             DoViewChange, StartView, GetState, NewState, Recovery,
                             RecoveryResponse>;

inline constexpr std::size_t message_type_count = std::variant_size_v<Message>;

/// A stable snake_case name per message type ("prepare_ok"), used in traces and filters.
std::string_view message_name(const Message& m);
std::string_view message_name(std::size_t type_index);

/// A message on its way somewhere.
struct Outgoing {
  Endpoint to;
  Message message;
};

std::string format_bytes(const Bytes& b);

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
VSR_MESSAGE_FORMATTER(Message)
#undef VSR_MESSAGE_FORMATTER
