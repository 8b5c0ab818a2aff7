// The simulator's agenda: what happens next, in simulated time. One queue orders every
// event of a run by (time, faults after everything else of the same microsecond, the
// order events were scheduled), so a run is a pure function of its seed.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <vector>

namespace vsr::sim {

/// What a scheduled event does when its time comes.
enum class Action : std::uint8_t {
  deliver,        // arg: parcel index (network.hpp)
  replica_tick,   // node: replica, arg: incarnation
  client_tick,    // node: client slot
  client_issue,   // node: client slot
  disk_done,      // node: replica, arg: incarnation
  crash,          // the fault stream's next crash
  crash_replica,  // an aimed crash: node: replica, arg: incarnation
  restart,        // node: replica
  partition,
  heal,
  pause,
  resume,         // node: replica, arg: incarnation
  clog,
  planned_fault,  // replay: arg = index into the schedule's faults
  liveness_phase,
  convergence_check,
};

/// Faults run after every other event of the same microsecond, so a replayed schedule
/// (whose faults are queued first) meets ties exactly as the recorded run did.
constexpr bool is_fault(Action a) { return a >= Action::crash && a <= Action::planned_fault; }

struct Event {
  std::uint64_t at_us;
  bool fault;  // is_fault(action)
  std::uint64_t seq;
  Action action;
  std::uint32_t node;  // replica index or client slot
  std::uint64_t arg;   // parcel index, incarnation, ...
};

class EventQueue {
 public:
  void schedule(std::uint64_t at_us, Action action, std::uint32_t node = 0, std::uint64_t arg = 0) {
    std::uint64_t rank = (static_cast<std::uint64_t>(is_fault(action)) << 63) | seq_++;
    events_.push(Entry{at_us, rank, arg, node, action});
  }
  [[nodiscard]] bool empty() const { return events_.empty(); }
  /// The next event, removed. Precondition: !empty().
  Event pop() {
    const Entry& top = events_.top();
    Event e{top.at_us, (top.rank >> 63) != 0, top.rank & ~(1ULL << 63), top.action, top.node, top.arg};
    events_.pop();
    return e;
  }

 private:
  /// An event as the heap holds it: 32 bytes, ordered by one 128-bit key (at_us, rank)
  /// where rank = fault << 63 | seq, the same order as (at_us, fault, seq) since a run
  /// schedules fewer than 2^63 events.
  struct Entry {
    std::uint64_t at_us;
    std::uint64_t rank;
    std::uint64_t arg;
    std::uint32_t node;
    Action action;
    bool operator>(const Entry& o) const {
      __extension__ typedef unsigned __int128 Key;
      return ((static_cast<Key>(at_us) << 64) | rank) > ((static_cast<Key>(o.at_us) << 64) | o.rank);
    }
  };

  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> events_;
  std::uint64_t seq_ = 0;
};

}  // namespace vsr::sim
