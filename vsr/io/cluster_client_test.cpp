// ClusterClient against a fake replica on 127.0.0.1 (an ephemeral port) in the same
// io_context: replica 0 of a 1-replica cluster, primary of view 0, which opens sessions
// and answers each request with its operation prefixed by 'R' (unless told otherwise).
#include "vsr/io/cluster_client.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ip/address.hpp>
#include <doctest/doctest.h>

using namespace vsr;
using namespace vsr::io;
using namespace std::chrono_literals;

namespace {

struct FakeReplica {
  explicit FakeReplica(boost::asio::io_context& io, ClusterId cluster)
      : acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)), cluster(cluster) {
    accept();
  }
  ~FakeReplica() {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    for (auto& c : connections) c->close("test over");
  }

  [[nodiscard]] std::string address() const {
    return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
      if (ec) return;
      ++accepted;
      Connection::Handlers h;
      h.on_message = [this](Connection& c, Message&& m) {
        if (auto* r = std::get_if<Request>(&m)) on_request(c, *r);
      };
      auto c = std::make_shared<Connection>(std::move(socket), ConnectionLimits{}, std::move(h), "client");
      connections.push_back(c);
      c->start(Hello{cluster, PeerRole::replica, 0});
      accept();
    });
  }

  void on_request(Connection& c, const Request& r) {
    ++requests;
    if (r.session != register_session && close_on_next_request) {
      close_on_next_request = false;
      return c.close("test: the server closes");
    }
    if (silent) return;
    Reply reply{ViewNumber{0}, r.client, r.request, {}, ReplicaIndex{0}, r.session, false};
    if (r.session == register_session) {
      reply.session = SessionNumber(++sessions);
    } else {
      reply.result.push_back('R');
      reply.result.insert(reply.result.end(), r.operation.begin(), r.operation.end());
    }
    c.send(reply);
  }

  tcp::acceptor acceptor;
  ClusterId cluster;
  bool silent = false;
  bool close_on_next_request = false;
  std::vector<std::shared_ptr<Connection>> connections;
  int accepted = 0;
  int requests = 0;
  std::uint64_t sessions = 0;
};

template <typename Pred>
bool run_until(boost::asio::io_context& io, Pred done, std::chrono::milliseconds limit = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(10ms);
  }
  return true;
}

struct Fixture {
  boost::asio::io_context io;
  std::vector<std::string> log;

  ClusterClientOptions options(const FakeReplica& server, ClusterId cluster = ClusterId{7}) {
    ClusterClientOptions o;
    o.cluster = cluster;
    o.replicas = {server.address()};
    o.tick_ms = 5;
    o.resend_ticks = 4;
    o.request_timeout_ms = 300;
    o.id_seed = 42;
    o.log = [this](const std::string& line) { log.push_back(line); };
    return o;
  }
  std::unique_ptr<ClusterClient> make(ClusterClientOptions o) {
    auto c = ClusterClient::make(io, std::move(o));
    REQUIRE(c);
    return std::move(c.value());
  }
  /// Submits `op` and runs until its result.
  ClientResult call(ClusterClient& client, const std::string& op) {
    std::optional<ClientResult> out;
    client.submit(Bytes(op.begin(), op.end()), [&out](ClientResult r) { out = std::move(r); });
    REQUIRE(run_until(io, [&] { return out.has_value(); }));
    return std::move(*out);
  }
};

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

TEST_CASE("100 concurrent submits over 8 sessions all complete with their own results") {
  Fixture f;
  FakeReplica server(f.io, ClusterId{7});
  auto o = f.options(server);
  o.max_in_flight = 8;
  o.max_queued = 100;
  auto client = f.make(o);
  std::vector<std::optional<ClientResult>> results(100);
  std::size_t done = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    client->submit(bytes_of("op" + std::to_string(i)), [&, i](ClientResult r) {
      results[i] = std::move(r);
      ++done;
    });
    CHECK(client->in_flight() <= 8);
  }
  REQUIRE(run_until(f.io, [&] { return done == results.size(); }));
  for (std::size_t i = 0; i < results.size(); ++i) {
    CHECK(results[i]->outcome == ClientOutcome::ok);
    CHECK(results[i]->result == bytes_of("Rop" + std::to_string(i)));
  }
  CHECK(client->counters().ok == 100);
  CHECK(client->counters().sessions == 8);  // one register per session, not per request
  CHECK(server.sessions == 8);
  CHECK(server.accepted == 1);              // one connection for every session
}

TEST_CASE("beyond the in-flight and queue bounds a request is refused, never synchronously") {
  Fixture f;
  FakeReplica server(f.io, ClusterId{7});
  auto o = f.options(server);
  o.max_in_flight = 1;
  o.max_queued = 1;
  auto client = f.make(o);
  std::vector<ClientOutcome> outcomes;
  for (int i = 0; i < 3; ++i) {
    client->submit(bytes_of("x"), [&](ClientResult r) { outcomes.push_back(r.outcome); });
  }
  CHECK(outcomes.empty());
  REQUIRE(run_until(f.io, [&] { return outcomes.size() == 3; }));
  CHECK(outcomes[0] == ClientOutcome::refused);  // the third, refused at once
  CHECK(outcomes[1] == ClientOutcome::ok);
  CHECK(outcomes[2] == ClientOutcome::ok);
}

TEST_CASE("a server of another cluster is refused: requests time out and the log says why") {
  Fixture f;
  FakeReplica server(f.io, ClusterId{99});
  auto client = f.make(f.options(server, ClusterId{7}));
  const ClientResult r = f.call(*client, "x");
  CHECK(r.outcome == ClientOutcome::timeout);
  CHECK(server.requests == 0);
  CHECK_FALSE(client->connected(0));
  REQUIRE_FALSE(f.log.empty());
  CHECK(f.log.front().find("cluster 99, expected cluster 7") != std::string::npos);
  CHECK(f.log.size() == 1);  // the same refusal is logged once in a row
}

TEST_CASE("a request the server never answers times out; its session is abandoned") {
  Fixture f;
  FakeReplica server(f.io, ClusterId{7});
  auto client = f.make(f.options(server));
  server.silent = true;
  const ClientResult r = f.call(*client, "x");
  CHECK(r.outcome == ClientOutcome::timeout);
  CHECK(r.latency_us >= 300'000);
  CHECK(server.requests >= 2);  // resent meanwhile
  server.silent = false;
  const ClientResult again = f.call(*client, "y");
  CHECK(again.outcome == ClientOutcome::ok);
  CHECK(client->counters().sessions == 2);  // a fresh client id took the slot
}

TEST_CASE("the client reconnects after the server closes the connection") {
  Fixture f;
  FakeReplica server(f.io, ClusterId{7});
  auto o = f.options(server);
  o.request_timeout_ms = 2000;
  auto client = f.make(o);
  CHECK(f.call(*client, "a").outcome == ClientOutcome::ok);
  server.close_on_next_request = true;
  const ClientResult r = f.call(*client, "b");  // lost with the connection, resent after
  CHECK(r.outcome == ClientOutcome::ok);
  CHECK(r.result == bytes_of("Rb"));
  CHECK(server.accepted == 2);
  CHECK(client->counters().reconnects >= 1);
  CHECK(client->connected(0));
}

TEST_CASE("close completes what is in flight as indeterminate and refuses what follows") {
  Fixture f;
  FakeReplica server(f.io, ClusterId{7});
  server.silent = true;
  auto client = f.make(f.options(server));
  std::vector<ClientOutcome> outcomes;
  client->submit(bytes_of("x"), [&](ClientResult r) { outcomes.push_back(r.outcome); });
  client->close();
  client->submit(bytes_of("y"), [&](ClientResult r) { outcomes.push_back(r.outcome); });
  REQUIRE(run_until(f.io, [&] { return outcomes.size() == 2; }));
  CHECK(outcomes[0] == ClientOutcome::timeout);
  CHECK(outcomes[1] == ClientOutcome::refused);
}

TEST_CASE("bad options and addresses are errors that say what is wrong") {
  boost::asio::io_context io;
  ClusterClientOptions o;
  CHECK_FALSE(ClusterClient::make(io, o));
  o.replicas = {"localhost"};
  auto r = ClusterClient::make(io, o);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("expected host:port") != std::string::npos);
  CHECK_FALSE(parse_address("h:0"));
  CHECK_FALSE(parse_address("h:70000"));
  CHECK_FALSE(parse_address(":7000"));
  CHECK(parse_address("[::1]:7000").value().first == "::1");
  CHECK(split_addresses("127.0.0.1:7000,127.0.0.1:7001").value().size() == 2);
  CHECK_FALSE(split_addresses("127.0.0.1:7000,"));
}
