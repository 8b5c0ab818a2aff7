#include "vsr/io/connection.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <vector>

#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "vsr/codec.hpp"

namespace vsr::io {

namespace {
constexpr std::size_t read_chunk_bytes = 64 * 1024;
constexpr std::size_t max_frames_per_write = 256;
}  // namespace

Result<std::pair<std::string, std::uint16_t>> parse_address(std::string_view address, std::uint16_t min_port) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return Error{fmt::format("address '{}': expected host:port", address)};
  }
  std::string_view host = address.substr(0, colon);
  const std::string_view port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return Error{fmt::format("address '{}': the host is empty", address)};
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value < min_port || value > 65535) {
    return Error{fmt::format("address '{}': the port '{}' is not a number in {}..65535", address, port, min_port)};
  }
  return std::pair{std::string(host), static_cast<std::uint16_t>(value)};
}

Connection::Connection(tcp::socket socket, ConnectionLimits limits, Handlers handlers, std::string label)
    : socket_(std::move(socket)),
      hello_timer_(socket_.get_executor()),
      keepalive_timer_(socket_.get_executor()),
      limits_(limits),
      handlers_(std::move(handlers)),
      label_(std::move(label)),
      splitter_(limits.max_frame_bytes),
      read_buffer_(read_chunk_bytes) {}

void Connection::start(const Hello& mine) {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  send_frame(encode_hello(mine));
  hello_timer_.expires_after(std::chrono::milliseconds(limits_.hello_timeout_ms));
  hello_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->hello_seen_ || !self->open_) return;
    self->close(fmt::format("no hello within {} ms (a half-open connection, or not a vsr peer)",
                            self->limits_.hello_timeout_ms));
  });
  last_received_ = last_sent_ = std::chrono::steady_clock::now();
  arm_keepalive();
  read_some();
}

void Connection::arm_keepalive() {
  const std::uint32_t period_ms = std::min(limits_.keepalive_ms == 0 ? limits_.silence_timeout_ms : limits_.keepalive_ms,
                                           limits_.silence_timeout_ms == 0 ? limits_.keepalive_ms : limits_.silence_timeout_ms);
  if (period_ms == 0 || !open_) return;
  keepalive_timer_.expires_after(std::chrono::milliseconds(std::max<std::uint32_t>(period_ms / 2, 1)));
  keepalive_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec && self->open_) self->on_keepalive_timer();
  });
}

void Connection::on_keepalive_timer() {
  using std::chrono::milliseconds;
  const auto now = std::chrono::steady_clock::now();
  if (limits_.silence_timeout_ms != 0 && now - last_received_ >= milliseconds(limits_.silence_timeout_ms)) {
    return close(fmt::format("nothing received for {} ms (a dead or stopped peer, or a half-open connection)",
                             limits_.silence_timeout_ms));
  }
  if (limits_.keepalive_ms != 0 && now - last_sent_ >= milliseconds(limits_.keepalive_ms)) send_frame(keepalive_frame());
  arm_keepalive();
}

bool Connection::send(const Message& m) {
  if (!open_) return false;
  return send_frame(encode(m));
}

bool Connection::send_frame(Bytes frame) {
  if (!open_) return false;
  if (queued_bytes_ + frame.size() > limits_.max_queued_bytes && !queue_.empty()) {
    ++frames_dropped_;
    return false;
  }
  queued_bytes_ += frame.size();
  queue_.push_back(std::move(frame));
  last_sent_ = std::chrono::steady_clock::now();
  if (writing_frames_ == 0) write_some();
  return true;
}

void Connection::write_some() {
  if (!open_ || queue_.empty()) return;
  std::vector<boost::asio::const_buffer> buffers;
  const std::size_t n = std::min(queue_.size(), max_frames_per_write);
  buffers.reserve(n);
  for (std::size_t i = 0; i < n; ++i) buffers.emplace_back(queue_[i].data(), queue_[i].size());
  writing_frames_ = n;
  boost::asio::async_write(socket_, buffers,
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                             if (!self->open_) return;
                             if (ec) return self->close(fmt::format("write failed: {}", ec.message()));
                             for (std::size_t i = 0; i < self->writing_frames_; ++i) {
                               self->queued_bytes_ -= self->queue_.front().size();
                               self->queue_.pop_front();
                             }
                             self->writing_frames_ = 0;
                             self->write_some();
                           });
}

void Connection::resume_reading() {
  paused_ = false;
  if (!reading_) read_some();
}

void Connection::read_some() {
  if (!open_ || paused_ || reading_) return;
  reading_ = true;
  socket_.async_read_some(boost::asio::buffer(read_buffer_),
                          [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                            self->reading_ = false;
                            if (!self->open_) return;
                            if (ec == boost::asio::error::eof) return self->close("the peer closed the connection");
                            if (ec) return self->close(fmt::format("read failed: {}", ec.message()));
                            self->on_read(n);
                          });
}

void Connection::on_read(std::size_t n) {
  last_received_ = std::chrono::steady_clock::now();
  splitter_.feed(std::span<const std::uint8_t>(read_buffer_.data(), n));
  if (!hello_seen_ && splitter_.hello()) {
    hello_seen_ = true;
    hello_timer_.cancel();
    if (handlers_.on_hello) handlers_.on_hello(*this, *splitter_.hello());
    if (!open_) return;
  }
  while (open_) {
    std::optional<Bytes> frame = splitter_.next_frame();
    if (!frame) break;
    auto m = decode(*frame);
    if (!m) return close(fmt::format("a bad frame: {}", m.error().message));
    if (handlers_.on_message) handlers_.on_message(*this, std::move(m.value()));
  }
  if (!open_) return;
  if (splitter_.error()) return close(splitter_.error()->message);
  read_some();
}

void Connection::close(const std::string& why) {
  if (!open_) return;
  open_ = false;
  hello_timer_.cancel();
  keepalive_timer_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  queue_.clear();
  queued_bytes_ = 0;
  if (handlers_.on_close) {
    auto on_close = std::move(handlers_.on_close);
    handlers_ = {};
    on_close(*this, why);
  }
}

}  // namespace vsr::io
