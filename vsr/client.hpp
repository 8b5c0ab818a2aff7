// A VSR client (paper §4.1), sans-IO like the replica: it numbers requests, sends each
// to the primary it believes in, resends on timeout (to every replica once the primary
// seems gone), learns the view from replies, and delivers exactly one result per request.
// With ClientConfig::open_sessions it opens a session first (a register request,
// message.hpp) and again after an eviction; an evicted request completes with `evicted`
// set and no result.
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
  /// Open a session before the first request and after an eviction (message.hpp,
  /// Request). Required by a cluster that bounds its client table
  /// (Config::max_client_sessions > 0): it answers a request without one as evicted.
  /// Off, the client uses the paper's implicit session and needs no extra round trip.
  bool open_sessions = false;

  static Result<ClientConfig> make(std::uint32_t replica_count,
                                   std::uint32_t request_timeout_ticks);
};

/// The single result of one request.
/// `evicted`: the cluster evicted this client's session before executing the request
/// (Reply::evicted); whether an earlier copy of it ran is unknown, so its outcome is
/// indeterminate, and `result` is empty. The client's next submit opens a new session.
struct ClientCompletion {
  RequestNumber request{};
  Bytes result;
  ViewNumber view{};
  bool evicted = false;
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

  /// Starts a request; its number is returned (a session is opened first when the
  /// client has none, under the number before it). Precondition: !busy(). One request at
  /// a time per client, as the client table allows (§4).
  RequestNumber submit(Bytes operation);
  /// Handles a reply from a replica; duplicates and stale replies are ignored.
  void step(const Reply& reply);
  void tick();
  ClientOutput take_output();

  [[nodiscard]] bool busy() const { return pending_.has_value(); }
  [[nodiscard]] ClientId id() const { return id_; }
  [[nodiscard]] ViewNumber view() const { return view_; }
  [[nodiscard]] RequestNumber last_request() const { return request_; }
  /// The session the client holds (0: none yet, or evicted).
  [[nodiscard]] SessionNumber session() const { return session_; }

 private:
  void send_to(ReplicaIndex to);
  void send_pending();
  void emit(EventKind kind, std::uint64_t detail);

  ClientId id_;
  ClientConfig config_;
  ViewNumber view_{};
  RequestNumber request_{};
  SessionNumber session_{};
  std::optional<Request> pending_;   // the request on the wire (the register, first)
  std::optional<Bytes> queued_;      // the operation waiting for its session to open
  std::uint32_t waited_ticks_ = 0;
  std::uint64_t now_ticks_ = 0;
  std::uint64_t started_ticks_ = 0;
  ClientOutput out_;
};

}  // namespace vsr
