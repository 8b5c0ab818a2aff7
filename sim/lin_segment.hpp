// One segment's linearizability search for a user's model (sim/lin_model.hpp): the
// engine under the streaming checker (sim/lin_stream.hpp).
//
// A segment is a stretch of one partition's history that begins in one of a known set
// of configurations and whose completed ops all returned before anything after it was
// invoked. The search answers: from a start state, can the segment's completed ops be
// linearized, and in which configurations can it end? A configuration is the model's
// state plus which indeterminate ops (timeouts, crashes) are still free to take effect
// later.
//
// The search is Wing & Gong's, with Lowe's memo (as Porcupine): at each configuration
// only ops whose call precedes the first unlinearized return may come next. Sound
// reductions, each a dominance argument:
// - Indeterminate ops with equal inputs form a class; only its earliest callable member
//   is ever applied, so a count describes which were applied (k+1 cases, not 2^k).
// - Using fewer indeterminate ops leaves strictly more options (one may stay unused
//   forever): a configuration whose counts are >= a visited one's, same state and same
//   completed ops linearized, is not explored again; and of two final configurations
//   with one state, the one with fewer ops used is kept.
// - An indeterminate op that would not change the state is not applied, and none is
//   applied after the last completed op (it stays free for the next segment, which is
//   strictly more permissive).
// - With `M::just_in_time`, indeterminate ops are applied only at a configuration where
//   some callable completed op does not fit the state, and only those whose result
//   that op fits, or that another indeterminate op could change further: any other
//   linearization that applies an indeterminate op first can apply a completed op that
//   fits first instead (the model's promise, sim/lin_model.hpp), so nothing is lost.
// - Of two callable completed ops with equal input and output, only the one that must
//   return first is tried: any order the other allows, this one allows, since the op
//   left unlinearized then has the later deadline (what keeps small value domains with
//   many concurrent writers tractable).
// - A completed op that the model calls an observer (`M::observer(in, out)`, optional:
//   it changes no state, whatever the state), and that fits, is linearized at once and
//   its siblings are not tried: moving it earlier keeps every state and every
//   real-time constraint.
//
// Header-only: a template over the model.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "sim/lin_model.hpp"

namespace vsr::sim::lin {

/// A position in the history's event order (invocations and completions, numbered).
using Pos = std::uint64_t;
inline constexpr Pos never_pos = std::numeric_limits<Pos>::max();

/// An op that completed with `output`: it must be linearized within [call, ret].
template <Model M>
struct SegRequired {
  typename M::Input input;
  typename M::Output output;
  Pos call = 0;
  Pos ret = 0;
};

/// Indeterminate ops with one input: `carried` members free from the segment's start
/// (left over from earlier segments), then members free from their call (sorted).
template <Model M>
struct SegClass {
  typename M::Input input;
  std::uint32_t carried = 0;
  std::vector<Pos> calls;
  [[nodiscard]] std::uint32_t size() const { return carried + static_cast<std::uint32_t>(calls.size()); }
  /// Whether member `u` (the next unused one) may be applied before position `limit`.
  [[nodiscard]] bool callable(std::uint32_t u, Pos limit) const {
    return u < carried || (u < size() && calls[u - carried] < limit);
  }
};

/// How a segment's search ended.
enum class SegEnd : std::uint8_t { linearizable, not_linearizable, budget };

/// A configuration the segment can end in: the state, and how many members of each
/// class were applied.
template <Model M>
struct SegFinal {
  typename M::State state;
  std::vector<std::uint32_t> used;
};

/// Reusable search (its buffers keep their capacity between runs).
template <Model M>
class SegmentSearch {
 public:
  using State = typename M::State;

  /// Searches from `start`. `req` sorted by call, each call < its ret, positions unique.
  /// With `all_finals`, appends every final configuration (dominance-pruned among
  /// those of this run) to `finals`; without, stops at the first. `max_configs` bounds
  /// the configurations memoised: past it the run ends with `budget`.
  SegEnd run(const State& start, const std::vector<SegRequired<M>>& req,
             const std::vector<SegClass<M>>& classes, bool all_finals, std::uint64_t max_configs,
             std::vector<SegFinal<M>>& finals) {
    begin(start, req, classes);
    const std::size_t first_final = finals.size();
    if (req.empty()) {
      finals.push_back({start, used_});
      return SegEnd::linearizable;
    }
    if (memo_insert() == Insert::fresh) push_frame();
    while (!frames_.empty()) {
      Frame& f = frames_.back();
      if (f.next == f.moves_end) {
        moves_.resize(f.moves_begin);
        frames_.pop_back();
        if (!frames_.empty()) revert(frames_.back());
        continue;
      }
      apply(moves_[f.next++]);
      if (low_ == req_->size()) {
        add_final(finals, first_final);
        if (!all_finals) return SegEnd::linearizable;
        revert(frames_.back());
        continue;
      }
      const Insert ins = memo_insert();
      if (ins == Insert::fresh && configs_ > max_configs) return SegEnd::budget;
      if (ins == Insert::fresh) push_frame();
      else revert(frames_.back());
    }
    return finals.size() > first_final ? SegEnd::linearizable : SegEnd::not_linearizable;
  }

  /// Configurations memoised by the last run.
  [[nodiscard]] std::uint64_t configs() const { return configs_; }

 private:
  struct Move {
    bool optional = false;
    std::uint32_t index = 0;  // req index or class index
    State next;
  };
  struct Frame {
    State state;  // the configuration's state (restored when a move is undone)
    std::size_t moves_begin = 0, moves_end = 0, next = 0;
  };
  /// A memo entry: the completed ops linearized (as words) and the state; the used
  /// counts visited with them form a chain in `uses_`.
  struct Entry {
    std::size_t key_begin = 0, key_len = 0;
    State state;
    std::int64_t uses_head = -1;  // offset in uses_ of [next, counts...], -1: none
  };
  enum class Insert { fresh, seen };

  void begin(const State& start, const std::vector<SegRequired<M>>& req, const std::vector<SegClass<M>>& classes) {
    req_ = &req;
    classes_ = &classes;
    const std::size_t m = req.size();
    lin_.assign(m / 64 + 1, 0);
    low_ = rlow_ = max_ = 0;
    by_ret_.resize(m);
    for (std::size_t i = 0; i < m; ++i) by_ret_[i] = static_cast<std::uint32_t>(i);
    std::sort(by_ret_.begin(), by_ret_.end(), [&](std::uint32_t a, std::uint32_t b) { return req[a].ret < req[b].ret; });
    rank_.resize(m);
    for (std::size_t r = 0; r < m; ++r) rank_[by_ret_[r]] = static_cast<std::uint32_t>(r);
    assign_twins(req);
    used_.assign(classes.size(), 0);
    state_ = start;
    frames_.clear();
    moves_.clear();
    if (table_.size() > 4096) table_.clear();  // a big search's table is not kept for the small ones
    std::fill(table_.begin(), table_.end(), Slot{});
    entries_.clear();
    words_.clear();
    uses_.clear();
    configs_ = 0;
  }

  /// Numbers the classes of identical completed ops (equal input and output).
  void assign_twins(const std::vector<SegRequired<M>>& req) {
    twin_.resize(req.size());
    reps_.clear();
    for (std::size_t i = 0; i < req.size(); ++i) {
      std::size_t t = 0;
      while (t < reps_.size() && !(req[reps_[t]].input == req[i].input && req[reps_[t]].output == req[i].output)) ++t;
      if (t == reps_.size()) reps_.push_back(static_cast<std::uint32_t>(i));
      twin_[i] = static_cast<std::uint32_t>(t);
    }
    twin_best_.assign(reps_.size(), 0);
    twin_stamp_.assign(reps_.size(), 0);
    stamp_ = 0;
  }

  [[nodiscard]] bool linearized(std::size_t i) const { return ((lin_[i / 64] >> (i % 64)) & 1U) != 0; }
  [[nodiscard]] Pos first_return() const {
    return rlow_ < req_->size() ? (*req_)[by_ret_[rlow_]].ret : never_pos;
  }

  void lift(std::size_t i) {
    lin_[i / 64] |= std::uint64_t{1} << (i % 64);
    const std::size_t m = req_->size();
    while (low_ < m && linearized(low_)) ++low_;
    while (rlow_ < m && linearized(by_ret_[rlow_])) ++rlow_;
    max_ = std::max(max_, i + 1);
  }
  void unlift(std::size_t i) {
    lin_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
    low_ = std::min(low_, i);
    rlow_ = std::min<std::size_t>(rlow_, rank_[i]);
  }

  void apply(const Move& mv) {
    state_ = mv.next;
    if (mv.optional) ++used_[mv.index];
    else lift(mv.index);
  }
  /// Undoes the move `parent` made last, back to the parent's configuration.
  void revert(const Frame& parent) {
    const Move& mv = moves_[parent.next - 1];
    if (mv.optional) --used_[mv.index];
    else unlift(mv.index);
    state_ = parent.state;
  }

  /// The moves from the current configuration, pushed as a frame.
  void push_frame() {
    Frame f{state_, moves_.size(), moves_.size(), moves_.size()};
    const Pos limit = first_return();
    const auto& req = *req_;
    ++stamp_;
    for (std::size_t i = low_; i < req.size() && req[i].call < limit; ++i) {
      if (linearized(i)) continue;
      const std::uint32_t t = twin_[i];
      if (twin_stamp_[t] != stamp_ || req[i].ret < req[twin_best_[t]].ret) {
        twin_stamp_[t] = stamp_;
        twin_best_[t] = static_cast<std::uint32_t>(i);
      }
    }
    wanting_.clear();  // callable completed ops that do not fit the state
    for (std::size_t i = low_; i < req.size() && req[i].call < limit; ++i) {
      if (linearized(i) || twin_best_[twin_[i]] != i) continue;
      std::optional<State> ns = M::step(state_, req[i].input, req[i].output);
      if (!ns) {
        wanting_.push_back(static_cast<std::uint32_t>(i));
        continue;
      }
      if (observer(req[i]) && *ns == state_) {  // an observer that fits: taken alone (see the header)
        moves_.resize(f.moves_begin);
        moves_.push_back(Move{false, static_cast<std::uint32_t>(i), std::move(*ns)});
        f.moves_end = moves_.size();
        frames_.push_back(std::move(f));
        return;
      }
      moves_.push_back(Move{false, static_cast<std::uint32_t>(i), std::move(*ns)});
    }
    const auto& classes = *classes_;
    if (just_in_time() && wanting_.empty()) {
      f.moves_end = moves_.size();
      frames_.push_back(std::move(f));
      return;
    }
    for (std::size_t k = 0; k < classes.size(); ++k) {
      if (!classes[k].callable(used_[k], limit)) continue;
      State ns = M::effect(state_, classes[k].input);
      if (ns == state_) continue;
      if (just_in_time() && !wanted(ns, k, limit)) continue;
      moves_.push_back(Move{true, static_cast<std::uint32_t>(k), std::move(ns)});
    }
    f.moves_end = moves_.size();
    frames_.push_back(std::move(f));
  }

  /// Whether the model says the op changes no state, whatever the state (optional:
  /// `M::observer(in, out)`). Leaving the state unchanged here is not enough: a write of
  /// the current value moved earlier would lose its effect where it really happened.
  static bool observer(const SegRequired<M>& r) {
    if constexpr (requires { { M::observer(r.input, r.output) } -> std::convertible_to<bool>; }) {
      return M::observer(r.input, r.output);
    } else {
      return false;
    }
  }

  /// Under just_in_time: whether the state `ns` that applying class `k` would reach is
  /// worth reaching: a completed op that does not fit now fits there, or some
  /// indeterminate op would change `ns` into something it could not reach from here (a
  /// chain, such as cas 1 -> 2 after write 1). Otherwise the next step from `ns` that
  /// changes anything is either a completed op that fits now, which the model's promise
  /// lets go first with `k` left free, or an indeterminate op that reaches from `ns`
  /// what it reaches from here without `k`: either way a linearization that keeps `k`
  /// free does as well, and nothing is lost.
  [[nodiscard]] bool wanted(const State& ns, std::size_t k, Pos limit) const {
    for (std::uint32_t i : wanting_) {
      if (M::step(ns, (*req_)[i].input, (*req_)[i].output)) return true;
    }
    const auto& classes = *classes_;
    for (std::size_t j = 0; j < classes.size(); ++j) {
      if (!classes[j].callable(used_[j] + (j == k ? 1 : 0), limit)) continue;
      const State after = M::effect(ns, classes[j].input);
      if (!(after == ns) && !(after == M::effect(state_, classes[j].input))) return true;
    }
    return false;
  }

  /// Whether the model allows applying indeterminate ops only where a completed op
  /// needs them (optional: `M::just_in_time`).
  static constexpr bool just_in_time() {
    if constexpr (requires { { M::just_in_time } -> std::convertible_to<bool>; }) {
      return M::just_in_time;
    } else {
      return false;
    }
  }

  /// The current configuration's key words: low, then the bit words from low's word to
  /// the last non-zero one (canonical whatever max_ says).
  void serialize() {
    key_.clear();
    key_.push_back(low_);
    if (max_ > low_) {
      for (std::size_t w = low_ / 64; w <= (max_ - 1) / 64; ++w) key_.push_back(lin_[w]);
    }
    while (key_.size() > 1 && key_.back() == 0) key_.pop_back();
  }

  Insert memo_insert() {
    serialize();
    std::uint64_t h = static_cast<std::uint64_t>(M::hash(state_)) * 0x9E3779B97F4A7C15ULL;
    for (std::uint64_t w : key_) h = (h ^ w) * 0xBF58476D1CE4E5B9ULL ^ (h >> 31);
    if (2 * (entries_.size() + 1) > table_.size()) grow();
    const std::size_t mask = table_.size() - 1;
    std::size_t i = h & mask;
    for (; table_[i].entry != 0; i = (i + 1) & mask) {
      if (table_[i].hash != h) continue;
      Entry& en = entries_[table_[i].entry - 1];
      if (en.key_len != key_.size() || !(en.state == state_) ||
          !std::equal(key_.begin(), key_.end(), words_.begin() + static_cast<std::ptrdiff_t>(en.key_begin))) {
        continue;
      }
      if (subsumed(en)) return Insert::seen;
      add_uses(en);
      return Insert::fresh;
    }
    table_[i] = Slot{h, static_cast<std::uint32_t>(entries_.size() + 1)};
    entries_.push_back(Entry{words_.size(), key_.size(), state_, -1});
    words_.insert(words_.end(), key_.begin(), key_.end());
    add_uses(entries_.back());
    return Insert::fresh;
  }
  /// Doubles the table (at least 64 slots) and re-inserts every entry's slot.
  void grow() {
    std::vector<Slot> old(std::max<std::size_t>(64, table_.size() * 2));
    old.swap(table_);
    const std::size_t mask = table_.size() - 1;
    for (const Slot& sl : old) {
      if (sl.entry == 0) continue;
      std::size_t i = sl.hash & mask;
      while (table_[i].entry != 0) i = (i + 1) & mask;
      table_[i] = sl;
    }
  }

  /// Whether a visited used vector of this entry is <= the current one.
  [[nodiscard]] bool subsumed(const Entry& en) const {
    const std::size_t n = used_.size();
    for (std::int64_t r = en.uses_head; r >= 0; r = static_cast<std::int64_t>(uses_[static_cast<std::size_t>(r)]) - 1) {
      const auto* p = uses_.data() + r + 1;
      bool le = true;
      for (std::size_t k = 0; k < n && le; ++k) le = p[k] <= used_[k];
      if (le) return true;
    }
    return false;
  }
  void add_uses(Entry& en) {
    const auto at = static_cast<std::int64_t>(uses_.size());
    uses_.push_back(static_cast<std::uint32_t>(en.uses_head + 1));
    uses_.insert(uses_.end(), used_.begin(), used_.end());
    en.uses_head = at;
    ++configs_;
  }

  /// Records the current configuration as final unless one of this run's finals with
  /// the same state used no more; drops those it improves on.
  void add_final(std::vector<SegFinal<M>>& finals, std::size_t first) {
    auto le = [](const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
      for (std::size_t k = 0; k < a.size(); ++k) {
        if (a[k] > b[k]) return false;
      }
      return true;
    };
    for (std::size_t i = first; i < finals.size(); ++i) {
      if (finals[i].state == state_ && le(finals[i].used, used_)) return;
    }
    std::size_t out = first;
    for (std::size_t i = first; i < finals.size(); ++i) {
      if (finals[i].state == state_ && le(used_, finals[i].used)) continue;
      if (out != i) finals[out] = std::move(finals[i]);
      ++out;
    }
    finals.resize(out);
    finals.push_back({state_, used_});
  }

  const std::vector<SegRequired<M>>* req_ = nullptr;
  const std::vector<SegClass<M>>* classes_ = nullptr;
  std::vector<std::uint64_t> lin_;
  std::size_t low_ = 0, rlow_ = 0, max_ = 0;
  std::vector<std::uint32_t> by_ret_, rank_;
  std::vector<std::uint32_t> used_;
  std::vector<std::uint32_t> wanting_;  // push_frame's callable completed ops that do not fit
  std::vector<std::uint32_t> twin_, reps_, twin_best_;  // per op; per twin class: first op, best callable
  std::vector<std::uint64_t> twin_stamp_;                // per twin class: stamp_ when twin_best_ was set
  std::uint64_t stamp_ = 0;
  State state_{};
  std::vector<Frame> frames_;
  std::vector<Move> moves_;
  std::vector<std::uint64_t> key_;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t entry = 0;  // 1 + index in entries_; 0: empty
  };
  std::vector<Slot> table_;  // open addressing over entries_, at most half full
  std::vector<Entry> entries_;
  std::vector<std::uint64_t> words_;
  std::vector<std::uint32_t> uses_;
  std::uint64_t configs_ = 0;
};

}  // namespace vsr::sim::lin
