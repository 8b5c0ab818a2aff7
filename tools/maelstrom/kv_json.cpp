#include "tools/maelstrom/kv_json.hpp"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace vsr::maelstrom {

bool is_definite(int code) {
  switch (code) {
    case 1: case 10: case 11: case 12: case 14: case 20: case 21: case 22: case 30:
      return true;
    default:
      return false;
  }
}

Reply<std::string> scalar_to_text(const json& value, std::string_view field) {
  if (!value.is_primitive() || value.is_discarded() || value.is_binary()) {
    return ErrorReply{ErrorCode::malformed_request,
                      fmt::format("field '{}' must be a JSON scalar (string, number, boolean or null)",
                                  field)};
  }
  // Strict UTF-8 is guaranteed by the parser; replace keeps dump() from throwing anyway.
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply<json> text_to_scalar(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return ErrorReply{ErrorCode::crash, "stored value is not JSON"};
  }
  return j;
}

bool is_kv_type(std::string_view type) {
  return type == "read" || type == "write" || type == "cas";
}

namespace {

/// body[field] as stored text, or error 12 when it is missing or not a scalar.
Reply<std::string> field_text(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end()) {
    return ErrorReply{ErrorCode::malformed_request, fmt::format("missing field '{}'", field)};
  }
  return scalar_to_text(*it, field);
}

}  // namespace

Reply<KvOp> parse_kv_request(const json& body) {
  const std::string& type = body.at("type").get_ref<const std::string&>();
  if (!is_kv_type(type)) {
    return ErrorReply{ErrorCode::not_supported, fmt::format("unsupported message type '{}'", type)};
  }
  KvOp op;
  op.kind = type == "read" ? KvOpKind::read : type == "write" ? KvOpKind::write : KvOpKind::cas;
  // (field, destination) pairs this kind needs, read in order; the first problem wins.
  std::vector<std::pair<const char*, std::string*>> fields{{"key", &op.key}};
  if (op.kind == KvOpKind::write) fields.emplace_back("value", &op.value);
  if (op.kind == KvOpKind::cas) {
    fields.emplace_back("from", &op.expected);
    fields.emplace_back("to", &op.value);
  }
  for (auto [name, into] : fields) {
    auto text = field_text(body, name);
    if (!text) return text.error();
    *into = std::move(text).value();
  }
  return op;
}

json error_body(ErrorCode code, std::string_view text) {
  return json{{"type", "error"}, {"code", static_cast<int>(code)}, {"text", std::string(text)}};
}

json kv_reply_body(KvOpKind kind, const KvResult& result) {
  switch (result.status) {
    case KvStatus::not_found:
      return error_body(ErrorCode::key_does_not_exist, "key does not exist");
    case KvStatus::precondition_failed:
      return error_body(ErrorCode::precondition_failed, "cas: current value differs from 'from'");
    case KvStatus::bad_operation:
      return error_body(ErrorCode::malformed_request, "the operation could not be decoded");
    case KvStatus::ok:
      break;
  }
  switch (kind) {
    case KvOpKind::read: {
      if (!result.value) return error_body(ErrorCode::crash, "read result without a value");
      auto value = text_to_scalar(*result.value);
      if (!value) return error_body(value.error().code, value.error().text);
      return json{{"type", "read_ok"}, {"value", std::move(value).value()}};
    }
    case KvOpKind::write:
      return json{{"type", "write_ok"}};
    case KvOpKind::cas:
      return json{{"type", "cas_ok"}};
    case KvOpKind::del:
      return json{{"type", "delete_ok"}};
  }
  return error_body(ErrorCode::crash, "unknown operation kind");
}

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace vsr::maelstrom
