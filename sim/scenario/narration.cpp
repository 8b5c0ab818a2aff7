#include "sim/scenario/narration.hpp"

#include <charconv>
#include <string_view>
#include <variant>

#include <fmt/format.h>

#include "vsr/kv.hpp"
#include "vsr/replica.hpp"

namespace vsr::sim {

std::string op_text(const Bytes& operation) {
  auto op = decode_kv_op(operation);
  return op ? fmt::format("{}", op.value()) : format_bytes(operation);
}

std::string result_text(const Bytes& result) {
  auto r = decode_kv_result(result);
  return r ? fmt::format("{}", r.value()) : format_bytes(result);
}

namespace {

std::string entry_text(const LogEntry& e) {
  return fmt::format("{{v={} c={} req={}{} op={}}}", e.view, e.client, e.request, session_text(e.session),
                     op_text(e.operation));
}

}  // namespace

std::string message_text(const Message& message) {
  if (const auto* m = std::get_if<Request>(&message)) {
    if (m->session == register_session) return fmt::format("request{{client={} req={} register}}", m->client, m->request);
    return fmt::format("request{{client={} req={}{} op={}}}", m->client, m->request, session_text(m->session),
                       op_text(m->operation));
  }
  if (const auto* m = std::get_if<Prepare>(&message)) {
    return fmt::format("prepare{{from={} view={} op={} commit={} entry={}}}", m->replica, m->view, m->op, m->commit,
                       entry_text(m->entry));
  }
  if (const auto* m = std::get_if<Reply>(&message)) {
    if (m->evicted) {
      return fmt::format("reply{{from={} view={} client={} req={}{} evicted}}", m->replica, m->view, m->client,
                         m->request, session_text(m->session));
    }
    if (m->result.empty() && m->session.value != 0) {  // a register's: the session it opened
      return fmt::format("reply{{from={} view={} client={} req={} opened session={}}}", m->replica, m->view,
                         m->client, m->request, m->session);
    }
    return fmt::format("reply{{from={} view={} client={} req={}{} result={}}}", m->replica, m->view, m->client,
                       m->request, session_text(m->session), result_text(m->result));
  }
  return fmt::format("{}", message);
}

std::string envelope_text(const Endpoint& from, const Endpoint& to, const Message& message) {
  return fmt::format("{}->{} {}", from, to, message_text(message));
}

std::optional<std::string> event_text(std::uint32_t r, const TelemetryEvent& ev) {
  switch (ev.kind) {
    case EventKind::view_change_start: return fmt::format("r{} starts a view change to view {}", r, ev.view);
    case EventKind::status_change: {
      const StatusKind s = ev.status;  // the new status
      if (s == StatusKind::normal) return fmt::format("r{} is normal in view {} (op={} commit={})", r, ev.view, ev.op, ev.commit);
      if (s == StatusKind::state_transfer) return fmt::format("r{} starts state transfer in view {}", r, ev.view);
      if (s == StatusKind::recovering) return fmt::format("r{} is recovering", r);
      return std::nullopt;
    }
    case EventKind::leadership_start: return fmt::format("r{} becomes primary of view {}", r, ev.view);
    case EventKind::leadership_stop: return fmt::format("r{} stops acting as primary", r);
    case EventKind::log_truncate: return fmt::format("r{} truncates its log after op {}", r, ev.detail);
    case EventKind::state_transfer_requested:
      return fmt::format("r{} asks r{} for the log after op {}", r, ev.peer, ev.detail);
    case EventKind::state_transfer_received:
      return fmt::format("r{} receives {} log entries from r{}", r, ev.detail, ev.peer);
    case EventKind::request_duplicate: return fmt::format("r{} sees a duplicate of request #{}", r, ev.detail);
    case EventKind::recovery_complete:
      return fmt::format("r{} recovered (view {}, op={}, commit={})", r, ev.view, ev.op, ev.commit);
    default: return std::nullopt;
  }
}

namespace {

/// "rN executes op K: ...": the part up to "op" (with the indent) and K.
struct Execution {
  std::string prefix;
  std::uint64_t op = 0;
};

std::optional<Execution> parse_execution(const std::string& line) {
  constexpr std::string_view marker = " executes op ";
  auto at = line.find(marker);
  if (at == std::string::npos) return std::nullopt;
  std::size_t start = at + marker.size();
  auto colon = line.find(':', start);
  if (colon == std::string::npos) return std::nullopt;
  std::uint64_t op = 0;
  auto [p, ec] = std::from_chars(line.data() + start, line.data() + colon, op);
  if (ec != std::errc{} || p != line.data() + colon) return std::nullopt;
  return Execution{line.substr(0, start), op};
}

}  // namespace

void compact_executions(std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines.size();) {
    auto first = parse_execution(lines[i]);
    std::size_t j = i + 1;
    if (first) {
      while (j < lines.size()) {
        auto next = parse_execution(lines[j]);
        if (!next || next->prefix != first->prefix || next->op != first->op + (j - i)) break;
        ++j;
      }
    }
    if (first && j - i >= 4) {
      std::string head = first->prefix.substr(0, first->prefix.size() - 3);  // drop "op "
      out.push_back(fmt::format("{}ops {}..{}", head, first->op, first->op + (j - i) - 1));
      i = j;
    } else {
      out.push_back(std::move(lines[i]));
      ++i;
    }
  }
  lines = std::move(out);
}

}  // namespace vsr::sim
