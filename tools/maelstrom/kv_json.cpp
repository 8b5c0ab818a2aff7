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

namespace {

/// A decimal number as sign, significant digits (no leading or trailing zeros; empty
/// for zero) and the power of ten of the last digit: -1.50e3 = (true, "15", 2).
struct Decimal {
  bool negative = false;
  std::string digits;
  std::int64_t exponent = 0;
  bool operator==(const Decimal&) const = default;
};

constexpr std::int64_t max_exponent_magnitude = 1'000'000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// The JSON number grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as a Decimal;
/// nullopt for anything else (e.g. "null", which is how an infinite double prints).
std::optional<Decimal> parse_decimal(std::string_view t) {
  Decimal d;
  std::size_t i = 0;
  if (i < t.size() && t[i] == '-') {
    d.negative = true;
    ++i;
  }
  const std::size_t int_begin = i;
  while (i < t.size() && is_digit(t[i])) d.digits += t[i++];
  if (i == int_begin) return std::nullopt;
  if (i < t.size() && t[i] == '.') {
    const std::size_t frac_begin = ++i;
    while (i < t.size() && is_digit(t[i])) {
      d.digits += t[i++];
      --d.exponent;
    }
    if (i == frac_begin) return std::nullopt;
  }
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) negative_exponent = t[i++] == '-';
    const std::size_t exp_begin = i;
    std::int64_t e = 0;
    while (i < t.size() && is_digit(t[i])) {
      e = e * 10 + (t[i++] - '0');
      if (e > max_exponent_magnitude) return std::nullopt;
    }
    if (i == exp_begin) return std::nullopt;
    d.exponent += negative_exponent ? -e : e;
  }
  if (i != t.size()) return std::nullopt;
  d.digits.erase(0, std::min(d.digits.find_first_not_of('0'), d.digits.size()));
  while (!d.digits.empty() && d.digits.back() == '0') {
    d.digits.pop_back();
    ++d.exponent;
  }
  if (d.digits.empty()) return Decimal{};  // zero, whatever its sign and exponent
  return d;
}

bool starts_number(char c) { return c == '-' || is_digit(c); }
bool in_number(char c) { return is_digit(c) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'; }

/// What the stored text of the number `token` is (nlohmann's parse, then dump()).
std::string stored_text(std::string_view token) {
  const json j = json::parse(token, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_number()) return "(not a number)";
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Follows a left-to-right scan of JSON text, telling apart the characters inside
/// string literals (escapes included) from the structure around them.
class StringTracker {
 public:
  /// Feeds the next character; true if it belongs to a string literal, quotes included.
  bool in_string(char c) {
    if (inside_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        inside_ = false;
      }
      return true;
    }
    inside_ = c == '"';
    return inside_;
  }

 private:
  bool inside_ = false;
  bool escaped_ = false;
};

}  // namespace

bool number_is_exact(std::string_view token) {
  const auto written = parse_decimal(token);
  if (!written) return false;
  const auto stored = parse_decimal(stored_text(token));
  return stored && *stored == *written;
}

Reply<void> check_numbers_exact(std::string_view text) {
  StringTracker strings;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (strings.in_string(c) || !starts_number(c)) continue;
    std::size_t end = i;
    while (end < text.size() && in_number(text[end])) ++end;
    const std::string_view token = text.substr(i, end - i);
    if (!number_is_exact(token)) {
      constexpr std::size_t max_shown = 64;
      return ErrorReply{
          ErrorCode::malformed_request,
          fmt::format("the number {}{} cannot be stored exactly: it would read back as {}",
                      token.substr(0, max_shown), token.size() > max_shown ? "..." : "",
                      stored_text(token))};
    }
    i = end - 1;
  }
  return BOOST_OUTCOME_V2_NAMESPACE::success();
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
  StringTracker strings;
  for (char c : text) {
    if (strings.in_string(c)) continue;
    if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace vsr::maelstrom
