// A VSR client (paper §4.1), sans-IO like the replica: it numbers requests, sends each
// to the primary it believes in, resends on timeout (to every replica once the primary
// seems gone), learns the view from replies, and delivers exactly one result per request.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "vsr/config.hpp"
#include "vsr/message.hpp"
#include "vsr/telemetry.hpp"

namespace vsr {

struct ClientConfig {
  std::uint32_t replica_count = 1;
  /// Ticks without a reply before the request is sent again, to every replica.
  std::uint32_t request_timeout_ticks = 30;

  static Result<ClientConfig> make(std::uint32_t replica_count,
                                   std::uint32_t request_timeout_ticks);
};

/// The single result of one request.
struct ClientCompletion {
  RequestNumber request{};
  Bytes result;
  ViewNumber view{};
};

struct ClientOutput {
  std::vector<Outgoing> send;  // always to replicas
  std::optional<ClientCompletion> completed;
  std::vector<TelemetryEvent> events;
};

class Client {
 public:
  /// Precondition: `id` is unique to this client incarnation (a restarted client takes a
  /// fresh id: request numbers restart at 1, and a reused id would collide).
  Client(ClientId id, const ClientConfig& config);

  /// Starts a request. Precondition: !busy(). One request at a time per client, as the
  /// client table allows (§4).
  RequestNumber submit(Bytes operation);
  /// Handles a reply from a replica; duplicates and stale replies are ignored.
  void step(const Reply& reply);
  void tick();
  ClientOutput take_output();

  [[nodiscard]] bool busy() const { return pending_.has_value(); }
  [[nodiscard]] ClientId id() const { return id_; }
  [[nodiscard]] ViewNumber view() const { return view_; }
  [[nodiscard]] RequestNumber last_request() const { return request_; }

 private:
  void send_to(ReplicaIndex to);
  void emit(EventKind kind, std::uint64_t detail);

  ClientId id_;
  ClientConfig config_;
  ViewNumber view_{};
  RequestNumber request_{};
  std::optional<Request> pending_;
  std::uint32_t waited_ticks_ = 0;
  std::uint64_t now_ticks_ = 0;
  std::uint64_t started_ticks_ = 0;
  ClientOutput out_;
};

}  // namespace vsr
