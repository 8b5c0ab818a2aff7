// One TCP connection between two processes of a cluster (vsr/stream.hpp's protocol):
// each side sends its Hello, then codec frames. Reads are cut into frames and decoded
// here; sends are queued (bounded) and written in batches (one gather write for every
// frame queued meanwhile). Single-threaded: every call and handler runs on the
// io_context's thread.
//
// Closing: close(why) closes the socket once and calls on_close(why) once, whatever
// closed it (the peer, an error, a bad frame, a missing Hello, the owner). The owner
// drops its pointer then; handlers in flight keep the object alive until they return.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "vsr/message.hpp"
#include "vsr/stream.hpp"

namespace vsr::io {

using tcp = boost::asio::ip::tcp;

struct ConnectionLimits {
  /// Frames longer than this close the connection (vsr::max_frame_bytes by default).
  std::size_t max_frame_bytes = std::size_t{64} << 20;
  /// Sends beyond this many queued bytes are dropped (send() returns false): a slow or
  /// dead peer never makes the process grow without bound. VR retransmits what matters.
  std::size_t max_queued_bytes = std::size_t{64} << 20;
  /// A peer that has not sent its Hello this long after the connection opened is
  /// dropped (a half-open connection, or not a vsr process).
  std::uint32_t hello_timeout_ms = 5000;
  /// A connection that has sent nothing for this long sends a keepalive frame
  /// (vsr/stream.hpp), so its peer can tell it is alive; 0: never.
  std::uint32_t keepalive_ms = 1000;
  /// A connection that has received nothing (not even a keepalive) for this long is
  /// closed: its peer is dead, stopped, or behind a half-open connection; 0: never.
  std::uint32_t silence_timeout_ms = 5000;
};

/// "host:port" (host may be "[v6]") split in two; the error names the address and what
/// is wrong. Ports below `min_port` are refused (0 means "any free port" to a listener).
Result<std::pair<std::string, std::uint16_t>> parse_address(std::string_view address, std::uint16_t min_port = 1);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  struct Handlers {
    /// The peer's Hello arrived; the owner may close() here to refuse it.
    std::function<void(Connection&, const Hello&)> on_hello;
    /// A decoded message arrived (after the Hello).
    std::function<void(Connection&, Message&&)> on_message;
    /// The connection closed, and why (once).
    std::function<void(Connection&, const std::string&)> on_close;
  };

  /// `label` names the connection in logs ("replica 2", "client 10.0.0.1:5555").
  Connection(tcp::socket socket, ConnectionLimits limits, Handlers handlers, std::string label);

  /// Sends `mine` and starts reading. Call once.
  void start(const Hello& mine);
  /// Queues `m` (encoded once here). False when it was dropped: closed, or the queue is
  /// over its bound.
  bool send(const Message& m);
  /// Queues an encoded frame, as send().
  bool send_frame(Bytes frame);
  void close(const std::string& why);

  /// Stops reading (backpressure) until resume_reading().
  void pause_reading() { paused_ = true; }
  void resume_reading();

  [[nodiscard]] bool is_open() const { return open_; }
  [[nodiscard]] const std::optional<Hello>& peer() const { return splitter_.hello(); }
  [[nodiscard]] std::size_t queued_bytes() const { return queued_bytes_; }
  [[nodiscard]] const std::string& label() const { return label_; }
  void set_label(std::string label) { label_ = std::move(label); }
  [[nodiscard]] std::uint64_t frames_dropped() const { return frames_dropped_; }

 private:
  void read_some();
  void on_read(std::size_t n);
  void write_some();
  void arm_keepalive();
  void on_keepalive_timer();

  tcp::socket socket_;
  boost::asio::steady_timer hello_timer_;
  boost::asio::steady_timer keepalive_timer_;
  std::chrono::steady_clock::time_point last_received_;
  std::chrono::steady_clock::time_point last_sent_;
  ConnectionLimits limits_;
  Handlers handlers_;
  std::string label_;
  FrameSplitter splitter_;
  std::vector<std::uint8_t> read_buffer_;
  std::deque<Bytes> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t writing_frames_ = 0;  // frames of queue_'s front in the write in flight
  bool reading_ = false;
  bool paused_ = false;
  bool open_ = true;
  bool hello_seen_ = false;
  std::uint64_t frames_dropped_ = 0;
};

}  // namespace vsr::io
