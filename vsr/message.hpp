// Every message of the protocol (paper "Viewstamped Replication Revisited", §4–§5):
// plain structs, one std::variant, one fmt formatter each.
// Every replica-to-replica message names its sender (`replica`); a Request names its
// client. So `Replica::step(message)` needs no separate "from" argument.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "vsr/types.hpp"

namespace vsr {

/// One log slot. `view` is the view in which a primary assigned the op its number;
/// the op number itself is the entry's position in the log (first entry is op 1).
struct LogEntry {
  ViewNumber view{};
  ClientId client{};
  RequestNumber request{};
  Bytes operation;
  auto operator<=>(const LogEntry&) const = default;
};

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
