// Client latencies of a run, or of a whole sweep, in bounded memory: a log-linear
// histogram (HdrHistogram's layout). Exact below 128 us; above, every value shares a
// bucket only with values within 1/64 of it. Count and maximum are exact. A one-hour run
// answers ~400,000 ops; keeping each latency would make the run's memory grow with its
// length, which issue 15 forbids.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>

namespace vsr::sim {

class LatencyHistogram {
 public:
  void add(std::uint64_t us) {
    ++counts_[bucket(us)];
    ++count_;
    max_ = std::max(max_, us);
  }
  void merge(const LatencyHistogram& other) {
    for (auto [b, n] : other.counts_) counts_[b] += n;
    count_ += other.count_;
    max_ = std::max(max_, other.max_);
  }
  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t max() const { return max_; }
  /// The nearest-rank percentile `q` (0 < q <= 1): the largest value the bucket of the
  /// ceil(q * count)-th smallest latency holds, capped at the maximum; 0 when empty.
  [[nodiscard]] std::uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    const auto rank = std::clamp<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))), 1, count_);
    std::uint64_t seen = 0;
    for (auto [b, n] : counts_) {
      seen += n;
      if (seen >= rank) return std::min(bucket_top(b), max_);
    }
    return max_;
  }

  static constexpr std::uint32_t exact_below = 128;
  /// The bucket of `v`: v itself below 128; above, 64 buckets per power of two.
  static std::uint32_t bucket(std::uint64_t v) {
    if (v < exact_below) return static_cast<std::uint32_t>(v);
    const auto e = static_cast<std::uint32_t>(std::bit_width(v)) - 7;  // >= 1
    const auto m = static_cast<std::uint32_t>(v >> e);                 // 64..127
    return exact_below + (e - 1) * 64 + (m - 64);
  }
  /// The largest value in bucket `b`.
  static std::uint64_t bucket_top(std::uint32_t b) {
    if (b < exact_below) return b;
    const std::uint32_t e = (b - exact_below) / 64 + 1;
    const std::uint64_t m = (b - exact_below) % 64 + 64;
    return ((m + 1) << e) - 1;
  }

 private:
  std::map<std::uint32_t, std::uint64_t> counts_;  // bucket -> latencies in it
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace vsr::sim
