#include "vsr/io/metrics_server.hpp"

#include <chrono>

#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace vsr::io {

using boost::asio::ip::tcp;

namespace {

constexpr std::size_t max_head_bytes = 8192;

/// One scrape: reads the request head, writes the response, closes.
struct Exchange : std::enable_shared_from_this<Exchange> {
  Exchange(tcp::socket s, const MetricsServer::Render& r)
      : socket(std::move(s)), timer(socket.get_executor()), head(max_head_bytes), render(r) {}

  void run() {
    timer.expires_after(std::chrono::seconds(5));
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->socket.close();
    });
    boost::asio::async_read_until(socket, head, "\r\n\r\n",
                                  [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                    if (!ec) self->answer();
                                    else self->timer.cancel();
                                  });
  }

  void answer() {
    std::istream in(&head);
    std::string method, path;
    in >> method >> path;
    if (method != "GET") {
      response = reply("405 Method Not Allowed", "text/plain", "only GET\n");
    } else if (path == "/metrics" || path.rfind("/metrics?", 0) == 0) {
      response = reply("200 OK", "text/plain; version=0.0.4; charset=utf-8", render());
    } else {
      response = reply("404 Not Found", "text/plain", "metrics are at /metrics\n");
    }
    boost::asio::async_write(socket, boost::asio::buffer(response),
                             [self = shared_from_this()](const boost::system::error_code&, std::size_t) {
                               boost::system::error_code ignored;
                               self->socket.shutdown(tcp::socket::shutdown_both, ignored);
                               self->socket.close(ignored);
                               self->timer.cancel();
                             });
  }

  static std::string reply(std::string_view status, std::string_view type, const std::string& body) {
    return fmt::format("HTTP/1.0 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                       status, type, body.size(), body);
  }

  tcp::socket socket;
  boost::asio::steady_timer timer;
  boost::asio::streambuf head;
  MetricsServer::Render render;
  std::string response;
};

}  // namespace

MetricsServer::MetricsServer(boost::asio::io_context& io, Render render)
    : acceptor_(io), render_(std::move(render)) {}

Result<void> MetricsServer::open(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec) {
    return Error{fmt::format("metrics: cannot listen on {}:{}: {}", endpoint.address().to_string(),
                             endpoint.port(), ec.message())};
  }
  accept();
  return outcome::success();
}

void MetricsServer::close() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

tcp::endpoint MetricsServer::local_endpoint() const {
  boost::system::error_code ignored;
  return acceptor_.local_endpoint(ignored);
}

void MetricsServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Exchange>(std::move(socket), render_)->run();
    accept();
  });
}

}  // namespace vsr::io
