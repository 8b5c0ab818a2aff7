// The real node on loopback, in-process: a one-replica cluster (so it commits alone),
// raw sockets for bad input, a raw client connection for requests. Every port is
// ephemeral (127.0.0.1:0).
#include "vsr/io/node.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "vsr/codec.hpp"
#include "vsr/kv.hpp"

using namespace vsr;
using namespace vsr::io;
namespace asio = boost::asio;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    path = std::filesystem::path(base ? base : "/tmp") /
           fmt::format("vsr-node-test-{}-{}", ::getpid(),
                       std::chrono::steady_clock::now().time_since_epoch().count());
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

NodeOptions one_replica(const TempDir& dir, std::vector<std::string>* log) {
  NodeOptions o;
  o.cluster = ClusterId(42);
  o.config = Config::make(1, ReplicaIndex(0), lan_timeouts()).value();
  o.config.max_client_sessions = 64;
  o.addresses = {"127.0.0.1:0"};
  o.data_file = (dir.path / "replica.vsr").string();
  o.data_bytes = std::uint64_t{64} << 20;
  o.limits.hello_timeout_ms = 200;
  o.limits.keepalive_ms = 100;
  o.limits.silence_timeout_ms = 400;
  o.max_connections = 8;
  o.make_machine = [] { return std::make_unique<KvMachine>(); };
  o.log = [log](std::string_view line) { log->emplace_back(line); };
  return o;
}

/// Runs `io` until `done()` or `limit_ms` pass.
bool run_until(asio::io_context& io, const std::function<bool()>& done, int limit_ms = 3000) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(std::chrono::milliseconds(5));
  }
  return done();
}

bool logged(const std::vector<std::string>& log, std::string_view text) {
  for (const auto& l : log) {
    if (l.find(text) != std::string::npos) return true;
  }
  return false;
}

std::optional<KvResult> register_then(asio::io_context& io, const tcp::endpoint& server, std::uint64_t client,
                                      const KvOp& op) {
  // The table is bounded (max_client_sessions): open a session first.
  std::optional<SessionNumber> session;
  std::optional<KvResult> result;
  Connection::Handlers h;
  h.on_message = [&](Connection&, Message&& m) {
    const auto* r = std::get_if<Reply>(&m);
    if (r == nullptr) return;
    if (r->request.value == 1) session = r->session;
    if (r->request.value == 2) result = decode_kv_result(r->result).value();
  };
  tcp::socket s(io);
  s.connect(server);
  auto c = std::make_shared<Connection>(std::move(s), ConnectionLimits{}, h, "test client");
  c->start(Hello{ClusterId(42), PeerRole::client, client});
  c->send(Message{Request{ClientId(client), RequestNumber(1), Bytes{}, register_session}});
  run_until(io, [&] { return session.has_value(); });
  if (!session) return std::nullopt;
  c->send(Message{Request{ClientId(client), RequestNumber(2), encode_kv_op(op), *session}});
  run_until(io, [&] { return result.has_value(); });
  c->close("done");
  return result;
}

/// Opens a raw socket to `server`, writes `bytes`, and runs until the server closes it.
bool server_closes(asio::io_context& io, const tcp::endpoint& server, const Bytes& bytes) {
  tcp::socket s(io);
  s.connect(server);
  asio::write(s, asio::buffer(bytes));
  bool closed = false;
  std::vector<std::uint8_t> sink(4096);
  std::function<void()> read = [&] {
    s.async_read_some(asio::buffer(sink), [&](const boost::system::error_code& ec, std::size_t) {
      if (ec) closed = true;
      else read();
    });
  };
  read();
  return run_until(io, [&] { return closed; });
}

}  // namespace

TEST_CASE("node: format, serve a write and a read, restart from the file and read again") {
  TempDir dir;
  std::vector<std::string> log;
  NodeOptions o = one_replica(dir, &log);
  REQUIRE(format_data_file(o));
  CHECK_FALSE(format_data_file(o));  // never over an existing file
  {
    asio::io_context io;
    Node node(io, o);
    REQUIRE(node.start());
    const auto w = register_then(io, node.listening(), 1001, KvOp{KvOpKind::write, "k", "v1", ""});
    REQUIRE(w.has_value());
    CHECK(w->status == KvStatus::ok);
    CHECK(node.core().counters().ops_committed >= 1);
    CHECK(node.metrics_text().find("vsr_ops_committed_total") != std::string::npos);
    node.stop();
  }
  asio::io_context io;
  Node node(io, o);
  REQUIRE(node.start());
  CHECK(logged(log, "restarted from disk"));
  const auto r = register_then(io, node.listening(), 1002, KvOp{KvOpKind::read, "k", "", ""});
  REQUIRE(r.has_value());
  CHECK(r->value == std::optional<std::string>("v1"));
}

TEST_CASE("node: bad input on the port is dropped with a reason, and the node keeps serving") {
  TempDir dir;
  std::vector<std::string> log;
  NodeOptions o = one_replica(dir, &log);
  REQUIRE(format_data_file(o));
  asio::io_context io;
  Node node(io, o);
  REQUIRE(node.start());
  const tcp::endpoint at = node.listening();

  SUBCASE("garbage bytes") {
    const std::string text = "GET / HTTP/1.1\r\nHost: vsr\r\n\r\nand some more bytes";
    CHECK(server_closes(io, at, Bytes(text.begin(), text.end())));
    CHECK(logged(log, "not a vsr stream"));
  }
  SUBCASE("a hello of another cluster") {
    CHECK(server_closes(io, at, encode_hello({ClusterId(41), PeerRole::client, 5})));
    CHECK(logged(log, "peer of cluster 41, this is cluster 42"));
  }
  SUBCASE("a valid hello, then a frame that is not one") {
    Bytes b = encode_hello({ClusterId(42), PeerRole::client, 5});
    Bytes f = encode(Message{Commit{ViewNumber(0), CommitNumber(0), ReplicaIndex(0)}});
    f[20] ^= 0xff;  // the body no longer matches its checksum
    b.insert(b.end(), f.begin(), f.end());
    CHECK(server_closes(io, at, b));
    CHECK(logged(log, "a bad frame"));
  }
  SUBCASE("a client that sends a protocol message") {
    Bytes b = encode_hello({ClusterId(42), PeerRole::client, 5});
    Bytes f = encode(Message{Commit{ViewNumber(0), CommitNumber(0), ReplicaIndex(0)}});
    b.insert(b.end(), f.begin(), f.end());
    CHECK(server_closes(io, at, b));
    CHECK(logged(log, "clients send requests only"));
  }
  SUBCASE("a half-open connection (no hello)") {
    CHECK(server_closes(io, at, Bytes{}));
    CHECK(logged(log, "no hello within 200 ms"));
  }
  SUBCASE("a peer that goes silent after its hello (stopped, or half-open)") {
    // The node's own keepalives keep its side alive; this socket never answers, so the
    // node hears nothing for silence_timeout_ms and drops it.
    CHECK(server_closes(io, at, encode_hello({ClusterId(42), PeerRole::client, 5})));
    CHECK(logged(log, "nothing received for 400 ms"));
  }
  SUBCASE("a flood of connections") {
    std::vector<tcp::socket> flood;
    for (int i = 0; i < 40; ++i) {
      flood.emplace_back(io);
      flood.back().connect(at);
    }
    run_until(io, [&] { return logged(log, "connections are open (the limit)"); });
    CHECK(logged(log, "connections are open (the limit)"));
    flood.clear();
    // The flood's connections close (the client side) or time out without a hello.
    run_until(io, [&] { return node.metrics_text().find("vsr_connections_open 0") != std::string::npos; });
  }
  CHECK(node.core().serving());
  const auto w = register_then(io, at, 2001, KvOp{KvOpKind::write, "x", "1", ""});
  REQUIRE(w.has_value());
  CHECK(w->status == KvStatus::ok);
}

TEST_CASE("node: a missing data file is created blank and the replica runs recovery, never boots") {
  TempDir dir;
  std::vector<std::string> log;
  NodeOptions o = one_replica(dir, &log);
  o.config = Config::make(3, ReplicaIndex(1), lan_timeouts()).value();
  o.addresses = {"127.0.0.1:1", "127.0.0.1:0", "127.0.0.1:1"};
  asio::io_context io;
  Node node(io, o);
  REQUIRE(node.start());
  CHECK(logged(log, "running recovery"));
  CHECK(node.core().replica().status() == StatusKind::recovering);
  node.stop();
}

TEST_CASE("node: start names what is wrong") {
  TempDir dir;
  std::vector<std::string> log;
  NodeOptions o = one_replica(dir, &log);
  o.addresses = {"nonsense"};
  asio::io_context io0;
  auto bad = Node(io0, o).start();
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("expected host:port") != std::string::npos);
  o.addresses = {"127.0.0.1:99999"};
  asio::io_context io;
  auto bad_port = Node(io, o).start();
  REQUIRE_FALSE(bad_port);
  CHECK(bad_port.error().message.find("not a number in 0..65535") != std::string::npos);
}
