#include "sim/limits.hpp"

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

namespace vsr::sim {

namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t us;
};
// Longest suffixes first, so "ms" is not read as "m" followed by junk.
constexpr std::array<Unit, 5> units = {{{"us", 1},
                                        {"ms", 1'000},
                                        {"s", us_per_s},
                                        {"m", 60 * us_per_s},
                                        {"h", 3'600 * us_per_s}}};

constexpr std::string_view duration_syntax =
    "a whole number with a unit: 250us, 500ms, 10s, 2m, 1h; a bare number is seconds";

/// Digits only, as an unsigned integer: false on anything else; `overflow` tells a
/// number too large for 64 bits from junk.
bool digits_to_u64(std::string_view s, std::uint64_t& value, bool& overflow) {
  overflow = false;
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (end != s.data() + s.size()) return false;
  if (ec == std::errc::result_out_of_range) overflow = true;
  return ec == std::errc{};
}

}  // namespace

std::string format_duration(std::uint64_t us) {
  if (us == 0) return "0s";
  for (auto it = units.rbegin(); it != units.rend(); ++it) {
    if (us % it->us == 0) return fmt::format("{}{}", us / it->us, it->suffix);
  }
  return fmt::format("{}us", us);
}

InputResult<std::uint64_t> parse_duration_us(std::string_view text, std::string_view what,
                                             std::uint64_t min_us, std::uint64_t max_us) {
  std::string_view number = text;
  std::uint64_t scale = us_per_s;  // a bare number is seconds
  for (const Unit& u : units) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      number = text.substr(0, text.size() - u.suffix.size());
      scale = u.us;
      break;
    }
  }
  std::uint64_t n = 0;
  bool overflow = false;
  if (!digits_to_u64(number, n, overflow)) {
    if (overflow) return InputError{fmt::format("{}: '{}' exceeds the maximum {}", what, text, format_duration(max_us))};
    bool fraction = text.find('.') != std::string_view::npos;
    return InputError{fmt::format("{}: '{}' is not a duration ({}{})", what, text,
                                  fraction ? "no fractions, write 500ms for 0.5s; " : "", duration_syntax)};
  }
  if (n > max_us / scale) {
    return InputError{fmt::format("{}: '{}' exceeds the maximum {}", what, text, format_duration(max_us))};
  }
  if (n * scale < min_us) {
    return InputError{fmt::format("{}: '{}' is below the minimum {}", what, text, format_duration(min_us))};
  }
  return n * scale;
}

InputResult<std::uint64_t> parse_bounded_uint(std::string_view text, std::string_view what,
                                              std::uint64_t min, std::uint64_t max) {
  std::uint64_t v = 0;
  bool overflow = false;
  if (!digits_to_u64(text, v, overflow)) {
    if (overflow) return InputError{fmt::format("{}: {} exceeds the maximum {}", what, text, max)};
    return InputError{fmt::format("{}: '{}' is not a whole number in {}..{}", what, text, min, max)};
  }
  if (v > max) return InputError{fmt::format("{}: {} exceeds the maximum {}", what, v, max)};
  if (v < min) return InputError{fmt::format("{}: {} is below the minimum {}", what, v, min)};
  return v;
}

InputResult<std::uint64_t> parse_seed(std::string_view text, std::string_view what) {
  std::uint64_t v = 0;
  bool overflow = false;
  if (!digits_to_u64(text, v, overflow)) {
    return InputError{fmt::format("{}: '{}' is not a seed (a whole number 0..{}){}", what, text, UINT64_MAX,
                                  overflow ? ": too large" : "")};
  }
  return v;
}

InputResult<double> parse_probability(std::string_view text, std::string_view what) {
  // Only [0-9.] may start it: no sign, no "inf" or "nan". from_chars ignores the locale.
  double v = 0;
  bool ok = !text.empty() && ((text.front() >= '0' && text.front() <= '9') || text.front() == '.');
  if (ok) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    ok = ec == std::errc{} && end == text.data() + text.size() && v >= 0.0 && v <= 1.0;
  }
  if (!ok) return InputError{fmt::format("{}: '{}' is not a probability between 0 and 1", what, text)};
  return v;
}

InputResult<std::string> read_input_file(const std::string& path, std::string_view what,
                                         std::size_t max_bytes) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) return InputError{fmt::format("{}: cannot read '{}': {}", what, path, ec.message())};
  if (std::filesystem::is_directory(status)) {
    return InputError{fmt::format("{}: '{}' is a directory, not a file", what, path)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return InputError{fmt::format("{}: cannot read '{}'", what, path)};
  std::string text;
  std::array<char, 1 << 16> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return InputError{fmt::format("{}: '{}' is larger than the maximum {} bytes", what, path, max_bytes)};
    }
  }
  if (in.bad()) return InputError{fmt::format("{}: read error in '{}'", what, path)};
  return text;
}

}  // namespace vsr::sim
