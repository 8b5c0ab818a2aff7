#include "vsr/io/cluster_client.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

namespace vsr::io {

namespace {

constexpr std::uint32_t max_sessions = 65536;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t micros_since(std::chrono::steady_clock::time_point t) {
  const auto d = std::chrono::steady_clock::now() - t;
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

Result<void> check_options(const ClusterClientOptions& o) {
  if (o.replicas.empty() || o.replicas.size() > max_replica_count) {
    return Error{fmt::format("cluster client: {} replica addresses, expected 1..{}", o.replicas.size(),
                             max_replica_count)};
  }
  for (const auto& a : o.replicas) {
    if (auto p = parse_address(a); !p) return p.error();
  }
  if (o.max_in_flight < 1 || o.max_in_flight > max_sessions) {
    return Error{fmt::format("cluster client: max_in_flight {} is outside 1..{}", o.max_in_flight,
                             max_sessions)};
  }
  if (o.tick_ms == 0 || o.resend_ticks == 0 || o.request_timeout_ms == 0 ||
      o.connect_timeout_ms == 0 || o.backoff_min_ms == 0) {
    return Error{"cluster client: tick_ms, resend_ticks, request_timeout_ms, connect_timeout_ms and "
                 "backoff_min_ms must be at least 1"};
  }
  if (o.backoff_max_ms < o.backoff_min_ms) {
    return Error{fmt::format("cluster client: backoff_max_ms {} is below backoff_min_ms {}",
                             o.backoff_max_ms, o.backoff_min_ms)};
  }
  return outcome::success();
}

}  // namespace

std::string_view outcome_name(ClientOutcome o) {
  switch (o) {
    case ClientOutcome::ok: return "ok";
    case ClientOutcome::timeout: return "timeout";
    case ClientOutcome::evicted: return "evicted";
    case ClientOutcome::refused: return "refused";
  }
  return "unknown";
}

Result<std::vector<std::string>> split_addresses(std::string_view list) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = list.find(',');
    const std::string_view one = list.substr(0, comma);
    if (auto p = parse_address(one); !p) return p.error();
    out.emplace_back(one);
    if (out.size() > max_replica_count) {
      return Error{fmt::format("more than {} replica addresses", max_replica_count)};
    }
    if (comma == std::string_view::npos) return out;
    list.remove_prefix(comma + 1);
  }
}

Result<std::unique_ptr<ClusterClient>> ClusterClient::make(boost::asio::io_context& io,
                                                            ClusterClientOptions options) {
  if (auto ok = check_options(options); !ok) return ok.error();
  return std::unique_ptr<ClusterClient>(new ClusterClient(io, std::move(options)));
}

ClusterClient::ClusterClient(boost::asio::io_context& io, ClusterClientOptions options)
    : io_(io), options_(std::move(options)), tick_timer_(io) {
  if (options_.max_queued == 0) options_.max_queued = 4 * options_.max_in_flight;
  if (!options_.log) {
    options_.log = [](const std::string& line) { std::fprintf(stderr, "vsr-client: %s\n", line.c_str()); };
  }
  client_config_.replica_count = static_cast<std::uint32_t>(options_.replicas.size());
  client_config_.request_timeout_ticks = options_.resend_ticks;
  client_config_.open_sessions = options_.open_sessions;
  id_base_ = splitmix64(options_.id_seed);
  slots_.resize(options_.max_in_flight);
  for (std::size_t i = slots_.size(); i > 0; --i) free_slots_.push_back(i - 1);
  for (std::size_t i = 0; i < options_.replicas.size(); ++i) {
    auto address = parse_address(options_.replicas[i]).value();
    Peer p;
    p.host = std::move(address.first);
    p.port = address.second;
    p.backoff_ms = options_.backoff_min_ms;
    p.timer = std::make_unique<boost::asio::steady_timer>(io_);
    peers_.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < peers_.size(); ++i) connect(i);
  arm_tick();
}

ClusterClient::~ClusterClient() {
  close();
  *alive_ = false;
}

std::size_t ClusterClient::in_flight() const { return slots_.size() - free_slots_.size(); }

bool ClusterClient::connected(std::size_t index) const {
  return index < peers_.size() && peers_[index].ready;
}

// ---- Requests ------------------------------------------------------------------------

void ClusterClient::submit(Bytes operation, Callback done) {
  ++counters_.submitted;
  const auto now = Clock::now();
  std::string why;
  if (closed_) {
    why = "the client is closed";
  } else if (!free_slots_.empty()) {
    const std::size_t slot = free_slots_.back();
    free_slots_.pop_back();
    return start(slot, std::move(operation), std::move(done), now);
  } else if (queue_.size() < options_.max_queued) {
    queue_.push_back({std::move(operation), std::move(done), now});
    return;
  } else {
    why = fmt::format("{} requests in flight and {} queued, the bound", in_flight(), queue_.size());
  }
  ++counters_.refused;
  boost::asio::post(io_, [done = std::move(done), why = std::move(why)]() mutable {
    done(ClientResult{ClientOutcome::refused, {}, 0, std::move(why)});
  });
}

ClientId ClusterClient::next_client_id() {
  ++counters_.sessions;
  std::uint64_t id = id_base_ + ids_taken_++;
  if (id == 0) id = id_base_ + ids_taken_++;  // 0 names no client
  return ClientId(id);
}

void ClusterClient::start(std::size_t slot, Bytes operation, Callback done, Clock::time_point submitted) {
  Slot& s = slots_[slot];
  if (!s.client) {
    s.client.emplace(next_client_id(), client_config_);
    slot_of_[s.client->id()] = slot;
    // A new session learns the view the pool knows (Client learns views from replies).
    if (view_) s.client->step(Reply{*view_, s.client->id(), RequestNumber{}, {}, ReplicaIndex{}, {}, false});
  }
  s.done = std::move(done);
  s.submitted = submitted;
  s.client->submit(std::move(operation));
  flush(slot);
}

void ClusterClient::flush(std::size_t slot) {
  ClientOutput out = slots_[slot].client->take_output();
  const std::uint32_t everyone = (std::uint32_t{1} << (peers_.size() - 1) << 1) - 1;
  const Message* broadcast = nullptr;
  for (const Outgoing& o : out.send) {
    if (view_) {
      send_request(slot, o.message, std::uint32_t{1} << std::get<ReplicaIndex>(o.to).value);
    } else if (broadcast == nullptr || *broadcast != o.message) {
      broadcast = &o.message;
      send_request(slot, o.message, everyone);
    }
  }
  if (!out.completed) return;
  if (out.completed->evicted) {
    return finish(slot, ClientOutcome::evicted, {}, "the cluster evicted the session");
  }
  finish(slot, ClientOutcome::ok, std::move(out.completed->result), {});
}

// Sends `request` to each replica in the bit set `replicas` that is connected; the
// others get it when their connection is ready (on_hello), unless a newer one replaces it.
void ClusterClient::send_request(std::size_t slot, const Message& request, std::uint32_t replicas) {
  Slot& s = slots_[slot];
  if (s.request != request) {
    s.request = request;
    s.undelivered = 0;
  }
  for (std::size_t r = 0; r < peers_.size(); ++r) {
    if ((replicas >> r & 1U) == 0) continue;
    Peer& p = peers_[r];
    if (p.ready && p.connection && p.connection->send(request)) {
      ++counters_.sent;
      s.undelivered &= ~(std::uint32_t{1} << r);
    } else {
      s.undelivered |= std::uint32_t{1} << r;
    }
  }
}

// Frees the slot (abandoning its session on timeout), hands the slot to the oldest
// queued request, then calls the callback: the caller must not touch the slot after.
void ClusterClient::finish(std::size_t slot, ClientOutcome outcome, Bytes result, std::string why) {
  Slot& s = slots_[slot];
  Callback done = std::move(s.done);
  s.done = nullptr;
  s.request.reset();
  s.undelivered = 0;
  ClientResult r{outcome, std::move(result), micros_since(s.submitted), std::move(why)};
  if (outcome == ClientOutcome::timeout) {
    slot_of_.erase(s.client->id());
    s.client.reset();
  }
  switch (outcome) {
    case ClientOutcome::ok: ++counters_.ok; break;
    case ClientOutcome::timeout: ++counters_.timeouts; break;
    case ClientOutcome::evicted: ++counters_.evicted; break;
    case ClientOutcome::refused: ++counters_.refused; break;
  }
  if (!closed_ && !queue_.empty()) {
    Waiting w = std::move(queue_.front());
    queue_.pop_front();
    start(slot, std::move(w.operation), std::move(w.done), w.submitted);
  } else {
    free_slots_.push_back(slot);
  }
  done(std::move(r));
}

void ClusterClient::arm_tick() {
  tick_timer_.expires_after(std::chrono::milliseconds(options_.tick_ms));
  tick_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || closed_) return;
    on_tick();
    arm_tick();
  });
}

void ClusterClient::on_tick() {
  const auto now = Clock::now();
  const auto timeout = std::chrono::milliseconds(options_.request_timeout_ms);
  while (!queue_.empty() && now - queue_.front().submitted >= timeout) {
    Waiting w = std::move(queue_.front());
    queue_.pop_front();
    ++counters_.refused;
    w.done(ClientResult{ClientOutcome::refused, {}, micros_since(w.submitted),
                        "waited in the queue past the request timeout (never sent)"});
  }
  for (std::size_t i = 0; i < slots_.size() && !closed_; ++i) {
    if (!slots_[i].done) continue;
    if (now - slots_[i].submitted >= timeout) {
      finish(i, ClientOutcome::timeout, {},
             fmt::format("no reply within {} ms", options_.request_timeout_ms));
      continue;
    }
    slots_[i].client->tick();
    flush(i);
  }
}

void ClusterClient::close() {
  if (closed_) return;
  closed_ = true;
  tick_timer_.cancel();
  auto deliver = [this](Callback done, ClientResult r) {
    boost::asio::post(io_, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  };
  for (Waiting& w : queue_) {
    ++counters_.refused;
    deliver(std::move(w.done), {ClientOutcome::refused, {}, micros_since(w.submitted), "the client closed"});
  }
  queue_.clear();
  for (Slot& s : slots_) {
    if (!s.done) continue;
    ++counters_.timeouts;
    deliver(std::move(s.done), {ClientOutcome::timeout, {}, micros_since(s.submitted),
                                "the client closed with the request in flight"});
    s.done = nullptr;
  }
  for (Peer& p : peers_) {
    p.timer->cancel();
    if (auto c = p.connection) c->close("the client closed");
  }
}

// ---- Connections ---------------------------------------------------------------------

void ClusterClient::connect(std::size_t index) {
  Peer& p = peers_[index];
  auto socket = std::make_shared<tcp::socket>(io_);
  auto resolver = std::make_shared<tcp::resolver>(io_);
  p.timer->expires_after(std::chrono::milliseconds(options_.connect_timeout_ms));
  p.timer->async_wait([socket, resolver](const boost::system::error_code& ec) {
    if (ec) return;
    resolver->cancel();
    boost::system::error_code ignored;
    socket->close(ignored);  // the connect completes with operation_aborted
  });
  auto fail = [this, index](const std::string& what, const boost::system::error_code& ec) {
    peers_[index].timer->cancel();
    retry_later(index, ec == boost::asio::error::operation_aborted
                           ? fmt::format("{} timed out after {} ms", what, options_.connect_timeout_ms)
                           : fmt::format("{} failed: {}", what, ec.message()));
  };
  resolver->async_resolve(
      p.host, std::to_string(p.port),
      [this, alive = alive_, index, socket, resolver, fail](const boost::system::error_code& ec,
                                                            const tcp::resolver::results_type& results) {
        if (!*alive || closed_) return;
        if (ec) return fail("resolving the host", ec);
        boost::asio::async_connect(*socket, results,
                                   [this, alive, index, socket, fail](const boost::system::error_code& ec2,
                                                                      const tcp::endpoint&) {
                                     if (!*alive || closed_) return;
                                     if (ec2) return fail("connecting", ec2);
                                     peers_[index].timer->cancel();
                                     on_connected(index, std::move(*socket));
                                   });
      });
}

void ClusterClient::on_connected(std::size_t index, tcp::socket socket) {
  Peer& p = peers_[index];
  Connection::Handlers h;
  h.on_hello = [this, index](Connection& c, const Hello& hello) { on_hello(index, c, hello); };
  h.on_message = [this](Connection&, Message&& m) { on_message(std::move(m)); };
  h.on_close = [this, index](Connection& c, const std::string& why) { on_lost(index, c, why); };
  p.connection = std::make_shared<Connection>(std::move(socket), options_.limits, std::move(h),
                                              fmt::format("replica {} ({}:{})", index, p.host, p.port));
  p.connection->start(Hello{options_.cluster, PeerRole::client, id_base_});
}

void ClusterClient::on_hello(std::size_t index, Connection& c, const Hello& hello) {
  std::string why;
  if (hello.role != PeerRole::replica) {
    why = "the server says it is a client, not a replica";
  } else if (hello.cluster != options_.cluster) {
    why = fmt::format("refused: the server is in cluster {}, expected cluster {}", hello.cluster.value,
                      options_.cluster.value);
  } else if (hello.sender != index) {
    why = fmt::format("refused: the server is replica {}, expected replica {} (list the replicas in "
                      "index order)", hello.sender, index);
  }
  if (!why.empty()) return c.close(why);
  Peer& p = peers_[index];
  p.ready = true;
  p.backoff_ms = options_.backoff_min_ms;
  p.last_logged.clear();
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].done && (slots_[i].undelivered >> index & 1U) != 0) {
      send_request(i, *slots_[i].request, std::uint32_t{1} << index);
    }
  }
}

void ClusterClient::on_message(Message&& m) {
  const auto* reply = std::get_if<Reply>(&m);
  if (reply == nullptr) return;  // a replica sends clients nothing else
  view_ = std::max(view_.value_or(reply->view), reply->view);
  const auto it = slot_of_.find(reply->client);
  if (it == slot_of_.end()) return;  // an abandoned session's late reply
  const std::size_t slot = it->second;
  if (!slots_[slot].done) return;
  slots_[slot].client->step(*reply);
  flush(slot);
}

void ClusterClient::on_lost(std::size_t index, Connection& c, const std::string& why) {
  Peer& p = peers_[index];
  if (p.connection.get() != &c) return;
  p.connection.reset();
  p.ready = false;
  if (!closed_) retry_later(index, why);
}

void ClusterClient::retry_later(std::size_t index, const std::string& why) {
  Peer& p = peers_[index];
  log_peer(index, fmt::format("{}; retrying in {} ms", why, p.backoff_ms));
  ++counters_.reconnects;
  p.timer->expires_after(std::chrono::milliseconds(p.backoff_ms));
  p.timer->async_wait([this, alive = alive_, index](const boost::system::error_code& ec) {
    if (ec || !*alive || closed_) return;
    connect(index);
  });
  p.backoff_ms = std::min(p.backoff_ms * 2, options_.backoff_max_ms);
}

void ClusterClient::log_peer(std::size_t index, const std::string& what) {
  Peer& p = peers_[index];
  // The retry delay changes each time: compare the trouble without it.
  const std::string trouble = what.substr(0, what.rfind("; retrying"));
  if (trouble == p.last_logged) return;
  p.last_logged = trouble;
  options_.log(fmt::format("replica {} ({}:{}): {}", index, p.host, p.port, what));
}

}  // namespace vsr::io
