// The replicated state machine the protocol drives. It must be deterministic: the
// same sequence of apply() calls from the same state gives the same results and the
// same state_hash() on every replica, compiler and platform.
#pragma once

#include <cstdint>
#include <memory>

#include "vsr/config.hpp"
#include "vsr/types.hpp"

namespace vsr {

class StateMachine {
 public:
  virtual ~StateMachine() = default;

  /// Executes one committed operation and returns its result. Called exactly once per
  /// committed op, in op order. Must not throw on a malformed operation: it returns an
  /// error result instead (operations come from clients).
  virtual Bytes apply(const Bytes& operation) = 0;

  /// The whole state as bytes; restore(snapshot()) reproduces the state exactly.
  [[nodiscard]] virtual Bytes snapshot() const = 0;

  /// Replaces the state with a snapshot. Bad bytes are an error; the state is then unchanged.
  virtual Result<void> restore(const Bytes& snapshot) = 0;

  /// A 64-bit digest of the state, equal across replicas in the same state.
  [[nodiscard]] virtual std::uint64_t state_hash() const = 0;
};

/// A deterministic 64-bit hash (FNV-1a then a SplitMix64 finaliser) for state digests.
/// Never std::hash: its values differ between standard libraries.
constexpr std::uint64_t hash_mix(std::uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

inline std::uint64_t hash_bytes(const std::uint8_t* data, std::size_t size,
                                std::uint64_t seed = 0xcbf29ce484222325ULL) {
  std::uint64_t h = seed;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 0x100000001b3ULL;
  }
  return hash_mix(h);
}

inline std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) {
  return hash_mix(a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2)));
}

}  // namespace vsr
