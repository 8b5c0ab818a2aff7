#include "vsr/io/node.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "vsr/io/metrics_server.hpp"
#include "vsr/telemetry.hpp"

namespace vsr::io {

namespace {

constexpr std::uint32_t first_backoff_ms = 50;
constexpr std::uint32_t max_backoff_ms = 2000;

std::string describe(const tcp::endpoint& e) {
  return fmt::format("{}:{}", e.address().to_string(), e.port());
}

std::uint64_t steady_us() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count());
}

}  // namespace

Result<tcp::endpoint> resolve_address(const std::string& address) {
  auto parsed = parse_address(address, 0);
  if (!parsed) return parsed.error();
  const auto& [host, port] = parsed.value();
  boost::asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return Error{fmt::format("address '{}': cannot resolve '{}': {}", address, host, ec ? ec.message() : "no address")};
  }
  return results.begin()->endpoint();
}

Result<void> format_data_file(const NodeOptions& options) {
  std::error_code ec;
  if (std::filesystem::exists(options.data_file, ec) || ec) {
    return Error{fmt::format("{}: already exists; formatting would erase a replica's promises "
                             "(delete it first only if this replica never served)", options.data_file)};
  }
  auto device = FileDevice::open(options.data_file, options.data_bytes, true);
  if (!device) return device.error();
  NodeCore core(options.cluster, options.config, *device.value());
  auto started = core.start(options.make_machine(), true, 0);
  if (!started) return started.error();
  return outcome::success();
}

Node::Node(boost::asio::io_context& io, NodeOptions options)
    : io_(io), options_(std::move(options)), acceptor_(io), tick_timer_(io) {}

Node::~Node() = default;

void Node::log(std::string_view line) {
  if (options_.log) options_.log(line);
}

std::uint64_t Node::now_us() const { return steady_us(); }

Hello Node::my_hello() const {
  return Hello{options_.cluster, PeerRole::replica, options_.config.self.value};
}

Result<void> Node::start() {
  const Config& config = options_.config;
  if (options_.addresses.size() != config.replica_count) {
    return Error{fmt::format("{} addresses for a {}-replica cluster", options_.addresses.size(), config.replica_count)};
  }
  if (!options_.make_machine) return Error{"no state machine factory"};
  std::vector<tcp::endpoint> endpoints;
  for (const std::string& a : options_.addresses) {
    auto e = resolve_address(a);
    if (!e) return e.error();
    endpoints.push_back(e.value());
  }
  tcp::endpoint listen = endpoints[config.self.value];
  if (!options_.listen.empty()) {
    auto e = resolve_address(options_.listen);
    if (!e) return e.error();
    listen = e.value();
  }
  auto device = FileDevice::open(options_.data_file, options_.data_bytes, true);
  if (!device) return device.error();
  device_ = std::move(device.value());
  core_.emplace(options_.cluster, config, *device_);
  auto started = core_->start(options_.make_machine(), false, options_.incarnation);
  if (!started) return started.error();
  log(fmt::format("replica {} of {} (cluster {}): {}", config.self, config.replica_count, options_.cluster.value,
                  started.value().summary));

  boost::system::error_code ec;
  acceptor_.open(listen.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(listen, ec);
  if (!ec) acceptor_.listen(512, ec);
  if (ec) return Error{fmt::format("cannot listen on {}: {}", describe(listen), ec.message())};
  log(fmt::format("listening on {}", describe(acceptor_.local_endpoint())));
  accept();

  if (!options_.metrics_listen.empty()) {
    auto e = resolve_address(options_.metrics_listen);
    if (!e) return e.error();
    metrics_ = std::make_unique<MetricsServer>(io_, [this] { return metrics_text(); });
    BOOST_OUTCOME_TRY(metrics_->open(e.value()));
    log(fmt::format("metrics on http://{}/metrics", describe(metrics_->local_endpoint())));
  }

  for (std::uint32_t i = 0; i < config.replica_count; ++i) {
    peers_.push_back(std::make_unique<Peer>(io_));
    peers_.back()->endpoint = endpoints[i];
    if (i != config.self.value) dial(i);
  }
  next_tick_us_ = now_us() + std::uint64_t{options_.tick_ms} * 1000;
  schedule_tick();
  emit_telemetry();
  request_flush();
  return outcome::success();
}

void Node::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  tick_timer_.cancel();
  if (metrics_) metrics_->close();
  for (auto& p : peers_) {
    p->retry.cancel();
    if (p->connection) p->connection->close("the node is stopping");
  }
  auto inbound = inbound_;
  for (const auto& c : inbound) c->close("the node is stopping");
}

tcp::endpoint Node::listening() const {
  boost::system::error_code ignored;
  return acceptor_.local_endpoint(ignored);
}

// ---------------------------------------------------------------- connections

std::shared_ptr<Connection> Node::wrap(tcp::socket socket, std::string label) {
  Connection::Handlers h;
  h.on_hello = [this](Connection& c, const Hello& hello) { on_hello(c, hello); };
  h.on_message = [this](Connection& c, Message&& m) { on_message(c, std::move(m)); };
  h.on_close = [this](Connection& c, const std::string& why) { on_closed(c, why); };
  return std::make_shared<Connection>(std::move(socket), options_.limits, std::move(h), std::move(label));
}

void Node::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_ || ec == boost::asio::error::operation_aborted) return;
    if (!ec) on_accepted(std::move(socket));
    else log(fmt::format("accept failed: {}", ec.message()));
    accept();
  });
}

void Node::on_accepted(tcp::socket socket) {
  boost::system::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  const std::string from = ec ? std::string("an unknown address") : describe(remote);
  if (inbound_.size() >= options_.max_connections) {
    ++transport_.connections_refused;
    log(fmt::format("refused a connection from {}: {} connections are open (the limit)", from,
                    inbound_.size()));
    socket.close(ec);
    return;
  }
  ++transport_.connections_accepted;
  auto c = wrap(std::move(socket), fmt::format("a connection from {}", from));
  inbound_.insert(c);
  c->start(my_hello());
}

void Node::dial(std::uint32_t index) {
  Peer& p = *peers_[index];
  auto socket = std::make_shared<tcp::socket>(io_);
  socket->async_connect(p.endpoint, [this, index, socket](const boost::system::error_code& ec) {
    if (stopped_) return;
    Peer& peer = *peers_[index];
    if (ec) {
      ++transport_.connect_failures;
      return schedule_redial(index);
    }
    peer.connection = wrap(std::move(*socket), fmt::format("replica {} ({})", index, describe(peer.endpoint)));
    peer.ready = false;
    peer.connection->start(my_hello());
  });
}

void Node::schedule_redial(std::uint32_t index) {
  Peer& p = *peers_[index];
  p.connection.reset();
  p.ready = false;
  p.backoff_ms = p.backoff_ms == 0 ? first_backoff_ms : std::min(max_backoff_ms, p.backoff_ms * 2);
  p.retry.expires_after(std::chrono::milliseconds(p.backoff_ms));
  p.retry.async_wait([this, index](const boost::system::error_code& ec) {
    if (!ec && !stopped_) dial(index);
  });
}

void Node::on_hello(Connection& c, const Hello& h) {
  auto admitted = core_->admit(h);
  // A connection this node dialed must answer as the replica it dialed.
  for (std::uint32_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i]->connection.get() != &c) continue;
    if (admitted && (h.role != PeerRole::replica || h.sender != i)) {
      admitted = Error{fmt::format("dialed replica {} but {} {} answered", i,
                                   h.role == PeerRole::replica ? "replica" : "client", h.sender)};
    }
    if (admitted) {
      peers_[i]->ready = true;
      peers_[i]->backoff_ms = 0;
      ++transport_.connects;
      log(fmt::format("connected to replica {}", i));
    }
  }
  if (!admitted) {
    ++transport_.connections_refused;
    log(fmt::format("refused {}: {}", c.label(), admitted.error().message));
    return c.close(admitted.error().message);
  }
  if (inbound_.count(c.shared_from_this()) != 0) {
    c.set_label(fmt::format("{} {} ({})", h.role == PeerRole::replica ? "replica" : "client", h.sender,
                            c.label().substr(c.label().rfind(' ') + 1)));
  }
}

void Node::on_message(Connection& c, Message&& m) {
  if (const auto* r = std::get_if<Request>(&m); r && c.peer() && c.peer()->role == PeerRole::client) {
    client_routes_[r->client] = c.weak_from_this();
  }
  auto received = core_->receive(*c.peer(), m);
  if (!received) {
    if (!core_->serving()) return;
    ++transport_.connections_refused;
    log(fmt::format("dropped {}: {}", c.label(), received.error().message));
    return c.close(received.error().message);
  }
  if (c.peer()->role == PeerRole::client && c.queued_bytes() > options_.client_backlog_bytes) c.pause_reading();
  request_flush();
}

void Node::on_closed(Connection& c, const std::string& why) {
  for (std::uint32_t i = 0; i < peers_.size(); ++i) {
    if (peers_[i]->connection.get() != &c) continue;
    if (peers_[i]->ready) log(fmt::format("lost replica {}: {}", i, why));
    if (!stopped_) schedule_redial(i);
    return;
  }
  if (inbound_.erase(c.shared_from_this()) != 0) log(fmt::format("closed {}: {}", c.label(), why));
  if (client_routes_.size() > 4 * options_.max_connections + 1024) {
    std::erase_if(client_routes_, [](const auto& kv) { return kv.second.expired(); });
  }
}

// ---------------------------------------------------------------- the loop

void Node::schedule_tick() {
  const std::uint64_t now = now_us();
  const std::uint64_t wait_us = next_tick_us_ > now ? next_tick_us_ - now : 0;
  tick_timer_.expires_after(std::chrono::microseconds(wait_us));
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopped_) on_tick();
  });
}

void Node::on_tick() {
  const std::uint64_t tick_us = std::uint64_t{options_.tick_ms} * 1000;
  const std::uint64_t now = now_us();
  // After a stall (the process was stopped or descheduled) skip the missed ticks rather
  // than fire them in a burst, which every timer would read as a silent primary.
  if (now > next_tick_us_ + 5 * tick_us) next_tick_us_ = now;
  while (next_tick_us_ <= now) {
    core_->tick();
    next_tick_us_ += tick_us;
  }
  request_flush();
  schedule_tick();
}

void Node::request_flush() {
  if (flush_posted_ || stopped_) return;
  flush_posted_ = true;
  boost::asio::post(io_, [this] { flush(); });
}

void Node::flush() {
  flush_posted_ = false;
  if (stopped_) return;
  const std::uint64_t began = now_us();
  core_->flush(outbox_);
  transport_.sync_us_total += now_us() - began;
  for (Outgoing& o : outbox_) send(std::move(o));
  outbox_.clear();
  emit_telemetry();
  for (const auto& c : inbound_) {
    if (c->peer() && c->peer()->role == PeerRole::client && c->queued_bytes() <= options_.client_backlog_bytes / 2) {
      c->resume_reading();
    }
  }
  if (core_->failure()) {
    log(fmt::format("stopping for good: {}", core_->failure()->message));
    stop();
  }
}

void Node::send(Outgoing&& o) {
  if (const auto* r = std::get_if<ReplicaIndex>(&o.to)) {
    Peer& p = *peers_.at(r->value);
    if (!p.ready || !p.connection || !p.connection->send(o.message)) ++transport_.sends_dropped;
    return;
  }
  const ClientId client = std::get<ClientId>(o.to);
  const auto route = client_routes_.find(client);
  std::shared_ptr<Connection> c = route == client_routes_.end() ? nullptr : route->second.lock();
  if (!c || !c->send(o.message)) ++transport_.replies_unroutable;
}

void Node::emit_telemetry() {
  std::vector<TelemetryEvent> events = core_->take_events();
  if (options_.telemetry) {
    const std::uint64_t t = now_us();
    for (const TelemetryEvent& e : events) options_.telemetry(telemetry_json(e, t));
  }
  for (const std::string& line : core_->take_logs()) log(line);
}

// ---------------------------------------------------------------- metrics

std::string Node::metrics_text() const {
  std::string out;
  auto metric = [&](std::string_view name, std::string_view type, std::string_view help, std::uint64_t value) {
    out += fmt::format("# HELP vsr_{} {}\n# TYPE vsr_{} {}\nvsr_{} {}\n", name, help, name, type, name, value);
  };
  const NodeCounters& n = core_->counters();
  const TransportCounters& t = transport_;
  metric("messages_in_total", "counter", "Messages stepped by the replica (requests included).", n.messages_in);
  metric("requests_in_total", "counter", "Client requests stepped.", n.requests_in);
  metric("messages_out_total", "counter", "Messages sent (replies included).", n.messages_out);
  metric("replies_out_total", "counter", "Replies sent to clients.", n.replies_out);
  metric("messages_refused_total", "counter", "Messages naming a sender other than their connection's.", n.messages_refused);
  metric("messages_rejected_total", "counter", "Messages the replica rejected.", n.messages_rejected);
  metric("ops_committed_total", "counter", "Operations executed.", n.ops_committed);
  metric("ticks_total", "counter", "Replica clock ticks.", n.ticks);
  metric("syncs_total", "counter", "Group commits: storage syncs that made batches durable.", core_->host().syncs());
  metric("batches_durable_total", "counter", "Output batches made durable (batches per sync = this / syncs).",
         core_->host().writes_completed());
  metric("flush_microseconds_total", "counter", "Time spent in flushes (the fsyncs included).", t.sync_us_total);
  metric("connections_accepted_total", "counter", "Connections accepted.", t.connections_accepted);
  metric("connections_refused_total", "counter", "Connections refused or dropped for bad input.", t.connections_refused);
  metric("connections_open", "gauge", "Accepted connections open.", inbound_.size());
  metric("peer_connects_total", "counter", "Connections to peers established.", t.connects);
  metric("peer_connect_failures_total", "counter", "Failed attempts to connect to a peer.", t.connect_failures);
  metric("sends_dropped_total", "counter", "Messages to a peer dropped (not connected, or queue full).", t.sends_dropped);
  metric("replies_unroutable_total", "counter", "Replies to a client with no open connection.", t.replies_unroutable);
  if (core_->serving()) {
    const Replica& r = core_->replica();
    metric("view", "gauge", "The replica's view.", r.view().value);
    metric("op", "gauge", "The replica's last op number.", r.op().value);
    metric("commit", "gauge", "The replica's commit number.", r.commit().value);
    metric("status", "gauge", "0 normal, 1 view change, 2 recovering, 3 state transfer.",
           static_cast<std::uint64_t>(r.status()));
    metric("is_primary", "gauge", "1 while this replica is the primary of its view and normal.",
           r.status() == StatusKind::normal && r.view().value % r.config().replica_count == r.index().value ? 1 : 0);
  }
  return out;
}

}  // namespace vsr::io
