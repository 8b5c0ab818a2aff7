// The simulator's only source of randomness: xoshiro256** seeded through SplitMix64,
// with our own bounded-integer, real, Bernoulli and exponential draws. Never the
// std::*_distribution types: their output differs between standard libraries.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

namespace vsr::sim {

__extension__ typedef unsigned __int128 U128;  // for Lemire's bounded draw

/// SplitMix64: a seed expander; also a good 64-bit mixing function.
constexpr std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The concerns that draw random numbers. Each has its own stream, so adding draws to
/// one concern (a new fault kind takes a new stream) does not reshuffle the others.
enum class Stream : std::uint64_t {
  swarm = 1,      // the per-seed parameters
  network = 2,    // the key of per-message fates: drops, duplicates, delays (network.hpp)
  faults = 3,     // crashes, wipes, pauses, partitions
  workload = 4,   // client operations and think times
  clocks = 5,     // drift and skew
  disk = 6,       // write latencies
  nonces = 7,     // recovery nonces
  partitions = 8, // partition shapes
  buggify = 9,    // crashes aimed at interesting moments
  storage = 10,   // storage faults: torn writes, corruption, latent errors, misdirected writes
};

/// Tape mode (fuzz_sim, `vsr-sim run --input FILE`): a shared cursor over input bytes
/// that replaces the generators' output, so the bytes make every choice of the run.
/// Each draw takes only the bytes it needs: below(n) the fewest bytes that hold n-1
/// (none for n = 1), real() and chance() two, next() eight, all little-endian. A draw
/// that finds too few bytes left spends the tape; from then on every generator falls
/// back to its own seeded stream, so a short input still makes a whole run (and an
/// empty input makes exactly the seed's run).
class Tape {
 public:
  Tape() = default;
  explicit Tape(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  /// The next `count` (0..8) bytes as a little-endian number, or false once the tape
  /// is spent (no byte left, or fewer than `count`).
  bool take(unsigned count, std::uint64_t& out) {
    const std::size_t left = bytes_.size() - used_;
    if (left == 0 || left < count) {
      used_ = bytes_.size();
      return false;
    }
    out = 0;
    for (unsigned i = 0; i < count; ++i) out |= static_cast<std::uint64_t>(bytes_[used_ + i]) << (8 * i);
    used_ += count;
    return true;
  }
  [[nodiscard]] std::size_t used() const { return used_; }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t used_ = 0;
};

class Prng {
 public:
  explicit Prng(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& word : state_) word = splitmix64(s);
  }

  /// An independent generator for one concern of the run seeded by `seed`.
  static Prng stream(std::uint64_t seed, Stream which) {
    std::uint64_t s = seed ^ (static_cast<std::uint64_t>(which) * 0xd1b54a32d192ed03ULL);
    return Prng(splitmix64(s));
  }

  /// Draws from `tape` while it lasts (see Tape). The tape must outlive the generator.
  void attach(Tape* tape) { tape_ = tape; }

  std::uint64_t next() {
    if (tape_ != nullptr) [[unlikely]] {
      std::uint64_t word = 0;
      if (tape_->take(8, word)) return word;
    }
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, n). Precondition: n > 0. Lemire's multiply-shift with rejection,
  /// so it is unbiased.
  std::uint64_t below(std::uint64_t n) {
    if (tape_ != nullptr) [[unlikely]] {
      std::uint64_t v = 0;
      if (tape_->take(static_cast<unsigned>(std::bit_width(n - 1) + 7) / 8, v)) return v % n;
    }
    U128 m = static_cast<U128>(next()) * n;
    auto low = static_cast<std::uint64_t>(m);
    if (low < n) {
      const std::uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<U128>(next()) * n;
        low = static_cast<std::uint64_t>(m);
      }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }

  /// Uniform in [lo, hi]. Precondition: lo <= hi.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    return lo + (hi - lo == UINT64_MAX ? next() : below(hi - lo + 1));
  }

  /// Uniform in [0, 1), 53 bits.
  double real() {
    if (tape_ != nullptr) [[unlikely]] {
      std::uint64_t v = 0;
      if (tape_->take(2, v)) return static_cast<double>(v) * 0x1.0p-16;
    }
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
  }

  /// True with probability p.
  bool chance(double p) { return p > 0 && real() < p; }

  /// Exponentially distributed with the given mean (inverse transform).
  double exponential(double mean) { return -mean * std::log1p(-real()); }

  /// Picks an index by integer weights. Precondition: some weight is positive.
  template <typename Weights>
  std::size_t weighted(const Weights& weights) {
    std::uint64_t total = 0;
    for (auto w : weights) total += w;
    std::uint64_t pick = below(total);
    std::size_t i = 0;
    for (auto w : weights) {
      if (pick < w) return i;
      pick -= w;
      ++i;
    }
    return i - 1;
  }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
  }
  std::uint64_t state_[4]{};
  Tape* tape_ = nullptr;
};

}  // namespace vsr::sim
