// fuzz_stream: arbitrary bytes as the stream a peer sends a node (vsr/stream.hpp): the
// Hello, then frames, keepalives and garbage, cut into reads of arbitrary sizes.
//
// Properties (a violation aborts, so libFuzzer keeps the input):
// - the splitter and decode() never crash or trip a sanitizer, and a stopped stream
//   always says why;
// - the reads' sizes change nothing: the stream fed whole and fed in the input's chunk
//   sizes give the same Hello, the same frames, the same keepalive count and the same
//   error;
// - memory stays bounded: what the splitter buffers never exceeds one frame's limit
//   plus one read;
// - admit_hello() on any Hello answers (yes, or an error with a message).
//
// Input: byte 0 picks the read sizes (1 + byte0 % 97); bit 7 of byte 1 prefixes a valid
// Hello of cluster 1 and bit 6 a keepalive (so the fuzzer reaches the frames without
// forging checksums); the rest is the stream.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "vsr/codec.hpp"
#include "vsr/stream.hpp"

namespace {

constexpr std::size_t limit_bytes = 4096;

struct Seen {
  std::optional<vsr::Hello> hello;
  std::vector<vsr::Bytes> frames;
  std::uint64_t keepalives = 0;
  std::optional<std::string> error;
};

Seen split(std::span<const std::uint8_t> stream, std::size_t chunk) {
  vsr::FrameSplitter s(limit_bytes);
  Seen seen;
  for (std::size_t at = 0; at < stream.size(); at += chunk) {
    const std::size_t n = std::min(chunk, stream.size() - at);
    s.feed(stream.subspan(at, n));
    FUZZ_CHECK(s.buffered_bytes() <= limit_bytes + chunk + vsr::hello_bytes, "the splitter buffers too much");
    while (auto f = s.next_frame()) {
      auto m = vsr::decode(*f);
      FUZZ_CHECK(m.has_value() || !m.error().message.empty(), "decode error without a message");
      seen.frames.push_back(std::move(*f));
    }
    if (s.error()) break;
  }
  seen.hello = s.hello();
  seen.keepalives = s.keepalives();
  if (s.error()) {
    FUZZ_CHECK(!s.error()->message.empty(), "a stream error without a message");
    seen.error = s.error()->message;
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t chunk = 1 + data[0] % 97;
  vsr::Bytes stream;
  if ((data[1] & 0x80) != 0) stream = vsr::encode_hello({vsr::ClusterId(1), vsr::PeerRole::replica, 2});
  if ((data[1] & 0x40) != 0) {
    const vsr::Bytes k = vsr::keepalive_frame();
    stream.insert(stream.end(), k.begin(), k.end());
  }
  stream.insert(stream.end(), data + 2, data + size);
  const Seen whole = split(stream, stream.size() == 0 ? 1 : stream.size());
  const Seen cut = split(stream, chunk);
  FUZZ_CHECK(whole.hello == cut.hello, "the Hello depends on the read sizes");
  FUZZ_CHECK(whole.frames == cut.frames, "the frames depend on the read sizes");
  FUZZ_CHECK(whole.keepalives == cut.keepalives, "the keepalives depend on the read sizes");
  FUZZ_CHECK(whole.error.has_value() == cut.error.has_value(), "the stream's failure depends on the read sizes");
  if (whole.hello) {
    vsr::Config c;
    c.replica_count = 3;
    auto admitted = vsr::admit_hello(*whole.hello, vsr::ClusterId(1), c);
    FUZZ_CHECK(admitted.has_value() || !admitted.error().message.empty(), "a refusal without a reason");
  }
  return 0;
}
