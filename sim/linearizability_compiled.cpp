// Compiling one key's history for the search (sim/linearizability_compiled.hpp): the
// value table, required ops and info classes, when each info class stops being useful,
// and the search-free check for ops needing a value nobody wrote.
#include "sim/linearizability_compiled.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace vsr::sim::lin {
namespace {

/// Numbers the classes of identical required ops (same kind and values).
void assign_twin_classes(Compiled& c) {
  std::map<std::tuple<ReqKind, ValueId, ValueId>, std::uint32_t> ids;
  for (ReqOp& r : c.req) {
    auto [it, fresh] = ids.emplace(std::tuple{r.kind, r.a, r.b}, static_cast<std::uint32_t>(ids.size()));
    r.twin_class = it->second;
  }
  c.twin_classes = static_cast<std::uint32_t>(ids.size());
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

/// Sets each info class's useful_until: the last return of a required op that could
/// observe its effect (never_seq if an info cas may continue from it).
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

/// The value a required op needs the key to hold, if it needs one that only a write
/// or cas can produce: an ok read of a present value, a successful cas's `from`.
std::optional<ValueId> needed_value(const ReqOp& r) {
  if (r.kind != ReqKind::read && r.kind != ReqKind::cas_ok) return std::nullopt;
  if (r.a == absent_id) return std::nullopt;  // the initial state (and any delete)
  return r.a;
}

}  // namespace

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

}  // namespace vsr::sim::lin
