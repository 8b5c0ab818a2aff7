// One JSON writer for every line the project writes by hand (the simulator's trace,
// telemetry lines): a flat object built field by field, with strings escaped per
// RFC 8259. Pure (no allocation beyond the string it builds, no locale).
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace vsr {

/// Appends `s` to `out` as a quoted JSON string. Escapes `"`, `\` and every control
/// character (U+0000..U+001F as \n, \t, ... or \u00XX, and DEL as \u007f); a byte
/// sequence that is not valid UTF-8 becomes U+FFFD, so the result is always valid
/// JSON whatever bytes `s` holds.
void append_json_string(std::string& out, std::string_view s);

/// `s` as a quoted JSON string (see append_json_string).
[[nodiscard]] std::string json_quote(std::string_view s);

/// Builds one flat JSON object, keys in call order: `JsonObject().num("t_us", 5)
/// .str("ev", "crash").take()` is `{"t_us":5,"ev":"crash"}`. Keys are written as
/// given (they are the project's own identifiers) but escaped all the same.
class JsonObject {
 public:
  JsonObject() : text_("{") {}

  /// An integer of any width and signedness, written exactly.
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  JsonObject& num(std::string_view k, T v) {
    if constexpr (std::is_signed_v<T>) {
      return signed_num(k, static_cast<std::int64_t>(v));
    } else {
      return unsigned_num(k, static_cast<std::uint64_t>(v));
    }
  }
  JsonObject& boolean(std::string_view key, bool v);
  JsonObject& str(std::string_view key, std::string_view v);
  /// A value that is already JSON text (an array or object built elsewhere).
  /// Precondition: `json` is one valid JSON value.
  JsonObject& raw(std::string_view key, std::string_view json);

  /// The finished object. The builder is left empty.
  [[nodiscard]] std::string take();

 private:
  JsonObject& signed_num(std::string_view k, std::int64_t v);
  JsonObject& unsigned_num(std::string_view k, std::uint64_t v);
  void key(std::string_view k);
  std::string text_;
};

/// Writes one field of a typed record (a trace event, a telemetry event) by its type:
/// integers and tagged integers (a `.value` member) as numbers, bools, text as a
/// string. Other types add overloads of put_json next to their own definition, found
/// by argument-dependent lookup.
template <typename T>
  requires(std::integral<T> && !std::same_as<T, bool>)
void put_json(JsonObject& o, std::string_view key, T v) {
  o.num(key, v);
}
inline void put_json(JsonObject& o, std::string_view key, bool v) { o.boolean(key, v); }
inline void put_json(JsonObject& o, std::string_view key, std::string_view v) { o.str(key, v); }
inline void put_json(JsonObject& o, std::string_view key, const char* v) { o.str(key, v); }
inline void put_json(JsonObject& o, std::string_view key, const std::string& v) { o.str(key, v); }
template <typename T>
  requires std::integral<std::remove_cvref_t<decltype(std::declval<const T&>().value)>>
void put_json(JsonObject& o, std::string_view key, const T& v) {
  o.num(key, v.value);
}

}  // namespace vsr
