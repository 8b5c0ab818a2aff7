// The simulated network: the messages in flight (parcels), the state of every link
// (partition cuts between replicas, clogs on any directed link) and each message's fate
// (dropped, or delivered once or twice after a drawn delay). Network nodes are numbered
// replicas first (0..n-1), then client slots (n..n+m-1).
//
// Fates are keyed by identity: a message's drop, duplicate and delays come from a
// generator seeded by what the message is (its link, its type, the fields that name
// it: view and op for a Prepare, client and request for a Request, ...) and how many
// messages of that identity crossed that link before, not by its place in the run's
// draw order. So a change elsewhere in a run (an operation or a fault removed by the
// shrinker) leaves the fates of unrelated messages as they were. In tape mode (a
// fuzzer's input makes every choice) fates are drawn from the tape in order while it
// lasts, then keyed like any run's.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/prng.hpp"
#include "sim/swarm.hpp"
#include "vsr/message.hpp"
#include "vsr/types.hpp"

namespace vsr::sim {

/// A message in flight.
struct Parcel {
  Endpoint from;
  Endpoint to;
  Message message;
};

/// One message's fate on the network.
struct Route {
  bool dropped = false;
  std::string_view reason;  // why it was dropped: "partition" or "drop"
  std::uint64_t deliver_us[2] = {0, 0};
  int copies = 0;  // 1, or 2 when duplicated
  bool corrupt = false;             // a SnapshotChunk arrives corrupted (the sender's checksums kept)
  bool corrupt_state_hash = false;  // its claimed state hash rather than its data
};

/// A directed link between two network nodes.
using Link = std::pair<std::uint32_t, std::uint32_t>;

/// How many times each 64-bit name was seen recently: open-addressing tables (linear
/// probing, kept at most half full), far cheaper per message than a node-based map.
/// Memory is bounded: once the current table holds `generation_names` names it becomes
/// the previous generation and a fresh table starts; a name seen again is carried over
/// with its count, a name unseen for a whole generation is forgotten (its next message
/// counts from 0 again). A generation is tens of simulated seconds of traffic, far
/// longer than any retransmission interval, so only long-dead names are forgotten; and
/// the rule depends on nothing but the sequence of names, so runs stay deterministic.
class OccurrenceCounter {
 public:
  /// Names per generation (a power of two; the tables have twice as many slots).
  static constexpr std::size_t generation_names = std::size_t{1} << 16;

  /// How many times `name` was counted before (within the last two generations);
  /// counts it once more.
  std::uint32_t count(std::uint64_t name);

 private:
  /// One name and its count side by side: a lookup touches one cache line.
  struct Slot {
    std::uint64_t name = 0;  // 0: empty slot (name 0 is counted in zero_)
    std::uint32_t count = 0;
  };
  static constexpr std::size_t initial_slots = std::size_t{1} << 14;
  static constexpr std::size_t max_slots = 2 * generation_names;

  /// The slot of `name` in `table` (a power-of-two size), or the empty one it would take.
  static Slot& find(std::vector<Slot>& table, std::uint64_t name);
  /// Makes room for one more name in current_: grows it, or starts a new generation.
  void make_room();

  std::vector<Slot> current_;
  std::vector<Slot> previous_;  // empty until the first generation ends
  std::size_t used_ = 0;        // names in current_
  std::uint32_t zero_ = 0;
};

class Network {
 public:
  /// A network of the swarm's replicas and client slots, every link up. Fates are
  /// keyed by identity under `fate_key` (drawn from the seed); while `tape` (null
  /// outside tape mode) has bytes left they are drawn from `tape_rng`, the network
  /// stream attached to it. Both must outlive the network.
  Network(const SwarmParams& params, std::uint64_t fate_key, const Tape* tape, Prng& tape_rng);

  // ------------------------------------------------------------ links

  /// From now on exactly the replica links in `cuts` (from, to) are cut; links naming
  /// a node outside the replicas, or a node and itself, are ignored.
  void cut(const std::vector<Link>& cuts);
  /// The replica links cut now, in (from, to) order.
  [[nodiscard]] std::vector<Link> cuts() const;
  [[nodiscard]] bool partitioned() const { return partitioned_; }
  /// Every replica link is up again.
  void heal();
  /// The directed link a -> b delivers nothing before `until_us`. Precondition: both
  /// are network nodes.
  void clog(std::uint32_t a, std::uint32_t b, std::uint64_t until_us);
  void clear_clogs();

  // ------------------------------------------------------------ fates

  /// The fate of `m` sent at `now_us` from node `a` to node `b` (a != b). With
  /// `faults` off (the liveness phase) nothing is dropped and no clog holds it back;
  /// delays and duplicates stay.
  Route route(std::uint32_t a, std::uint32_t b, bool client_link, const Message& m, std::uint64_t now_us,
              bool faults);

  // ------------------------------------------------------------ parcels

  /// Stores `message` in flight from -> to; returns its index, valid until release().
  std::uint32_t hold(const Endpoint& from, const Endpoint& to, Message&& message);
  [[nodiscard]] Parcel& parcel(std::uint32_t index) { return parcels_[index]; }
  /// The slot of a delivered or lost parcel is free for reuse.
  void release(std::uint32_t index) { free_.push_back(index); }

 private:
  Prng& fate_rng(std::uint32_t a, std::uint32_t b, const Message& m);
  static std::uint64_t delay_us(const SwarmParams& p, Prng& rng);

  const SwarmParams* params_;
  std::uint64_t key_;
  const Tape* tape_;
  Prng* tape_rng_;
  Prng fate_{0};  // the current message's generator (keyed mode)
  OccurrenceCounter seen_;  // (link, type, identity) -> messages so far
  std::uint32_t replicas_;
  std::uint32_t nodes_;
  std::vector<std::vector<bool>> blocked_;  // [from][to], replicas only
  std::vector<std::uint64_t> clogged_until_us_;  // [from * nodes + to]
  bool partitioned_ = false;
  std::vector<Parcel> parcels_;
  std::vector<std::uint32_t> free_;
};

}  // namespace vsr::sim
