// bench-etcd: the same closed-loop load as `vsr-kv bench`, against an etcd v3 cluster
// through its HTTP/JSON gateway (POST /v3/kv/put and /v3/kv/range, keep-alive), for the
// side-by-side comparison in BENCHMARKS.md. Debian packages etcd without its own
// `benchmark` tool, so the load comes from here: each of --clients connections keeps
// one request in flight, to the members round-robin by connection (etcd forwards
// writes to its leader; linearizable reads go through the leader too).
// Bias: etcd pays the gateway's JSON-to-gRPC translation on every request (its native
// clients speak gRPC), and vsr's client finds the primary itself (no forwarding hop).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "tools/maelstrom/base64.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Flags {
  std::vector<std::string> endpoints;
  std::uint32_t clients = 16;
  std::uint32_t value_bytes = 100;
  std::uint32_t read_percent = 0;
  std::uint32_t duration_s = 10;
  std::uint32_t keys = 1000;
  bool json = false;
};

std::string base64(const std::string& in) { return vsr::maelstrom::base64_encode(vsr::Bytes(in.begin(), in.end())); }

struct Stats {
  std::vector<double> latencies_ms;
  std::uint64_t ok = 0;
  std::uint64_t errors = 0;
};

class Worker : public std::enable_shared_from_this<Worker> {
 public:
  Worker(asio::io_context& io, tcp::endpoint to, const Flags& f, Stats& stats, Clock::time_point end, std::uint64_t seed)
      : socket_(io), to_(to), f_(f), stats_(stats), end_(end), rng_(seed) {}

  void start() {
    socket_.async_connect(to_, [self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) {
        std::cerr << "bench-etcd: connect: " << ec.message() << "\n";
        ++self->stats_.errors;
        return;
      }
      socket_option(self->socket_);
      self->next();
    });
  }

 private:
  static void socket_option(tcp::socket& s) {
    boost::system::error_code ignored;
    s.set_option(tcp::no_delay(true), ignored);
  }
  std::uint64_t draw() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  void next() {
    if (Clock::now() >= end_) return;
    const std::string key = base64(fmt::format("key{}", draw() % f_.keys));
    std::string path, body;
    if (draw() % 100 < f_.read_percent) {
      path = "/v3/kv/range";
      body = fmt::format(R"({{"key":"{}"}})", key);
    } else {
      path = "/v3/kv/put";
      body = fmt::format(R"({{"key":"{}","value":"{}"}})", key, base64(std::string(f_.value_bytes, 'v')));
    }
    request_ = fmt::format("POST {} HTTP/1.1\r\nHost: etcd\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                           path, body.size(), body);
    began_ = Clock::now();
    asio::async_write(socket_, asio::buffer(request_), [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
      if (ec) return self->fail(ec);
      self->read_head();
    });
  }
  void read_head() {
    asio::async_read_until(socket_, in_, "\r\n\r\n", [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
      if (ec) return self->fail(ec);
      std::string head(asio::buffers_begin(self->in_.data()), asio::buffers_begin(self->in_.data()) + static_cast<std::ptrdiff_t>(n));
      self->in_.consume(n);
      self->status_ok_ = head.rfind("HTTP/1.1 200", 0) == 0;
      std::string lower = head;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      const auto at = lower.find("content-length:");
      self->body_bytes_ = at == std::string::npos ? 0 : std::stoul(lower.substr(at + 15));
      self->read_body();
    });
  }
  void read_body() {
    const std::size_t have = in_.size();
    if (have >= body_bytes_) return done();
    asio::async_read(socket_, in_, asio::transfer_exactly(body_bytes_ - have),
                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                       if (ec) return self->fail(ec);
                       self->done();
                     });
  }
  void done() {
    in_.consume(body_bytes_);
    if (status_ok_) {
      ++stats_.ok;
      stats_.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - began_).count());
    } else {
      ++stats_.errors;
    }
    next();
  }
  void fail(const boost::system::error_code& ec) {
    std::cerr << "bench-etcd: " << ec.message() << "\n";
    ++stats_.errors;
  }

  tcp::socket socket_;
  tcp::endpoint to_;
  const Flags& f_;
  Stats& stats_;
  Clock::time_point end_;
  std::uint64_t rng_;
  std::string request_;
  asio::streambuf in_;
  Clock::time_point began_;
  std::size_t body_bytes_ = 0;
  bool status_ok_ = false;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench-etcd: closed-loop put/range load on an etcd v3 cluster (HTTP/JSON gateway)"};
  Flags f;
  app.add_option("--endpoints", f.endpoints, "Members' client addresses host:port")->required()->delimiter(',');
  app.add_option("--clients", f.clients, "Connections, one request in flight each")->check(CLI::Range(1u, 4096u));
  app.add_option("--value-bytes", f.value_bytes, "Bytes per written value");
  app.add_option("--read-percent", f.read_percent, "Percent of reads")->check(CLI::Range(0u, 100u));
  app.add_option("--duration-s", f.duration_s, "Seconds of load")->check(CLI::Range(1u, 3600u));
  app.add_option("--keys", f.keys, "Distinct keys")->check(CLI::Range(1u, 1u << 30));
  app.add_flag("--json", f.json, "One JSON object on stdout");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help: 0; any usage error: 2, with CLI11's message
  }
  asio::io_context io;
  std::vector<tcp::endpoint> members;
  for (const auto& e : f.endpoints) {
    const auto colon = e.rfind(':');
    if (colon == std::string::npos) return std::cerr << "bench-etcd: bad endpoint " << e << "\n", 2;
    members.emplace_back(asio::ip::make_address(e.substr(0, colon)), static_cast<unsigned short>(std::stoul(e.substr(colon + 1))));
  }
  Stats stats;
  const auto began = Clock::now();
  const auto end = began + std::chrono::seconds(f.duration_s);
  for (std::uint32_t i = 0; i < f.clients; ++i) {
    std::make_shared<Worker>(io, members[i % members.size()], f, stats, end, 0x9e3779b97f4a7c15ULL * (i + 1))->start();
  }
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - began).count();
  const double rate = static_cast<double>(stats.ok) / seconds;
  const double p50 = percentile(stats.latencies_ms, 0.50);
  const double p99 = percentile(stats.latencies_ms, 0.99);
  const double max = stats.latencies_ms.empty() ? 0 : *std::max_element(stats.latencies_ms.begin(), stats.latencies_ms.end());
  if (f.json) {
    std::cout << fmt::format(R"({{"ops_per_s":{:.1f},"ok":{},"errors":{},"p50_ms":{:.3f},"p99_ms":{:.3f},"max_ms":{:.3f}}})", rate,
                             stats.ok, stats.errors, p50, p99, max)
              << "\n";
  } else {
    std::cout << fmt::format("{:.1f} ops/s ({} ok, {} errors in {:.1f} s); latency p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms\n",
                             rate, stats.ok, stats.errors, seconds, p50, p99, max);
  }
  return stats.ok > 0 ? 0 : 1;
}
