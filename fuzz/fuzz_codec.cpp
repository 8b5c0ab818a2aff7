// fuzz_codec: arbitrary bytes go to vsr::decode().
//
// Properties (a violation aborts, so libFuzzer keeps the input):
// - decode() never crashes, never reads out of bounds, never trips a sanitizer;
// - an error always carries a message;
// - anything that decodes passes check_message(), and encode() gives back exactly the
//   input bytes (the encoding is canonical), which decode to an equal message.
//
// Input: the first byte picks the mode, so the fuzzer reaches the body checks without
// having to forge a checksum:
//   even: the rest is one frame, decoded as is;
//   odd:  the next byte is a message type and the rest a body; seal_frame() wraps them
//         in a valid header and checksum first.
#include <cstddef>
#include <cstdint>
#include <span>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "vsr/codec.hpp"

namespace {

void decode_and_check(std::span<const std::uint8_t> frame) {
  vsr::Result<vsr::Message> m = vsr::decode(frame);
  if (!m) {
    FUZZ_CHECK(!m.error().message.empty(), "decode error without a message");
    return;
  }
  auto consistent = vsr::check_message(m.value());
  FUZZ_CHECK(consistent.has_value(), consistent.error().message);
  vsr::Bytes again = vsr::encode(m.value());
  FUZZ_CHECK(std::equal(again.begin(), again.end(), frame.begin(), frame.end()),
             fmt::format("re-encoding {} gives {} bytes, input had {}", m.value(), again.size(),
                         frame.size()));
  vsr::Result<vsr::Message> twice = vsr::decode(again);
  FUZZ_CHECK(twice.has_value() && twice.value() == m.value(), "decode(encode(m)) != m");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::span<const std::uint8_t> in(data + 1, size - 1);
  if ((data[0] & 1) == 0) {
    decode_and_check(in);
    return 0;
  }
  if (in.empty()) return 0;
  vsr::Bytes frame = vsr::seal_frame(in[0], in.subspan(1));
  decode_and_check(frame);
  return 0;
}
