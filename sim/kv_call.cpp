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

namespace {

InputResult<std::int64_t> integer(const std::string& text, std::string_view what) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    return InputError{fmt::format("a KV operation's {} is '{}', not an integer", what, text.substr(0, 40))};
  }
  return v;
}

}  // namespace

InputResult<OpCall> call_of(const Bytes& operation) {
  auto decoded = decode_kv_op(operation);
  if (!decoded) return InputError{"the bytes are no KV operation"};
  KvOp& op = decoded.value();
  switch (op.kind) {
    case KvOpKind::read: return OpCall::read(std::move(op.key));
    case KvOpKind::del: return OpCall::del(std::move(op.key));
    case KvOpKind::write: {
      VSR_SIM_TRY(auto v, integer(op.value, "value"));
      return OpCall::write(std::move(op.key), v);
    }
    case KvOpKind::cas: {
      VSR_SIM_TRY(auto from, integer(op.expected, "from"));
      VSR_SIM_TRY(auto to, integer(op.value, "to"));
      return OpCall::cas(std::move(op.key), from, to);
    }
  }
  return InputError{"the bytes are no KV operation"};
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
