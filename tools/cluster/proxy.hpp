// A TCP proxy the cluster harness owns, one per ordered pair of replicas (i → j): replica
// i dials j through it, so cutting it partitions that direction. Cut: every connection
// through it closes, and new ones are accepted and closed at once (as a network that
// drops everything would look to the dialer, which retries with backoff).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace vsr::cluster {

using boost::asio::ip::tcp;

class Proxy {
 public:
  /// Listens on 127.0.0.1 (an ephemeral port) and forwards to `target`.
  Proxy(boost::asio::io_context& io, tcp::endpoint target);
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void set_cut(bool cut);
  [[nodiscard]] bool cut() const { return cut_; }

  struct Pipe;

 private:
  void accept();

  boost::asio::io_context& io_;
  tcp::acceptor acceptor_;
  tcp::endpoint target_;
  bool cut_ = false;
  std::vector<std::weak_ptr<Pipe>> pipes_;
};

}  // namespace vsr::cluster
