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
  request_ = request_.next();
  pending_ = Request{id_, request_, std::move(operation)};
  waited_ticks_ = 0;
  started_ticks_ = now_ticks_;
  emit(EventKind::client_request_start, request_.value);
  send_to(ReplicaIndex(static_cast<std::uint8_t>(view_.value % config_.replica_count)));
  return request_;
}

void Client::step(const Reply& reply) {
  if (reply.client != id_) return;
  view_ = std::max(view_, reply.view);
  if (!pending_ || reply.request != pending_->request) return;  // stale or duplicate
  out_.completed = ClientCompletion{reply.request, reply.result, reply.view};
  pending_.reset();
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

void Client::emit(EventKind kind, std::uint64_t detail) {
  ReplicaIndex believed(static_cast<std::uint8_t>(view_.value % config_.replica_count));
  out_.events.push_back(TelemetryEvent{kind, believed, view_, StatusKind::normal, OpNumber{},
                                       CommitNumber{}, -1, detail});
}

}  // namespace vsr
