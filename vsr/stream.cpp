#include "vsr/stream.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "vsr/codec.hpp"
#include "vsr/state_machine.hpp"
#include "vsr/wire.hpp"

namespace vsr {

namespace {
constexpr std::uint8_t hello_magic[4] = {'V', 'S', 'R', 'H'};
constexpr std::size_t hello_checked_bytes = 24;
}  // namespace

Bytes encode_hello(const Hello& h) {
  Bytes out(hello_bytes, 0);
  std::copy(std::begin(hello_magic), std::end(hello_magic), out.begin());
  out[4] = hello_version;
  out[5] = static_cast<std::uint8_t>(h.role);
  wire::store_le(&out[8], h.cluster.value, 8);
  wire::store_le(&out[16], h.sender, 8);
  wire::store_le(&out[24], hash_bytes(out.data(), hello_checked_bytes), 8);
  return out;
}

Result<Hello> decode_hello(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != hello_bytes) {
    return Error{fmt::format("hello: {} bytes, expected {}", bytes.size(), hello_bytes)};
  }
  if (!std::equal(std::begin(hello_magic), std::end(hello_magic), bytes.begin())) {
    return Error{"hello: not a vsr stream (bad magic; expected \"VSRH\")"};
  }
  if (bytes[4] != hello_version) {
    return Error{fmt::format("hello: version {}, expected {}", bytes[4], hello_version)};
  }
  if (bytes[5] > static_cast<std::uint8_t>(PeerRole::client)) {
    return Error{fmt::format("hello: unknown role {}", bytes[5])};
  }
  if (bytes[6] != 0 || bytes[7] != 0) return Error{"hello: reserved bytes are not zero"};
  const std::uint64_t stored = wire::load_le(&bytes[24], 8);
  if (stored != hash_bytes(bytes.data(), hello_checked_bytes)) {
    return Error{"hello: bad checksum"};
  }
  Hello h;
  h.role = static_cast<PeerRole>(bytes[5]);
  h.cluster = ClusterId(wire::load_le(&bytes[8], 8));
  h.sender = wire::load_le(&bytes[16], 8);
  return h;
}

Result<void> admit_hello(const Hello& h, ClusterId cluster, const Config& config) {
  if (h.cluster != cluster) {
    return Error{fmt::format("peer of cluster {}, this is cluster {}", h.cluster.value, cluster.value)};
  }
  if (h.role == PeerRole::replica) {
    if (h.sender >= config.replica_count) {
      return Error{fmt::format("replica {} of a {}-replica cluster", h.sender, config.replica_count)};
    }
    if (h.sender == config.self.value) {
      return Error{fmt::format("replica {} is this replica (a misconfigured address?)", h.sender)};
    }
  }
  return outcome::success();
}

Bytes keepalive_frame() { return seal_frame(keepalive_frame_type, {}); }

FrameSplitter::FrameSplitter(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

void FrameSplitter::feed(std::span<const std::uint8_t> bytes) {
  if (error_) return;
  compact();
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
  if (!hello_) take_hello();
}

void FrameSplitter::take_hello() {
  if (buffered_bytes() < hello_bytes) return;
  auto h = decode_hello(std::span<const std::uint8_t>(buffer_).subspan(start_, hello_bytes));
  if (!h) {
    error_ = h.error();
    return;
  }
  hello_ = h.value();
  start_ += hello_bytes;
}

void FrameSplitter::compact() {
  if (start_ == 0) return;
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
  start_ = 0;
}

std::optional<Bytes> FrameSplitter::next_frame() {
  for (;;) {
    std::optional<Bytes> frame = cut_frame();
    if (!frame || (*frame)[3] != keepalive_frame_type || frame->size() != frame_header_bytes) return frame;
    if (*frame != keepalive_frame()) {
      error_ = Error{"frame: a keepalive with a bad checksum"};
      return std::nullopt;
    }
    ++keepalives_;
  }
}

std::optional<Bytes> FrameSplitter::cut_frame() {
  if (error_ || !hello_ || buffered_bytes() < frame_header_bytes) return std::nullopt;
  const std::uint8_t* head = buffer_.data() + start_;
  if (head[0] != 'V' || head[1] != 'S') {
    error_ = Error{"frame: not a vsr frame (bad magic)"};
    return std::nullopt;
  }
  const std::size_t total = frame_header_bytes + wire::load_le(head + 4, 4);
  if (total > max_frame_bytes_) {
    error_ = Error{fmt::format("frame: {} bytes, more than the {} allowed", total, max_frame_bytes_)};
    return std::nullopt;
  }
  if (buffered_bytes() < total) return std::nullopt;
  Bytes frame(head, head + total);
  start_ += total;
  if (start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  }
  return frame;
}

}  // namespace vsr
