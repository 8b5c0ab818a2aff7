// Little-endian, fixed-width binary building blocks shared by the message codec and
// the KV machine's encodings. Internal to vsr/ (no stability promise).
//
// Reader is "sticky": the first error is kept, and every later read returns a zero
// value without touching the input, so a decoder can read a whole struct and check
// once at the end. It never reads out of bounds and never allocates more than the
// remaining input justifies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "vsr/assert.hpp"
#include "vsr/config.hpp"
#include "vsr/types.hpp"

namespace vsr::wire {

/// The little-endian unsigned integer of `width` (≤ 8) bytes at `in`.
inline std::uint64_t load_le(const std::uint8_t* in, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v |= static_cast<std::uint64_t>(in[i]) << (8 * i);
  return v;
}

/// Stores the low `width` (≤ 8) bytes of `v` at `out`, little-endian.
inline void store_le(std::uint8_t* out, std::uint64_t v, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) out[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

/// Appends fields to a byte string.
class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v) { put_le(v, 4); }
  void u64(std::uint64_t v) { put_le(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }

  /// A u32 length, then the bytes. Precondition: fewer than 2^32 bytes.
  void bytes(std::span<const std::uint8_t> b) {
    u32(checked_length(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void str(std::string_view s) {
    bytes({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
  }

  /// A u32 item count. Precondition: fewer than 2^32 items.
  void count(std::size_t n) { u32(checked_length(n)); }

 private:
  static std::uint32_t checked_length(std::size_t n) {
    VSR_ASSERT(n <= UINT32_MAX, fmt::format("length {} does not fit u32", n));
    return static_cast<std::uint32_t>(n);
  }
  void put_le(std::uint64_t v, std::size_t width) {
    out_.resize(out_.size() + width);
    store_le(out_.data() + out_.size() - width, v, width);
  }

  Bytes& out_;
};

/// Reads fields from `input`, starting at offset `start`. `context` prefixes every
/// error ("decode", "decode_kv_op"); offsets in errors are offsets into `input`.
class Reader {
 public:
  Reader(std::span<const std::uint8_t> input, std::size_t start, std::string_view context)
      : input_(input), pos_(start), context_(context) {
    VSR_ASSERT(start <= input.size());
  }

  std::uint8_t u8(std::string_view field) { return static_cast<std::uint8_t>(get_le(1, field)); }
  std::uint32_t u32(std::string_view field) {
    return static_cast<std::uint32_t>(get_le(4, field));
  }
  std::uint64_t u64(std::string_view field) { return get_le(8, field); }

  /// A byte that must be exactly 0 or 1 (the encoding is canonical).
  bool boolean(std::string_view field) {
    const std::size_t at = pos_;
    const std::uint8_t v = u8(field);
    if (v > 1) {
      fail(fmt::format("field '{}' at offset {} is {}, not a bool (0 or 1)", field, at, v));
    }
    return v == 1;
  }

  /// A u32 length, then that many bytes. The length is checked against the remaining
  /// input before anything is allocated.
  Bytes bytes(std::string_view field) {
    auto raw = raw_span(field);
    return Bytes(raw.begin(), raw.end());
  }
  std::string str(std::string_view field) {
    auto raw = raw_span(field);
    return std::string(raw.begin(), raw.end());
  }

  /// A u32 item count, where each item takes at least `min_item_bytes` of input:
  /// a count the remaining input cannot hold is an error, so callers may reserve it.
  std::size_t count(std::string_view field, std::size_t min_item_bytes) {
    VSR_ASSERT(min_item_bytes > 0);
    const std::size_t at = pos_;
    const std::size_t n = u32(field);
    if (ok() && n > remaining() / min_item_bytes) {
      fail(fmt::format(
          "field '{}' at offset {} claims {} items of at least {} bytes, but only {} bytes "
          "remain",
          field, at, n, min_item_bytes, remaining()));
      return 0;
    }
    return n;
  }

  /// Records an error (the first one wins): "<context>: <message>".
  void fail(std::string_view message) {
    if (!error_) error_ = Error{fmt::format("{}: {}", context_, message)};
  }

  [[nodiscard]] bool ok() const { return !error_.has_value(); }
  [[nodiscard]] std::size_t offset() const { return pos_; }
  [[nodiscard]] std::size_t remaining() const { return input_.size() - pos_; }

  /// The first error, or else an error if input remains unread (canonical encodings
  /// have no trailing bytes); success otherwise.
  Result<void> finish() {
    if (ok() && remaining() != 0) {
      fail(fmt::format("{} trailing bytes after the last field at offset {}", remaining(),
                       pos_));
    }
    if (error_) return *error_;
    return outcome::success();
  }

 private:
  /// Reserves `n` bytes for `field`, or records a truncation error and returns false.
  bool need(std::size_t n, std::string_view field) {
    if (!ok()) return false;
    if (remaining() >= n) return true;
    fail(fmt::format("truncated: need {} bytes for field '{}' at offset {}, have {}", n, field,
                     pos_, remaining()));
    return false;
  }

  std::uint64_t get_le(std::size_t width, std::string_view field) {
    if (!need(width, field)) return 0;
    const std::uint64_t v = load_le(input_.data() + pos_, width);
    pos_ += width;
    return v;
  }

  std::span<const std::uint8_t> raw_span(std::string_view field) {
    const std::size_t n = u32(field);
    if (!need(n, field)) return {};
    auto raw = input_.subspan(pos_, n);
    pos_ += n;
    return raw;
  }

  std::span<const std::uint8_t> input_;
  std::size_t pos_;
  std::string_view context_;
  std::optional<Error> error_;
};

}  // namespace vsr::wire
