#include "vsr/json_writer.hpp"

#include <fmt/format.h>

namespace vsr {
namespace {

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one
/// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) { n = 2; cp = c & 0x1fu; }
  else if (c >= 0xe0 && c <= 0xef) { n = 3; cp = c & 0x0fu; }
  else if (c >= 0xf0 && c <= 0xf4) { n = 4; cp = c & 0x07u; }
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0u) != 0x80u) return 0;
    cp = (cp << 6) | (b(k) & 0x3fu);
  }
  if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
  if (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return n;
}

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: out += fmt::format("\\u{:04x}", c);
  }
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
      append_escape(out, c);
      ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(s, i);
    if (n == 0) {
      out += "\\ufffd";
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  out += '"';
}

std::string json_quote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_string(out, s);
  return out;
}

void JsonObject::key(std::string_view k) {
  if (text_.size() > 1) text_ += ',';
  append_json_string(text_, k);
  text_ += ':';
}

JsonObject& JsonObject::unsigned_num(std::string_view k, std::uint64_t v) {
  key(k);
  text_ += fmt::format("{}", v);
  return *this;
}

JsonObject& JsonObject::signed_num(std::string_view k, std::int64_t v) {
  key(k);
  text_ += fmt::format("{}", v);
  return *this;
}

JsonObject& JsonObject::boolean(std::string_view k, bool v) {
  key(k);
  text_ += v ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::str(std::string_view k, std::string_view v) {
  key(k);
  append_json_string(text_, v);
  return *this;
}

JsonObject& JsonObject::raw(std::string_view k, std::string_view json) {
  key(k);
  text_ += json;
  return *this;
}

std::string JsonObject::take() {
  text_.push_back('}');
  std::string out;
  out.swap(text_);
  text_.assign(1, '{');
  return out;
}

}  // namespace vsr
