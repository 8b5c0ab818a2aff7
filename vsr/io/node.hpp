// A real replica process's engine: one NodeCore (vsr/node_core.hpp: the replica, its
// storage and group commit, all pure) on a FileDevice, driven by a Boost.Asio event
// loop: TCP connections to the other replicas and from clients (vsr/stream.hpp's
// Hello-then-frames protocol), a monotonic clock for ticks, and optional Prometheus
// metrics over HTTP. Single-threaded: everything runs on the io_context's thread.
//
// Embedding: make an io_context, a Node with your StateMachine factory, the cluster's
// addresses and your data file, call start(), then io.run() (README "Embedding").
//
// Connections. A node dials every other replica and sends it messages on that
// connection only (reconnecting with exponential backoff after a failure); it accepts
// connections from replicas (it steps what they send) and from clients (it steps their
// requests and sends each reply on the connection that client id's latest request came
// on). A connection whose Hello names another cluster, or a replica index that is not a
// peer, is closed with a log line naming why; so is one that sends an undecodable frame,
// a message naming another sender, no Hello within the limit (half-open), or arrives
// when max_connections are open. Nothing a peer sends stops the node.
//
// Event loop turn. Every message read is stepped at once (its output batch written to
// storage without a sync); one flush per turn of the loop (posted when the first input
// of a turn arrives) makes every batch of the turn durable with one fsync and then sends
// what waited (group commit, node_core.hpp). Sends to a peer queue in its connection and
// go out in one gather write. Queues are bounded (ConnectionLimits); a client connection
// whose replies back up stops being read until they drain (backpressure).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "vsr/io/connection.hpp"
#include "vsr/io/file_device.hpp"
#include "vsr/node_core.hpp"

namespace vsr::io {

/// Parses "host:port" (an IPv4 or IPv6 literal, or a name resolved now).
Result<tcp::endpoint> resolve_address(const std::string& address);

struct NodeOptions {
  ClusterId cluster{};
  /// The replica's configuration: replica_count, self, timeouts (in ticks of tick_ms;
  /// vsr::lan_timeouts() for the default 10 ms)...
  Config config;
  /// How this node reaches each replica, by index ("127.0.0.1:7000"); the entry of
  /// `config.self` is where it listens unless `listen` is set.
  std::vector<std::string> addresses;
  std::string listen;
  /// The data file (made by format_data_file; a missing file is created blank and the
  /// replica runs the recovery protocol: a replica that lost its disk must not boot).
  std::string data_file;
  std::uint64_t data_bytes = std::uint64_t{1} << 30;
  std::uint32_t tick_ms = 10;
  ConnectionLimits limits;
  std::uint32_t max_connections = 1024;
  /// A client connection stops being read while more reply bytes than this wait in it.
  std::size_t client_backlog_bytes = std::size_t{4} << 20;
  /// Fresh for each start of the process (the recovery protocol's nonce).
  std::uint64_t incarnation = 0;
  /// "host:port" to serve Prometheus metrics on (GET /metrics); empty: none.
  std::string metrics_listen;
  /// Log lines (human-readable); empty: discarded.
  std::function<void(std::string_view)> log;
  /// Telemetry events as JSON lines (docs/TELEMETRY.md); empty: off.
  std::function<void(std::string_view)> telemetry;
  /// Makes the state machine (called once, at start).
  std::function<std::unique_ptr<StateMachine>()> make_machine;

};

/// Creates the data file of a member of a new cluster and formats it (the replica boots
/// on it: view 0, empty log). Refuses a file that exists (formatting would erase it).
Result<void> format_data_file(const NodeOptions& options);

/// Counters of the transport, beside NodeCore's.
struct TransportCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // bad hello, other cluster, too many, bad frame...
  std::uint64_t connects = 0;             // outgoing connections that completed a hello
  std::uint64_t connect_failures = 0;
  std::uint64_t sends_dropped = 0;        // to a peer not connected, or a full queue
  std::uint64_t replies_unroutable = 0;   // to a client with no open connection
  std::uint64_t sync_us_total = 0;        // time inside flush() (the fsyncs)
};

class MetricsServer;

class Node {
 public:
  Node(boost::asio::io_context& io, NodeOptions options);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Opens the data file, starts the replica (restart from disk, or recovery), listens,
  /// dials the peers and starts the clock. An error names what failed (the file, an
  /// address, a port in use).
  Result<void> start();
  /// Closes every connection and stops the clock (io.run() then returns).
  void stop();

  [[nodiscard]] const NodeCore& core() const { return *core_; }
  [[nodiscard]] const TransportCounters& transport() const { return transport_; }
  /// Where it listens (the bound port, when the address said port 0).
  [[nodiscard]] tcp::endpoint listening() const;
  /// The counters in Prometheus' text exposition format.
  [[nodiscard]] std::string metrics_text() const;
  /// Set when the node stopped for good (its device failed).
  [[nodiscard]] const std::optional<Error>& failure() const { return core_->failure(); }

 private:
  struct Peer {
    explicit Peer(boost::asio::io_context& io) : retry(io) {}
    tcp::endpoint endpoint;
    std::shared_ptr<Connection> connection;
    bool ready = false;  // its hello arrived and was admitted
    boost::asio::steady_timer retry;
    std::uint32_t backoff_ms = 0;
  };

  void log(std::string_view line);
  void accept();
  void on_accepted(tcp::socket socket);
  void dial(std::uint32_t index);
  void schedule_redial(std::uint32_t index);
  std::shared_ptr<Connection> wrap(tcp::socket socket, std::string label);
  void on_hello(Connection& c, const Hello& h);
  void on_message(Connection& c, Message&& m);
  void on_closed(Connection& c, const std::string& why);
  void on_tick();
  void schedule_tick();
  void request_flush();
  void flush();
  void send(Outgoing&& o);
  void emit_telemetry();
  [[nodiscard]] std::uint64_t now_us() const;
  [[nodiscard]] Hello my_hello() const;

  boost::asio::io_context& io_;
  NodeOptions options_;
  std::unique_ptr<FileDevice> device_;
  std::optional<NodeCore> core_;
  tcp::acceptor acceptor_;
  boost::asio::steady_timer tick_timer_;
  std::uint64_t next_tick_us_ = 0;
  std::vector<std::unique_ptr<Peer>> peers_;  // by replica index (self's is unused)
  std::set<std::shared_ptr<Connection>> inbound_;
  std::map<ClientId, std::weak_ptr<Connection>> client_routes_;
  std::vector<Outgoing> outbox_;
  std::unique_ptr<MetricsServer> metrics_;
  TransportCounters transport_;
  bool flush_posted_ = false;
  bool stopped_ = false;
};

}  // namespace vsr::io
