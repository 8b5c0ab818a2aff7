#include "vsr/client.hpp"

#include <algorithm>

#include "vsr/assert.hpp"

namespace vsr {

Result<ClientConfig> ClientConfig::make(std::uint32_t replica_count,
                                        std::uint32_t request_timeout_ticks) {
  if (replica_count < 1 || replica_count > max_replica_count) {
    return Error{fmt::format("client config: replica_count {} is outside 1..{}", replica_count,
                             max_replica_count)};
  }
  if (request_timeout_ticks == 0) {
    return Error{"client config: request_timeout_ticks must be at least 1"};
  }
  return ClientConfig{replica_count, request_timeout_ticks};
}

Client::Client(ClientId id, const ClientConfig& config) : id_(id), config_(config) {}

RequestNumber Client::submit(Bytes operation) {
  VSR_ASSERT(!busy(), "one request at a time per client");
  started_ticks_ = now_ticks_;
  request_ = request_.next();
  if (config_.open_sessions && session_.value == 0) {
    pending_ = Request{id_, request_, {}, register_session};
    queued_ = std::move(operation);
    request_ = request_.next();  // the number the operation will carry
  } else {
    pending_ = Request{id_, request_, std::move(operation), session_};
  }
  emit(EventKind::client_request_start, request_.value);
  send_pending();
  return request_;
}

void Client::step(const Reply& reply) {
  if (reply.client != id_) return;
  view_ = std::max(view_, reply.view);
  if (!pending_ || reply.request != pending_->request) return;  // stale or duplicate
  if (queued_ && !reply.evicted) {  // the session is open: now the operation
    session_ = reply.session;
    pending_ = Request{id_, request_, std::move(*queued_), session_};
    queued_.reset();
    send_pending();
    return;
  }
  // A register request is never evicted (it opens a session); so `evicted` here is
  // the operation's.
  if (reply.evicted) session_ = SessionNumber{};
  out_.completed = ClientCompletion{reply.request, reply.result, reply.view, reply.evicted};
  pending_.reset();
  queued_.reset();
  emit(EventKind::client_request_stop, now_ticks_ - started_ticks_);
}

void Client::tick() {
  ++now_ticks_;
  if (!pending_ || ++waited_ticks_ < config_.request_timeout_ticks) return;
  waited_ticks_ = 0;
  emit(EventKind::client_request_resend, pending_->request.value);
  for (std::uint32_t r = 0; r < config_.replica_count; ++r) {
    send_to(ReplicaIndex(static_cast<std::uint8_t>(r)));
  }
}

ClientOutput Client::take_output() {
  ClientOutput o = std::move(out_);
  out_ = ClientOutput{};
  return o;
}

void Client::send_to(ReplicaIndex to) { out_.send.push_back({to, *pending_}); }

void Client::send_pending() {
  waited_ticks_ = 0;
  send_to(ReplicaIndex(static_cast<std::uint8_t>(view_.value % config_.replica_count)));
}

void Client::emit(EventKind kind, std::uint64_t detail) {
  ReplicaIndex believed(static_cast<std::uint8_t>(view_.value % config_.replica_count));
  out_.events.push_back(TelemetryEvent{kind, believed, view_, StatusKind::normal, OpNumber{},
                                       CommitNumber{}, -1, detail});
}

}  // namespace vsr
