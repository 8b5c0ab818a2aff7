#include "tools/maelstrom/base64.hpp"

#include <array>

namespace vsr::maelstrom {

namespace {

constexpr std::string_view alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// 0..63 for alphabet characters, 64 for anything else.
constexpr std::array<std::uint8_t, 256> make_reverse() {
  std::array<std::uint8_t, 256> r{};
  for (auto& v : r) v = 64;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    r[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return r;
}
constexpr auto reverse = make_reverse();

}  // namespace

std::string base64_encode(const Bytes& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) |
                            bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return out;
  std::uint32_t v = std::uint32_t{bytes[i]} << 16;
  if (rest == 2) v |= std::uint32_t{bytes[i + 1]} << 8;
  out.push_back(alphabet[(v >> 18) & 63]);
  out.push_back(alphabet[(v >> 12) & 63]);
  out.push_back(rest == 2 ? alphabet[(v >> 6) & 63] : '=');
  out.push_back('=');
  return out;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = text[text.size() - 2] == '=' ? 2 : 1;
  Bytes out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const bool padding = last && k >= 4 - pad;
      const std::uint8_t d = padding ? 0 : reverse[static_cast<unsigned char>(text[i + k])];
      if (d == 64) return std::nullopt;
      v = (v << 6) | d;
    }
    const std::size_t take = last ? 3 - pad : 3;
    if (last && pad > 0 && (v & ((1u << (8 * pad)) - 1)) != 0) return std::nullopt;
    for (std::size_t k = 0; k < take; ++k) out.push_back(static_cast<std::uint8_t>(v >> (16 - 8 * k)));
  }
  return out;
}

}  // namespace vsr::maelstrom
