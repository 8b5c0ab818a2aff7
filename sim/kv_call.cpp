#include "sim/kv_call.hpp"

#include <charconv>
#include <string>

#include <fmt/format.h>

namespace vsr::sim {

KvOp to_kv(const OpCall& call) {
  switch (call.kind) {
    case OpKind::read: return {KvOpKind::read, call.key, "", ""};
    case OpKind::write: return {KvOpKind::write, call.key, std::to_string(call.value), ""};
    case OpKind::cas:
      return {KvOpKind::cas, call.key, std::to_string(call.to), std::to_string(call.value)};
    case OpKind::del: return {KvOpKind::del, call.key, "", ""};
  }
  return {};
}

InputResult<KvAnswer> answer_of(const OpCall& call, const Bytes& result) {
  auto decoded = decode_kv_result(result);
  if (!decoded) return InputError{"a replica sent a result that does not decode as a KV result"};
  const KvResult& r = decoded.value();
  if (r.status == KvStatus::bad_operation) return InputError{"the KV machine refused the operation as malformed"};
  KvAnswer a;
  a.outcome = r.status == KvStatus::ok || call.kind == OpKind::read ? Outcome::ok : Outcome::fail;
  if (call.kind == OpKind::read && r.value) {
    const std::string& text = *r.value;
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      return InputError{fmt::format("a read of {} returned '{}', not an integer", call.key, text.substr(0, 40))};
    }
    a.value = v;
  }
  a.cas_error = r.status == KvStatus::not_found             ? CasError::not_found
                : r.status == KvStatus::precondition_failed ? CasError::precondition_failed
                                                            : CasError::unspecified;
  return a;
}

}  // namespace vsr::sim
