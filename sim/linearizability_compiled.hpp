// The compiled form of one key's history, as the linearizability search consumes it
// (internal to the checker: sim/linearizability.hpp is the public API). Values are
// numbered densely (absent is 0); ops that returned become required ops, ops that may
// or may not have taken effect (info, pending, or not returned by the cutoff) are
// grouped into info classes with the same effect. sim/linearizability_search.cpp says
// why the search wants this shape.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "sim/history.hpp"

namespace vsr::sim::lin {

/// A value's number within one compiled key (Compiled::values); 0 is "absent".
using ValueId = std::uint32_t;
inline constexpr ValueId absent_id = 0;

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

/// The state after required op `op` in state `s`, or nullopt if `op` cannot take
/// effect in `s` (a read of another value, a cas whose precondition does not hold).
/// Inline: the search calls it at every step.
inline std::optional<ValueId> step_req(const ReqOp& op, ValueId s) {
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
inline std::optional<ValueId> step_info(const InfoClass& c, ValueId s) {
  switch (c.kind) {
    case InfoKind::write: return s != c.a ? std::optional{c.a} : std::nullopt;
    case InfoKind::del: return s != absent_id ? std::optional{absent_id} : std::nullopt;
    case InfoKind::cas: return s == c.a && c.a != c.b ? std::optional{c.b} : std::nullopt;
  }
  return std::nullopt;
}

/// State ids must fit in 31 bits (Search::serialize); more distinct values than that
/// cannot come from a history that fits in memory, but are refused, not wrapped.
inline constexpr std::size_t max_values = std::size_t{1} << 31;

/// Compiles the ops `ops` (one key's History::ops indices, invocation order) truncated
/// to the events at positions <= cutoff: ops invoked later are dropped, ops not
/// returned by then are indeterminate. Required ops come out sorted by call, info
/// classes by first call, with their usefulness and twin classes computed.
Compiled compile(const History& h, const std::vector<std::size_t>& ops, std::uint64_t cutoff);

/// Required ops (indices into c.req, by return) that need a value no op invoked before
/// they return could have written: no linearization places them, whatever the rest of
/// the history. Found without a search, in O(ops log ops).
std::vector<std::size_t> unwritten_value_ops(const Compiled& c);

}  // namespace vsr::sim::lin
