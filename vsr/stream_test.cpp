#include "vsr/stream.hpp"

#include <doctest/doctest.h>

#include "vsr/codec.hpp"

using namespace vsr;

namespace {
Config config3(std::uint8_t self) {
  Config c;
  c.replica_count = 3;
  c.self = ReplicaIndex(self);
  return c;
}
Bytes frame_of(std::uint64_t view) {
  return encode(Message{Commit{ViewNumber(view), CommitNumber(view), ReplicaIndex(1)}});
}
}  // namespace

TEST_CASE("hello round-trips, and every corruption is named") {
  const Hello h{ClusterId(77), PeerRole::client, 0x1234567890ULL};
  Bytes b = encode_hello(h);
  REQUIRE(b.size() == hello_bytes);
  CHECK(decode_hello(b).value() == h);
  for (std::size_t i = 0; i < b.size(); ++i) {
    Bytes bad = b;
    bad[i] ^= 0x10;
    CHECK_FALSE(decode_hello(bad));
  }
  Bytes http(hello_bytes, 'G');
  CHECK(decode_hello(http).error().message.find("magic") != std::string::npos);
  CHECK_FALSE(decode_hello(std::span<const std::uint8_t>(b).first(10)));
}

TEST_CASE("admit_hello refuses another cluster, a replica out of range, and itself") {
  const Config c = config3(0);
  CHECK(admit_hello({ClusterId(5), PeerRole::replica, 1}, ClusterId(5), c));
  CHECK(admit_hello({ClusterId(5), PeerRole::client, 999}, ClusterId(5), c));
  auto other = admit_hello({ClusterId(6), PeerRole::replica, 1}, ClusterId(5), c);
  REQUIRE_FALSE(other);
  CHECK(other.error().message == "peer of cluster 6, this is cluster 5");
  CHECK_FALSE(admit_hello({ClusterId(5), PeerRole::replica, 3}, ClusterId(5), c));
  CHECK_FALSE(admit_hello({ClusterId(5), PeerRole::replica, 0}, ClusterId(5), c));
}

TEST_CASE("the splitter returns the hello and frames whatever the read sizes") {
  Bytes stream = encode_hello({ClusterId(1), PeerRole::replica, 2});
  for (std::uint64_t v = 1; v <= 5; ++v) {
    Bytes f = frame_of(v);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{1000}}) {
    FrameSplitter s(max_frame_bytes);
    std::vector<Bytes> frames;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      const std::size_t n = std::min(chunk, stream.size() - at);
      s.feed(std::span<const std::uint8_t>(stream).subspan(at, n));
      while (auto f = s.next_frame()) frames.push_back(*f);
    }
    REQUIRE(s.hello().has_value());
    CHECK(s.hello()->sender == 2);
    REQUIRE(frames.size() == 5);
    for (std::uint64_t v = 1; v <= 5; ++v) CHECK(frames[v - 1] == frame_of(v));
    CHECK(s.buffered_bytes() == 0);
    CHECK_FALSE(s.error());
  }
}

TEST_CASE("the splitter stops at garbage and at an oversize header before buffering it") {
  FrameSplitter garbage(max_frame_bytes);
  const std::string text = "GET / HTTP/1.1\r\nHost: example\r\n\r\n.....";
  garbage.feed(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  CHECK_FALSE(garbage.hello());
  REQUIRE(garbage.error());
  CHECK(garbage.error()->message.find("magic") != std::string::npos);

  FrameSplitter big(1024);
  Bytes stream = encode_hello({ClusterId(1), PeerRole::client, 9});
  Bytes header = frame_of(1);
  header.resize(frame_header_bytes);
  header[4] = 0xff;
  header[5] = 0xff;  // body length 65535: over the 1024-byte limit
  stream.insert(stream.end(), header.begin(), header.end());
  big.feed(stream);
  CHECK_FALSE(big.next_frame());
  REQUIRE(big.error());
  CHECK(big.error()->message.find("more than the 1024 allowed") != std::string::npos);

  FrameSplitter not_frame(max_frame_bytes);
  Bytes s2 = encode_hello({ClusterId(1), PeerRole::client, 9});
  s2.insert(s2.end(), 16, 0x00);
  not_frame.feed(s2);
  CHECK_FALSE(not_frame.next_frame());
  CHECK(not_frame.error());
}

TEST_CASE("keepalives between frames are consumed and counted; a damaged one ends the stream") {
  Bytes stream = encode_hello({ClusterId(1), PeerRole::replica, 2});
  const Bytes k = keepalive_frame();
  CHECK(k.size() == frame_header_bytes);
  for (std::uint64_t v = 1; v <= 2; ++v) {
    stream.insert(stream.end(), k.begin(), k.end());
    Bytes f = frame_of(v);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  stream.insert(stream.end(), k.begin(), k.end());
  FrameSplitter s(max_frame_bytes);
  s.feed(stream);
  CHECK(s.next_frame() == frame_of(1));
  CHECK(s.next_frame() == frame_of(2));
  CHECK_FALSE(s.next_frame());
  CHECK(s.keepalives() == 3);
  CHECK_FALSE(s.error());

  Bytes bad = encode_hello({ClusterId(1), PeerRole::replica, 2});
  Bytes damaged = k;
  damaged[10] ^= 1;
  bad.insert(bad.end(), damaged.begin(), damaged.end());
  FrameSplitter t(max_frame_bytes);
  t.feed(bad);
  CHECK_FALSE(t.next_frame());
  REQUIRE(t.error());
  CHECK(t.error()->message.find("keepalive") != std::string::npos);
}
