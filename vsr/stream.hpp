// The byte stream between two processes of one cluster (vsr/io's TCP transport, and any
// other stream transport): pure, so the framing is fuzzed and unit-tested without sockets.
//
// A connection opens with one Hello from each side, then carries codec frames
// (vsr/codec.hpp) back to back; a frame's header says its length. The Hello names the
// cluster, so a process refuses a peer of another cluster before reading anything else,
// and names who speaks: a replica (its index) or a client (its id).
//
//   Hello layout (32 bytes, little-endian):
//     [0]  4 bytes magic "VSRH"   [4] u8 version (1)   [5] u8 role (0 replica, 1 client)
//     [6]  u16 zero               [8] u64 cluster id   [16] u64 sender (index or client id)
//     [24] u64 checksum: hash_bytes of bytes [0, 24)
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vsr/config.hpp"
#include "vsr/message.hpp"

namespace vsr {

/// A cluster's identity: every process of one cluster is given the same one, and
/// refuses connections that name another.
using ClusterId = Tagged<struct ClusterTag>;

enum class PeerRole : std::uint8_t { replica = 0, client = 1 };

struct Hello {
  ClusterId cluster{};
  PeerRole role = PeerRole::replica;
  std::uint64_t sender = 0;  // a ReplicaIndex's value, or a ClientId's
  auto operator<=>(const Hello&) const = default;
};

/// A keepalive: a frame header (codec.hpp's layout) of this type with an empty body and
/// a correct checksum. It carries no message: FrameSplitter consumes it (counting it),
/// so a connection can prove its peer alive when it has nothing else to say.
inline constexpr std::uint8_t keepalive_frame_type = 0xff;
Bytes keepalive_frame();

inline constexpr std::size_t hello_bytes = 32;
inline constexpr std::uint8_t hello_version = 1;

Bytes encode_hello(const Hello& h);
/// Decodes exactly hello_bytes bytes; the error names the problem (not a vsr stream,
/// version, role, checksum).
Result<Hello> decode_hello(std::span<const std::uint8_t> bytes);

/// Whether a Hello may open a connection to the replica `config` describes, in cluster
/// `cluster`: same cluster, and a replica sender is another member of it. The error
/// says why not ("cluster 7, expected 9"; "replica 5 of a 3-replica cluster").
Result<void> admit_hello(const Hello& h, ClusterId cluster, const Config& config);

/// Cuts a byte stream into its Hello and its frames. Feed it what the socket read, then
/// take what is complete. The first error is final (the connection must close): a bad
/// Hello, a frame header that is not vsr's, or a frame longer than `max_frame_bytes`
/// (checked from the header alone, before buffering the body). Memory held is at most
/// one partial frame plus what one feed() brought.
class FrameSplitter {
 public:
  explicit FrameSplitter(std::size_t max_frame_bytes);

  /// Appends bytes read from the stream.
  void feed(std::span<const std::uint8_t> bytes);
  /// The peer's Hello, once its 32 bytes arrived (decoded once; an error is kept).
  [[nodiscard]] const std::optional<Hello>& hello() const { return hello_; }
  /// The next complete frame (after the Hello), or nullopt when more bytes are needed
  /// or the stream failed. A frame is returned whole, undecoded (decode() checks it).
  /// Keepalive frames are consumed here, never returned.
  std::optional<Bytes> next_frame();
  /// The error that ended the stream, if any.
  [[nodiscard]] const std::optional<Error>& error() const { return error_; }
  /// Keepalive frames consumed so far.
  [[nodiscard]] std::uint64_t keepalives() const { return keepalives_; }
  /// Bytes buffered and not yet returned.
  [[nodiscard]] std::size_t buffered_bytes() const { return buffer_.size() - start_; }

 private:
  void take_hello();
  void compact();
  /// The next complete frame of any type (keepalives included).
  std::optional<Bytes> cut_frame();

  std::size_t max_frame_bytes_;
  Bytes buffer_;
  std::size_t start_ = 0;  // first byte not yet consumed
  std::optional<Hello> hello_;
  std::optional<Error> error_;
  std::uint64_t keepalives_ = 0;
};

}  // namespace vsr
