#include "vsr/message.hpp"

#include <array>

#include "vsr/state_machine.hpp"  // hash_bytes, hash_combine: our deterministic hash

namespace vsr {

namespace {
constexpr std::array<std::string_view, message_type_count> names = {
    "request",        "prepare",    "prepare_ok", "reply",    "commit",
    "start_view_change", "do_view_change", "start_view", "get_state", "new_state",
    "recovery",       "recovery_response", "get_entries", "entries",
    "get_snapshot",   "snapshot_chunk"};
}  // namespace

std::string_view message_name(const Message& m) { return names[m.index()]; }

std::string_view message_name(std::size_t type_index) {
  return type_index < names.size() ? names[type_index] : std::string_view("unknown");
}

std::uint64_t entry_checksum(OpNumber op, const LogEntry& e, std::uint64_t parent) {
  std::uint64_t h = hash_combine(parent, op.value);
  h = hash_combine(h, e.view.value);
  h = hash_combine(h, e.client.value);
  h = hash_combine(h, e.request.value);
  h = hash_combine(h, e.session.value);
  return hash_bytes(e.operation.data(), e.operation.size(), h);
}

bool chain_valid(std::uint64_t parent, OpNumber first, std::span<const LogEntry> entries) {
  std::uint64_t h = parent;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    h = entry_checksum(OpNumber(first.value + i), entries[i], h);
    if (entries[i].checksum != h) return false;
  }
  return true;
}

void seal_chain(std::uint64_t parent, OpNumber first, std::span<LogEntry> entries) {
  std::uint64_t h = parent;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    h = entry_checksum(OpNumber(first.value + i), entries[i], h);
    entries[i].checksum = h;
  }
}

std::string format_bytes(const Bytes& b) {
  constexpr std::size_t shown = 16;
  std::string s;
  for (std::size_t i = 0; i < b.size() && i < shown; ++i) s += fmt::format("{:02x}", b[i]);
  if (b.size() > shown) s += fmt::format("..({}B)", b.size());
  return s;
}

std::string session_text(SessionNumber s) {
  if (s == register_session) return " register";
  return s.value == 0 ? std::string{} : fmt::format(" session={}", s);
}

std::optional<ReplicaIndex> claimed_sender(const Message& m) {
  return std::visit(
      [](const auto& x) -> std::optional<ReplicaIndex> {
        if constexpr (requires { x.replica; }) {
          return x.replica;
        } else {
          return std::nullopt;
        }
      },
      m);
}

}  // namespace vsr

#define VSR_FORMAT(Type, ...)                                                      \
  fmt::format_context::iterator fmt::formatter<vsr::Type>::format(const vsr::Type& m, fmt::format_context& ctx) \
      const {                                                                      \
    return fmt::formatter<std::string_view>::format(fmt::format(__VA_ARGS__), ctx);    \
  }

VSR_FORMAT(LogEntry, "{{v={} c={} req={}{} op={} sum={:x}}}", m.view, m.client, m.request,
           vsr::session_text(m.session), vsr::format_bytes(m.operation), m.checksum)
VSR_FORMAT(Request, "request{{client={} req={}{} op={}}}", m.client, m.request,
           vsr::session_text(m.session), vsr::format_bytes(m.operation))
VSR_FORMAT(Prepare, "prepare{{from={} view={} op={} commit={} entry={}}}", m.replica, m.view,
           m.op, m.commit, m.entry)
VSR_FORMAT(PrepareOk, "prepare_ok{{from={} view={} op={}}}", m.replica, m.view, m.op)
VSR_FORMAT(Reply, "reply{{from={} view={} client={} req={}{}{} result={}}}", m.replica, m.view,
           m.client, m.request, vsr::session_text(m.session), m.evicted ? " evicted" : "",
           vsr::format_bytes(m.result))
VSR_FORMAT(Commit, "commit{{from={} view={} commit={}}}", m.replica, m.view, m.commit)
VSR_FORMAT(StartViewChange, "start_view_change{{from={} view={}}}", m.replica, m.view)
VSR_FORMAT(DoViewChange,
           "do_view_change{{from={} view={} last_normal={} op={} commit={} log={} entries}}",
           m.replica, m.view, m.last_normal_view, m.op, m.commit, m.log.size())
VSR_FORMAT(StartView, "start_view{{from={} view={} op={} commit={} log={} entries}}",
           m.replica, m.view, m.op, m.commit, m.log.size())
VSR_FORMAT(GetState, "get_state{{from={} view={} op={}}}", m.replica, m.view, m.op)
VSR_FORMAT(NewState, "new_state{{from={} view={} first_op={} op={} commit={} entries={}}}",
           m.replica, m.view, m.first_op, m.op, m.commit, m.entries.size())
VSR_FORMAT(Recovery, "recovery{{from={} nonce={}}}", m.replica, m.nonce)
VSR_FORMAT(RecoveryResponse,
           "recovery_response{{from={} view={} nonce={} has_log={} op={} commit={} log={} "
           "entries}}",
           m.replica, m.view, m.nonce, m.has_log, m.op, m.commit, m.log.size())
VSR_FORMAT(GetEntries, "get_entries{{from={} last={} checksum={:x}}}", m.replica, m.last,
           m.checksum)
VSR_FORMAT(Entries, "entries{{from={} last={} entries={}}}", m.replica, m.last, m.entries.size())
VSR_FORMAT(GetSnapshot, "get_snapshot{{from={} op={} offset={}}}", m.replica, m.op, m.offset)
VSR_FORMAT(SnapshotChunk,
           "snapshot_chunk{{from={} op={} checksum={:x} state_hash={:x} offset={} bytes={} of {}}}",
           m.replica, m.op, m.checksum, m.state_hash, m.offset, m.data.size(), m.total_bytes)

fmt::format_context::iterator fmt::formatter<vsr::Message>::format(const vsr::Message& m,
                                          fmt::format_context& ctx) const {
  std::string s = std::visit([](const auto& x) { return fmt::format("{}", x); }, m);
  return fmt::formatter<std::string_view>::format(s, ctx);
}
