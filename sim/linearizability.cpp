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
#include "sim/linearizability.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

namespace vsr::sim {
namespace {

using Clock = std::chrono::steady_clock;
using ValueId = std::uint32_t;
constexpr ValueId absent_id = 0;

// ---- The compiled form of one key's history ----

enum class ReqKind : std::uint8_t { read, write, del, cas_ok, cas_fail_any, cas_fail_missing, cas_fail_mismatch };

/// An op that must be linearized within [call_pos, ret_pos].
struct ReqOp {
  std::uint64_t call_pos = 0;
  std::uint64_t ret_pos = 0;
  ReqKind kind = ReqKind::read;
  ValueId a = 0;  // read: result; write: value; cas: from
  ValueId b = 0;  // cas_ok: to
  std::uint32_t twin_class = 0;  // ops with equal (kind, a, b) share it
  std::size_t history_index = 0;
  [[nodiscard]] bool observer() const {
    return kind == ReqKind::read || kind == ReqKind::cas_fail_any ||
           kind == ReqKind::cas_fail_missing || kind == ReqKind::cas_fail_mismatch ||
           (kind == ReqKind::cas_ok && a == b);
  }
};

enum class InfoKind : std::uint8_t { write, del, cas };

/// Indeterminate ops with one same effect, by call position. Linearized members are
/// always a prefix of `calls`.
struct InfoClass {
  InfoKind kind = InfoKind::write;
  ValueId a = 0;  // write: value; cas: from
  ValueId b = 0;  // cas: to
  std::vector<std::uint64_t> calls;
  std::uint64_t useful_until = 0;  // dead once every unlinearized op returns after this
  [[nodiscard]] ValueId result() const {
    return kind == InfoKind::write ? a : kind == InfoKind::del ? absent_id : b;
  }
};

struct Compiled {
  std::vector<ReqOp> req;          // sorted by call_pos
  std::vector<InfoClass> classes;  // sorted by first call
  std::vector<Value> values;       // id -> value; values[0] is absent
  std::uint32_t twin_classes = 0;
};

/// Numbers the classes of identical required ops (same kind and values).
void assign_twin_classes(Compiled& c) {
  std::map<std::tuple<ReqKind, ValueId, ValueId>, std::uint32_t> ids;
  for (ReqOp& r : c.req) {
    auto [it, fresh] = ids.emplace(std::tuple{r.kind, r.a, r.b}, static_cast<std::uint32_t>(ids.size()));
    r.twin_class = it->second;
  }
  c.twin_classes = static_cast<std::uint32_t>(ids.size());
}

std::optional<ValueId> step_req(const ReqOp& op, ValueId s) {
  switch (op.kind) {
    case ReqKind::read: return s == op.a ? std::optional{s} : std::nullopt;
    case ReqKind::write: return op.a;
    case ReqKind::del: return absent_id;
    case ReqKind::cas_ok: return s == op.a ? std::optional{op.b} : std::nullopt;
    case ReqKind::cas_fail_any: return s != op.a ? std::optional{s} : std::nullopt;
    case ReqKind::cas_fail_missing: return s == absent_id ? std::optional{s} : std::nullopt;
    case ReqKind::cas_fail_mismatch:
      return s != absent_id && s != op.a ? std::optional{s} : std::nullopt;
  }
  return std::nullopt;
}

/// The state after an info op of class `c`, or nullopt if it would change nothing.
std::optional<ValueId> step_info(const InfoClass& c, ValueId s) {
  switch (c.kind) {
    case InfoKind::write: return s != c.a ? std::optional{c.a} : std::nullopt;
    case InfoKind::del: return s != absent_id ? std::optional{absent_id} : std::nullopt;
    case InfoKind::cas: return s == c.a && c.a != c.b ? std::optional{c.b} : std::nullopt;
  }
  return std::nullopt;
}

class ValueTable {
 public:
  explicit ValueTable(std::vector<std::int64_t> vs) : sorted_(std::move(vs)) {
    std::sort(sorted_.begin(), sorted_.end());
    sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
  }
  [[nodiscard]] ValueId id(const Value& v) const {
    if (!v) return absent_id;
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), *v);
    return static_cast<ValueId>(it - sorted_.begin()) + 1;
  }
  [[nodiscard]] std::vector<Value> values() const {
    std::vector<Value> out{std::nullopt};
    out.insert(out.end(), sorted_.begin(), sorted_.end());
    return out;
  }

 private:
  std::vector<std::int64_t> sorted_;
};

ValueTable collect_values(const History& h, const std::vector<std::size_t>& ops) {
  std::vector<std::int64_t> vs;
  for (std::size_t i : ops) {
    const Op& op = h.ops[i];
    if (op.call.kind == OpKind::write || op.call.kind == OpKind::cas) vs.push_back(op.call.value);
    if (op.call.kind == OpKind::cas) vs.push_back(op.call.to);
    if (op.call.kind == OpKind::read && op.result) vs.push_back(*op.result);
  }
  return ValueTable{std::move(vs)};
}

bool returns_by(const Op& op, std::uint64_t cutoff) {
  return (op.outcome == Outcome::ok || op.outcome == Outcome::fail) && op.complete_seq <= cutoff;
}

ReqKind fail_cas_kind(CasError e) {
  switch (e) {
    case CasError::not_found: return ReqKind::cas_fail_missing;
    case CasError::precondition_failed: return ReqKind::cas_fail_mismatch;
    case CasError::unspecified: break;
  }
  return ReqKind::cas_fail_any;
}

/// The required op for `op`, or nullopt if it constrains nothing (a failed read, write
/// or delete).
std::optional<ReqOp> to_req(const Op& op, const ValueTable& vt) {
  ReqOp r;
  r.call_pos = op.invoke_seq;
  r.ret_pos = op.complete_seq;
  const bool ok = op.outcome == Outcome::ok;
  switch (op.call.kind) {
    case OpKind::read:
      if (!ok) return std::nullopt;
      r.kind = ReqKind::read;
      r.a = vt.id(op.result);
      return r;
    case OpKind::write:
      if (!ok) return std::nullopt;
      r.kind = ReqKind::write;
      r.a = vt.id(op.call.value);
      return r;
    case OpKind::del:
      if (!ok) return std::nullopt;
      r.kind = ReqKind::del;
      return r;
    case OpKind::cas:
      r.kind = ok ? ReqKind::cas_ok : fail_cas_kind(op.cas_error);
      r.a = vt.id(op.call.value);
      r.b = vt.id(op.call.to);
      return r;
  }
  return std::nullopt;
}

/// The info class key for an op that may or may not have taken effect, or nullopt if
/// it has no effect either way (reads, failed ops, cas a->a).
std::optional<std::tuple<InfoKind, ValueId, ValueId>> to_info(const Op& op, const ValueTable& vt) {
  if (op.outcome == Outcome::fail) return std::nullopt;
  switch (op.call.kind) {
    case OpKind::read: return std::nullopt;
    case OpKind::write: return std::tuple{InfoKind::write, vt.id(op.call.value), ValueId{0}};
    case OpKind::del: return std::tuple{InfoKind::del, ValueId{0}, ValueId{0}};
    case OpKind::cas:
      if (op.call.value == op.call.to) return std::nullopt;
      return std::tuple{InfoKind::cas, vt.id(op.call.value), vt.id(op.call.to)};
  }
  return std::nullopt;
}

/// Max ret_pos of failed cas ops whose `from` differs from a given value: keeps the
/// best two with distinct `from`.
struct TopTwo {
  std::uint64_t best = 0, second = 0;
  ValueId best_from = 0;
  bool any = false;
  void add(std::uint64_t pos, ValueId from) {
    if (!any || pos > best) {
      if (any && from != best_from) second = std::max(second, best);
      best = pos;
      best_from = from;
      any = true;
    } else if (from != best_from) {
      second = std::max(second, pos);
    }
  }
  [[nodiscard]] std::uint64_t excluding(ValueId from) const {
    if (!any) return 0;
    return from == best_from ? second : best;
  }
};

void compute_usefulness(Compiled& c) {
  const std::size_t nv = c.values.size();
  std::vector<std::uint64_t> observed_until(nv, 0);
  std::vector<bool> info_cas_from(nv, false);
  TopTwo fail_any, fail_mismatch;
  std::uint64_t fail_missing = 0;
  for (const ReqOp& r : c.req) {
    switch (r.kind) {
      case ReqKind::read:
      case ReqKind::cas_ok: observed_until[r.a] = std::max(observed_until[r.a], r.ret_pos); break;
      case ReqKind::cas_fail_any: fail_any.add(r.ret_pos, r.a); break;
      case ReqKind::cas_fail_mismatch: fail_mismatch.add(r.ret_pos, r.a); break;
      case ReqKind::cas_fail_missing: fail_missing = std::max(fail_missing, r.ret_pos); break;
      default: break;
    }
  }
  for (const InfoClass& ic : c.classes) {
    if (ic.kind == InfoKind::cas) info_cas_from[ic.a] = true;
  }
  for (InfoClass& ic : c.classes) {
    const ValueId x = ic.result();
    std::uint64_t u = std::max(observed_until[x], fail_any.excluding(x));
    if (x == absent_id) u = std::max(u, fail_missing);
    else u = std::max(u, fail_mismatch.excluding(x));
    if (info_cas_from[x]) u = never_seq;
    ic.useful_until = u;
  }
}

/// Compiles the ops `ops` (one key, invocation order) truncated to the events at
/// positions <= cutoff: ops invoked later are dropped, ops not returned by then are
/// indeterminate.
Compiled compile(const History& h, const std::vector<std::size_t>& ops, std::uint64_t cutoff) {
  const ValueTable vt = collect_values(h, ops);
  Compiled c;
  c.values = vt.values();
  std::map<std::tuple<InfoKind, ValueId, ValueId>, std::size_t> class_of;
  for (std::size_t i : ops) {
    const Op& op = h.ops[i];
    if (op.invoke_seq > cutoff) break;
    if (returns_by(op, cutoff)) {
      if (auto r = to_req(op, vt)) {
        r->history_index = i;
        c.req.push_back(*r);
      }
    } else if (op.outcome != Outcome::fail || op.complete_seq > cutoff) {
      auto k = to_info(op, vt);
      if (!k) continue;
      auto [it, fresh] = class_of.emplace(*k, c.classes.size());
      if (fresh) c.classes.push_back({std::get<0>(*k), std::get<1>(*k), std::get<2>(*k), {}, 0});
      c.classes[it->second].calls.push_back(op.invoke_seq);
    }
  }
  compute_usefulness(c);
  assign_twin_classes(c);
  return c;
}

/// State ids must fit in 31 bits (Search::serialize); more distinct values than that
/// cannot come from a history that fits in memory, but are refused, not wrapped.
constexpr std::size_t max_values = std::size_t{1} << 31;

/// The value a required op needs the key to hold, if it needs one that only a write
/// or cas can produce: an ok read of a present value, a successful cas's `from`.
std::optional<ValueId> needed_value(const ReqOp& r) {
  if (r.kind != ReqKind::read && r.kind != ReqKind::cas_ok) return std::nullopt;
  if (r.a == absent_id) return std::nullopt;  // the initial state (and any delete)
  return r.a;
}

/// Required ops (indices into c.req, by return) that need a value no op invoked before
/// they return could have written: no linearization places them, whatever the rest of
/// the history. Found without a search, in O(ops log ops).
std::vector<std::size_t> unwritten_value_ops(const Compiled& c) {
  std::vector<std::uint64_t> first_write(c.values.size(), never_seq);  // earliest producer call
  auto produced = [&](ValueId v, std::uint64_t call) { first_write[v] = std::min(first_write[v], call); };
  for (const ReqOp& r : c.req) {
    if (r.kind == ReqKind::write) produced(r.a, r.call_pos);
    if (r.kind == ReqKind::cas_ok && r.a != r.b) produced(r.b, r.call_pos);
  }
  for (const InfoClass& ic : c.classes) produced(ic.result(), ic.calls.front());
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < c.req.size(); ++i) {
    const auto v = needed_value(c.req[i]);
    if (v && first_write[*v] >= c.req[i].ret_pos) out.push_back(i);
  }
  std::sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) { return c.req[a].ret_pos < c.req[b].ret_pos; });
  return out;
}

// ---- Memo: configurations seen, with subsumption on info counts ----
//
// A configuration is (base, info): base = (state, required ops linearized), info = the
// counts of linearized members per live info class. Using fewer info ops leaves
// strictly more options (an unused info op may stay unused forever), so a visited
// (base, info') with info' <= info componentwise means (base, info) fails too. Per base
// the memo keeps a chain of the info vectors visited; all of it in a chunked arena
// whose bytes are counted against the bound.

class Memo {
 public:
  explicit Memo(std::uint64_t max_bytes) : max_bytes_(max_bytes) { table_.resize(1024); }

  enum class Insert { fresh, seen, full };

  /// `info` holds (class << 32 | count) pairs sorted by class; `counts` is the dense
  /// vector they come from (classes not in `info` count as 0 for the comparison only
  /// when dead, which the caller guarantees is a function of `base`).
  Insert insert(const std::vector<std::uint64_t>& base, const std::vector<std::uint64_t>& info,
                const std::vector<std::uint32_t>& counts) {
    const std::uint64_t h = hash(base);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = table_[i];
      if (s.ref == 0) {
        const std::uint64_t ref = store(base, 1);
        if (ref == 0) return Insert::full;
        s = Slot{h, ref};
        if (++bases_ * 2 > table_.size() && !grow()) return Insert::full;
        return add_info(ref, base.size(), info);
      }
      if (s.hash == h && equal(s.ref, base)) {
        if (subsumed(s.ref, base.size(), counts)) return Insert::seen;
        return add_info(s.ref, base.size(), info);
      }
    }
  }
  /// Whether (base, counts) would be `seen` by insert; changes nothing.
  [[nodiscard]] bool seen(const std::vector<std::uint64_t>& base, const std::vector<std::uint32_t>& counts) const {
    const std::uint64_t h = hash(base);
    const std::size_t mask = table_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = table_[i];
      if (s.ref == 0) return false;
      if (s.hash == h && equal(s.ref, base)) return subsumed(s.ref, base.size(), counts);
    }
  }
  [[nodiscard]] std::uint64_t bytes() const {
    return table_.size() * sizeof(Slot) + chunks_.size() * chunk_words * 8;
  }
  [[nodiscard]] std::uint64_t count() const { return count_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t ref = 0;  // 0: empty; else 1 + arena offset of [len, words..., chain head]
  };
  static constexpr std::size_t chunk_words = std::size_t{1} << 18;  // 2 MiB

  static std::uint64_t hash(const std::vector<std::uint64_t>& key) {
    std::uint64_t h = 0x243F6A8885A308D3ULL ^ key.size();
    for (std::uint64_t w : key) {
      h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
      h ^= h >> 29;
    }
    return h ^ (h >> 32);
  }
  std::uint64_t* at(std::uint64_t ref) {
    const std::uint64_t off = ref - 1;
    return chunks_[off / chunk_words].get() + off % chunk_words;
  }
  const std::uint64_t* at(std::uint64_t ref) const {
    const std::uint64_t off = ref - 1;
    return chunks_[off / chunk_words].get() + off % chunk_words;
  }
  bool equal(std::uint64_t ref, const std::vector<std::uint64_t>& key) const {
    const std::uint64_t* p = at(ref);
    return p[0] == key.size() && std::equal(key.begin(), key.end(), p + 1);
  }
  /// Whether a recorded info vector of this base is <= counts.
  bool subsumed(std::uint64_t ref, std::size_t base_len, const std::vector<std::uint32_t>& counts) const {
    for (std::uint64_t rec = at(ref)[base_len + 1]; rec != 0; rec = at(rec)[0]) {
      const std::uint64_t* p = at(rec);
      bool le = true;
      for (std::uint64_t k = 0; k < p[1] && le; ++k) {
        le = counts[p[2 + k] >> 32] >= (p[2 + k] & 0xFFFFFFFFULL);
      }
      if (le) return true;
    }
    return false;
  }
  Insert add_info(std::uint64_t base_ref, std::size_t base_len, const std::vector<std::uint64_t>& info) {
    std::vector<std::uint64_t>& rec = scratch_;
    rec.assign({0, info.size()});
    rec.insert(rec.end(), info.begin(), info.end());
    const std::uint64_t ref = store(rec, 0);
    if (ref == 0) return Insert::full;
    std::uint64_t& head = at(base_ref)[base_len + 1];
    at(ref)[0] = head;
    head = ref;
    ++count_;
    return Insert::fresh;
  }
  /// Copies words; with `with_len`, as [len, words..., chain head = 0].
  std::uint64_t store(const std::vector<std::uint64_t>& words, int with_len) {
    const std::size_t need = words.size() + 2 * static_cast<std::size_t>(with_len);
    if (need > chunk_words) return 0;
    if (chunks_.empty() || used_ + need > chunk_words) {
      if (bytes() + chunk_words * 8 > max_bytes_) return 0;
      chunks_.emplace_back(new std::uint64_t[chunk_words]);  // uninitialised: pages are touched lazily
      used_ = 0;
    }
    std::uint64_t* p = chunks_.back().get() + used_;
    if (with_len) *p++ = words.size();
    std::copy(words.begin(), words.end(), p);
    if (with_len) p[words.size()] = 0;  // chain head
    const std::uint64_t ref = 1 + (chunks_.size() - 1) * chunk_words + used_;
    used_ += need;
    return ref;
  }
  bool grow() {
    if (bytes() + table_.size() * 2 * sizeof(Slot) > max_bytes_) return false;
    std::vector<Slot> old(table_.size() * 2);
    old.swap(table_);
    const std::size_t mask = table_.size() - 1;
    for (const Slot& s : old) {
      if (s.ref == 0) continue;
      std::size_t i = s.hash & mask;
      while (table_[i].ref != 0) i = (i + 1) & mask;
      table_[i] = s;
    }
    return true;
  }

  std::uint64_t max_bytes_;
  std::vector<Slot> table_;
  std::vector<std::unique_ptr<std::uint64_t[]>> chunks_;
  std::vector<std::uint64_t> scratch_;
  std::size_t used_ = 0;
  std::uint64_t bases_ = 0;
  std::uint64_t count_ = 0;
};

// ---- The search ----

struct Budget {
  std::optional<Clock::time_point> deadline;
  std::uint64_t max_bytes = 0;
};

enum class SearchEnd { linearizable, not_linearizable, timeout, memory };

struct SearchOptions {
  bool prune = true;                 // observer and twin dominance
  bool drop_dead = true;             // dead info classes; info ops only when needed
  std::optional<std::size_t> target;  // req index whose possible states to collect
};

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
  [[nodiscard]] const std::vector<bool>& seen_states() const { return seen_states_; }
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
// is tried; (1) the other required ops callable before the first return r; (2) info
// classes whose next member was called before r. Then backtrack.
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

// ---- Per key ----

struct KeyJob {
  std::string key;
  std::vector<std::size_t> ops;  // History::ops indices, invocation order
};

SearchEnd run_search(const Compiled& c, const Budget& b, SearchOptions o, KeyResult* stats) {
  Search s{c, b, o};
  const SearchEnd end = s.run();
  if (stats) {
    stats->configs += s.memo().count();
    stats->memo_bytes = std::max(stats->memo_bytes, s.memo().bytes());
  }
  return end;
}

void set_unknown(KeyResult& kr, SearchEnd end) {
  kr.verdict = Verdict::unknown;
  kr.unknown_reason = end == SearchEnd::timeout ? "timeout" : "memory bound";
}

/// Binary search for the shortest failing prefix, then enumerate the states at which
/// its last op could have been placed. `fails_by`: an event position such that the
/// prefix ending there is known not to be linearizable (never_seq: the whole key).
Violation explain_violation(const History& h, const KeyJob& job, const Budget& b, std::uint64_t fails_by) {
  Violation v;
  std::vector<std::uint64_t> ends;  // returns of required ops: the candidate prefix ends
  for (const ReqOp& r : compile(h, job.ops, never_seq).req) ends.push_back(r.ret_pos);
  std::sort(ends.begin(), ends.end());
  std::size_t lo = 0;  // ends[hi] fails: the last return at or before fails_by
  std::size_t hi = static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), fails_by) - ends.begin()) - 1;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const SearchEnd e = run_search(compile(h, job.ops, ends[mid]), b, {}, nullptr);
    if (e == SearchEnd::not_linearizable) {
      hi = mid;
    } else if (e == SearchEnd::linearizable) {
      lo = mid + 1;
    } else {
      v.minimal = false;
      lo = hi;  // keep the shortest prefix known to fail
    }
  }
  const std::uint64_t cutoff = ends[hi];
  const Compiled c = compile(h, job.ops, cutoff);
  std::size_t target = 0;
  for (std::size_t i = 0; i < c.req.size(); ++i) {
    if (c.req[i].ret_pos == cutoff) target = i;
  }
  v.op = c.req[target].history_index;
  const std::vector<std::size_t> unwritten = unwritten_value_ops(c);
  v.needs_unwritten_value = std::find(unwritten.begin(), unwritten.end(), target) != unwritten.end();
  for (std::size_t i : job.ops) {
    const Op& op = h.ops[i];
    if (op.invoke_seq > cutoff) break;
    v.prefix_ops.push_back(i);
    v.prefix_events += 1 + (op.outcome != Outcome::pending && op.complete_seq <= cutoff ? 1 : 0);
  }
  // Dominance pruning keeps every state sequence, so it keeps every state at which
  // the target is tried; dead info classes are kept so that their values show.
  Search s{c, b, SearchOptions{true, false, target}};
  const SearchEnd e = s.run();
  v.possible_values_complete = e == SearchEnd::not_linearizable;
  v.op_fits_somewhere = s.target_fits();
  for (std::size_t id = 0; id < c.values.size(); ++id) {
    if (s.seen_states()[id]) v.possible_values.push_back(c.values[id]);
  }
  return v;
}

/// The key's verdict: first the search-free check for ops needing a value nobody wrote
/// (a single such read decides the key, however many ops are pending), then the search.
KeyResult check_key(const History& h, const KeyJob& job, const Budget& b, bool want_explain) {
  KeyResult kr;
  kr.key = job.key;
  kr.op_count = job.ops.size();
  const Compiled c = compile(h, job.ops, never_seq);
  if (c.values.size() >= max_values) {
    set_unknown(kr, SearchEnd::memory);
    return kr;
  }
  std::uint64_t fails_by = never_seq;
  SearchEnd end = SearchEnd::not_linearizable;
  if (const std::vector<std::size_t> unwritten = unwritten_value_ops(c); !unwritten.empty()) {
    fails_by = c.req[unwritten.front()].ret_pos;
  } else {
    end = run_search(c, b, {}, &kr);
  }
  switch (end) {
    case SearchEnd::linearizable: kr.verdict = Verdict::linearizable; break;
    case SearchEnd::not_linearizable:
      kr.verdict = Verdict::not_linearizable;
      if (want_explain) kr.violation = explain_violation(h, job, b, fails_by);
      break;
    default: set_unknown(kr, end); break;
  }
  return kr;
}

std::vector<KeyJob> partition(const History& h) {
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < h.ops.size(); ++i) by_key[h.ops[i].call.key].push_back(i);
  std::vector<KeyJob> jobs;
  for (auto& [k, ops] : by_key) jobs.push_back({k, std::move(ops)});
  return jobs;
}

Verdict combine(Verdict a, Verdict b) {
  if (a == Verdict::not_linearizable || b == Verdict::not_linearizable) return Verdict::not_linearizable;
  if (a == Verdict::unknown || b == Verdict::unknown) return Verdict::unknown;
  return Verdict::linearizable;
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable: return "linearizable";
    case Verdict::not_linearizable: return "not linearizable";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

CheckResult check(const History& history, const CheckOptions& options) {
  const std::vector<KeyJob> jobs = partition(history);
  const unsigned workers = std::max(1U, std::min<unsigned>(options.jobs, static_cast<unsigned>(jobs.size())));
  Budget budget;
  if (options.timeout) budget.deadline = Clock::now() + *options.timeout;
  budget.max_bytes = options.max_memory_bytes / std::max(1U, options.jobs);

  // Largest keys first for balance; results land in key order regardless.
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return jobs[a].ops.size() > jobs[b].ops.size();
  });
  std::vector<KeyResult> results(jobs.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < order.size();) {
      const std::size_t j = order[k];
      results[j] = check_key(history, jobs[j], budget, options.explain);
    }
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (unsigned w = 0; w < workers; ++w) pool.emplace_back(work);
  }
  CheckResult out;
  out.op_count = history.ops.size();
  for (KeyResult& kr : results) {
    out.verdict = combine(out.verdict, kr.verdict);
    out.keys.push_back(std::move(kr));
  }
  return out;
}

}  // namespace vsr::sim

namespace vsr::sim {
namespace {

std::string needs(const Op& op) {
  if (op.call.kind == OpKind::read) return fmt::format("the value {}", format_value(op.result));
  if (op.outcome == Outcome::ok) return fmt::format("the value {} (its cas `from`)", op.call.value);
  switch (op.cas_error) {
    case CasError::not_found: return "the key to be absent (it failed with not_found)";
    case CasError::precondition_failed:
      return fmt::format("a value present and other than {} (it failed its precondition)", op.call.value);
    case CasError::unspecified: break;
  }
  return fmt::format("the key absent or a value other than {} (the cas failed)", op.call.value);
}

std::string when(const Op& op) {
  const bool done = op.outcome == Outcome::ok || op.outcome == Outcome::fail;
  std::string s;
  if (op.invoke_time != 0 || op.complete_time != 0 || op.invoke_line == 0) {  // times recorded
    s = fmt::format("t={}..", op.invoke_time);
    if (done) s += std::to_string(op.complete_time);
    else s += op.outcome == Outcome::info ? fmt::format("? (info at t={})", op.complete_time) : std::string{"? (pending)"};
  } else if (!done) {
    s = op.outcome == Outcome::info ? "(info)" : "(pending)";
  }
  if (op.invoke_line != 0) {
    s += fmt::format("{}line {}", s.empty() ? "" : ", ", op.invoke_line);
    if (op.complete_line != 0) s += fmt::format("-{}", op.complete_line);
  }
  return s;
}

bool mutator(const Op& op) {
  return op.outcome != Outcome::fail && op.call.kind != OpKind::read;
}

/// The ops worth showing: those overlapping `target`, and the last few mutators that
/// completed before it was invoked.
std::vector<std::size_t> relevant_ops(const History& h, const Violation& v) {
  const Op& t = h.ops[v.op];
  std::vector<std::size_t> before, out;
  for (std::size_t i : v.prefix_ops) {
    const Op& op = h.ops[i];
    if (constrains_nothing(op)) continue;
    const bool done_before = op.outcome != Outcome::pending && op.complete_seq < t.invoke_seq &&
                             (op.outcome == Outcome::ok || op.outcome == Outcome::fail);
    if (!done_before) out.push_back(i);
    else if (mutator(op)) before.push_back(i);
  }
  const std::size_t keep = std::min<std::size_t>(before.size(), 3);
  out.insert(out.begin(), before.end() - static_cast<std::ptrdiff_t>(keep), before.end());
  return out;
}

}  // namespace

std::string explain(const History& history, const KeyResult& key) {
  std::string s = fmt::format("key {:?}: {} ({} ops)", key.key, to_string(key.verdict), key.op_count);
  if (key.verdict == Verdict::unknown) s += fmt::format(": gave up ({})", key.unknown_reason);
  if (!key.violation) return s;
  const Violation& v = *key.violation;
  const Op& t = history.ops[v.op];
  s += fmt::format("\n  shortest prefix that cannot be linearized: {} events ({} ops) of this key{}",
                   v.prefix_events, v.prefix_ops.size(),
                   v.minimal ? "" : " (not minimised: a resource bound was reached)");
  s += fmt::format("\n  it ends with the completion of an op that cannot be placed:\n    {}  {}",
                   describe(t), when(t));
  s += fmt::format("\n  it needs {}", needs(t));
  if (v.needs_unwritten_value) {
    s += "\n  and no write or cas of this key invoked before it completed writes that value:"
         "\n  no order of the ops can explain it";
  }
  std::vector<std::string> vals;
  for (const Value& x : v.possible_values) vals.push_back(format_value(x));
  s += fmt::format("\n  but wherever it could take effect (after every op completed before its invocation,"
                   "\n  before its completion) the key could only hold: {}{}",
                   vals.empty() ? std::string{"(no state)"} : fmt::format("{}", fmt::join(vals, ", ")),
                   v.possible_values_complete ? "" : " (enumeration cut short by a resource bound)");
  if (v.op_fits_somewhere) {
    s += "\n  it matches at some of those points, but from each of them the other ops completed"
         "\n  by then cannot all be placed";
  }
  const std::vector<std::size_t> rel = relevant_ops(history, v);
  s += "\n  ops of the prefix around it (the last writers completed before it, then every op\n"
       "  overlapping it; failed ops and reads of unknown outcome left out):";
  for (std::size_t i : rel) {
    s += fmt::format("\n    {} {}  {}", i == v.op ? "=>" : "  ", describe(history.ops[i]), when(history.ops[i]));
  }
  return s;
}

}  // namespace vsr::sim
