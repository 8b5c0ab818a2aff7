// A minimal HTTP/1.0 server for Prometheus scrapes: GET /metrics answers the text a
// callback renders (the text exposition format, version 0.0.4); any other path is 404,
// anything that is not a GET is 405. One request per connection; a request head over
// 8 KiB or slower than 5 s is dropped. Runs on the caller's io_context.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "vsr/config.hpp"

namespace vsr::io {

class MetricsServer {
 public:
  using Render = std::function<std::string()>;
  /// Listens on `endpoint` (port 0: any free port). Throws nothing: see open().
  MetricsServer(boost::asio::io_context& io, Render render);
  Result<void> open(const boost::asio::ip::tcp::endpoint& endpoint);
  void close();
  [[nodiscard]] boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  void accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  Render render_;
};

}  // namespace vsr::io
