// An asynchronous client of a vsr cluster over TCP (Boost.Asio): a pool of sans-IO
// vsr::Client sessions (§4.1 of VR Revisited), one per request in flight, multiplexed
// over one Connection per replica (vsr/io/connection.hpp). Single-threaded: every call
// and callback runs on the io_context's thread.
//
// Each request completes exactly once, with a ClientResult:
//   ok       the cluster executed it; `result` holds its result bytes.
//   timeout  indeterminate: it may or may not have executed (no reply in time, or the
//            client closed with it in flight). Its session is abandoned: the id is never
//            reused, and a fresh session takes the slot.
//   evicted  indeterminate: the cluster evicted the session (Reply::evicted).
//   refused  definite: never sent (too many requests in flight and queued, a request
//            that waited in the queue past its timeout, or the client is closed).
//
// Connections: one per replica, reconnected with exponential backoff (reset after a
// good Hello). A server whose Hello names another cluster, is not a replica, or is not
// the replica its position in `replicas` says is refused, and the log says why.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "vsr/client.hpp"
#include "vsr/io/connection.hpp"
#include "vsr/stream.hpp"

namespace vsr::io {

enum class ClientOutcome : std::uint8_t { ok, timeout, evicted, refused };
/// "ok", "timeout", "evicted", "refused".
std::string_view outcome_name(ClientOutcome o);

struct ClientResult {
  ClientOutcome outcome = ClientOutcome::refused;
  Bytes result;                 // ok only
  std::uint64_t latency_us = 0; // from submit() to completion
  std::string why;              // not ok: a sentence for logs and users
};

struct ClusterClientOptions {
  ClusterId cluster{};
  /// "host:port" per replica; the index is the replica's index in the cluster.
  std::vector<std::string> replicas;
  /// Sessions, hence requests in flight at once (1..65536).
  std::uint32_t max_in_flight = 64;
  /// Requests waiting for a session beyond this many are refused (0: 4 × max_in_flight).
  std::uint32_t max_queued = 0;
  std::uint32_t tick_ms = 10;
  /// Ticks without a reply before a session resends its request to every replica.
  std::uint32_t resend_ticks = 30;
  /// A request without a result this long after submit() completes as timeout (or as
  /// refused if it never left the queue).
  std::uint32_t request_timeout_ms = 5000;
  /// Open a session before the first request (needed by a cluster that bounds its
  /// client table, Config::max_client_sessions > 0).
  bool open_sessions = true;
  ConnectionLimits limits{};
  std::uint32_t connect_timeout_ms = 2000;
  std::uint32_t backoff_min_ms = 50;
  std::uint32_t backoff_max_ms = 2000;
  /// Fresh per process (e.g. from std::random_device): client ids are a base derived
  /// from it plus a counter, so they never repeat across processes or incarnations.
  std::uint64_t id_seed = 0;
  /// Where the client logs connection trouble (nullptr: stderr).
  std::function<void(const std::string&)> log;
};

struct ClusterClientCounters {
  std::uint64_t submitted = 0;
  std::uint64_t sent = 0;        // Request messages handed to a connection
  std::uint64_t ok = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t evicted = 0;
  std::uint64_t refused = 0;
  std::uint64_t sessions = 0;    // client ids taken
  std::uint64_t reconnects = 0;  // connection attempts after a failed or lost one
};

/// Comma-separated addresses, as the CLI takes them.
Result<std::vector<std::string>> split_addresses(std::string_view list);

class ClusterClient {
 public:
  using Callback = std::function<void(ClientResult)>;

  /// Checks `options` (an error says which field is wrong) and starts connecting.
  static Result<std::unique_ptr<ClusterClient>> make(boost::asio::io_context& io,
                                                     ClusterClientOptions options);
  ClusterClient(const ClusterClient&) = delete;
  ClusterClient& operator=(const ClusterClient&) = delete;
  /// Closes (see close()). Do not destroy the client from inside one of its callbacks.
  ~ClusterClient();

  /// Sends `operation` to the cluster; `done` is called exactly once, never from
  /// inside submit() itself.
  void submit(Bytes operation, Callback done);
  /// Refuses what is queued, completes what is in flight as timeout (indeterminate),
  /// closes the connections and stops the timers. Later submits are refused.
  void close();

  [[nodiscard]] boost::asio::io_context& io() { return io_; }
  [[nodiscard]] const ClusterClientCounters& counters() const { return counters_; }
  [[nodiscard]] std::size_t in_flight() const;
  [[nodiscard]] std::size_t queued() const { return queue_.size(); }
  /// Whether replica `index` is connected and its Hello was accepted.
  [[nodiscard]] bool connected(std::size_t index) const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Slot {
    std::optional<Client> client;  // nullopt: none yet, or the last one was abandoned
    Callback done;                 // set while a request is in flight
    Clock::time_point submitted;
    std::optional<Message> request;  // the Request last sent
    std::uint32_t undelivered = 0;   // replicas (bits) it could not be sent to: not ready
  };
  struct Waiting {
    Bytes operation;
    Callback done;
    Clock::time_point submitted;
  };
  struct Peer {
    std::string host;
    std::uint16_t port = 0;
    std::shared_ptr<Connection> connection;
    bool ready = false;  // its Hello was accepted
    std::uint32_t backoff_ms = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;  // connect timeout, then retry
    std::string last_logged;  // the same trouble is logged once in a row
  };

  ClusterClient(boost::asio::io_context& io, ClusterClientOptions options);

  void start(std::size_t slot, Bytes operation, Callback done, Clock::time_point submitted);
  void flush(std::size_t slot);
  void send_request(std::size_t slot, const Message& request, std::uint32_t replicas);
  void finish(std::size_t slot, ClientOutcome outcome, Bytes result, std::string why);
  void on_tick();
  void arm_tick();
  ClientId next_client_id();

  void connect(std::size_t index);
  void on_connected(std::size_t index, tcp::socket socket);
  void on_hello(std::size_t index, Connection& c, const Hello& hello);
  void on_message(Message&& m);
  void on_lost(std::size_t index, Connection& c, const std::string& why);
  void retry_later(std::size_t index, const std::string& why);
  void log_peer(std::size_t index, const std::string& what);

  boost::asio::io_context& io_;
  ClusterClientOptions options_;
  ClientConfig client_config_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // handlers check it
  bool closed_ = false;
  std::vector<Slot> slots_;
  std::vector<std::size_t> free_slots_;
  std::unordered_map<ClientId, std::size_t> slot_of_;  // lookup only, never iterated
  std::deque<Waiting> queue_;
  std::vector<Peer> peers_;
  boost::asio::steady_timer tick_timer_;
  /// The highest view a reply named; nullopt until one did (then the primary is unknown,
  /// and requests go to every replica: backups ignore them).
  std::optional<ViewNumber> view_;
  std::uint64_t id_base_ = 0;
  std::uint64_t ids_taken_ = 0;
  ClusterClientCounters counters_;
};

}  // namespace vsr::io
