// The KV machine and its encodings (all canonical: decode then encode gives the input).
//   KvOp:     u8 kind, key; write: value; cas: expected, value; read/delete: nothing more.
//             (Fields a kind does not use are not encoded; decoding leaves them empty.)
//   KvResult: u8 status, u8 has_value (0/1), value if has_value.
//   Snapshot: u32 entry count, then (key, value) pairs in strictly increasing key order.
// Strings are a u32 length then the bytes; integers are little-endian.
#include "vsr/kv.hpp"

#include <span>

#include "vsr/wire.hpp"

namespace vsr {

namespace {

/// Two u32 string lengths: the smallest snapshot entry.
constexpr std::size_t min_snapshot_entry_bytes = 8;

bool valid_kind(std::uint8_t k) { return k <= static_cast<std::uint8_t>(KvOpKind::del); }
bool valid_status(std::uint8_t s) {
  return s <= static_cast<std::uint8_t>(KvStatus::bad_operation);
}

std::uint64_t hash_string(const std::string& s, std::uint64_t seed) {
  return hash_combine(seed, hash_bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

KvResult status_only(KvStatus s) { return KvResult{s, std::nullopt}; }

}  // namespace

Bytes encode_kv_op(const KvOp& op) {
  Bytes out;
  wire::Writer w(out);
  w.u8(static_cast<std::uint8_t>(op.kind));
  w.str(op.key);
  if (op.kind == KvOpKind::write) w.str(op.value);
  if (op.kind == KvOpKind::cas) {
    w.str(op.expected);
    w.str(op.value);
  }
  return out;
}

Result<KvOp> decode_kv_op(const Bytes& bytes) {
  wire::Reader r(bytes, 0, "decode_kv_op");
  KvOp op;
  const std::uint8_t kind = r.u8("kind");
  if (r.ok() && !valid_kind(kind)) r.fail(fmt::format("unknown op kind {}", kind));
  op.kind = static_cast<KvOpKind>(kind);
  op.key = r.str("key");
  if (op.kind == KvOpKind::write) op.value = r.str("value");
  if (op.kind == KvOpKind::cas) {
    op.expected = r.str("expected");
    op.value = r.str("value");
  }
  BOOST_OUTCOME_TRY(r.finish());
  return op;
}

Bytes encode_kv_result(const KvResult& res) {
  Bytes out;
  wire::Writer w(out);
  w.u8(static_cast<std::uint8_t>(res.status));
  w.boolean(res.value.has_value());
  if (res.value) w.str(*res.value);
  return out;
}

Result<KvResult> decode_kv_result(const Bytes& bytes) {
  wire::Reader r(bytes, 0, "decode_kv_result");
  KvResult res;
  const std::uint8_t status = r.u8("status");
  if (r.ok() && !valid_status(status)) r.fail(fmt::format("unknown status {}", status));
  res.status = static_cast<KvStatus>(status);
  if (r.boolean("has_value")) res.value = r.str("value");
  BOOST_OUTCOME_TRY(r.finish());
  return res;
}

Bytes KvMachine::apply(const Bytes& operation) {
  auto op = decode_kv_op(operation);
  if (!op) return encode_kv_result(status_only(KvStatus::bad_operation));
  return encode_kv_result(apply_op(op.value()));
}

KvResult KvMachine::apply_op(const KvOp& op) {
  auto it = data_.find(op.key);
  const bool found = it != data_.end();
  switch (op.kind) {
    case KvOpKind::read:
      return found ? KvResult{KvStatus::ok, it->second} : status_only(KvStatus::not_found);
    case KvOpKind::write:
      data_.insert_or_assign(op.key, op.value);
      return status_only(KvStatus::ok);
    case KvOpKind::cas:
      if (!found) return status_only(KvStatus::not_found);
      if (it->second != op.expected) return status_only(KvStatus::precondition_failed);
      it->second = op.value;
      return status_only(KvStatus::ok);
    case KvOpKind::del:
      if (!found) return status_only(KvStatus::not_found);
      data_.erase(it);
      return status_only(KvStatus::ok);
  }
  return status_only(KvStatus::bad_operation);  // a kind outside the enum
}

Bytes KvMachine::snapshot() const {
  Bytes out;
  wire::Writer w(out);
  w.count(data_.size());
  for (const auto& [key, value] : data_) {
    w.str(key);
    w.str(value);
  }
  return out;
}

/// Parses into a fresh map and swaps it in only on success: bad bytes change nothing.
Result<void> KvMachine::restore(const Bytes& snapshot) {
  wire::Reader r(snapshot, 0, "restore");
  const std::size_t n = r.count("entries", min_snapshot_entry_bytes);
  std::map<std::string, std::string> data;
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const std::size_t at = r.offset();
    std::string key = r.str("key");
    std::string value = r.str("value");
    if (r.ok() && !data.empty() && key <= data.rbegin()->first) {
      r.fail(fmt::format("key at offset {} is not above the previous key (keys must be unique "
                         "and sorted)",
                         at));
    }
    data.emplace_hint(data.end(), std::move(key), std::move(value));
  }
  BOOST_OUTCOME_TRY(r.finish());
  data_ = std::move(data);
  return outcome::success();
}

/// Over the ordered map: the entry count, then each key and value in key order.
std::uint64_t KvMachine::state_hash() const {
  std::uint64_t h = hash_mix(data_.size());
  for (const auto& [key, value] : data_) h = hash_string(value, hash_string(key, h));
  return h;
}

}  // namespace vsr

fmt::format_context::iterator fmt::formatter<vsr::KvOp>::format(const vsr::KvOp& op,
                                                                fmt::format_context& ctx) const {
  std::string s;
  switch (op.kind) {
    case vsr::KvOpKind::read: s = fmt::format("read {}", op.key); break;
    case vsr::KvOpKind::write: s = fmt::format("write {}={}", op.key, op.value); break;
    case vsr::KvOpKind::cas:
      s = fmt::format("cas {} {}->{}", op.key, op.expected, op.value);
      break;
    case vsr::KvOpKind::del: s = fmt::format("delete {}", op.key); break;
    default: s = fmt::format("kind{} {}", static_cast<int>(op.kind), op.key); break;
  }
  return fmt::formatter<std::string_view>::format(s, ctx);
}

fmt::format_context::iterator fmt::formatter<vsr::KvResult>::format(
    const vsr::KvResult& r, fmt::format_context& ctx) const {
  std::string_view status = "unknown";
  switch (r.status) {
    case vsr::KvStatus::ok: status = "ok"; break;
    case vsr::KvStatus::not_found: status = "not_found"; break;
    case vsr::KvStatus::precondition_failed: status = "precondition_failed"; break;
    case vsr::KvStatus::bad_operation: status = "bad_operation"; break;
  }
  std::string s = r.value ? fmt::format("{} {}", status, *r.value) : std::string(status);
  return fmt::formatter<std::string_view>::format(s, ctx);
}
