#include "tools/sim_cli.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "sim/limits.hpp"

namespace vsr::sim {

namespace {

/// Stores `message` in `error` (if given); always returns nullopt.
std::nullopt_t fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_duration_us(std::string_view text, std::string* error, std::string_view flag) {
  auto r = parse_duration_us(text, flag, 1, max_sim_duration_us);
  if (!r) return fail(error, r.error().message);
  return r.value();
}

std::optional<SeedRange> parse_seed_range(std::string_view text, std::string* error) {
  auto dots = text.find("..");
  if (dots == std::string_view::npos) {
    auto one = parse_seed(text, "--seeds");
    if (!one) return fail(error, one.error().message + "; or a range A..B");
    return SeedRange{one.value(), one.value()};
  }
  auto a = parse_seed(text.substr(0, dots), "--seeds");
  auto b = parse_seed(text.substr(dots + 2), "--seeds");
  if (!a || !b) {
    return fail(error, fmt::format("--seeds: '{}' is not a range A..B of seeds ({})", text,
                                   (!a ? a : b).error().message.substr(std::string_view("--seeds: ").size())));
  }
  if (a.value() > b.value()) {
    return fail(error, fmt::format("--seeds: '{}' is reversed: {} > {} (write {}..{})", text, a.value(), b.value(),
                                   b.value(), a.value()));
  }
  if (std::uint64_t span = b.value() - a.value(); span >= max_sweep_seeds) {
    std::string count = span == UINT64_MAX ? "18446744073709551616" : fmt::format("{}", span + 1);
    return fail(error, fmt::format("--seeds: '{}' has {} seeds; the maximum is {}", text, count, max_sweep_seeds));
  }
  return SeedRange{a.value(), b.value()};
}

std::optional<Shard> parse_shard(std::string_view text, std::string* error) {
  auto slash = text.find('/');
  auto bad = [&](std::string_view why) {
    return fail(error, fmt::format("--shard: '{}' is not K/N with 1 <= K <= N ({})", text, why));
  };
  if (slash == std::string_view::npos) return bad("no '/'");
  auto k = parse_seed(text.substr(0, slash), "K");
  auto n = parse_seed(text.substr(slash + 1), "N");
  if (!k || !n) return bad("K and N are whole numbers");
  if (k.value() < 1) return bad("K is at least 1");
  if (k.value() > n.value()) return bad("K is larger than N");
  return Shard{k.value(), n.value()};
}

std::optional<unsigned> parse_jobs(std::string_view text, std::size_t seeds, unsigned cores, std::string* error) {
  auto jobs = parse_bounded_uint(text, "--jobs", 0, max_jobs);
  if (!jobs) return fail(error, jobs.error().message + " (0: every core)");
  std::uint64_t j = jobs.value() == 0 ? std::max(1u, cores) : jobs.value();
  return static_cast<unsigned>(std::clamp<std::uint64_t>(j, 1, std::max<std::size_t>(seeds, 1)));
}

std::vector<std::uint64_t> shard_seeds(const SeedRange& range, const Shard& shard) {
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t i = shard.index - 1; i <= range.last - range.first; i += shard.count) {
    seeds.push_back(range.first + i);
    if (shard.count > range.last - range.first - i) break;  // the next index would pass the range (or wrap)
  }
  return seeds;
}

bool check_writable(const std::string& path, std::string_view flag, std::string* error) {
  std::error_code ec;
  bool existed = std::filesystem::exists(path, ec);
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (f == nullptr) {
    fail(error, fmt::format("{}: cannot write '{}': {}", flag, path, std::strerror(errno)));
    return false;
  }
  std::fclose(f);
  if (!existed) std::filesystem::remove(path, ec);
  return true;
}

bool write_output_file(const std::string& path, std::string_view contents, std::string_view flag,
                       std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    fail(error, fmt::format("{}: cannot write '{}': {}", flag, path, std::strerror(errno)));
    return false;
  }
  bool ok = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  ok = std::fflush(f) == 0 && ok;
  int saved = errno;
  ok = std::fclose(f) == 0 && ok;
  if (!ok) {
    fail(error, fmt::format("{}: writing '{}' failed: {}", flag, path, std::strerror(saved != 0 ? saved : errno)));
    return false;
  }
  return true;
}

}  // namespace vsr::sim
