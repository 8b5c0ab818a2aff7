#include "tools/sim_cli.hpp"

#include <charconv>

namespace vsr::sim {

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::uint64_t> parse_duration_us(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    std::uint64_t us;
  };
  constexpr Unit units[] = {{"us", 1}, {"ms", 1'000}, {"s", 1'000'000}, {"m", 60'000'000}};
  constexpr std::uint64_t max_us = 3'600'000'000ULL;
  for (const Unit& u : units) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      auto n = parse_u64(text.substr(0, text.size() - u.suffix.size()));
      if (!n || *n == 0 || *n > max_us / u.us) return std::nullopt;
      return *n * u.us;
    }
  }
  auto n = parse_u64(text);
  if (!n || *n == 0 || *n > max_us / 1'000'000) return std::nullopt;
  return *n * 1'000'000;
}

std::optional<SeedRange> parse_seed_range(std::string_view text) {
  constexpr std::uint64_t max_seeds = 10'000'000;
  auto dots = text.find("..");
  if (dots == std::string_view::npos) {
    auto one = parse_u64(text);
    if (!one) return std::nullopt;
    return SeedRange{*one, *one};
  }
  auto a = parse_u64(text.substr(0, dots));
  auto b = parse_u64(text.substr(dots + 2));
  if (!a || !b || *a > *b || *b - *a >= max_seeds) return std::nullopt;
  return SeedRange{*a, *b};
}

std::optional<Shard> parse_shard(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto k = parse_u64(text.substr(0, slash));
  auto n = parse_u64(text.substr(slash + 1));
  if (!k || !n || *k < 1 || *k > *n) return std::nullopt;
  return Shard{*k, *n};
}

std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard) {
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t i = shard.index - 1; i <= range.last - range.first; i += shard.count) {
    seeds.push_back(range.first + i);
  }
  return seeds;
}

}  // namespace vsr::sim

