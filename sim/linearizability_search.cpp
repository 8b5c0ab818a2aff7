// The search: Wing & Gong's backtracking over a doubly-linked list of call/return
// entries (Lowe's and Porcupine's formulation: an op is linearized by unlinking its
// entries, and undone by relinking them), with memoisation of the configuration
// (set of linearized ops, model state). Why this and not something else:
//
// * A history is a sequence of intervals; WGL only ever considers ops whose call
//   precedes the first unlinearized return, so the branching factor is the local
//   concurrency, not the history size. The memo makes the search polynomial in
//   practice (each configuration is explored once).
// * Configurations are stored compactly instead of as an n-bit set: "every required
//   op below L is linearized" plus the bit window [L, highest linearized op], which is
//   a few words whatever the history length (n-bit sets, as Porcupine stores them,
//   cost O(n) per step and O(n) memory per memo entry).
// * Indeterminate (info/pending) ops never return, so they never force anything: they
//   are kept out of the list and tried only after the required ops at each point (Lowe's
//   just-in-time idea applied where it matters most). They are grouped into classes with
//   the same effect (write v, delete, cas a->b); within a class only the earliest
//   callable member is ever linearized, so the linearized members of a class are always
//   a prefix and a count describes them. This collapses the 2^k subsets of k
//   interchangeable pending writes into k+1 counts.
// * Three sound prunings, each a dominance argument:
//   - an observer (read, failed cas, cas a->a) that fits the current state is linearized
//     at once and its siblings are not tried: moving it earlier than any other valid
//     position keeps every state and every real-time constraint;
//   - of two callable identical required ops (same kind and values), only the one that
//     must return first is tried: anything the other ordering can do, this one can,
//     since the op left pending then has the later deadline (symmetry reduction; it is
//     what keeps small value domains with many concurrent writers tractable);
//   - an info op whose effect would not change the state is not linearized (not
//     linearizing it leaves strictly more options);
//   - an info class is dead once no op that could still be linearized can observe its
//     effect (a read or cas of the value it writes, a failed cas it could explain, an
//     indeterminate cas from that value); dead classes are neither tried nor part of the
//     memo key, so configurations differing only in them merge.
//   - info ops are linearized just in time: only right before a required op that fails
//     without them (see collect_wants).
//   The explanation search keeps the last two off so that it enumerates every state the
//   key could be in.
//   - right after an info op only an info cas continuing its chain is tried, never an
//     info write or delete (which would overwrite the first op's effect: the pair is
//     dominated by the second op alone). Only in the explanation search, which would
//     otherwise stack k pending writes in all 2^k subsets (the verdict search's
//     just-in-time rule already keeps unwanted info ops out).
// * Before any search, an op that needs a value no op invoked before its return writes
//   (a read of a value nobody wrote) decides the key at once, however many ops pend.
#include "sim/linearizability_search.hpp"

#include <algorithm>
#include <utility>

#include "sim/linearizability_memo.hpp"

namespace vsr::sim::lin {
namespace {

class Search {
 public:
  Search(const Compiled& c, const Budget& budget, SearchOptions opts)
      : c_(c), budget_(budget), opts_(opts), memo_(budget.max_bytes) {
    build_list();
    lin_.assign(c_.req.size() / 64 + 1, 0);
    counts_.assign(c_.classes.size(), 0);
    seen_states_.assign(c_.values.size(), false);
    twin_best_.assign(c_.twin_classes, 0);
  }

  SearchEnd run();

  [[nodiscard]] const Memo& memo() const { return memo_; }
  /// The states the target was tried in (by ValueId); leaves the search without them.
  [[nodiscard]] std::vector<bool> take_seen_states() { return std::move(seen_states_); }
  [[nodiscard]] bool target_fits() const { return target_fits_; }

 private:
  static constexpr std::int32_t nil = -1;
  static std::int32_t call_entry(std::size_t i) { return static_cast<std::int32_t>(2 * i + 1); }
  static std::int32_t ret_entry(std::size_t i) { return static_cast<std::int32_t>(2 * i + 2); }
  static std::size_t op_of(std::int32_t e) { return static_cast<std::size_t>(e - 1) / 2; }
  static bool is_call(std::int32_t e) { return (e & 1) == 1; }

  struct Frame {
    std::uint32_t item;        // req index or class index
    ValueId state_before;
    std::uint32_t max_before;  // max linearized req index + 1 before
    std::int32_t r;            // first return entry of the parent configuration
    std::uint32_t resume;      // where the parent's phase continues after a backtrack
    bool info;
    bool observer;
  };

  void build_list();
  void lift(std::size_t i);
  void unlift(std::size_t i);
  [[nodiscard]] std::int32_t next_return_after(std::int32_t e) const;
  [[nodiscard]] std::uint64_t pos(std::int32_t r) const { return c_.req[op_of(r)].ret_pos; }
  [[nodiscard]] bool live(const InfoClass& ic, std::int32_t r) const {
    return !opts_.drop_dead || ic.useful_until >= pos(r);
  }
  void serialize(std::int32_t r);
  [[nodiscard]] bool after_info() const { return !stack_.empty() && stack_.back().info; }
  /// Whether only an info cas may follow an info op (try_info_phase). Only without
  /// drop_dead: there info ops are tried only when wanted, which already keeps them
  /// apart, and the rule would split the memo more than it prunes (measured: 2-6% more
  /// configurations on bench-check's info cases).
  [[nodiscard]] bool chain_rule() const { return !opts_.drop_dead; }
  Memo::Insert try_req(std::size_t i, ValueId next_state, std::int32_t r, std::int32_t r2,
                       std::uint32_t resume);
  void build_candidates(std::int32_t r);
  bool try_info_phase(std::int32_t r, std::size_t& cls);
  Memo::Insert try_info(std::size_t c, ValueId next_state, std::int32_t r);
  void undo(const Frame& f);
  bool out_of_time();
  void mark_twins(std::int32_t r);
  [[nodiscard]] bool callable_info(std::size_t cls, std::uint64_t limit) const;
  void collect_wants(std::int32_t r);
  [[nodiscard]] bool wanted(ValueId x) const;
  [[nodiscard]] bool dominated_twin(std::size_t i) const {
    return twin_best_[c_.req[i].twin_class] != i;
  }

  const Compiled& c_;
  Budget budget_;
  SearchOptions opts_;
  Memo memo_;
  std::vector<std::int32_t> next_, prev_;  // entry 0 is the head
  std::vector<std::uint64_t> lin_;         // linearized req ops
  std::size_t low_ = 0;                    // every req op below is linearized
  std::size_t max_ = 0;                    // every linearized req op is below
  std::vector<std::uint32_t> counts_;      // linearized members per info class
  std::vector<std::uint32_t> used_classes_;  // classes with count > 0, sorted
  ValueId state_ = absent_id;
  std::vector<Frame> stack_;
  std::vector<std::uint64_t> key_;   // the configuration's base
  std::vector<std::uint64_t> info_;  // its live info counts
  std::vector<bool> seen_states_;
  bool target_fits_ = false;
  std::vector<std::uint32_t> twin_best_;  // per twin class: callable op with earliest return
  std::vector<std::uint32_t> wanting_;    // callable required ops failing in this state
  std::vector<std::uint32_t> cands_;      // mutators phase candidates, by return
  std::vector<bool> chain_from_;          // `from` values of callable info cas classes
  std::uint64_t iterations_ = 0;
  bool memory_full_ = false;
};

void Search::build_list() {
  const std::size_t n = c_.req.size();
  std::vector<std::pair<std::uint64_t, std::int32_t>> entries;
  entries.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    entries.emplace_back(c_.req[i].call_pos, call_entry(i));
    entries.emplace_back(c_.req[i].ret_pos, ret_entry(i));
  }
  std::sort(entries.begin(), entries.end());
  next_.assign(2 * n + 1, nil);
  prev_.assign(2 * n + 1, nil);
  std::int32_t last = 0;
  for (const auto& [p, e] : entries) {
    next_[static_cast<std::size_t>(last)] = e;
    prev_[static_cast<std::size_t>(e)] = last;
    last = e;
  }
}

void Search::lift(std::size_t i) {
  for (std::int32_t e : {call_entry(i), ret_entry(i)}) {
    const auto u = static_cast<std::size_t>(e);
    next_[static_cast<std::size_t>(prev_[u])] = next_[u];
    if (next_[u] != nil) prev_[static_cast<std::size_t>(next_[u])] = prev_[u];
  }
  lin_[i / 64] |= std::uint64_t{1} << (i % 64);
  while (low_ < c_.req.size() && ((lin_[low_ / 64] >> (low_ % 64)) & 1)) ++low_;
  max_ = std::max(max_, i + 1);
}

void Search::unlift(std::size_t i) {
  for (std::int32_t e : {ret_entry(i), call_entry(i)}) {
    const auto u = static_cast<std::size_t>(e);
    next_[static_cast<std::size_t>(prev_[u])] = e;
    if (next_[u] != nil) prev_[static_cast<std::size_t>(next_[u])] = e;
  }
  lin_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
  low_ = std::min(low_, i);
}

std::int32_t Search::next_return_after(std::int32_t e) const {
  std::int32_t x = next_[static_cast<std::size_t>(e)];
  while (x != nil && is_call(x)) x = next_[static_cast<std::size_t>(x)];
  return x;
}

// The memo key of the current configuration, whose first return entry is r: base =
// [state << 1 | low << 32, bit words covering [low, max)], info = live (class << 32 |
// count). Bit 0 is left for try_info to mark "after an info op" under the chain rule
// (it restricts what is tried next, so it must be part of the key); check_key keeps
// state ids below max_values = 2^31.
void Search::serialize(std::int32_t r) {
  key_.clear();
  key_.push_back((std::uint64_t{state_} << 1) | (std::uint64_t{low_} << 32));
  if (max_ > low_) {
    for (std::size_t w = low_ / 64; w <= (max_ - 1) / 64; ++w) key_.push_back(lin_[w]);
  }
  info_.clear();
  for (std::uint32_t cls : used_classes_) {
    if (r != nil && !live(c_.classes[cls], r)) continue;
    info_.push_back((std::uint64_t{cls} << 32) | counts_[cls]);
  }
}

Memo::Insert Search::try_req(std::size_t i, ValueId next_state, std::int32_t r, std::int32_t r2,
                             std::uint32_t resume) {
  const ValueId before = state_;
  const std::size_t max_before = max_;
  lift(i);
  state_ = next_state;
  serialize(r2);
  const Memo::Insert res = memo_.insert(key_, info_, counts_);
  if (res == Memo::Insert::fresh) {
    stack_.push_back({static_cast<std::uint32_t>(i), before, static_cast<std::uint32_t>(max_before),
                      r, resume, false, opts_.prune && c_.req[i].observer()});
  } else {
    unlift(i);
    state_ = before;
    max_ = max_before;
  }
  return res;
}

Memo::Insert Search::try_info(std::size_t cls, ValueId next_state, std::int32_t r) {
  const ValueId before = state_;
  if (counts_[cls]++ == 0) {
    used_classes_.insert(std::lower_bound(used_classes_.begin(), used_classes_.end(), cls),
                         static_cast<std::uint32_t>(cls));
  }
  state_ = next_state;
  serialize(r);
  // Under the chain rule the same configuration reached by a required op explores a
  // superset of what it explores here, so one seen that way counts.
  Memo::Insert res = Memo::Insert::seen;
  if (!chain_rule() || !memo_.seen(key_, counts_)) {
    if (chain_rule()) key_[0] |= 1;  // after_info
    res = memo_.insert(key_, info_, counts_);
  }
  const Frame f{static_cast<std::uint32_t>(cls), before, static_cast<std::uint32_t>(max_), r,
                static_cast<std::uint32_t>(cls + 1), true, false};
  if (res == Memo::Insert::fresh) stack_.push_back(f);
  else undo(f);
  return res;
}

void Search::undo(const Frame& f) {
  state_ = f.state_before;
  if (!f.info) {
    unlift(f.item);
    max_ = f.max_before;
    return;
  }
  if (--counts_[f.item] == 0) {
    used_classes_.erase(std::lower_bound(used_classes_.begin(), used_classes_.end(), f.item));
  }
}

// For each twin class, the callable unlinearized op that must return first. Entries
// before r are exactly the callable unlinearized ops.
void Search::mark_twins(std::int32_t r) {
  for (std::int32_t e = next_[0]; e != r; e = next_[static_cast<std::size_t>(e)]) {
    const std::size_t i = op_of(e);
    twin_best_[c_.req[i].twin_class] = static_cast<std::uint32_t>(i);  // any member
  }
  for (std::int32_t e = next_[0]; e != r; e = next_[static_cast<std::size_t>(e)]) {
    const std::size_t i = op_of(e);
    std::uint32_t& best = twin_best_[c_.req[i].twin_class];
    if (c_.req[i].ret_pos < c_.req[best].ret_pos) best = static_cast<std::uint32_t>(i);
  }
}

bool Search::out_of_time() {
  if ((++iterations_ & 255) != 0 || !budget_.deadline) return false;
  return Clock::now() >= *budget_.deadline;
}

// Phases at each configuration: (0) an observer that fits is taken and nothing else
// is tried; (1) the other callable required ops, earliest deadline (return) first: ops
// that must finish soonest most often took effect first, which keeps a linearizable
// history's search close to a straight line; (2) info classes wanted now. Then backtrack.
SearchEnd Search::run() {
  std::int32_t r = next_return_after(0);
  std::int32_t e = next_[0];
  std::size_t cls = 0, ci = 0;
  enum class Phase { observers, mutators, info, backtrack } phase = Phase::mutators;
  const Phase first = opts_.prune ? Phase::observers : Phase::mutators;
  phase = first;
  if (phase == Phase::mutators) build_candidates(r);
  serialize(r);
  if (memo_.insert(key_, info_, counts_) == Memo::Insert::full) return SearchEnd::memory;
  while (true) {
    if (out_of_time()) return SearchEnd::timeout;
    if (phase == Phase::backtrack) {
      while (true) {
        if (stack_.empty()) return SearchEnd::not_linearizable;
        const Frame f = stack_.back();
        stack_.pop_back();
        undo(f);
        if (f.observer && opts_.prune) continue;
        r = f.r;
        if (f.info) {
          phase = Phase::info;
          cls = f.resume;
        } else {
          phase = Phase::mutators;
          build_candidates(r);
          ci = f.resume;
        }
        break;
      }
      continue;
    }
    if (r == nil) return SearchEnd::linearizable;  // every required op is linearized
    if (phase == Phase::info) {
      phase = try_info_phase(r, cls) ? first : Phase::backtrack;
      if (memory_full_) return SearchEnd::memory;
      if (phase == Phase::mutators) build_candidates(r);
      e = next_[0];
      ci = 0;
      continue;
    }
    if (phase == Phase::mutators) {
      if (ci >= cands_.size()) {
        phase = Phase::info;
        cls = 0;
        continue;
      }
      const std::size_t i = cands_[ci++];
      const auto ns = step_req(c_.req[i], state_);
      if (!ns) continue;
      const std::int32_t r2 = ret_entry(i) == r ? next_return_after(r) : r;
      const Memo::Insert res = try_req(i, *ns, r, r2, static_cast<std::uint32_t>(ci));
      if (res == Memo::Insert::full) return SearchEnd::memory;
      if (res == Memo::Insert::fresh) {
        r = r2;
        e = next_[0];
        phase = first;
        ci = 0;
        if (phase == Phase::mutators) build_candidates(r);
      }
      continue;
    }
    // Observers: scan the callable ops in list order.
    if (e == r) {
      phase = Phase::mutators;
      build_candidates(r);
      ci = 0;
      continue;
    }
    const std::size_t i = op_of(e);
    const ReqOp& op = c_.req[i];
    e = next_[static_cast<std::size_t>(e)];
    const auto ns = step_req(op, state_);
    if (opts_.target && *opts_.target == i) {
      seen_states_[state_] = true;
      target_fits_ = target_fits_ || ns.has_value();
    }
    if (!ns || !op.observer()) continue;
    const Memo::Insert res = try_req(i, *ns, r, r, 0);
    if (res == Memo::Insert::full) return SearchEnd::memory;
    if (res == Memo::Insert::fresh) {
      r = ret_entry(i) == r ? next_return_after(r) : r;
      e = next_[0];
    } else {
      phase = Phase::backtrack;  // the configuration it dominates already failed
    }
  }
}

// The required ops to try in the mutators phase, earliest return first: every callable
// op when not pruning (then also the target's states are collected here), else the
// callable non-observers that are not dominated twins.
void Search::build_candidates(std::int32_t r) {
  if (opts_.prune) mark_twins(r);
  cands_.clear();
  for (std::int32_t e = next_[0]; e != r; e = next_[static_cast<std::size_t>(e)]) {
    const std::size_t i = op_of(e);
    if (!opts_.prune && opts_.target && *opts_.target == i) {
      seen_states_[state_] = true;
      target_fits_ = target_fits_ || step_req(c_.req[i], state_).has_value();
    }
    if (opts_.prune && (c_.req[i].observer() || dominated_twin(i))) continue;
    cands_.push_back(static_cast<std::uint32_t>(i));
  }
  std::sort(cands_.begin(), cands_.end(),
            [&](std::uint32_t a, std::uint32_t b) { return c_.req[a].ret_pos < c_.req[b].ret_pos; });
}

bool Search::callable_info(std::size_t cls, std::uint64_t limit) const {
  const InfoClass& ic = c_.classes[cls];
  return counts_[cls] < ic.calls.size() && ic.calls[counts_[cls]] < limit;
}

// Just-in-time info ops: an info op never has to be linearized before it is needed,
// because it never returns. Any linearization can be rewritten so that each info op
// comes right before a required op that fails without it (possibly through a chain of
// info cas ops, each producing the next one's `from`); the others are dropped or moved
// later. So only such classes are tried.
void Search::collect_wants(std::int32_t r) {
  wanting_.clear();
  for (std::int32_t e = next_[0]; e != r; e = next_[static_cast<std::size_t>(e)]) {
    const std::size_t i = op_of(e);
    if (!step_req(c_.req[i], state_)) wanting_.push_back(static_cast<std::uint32_t>(i));
  }
  const std::uint64_t limit = pos(r);
  chain_from_.assign(c_.values.size(), false);
  for (std::size_t cls = 0; cls < c_.classes.size() && c_.classes[cls].calls.front() < limit; ++cls) {
    if (c_.classes[cls].kind == InfoKind::cas && callable_info(cls, limit)) chain_from_[c_.classes[cls].a] = true;
  }
}

bool Search::wanted(ValueId x) const {
  if (chain_from_[x]) return true;
  return std::any_of(wanting_.begin(), wanting_.end(),
                     [&](std::uint32_t i) { return step_req(c_.req[i], x).has_value(); });
}

// Right after an info op only an info cas may follow (it continues a chain from the
// state that op produced): an info write or delete would overwrite that state, so the
// pair reaches a configuration dominated by the write alone (same state, same required
// ops, fewer info ops used), which is tried from the parent. This keeps k pending
// writes from being stacked in all 2^k subsets when nothing needs them (the
// explanation search, which tries every info op, not only the wanted ones).
bool Search::try_info_phase(std::int32_t r, std::size_t& cls) {
  const std::uint64_t limit = pos(r);
  if (opts_.drop_dead) collect_wants(r);
  const bool chain_only = chain_rule() && after_info();
  for (; cls < c_.classes.size(); ++cls) {
    const InfoClass& ic = c_.classes[cls];
    if (ic.calls.front() >= limit) return false;
    if (chain_only && ic.kind != InfoKind::cas) continue;
    if (!callable_info(cls, limit) || !live(ic, r)) continue;
    const auto ns = step_info(ic, state_);
    if (!ns || (opts_.drop_dead && !wanted(*ns))) continue;
    const Memo::Insert res = try_info(cls, *ns, r);
    if (res == Memo::Insert::full) {
      memory_full_ = true;
      return false;
    }
    if (res == Memo::Insert::fresh) return true;
  }
  return false;
}

}  // namespace

SearchResult search(const Compiled& c, const Budget& budget, SearchOptions options) {
  Search s{c, budget, options};
  SearchResult out;
  out.end = s.run();
  out.configs = s.memo().count();
  out.memo_bytes = s.memo().bytes();
  out.seen_states = s.take_seen_states();
  out.target_fits = s.target_fits();
  return out;
}

}  // namespace vsr::sim::lin
