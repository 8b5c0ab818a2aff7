// The run's trace: a 64-bit hash over every event (always computed: the proof of
// determinism) and, when asked, the events as JSON lines and a ring of recent lines
// for failure reports. Every event is a typed struct (sim/trace_event.hpp) that lists
// its fields once; Trace::emit both hashes those fields and writes them as one JSON
// line. Lines are formatted lazily: a run without a trace file or context pays only
// for the hash.
#pragma once

#include <concepts>
#include <cstdint>
#include <deque>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "vsr/json_writer.hpp"

namespace vsr::sim {

/// The start of one trace line: `{"t_us":<t_us>,"ev":<ev>` as a JsonObject to which
/// the event's own fields are added. Every trace line is built this way (README,
/// "Reading a trace"), so every string in it is escaped by the one JSON writer.
inline vsr::JsonObject trace_line(std::uint64_t t_us, std::string_view ev) {
  vsr::JsonObject line;
  line.num("t_us", t_us).str("ev", ev);
  return line;
}

/// A string's word in the trace hash (FNV-1a): stable across compilers and platforms.
constexpr std::uint64_t text_word(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// The word a field value contributes to the trace hash: integers, bools and enums as
/// themselves, tagged integers by their value, text by text_word. Other field types
/// provide `std::uint64_t trace_word(const T&)` beside their definition (found by
/// argument-dependent lookup).
template <typename T>
  requires(std::integral<T> || std::is_enum_v<T>)
constexpr std::uint64_t trace_word(T v) {
  return static_cast<std::uint64_t>(v);
}
inline std::uint64_t trace_word(std::string_view s) { return text_word(s); }
inline std::uint64_t trace_word(const char* s) { return text_word(s); }
inline std::uint64_t trace_word(const std::string& s) { return text_word(s); }
template <typename T>
  requires std::integral<std::remove_cvref_t<decltype(std::declval<const T&>().value)>>
std::uint64_t trace_word(const T& v) {
  return static_cast<std::uint64_t>(v.value);
}

/// A trace event's name (the line's "ev") and its word in the hash, computed once.
struct EventName {
  constexpr explicit EventName(std::string_view t) : text(t), word(text_word(t)) {}
  std::string_view text;
  std::uint64_t word;
};

/// A trace event: `kind` names it (an EventName, static or not), and `fields(f)`
/// calls f(key, value) for each of its fields in line order.
template <typename E>
concept TraceEvent = requires(const E& e) {
  { e.kind } -> std::convertible_to<const EventName&>;
};

class Trace {
 public:
  Trace(std::ostream* out, std::size_t context_lines)
      : out_(out), context_lines_(context_lines), detailed_(out != nullptr || context_lines > 0) {}

  /// True when lines are wanted (a trace file or a context ring).
  [[nodiscard]] bool detailed() const { return detailed_; }

  /// Hashes `e` (its name's word, then each field's trace_word, folded into one word
  /// mixed into the hash) and, when lines are wanted, writes it as
  /// `{"t_us":..,"ev":..,<fields>}` (put_json for each field).
  template <TraceEvent E>
  void emit(std::uint64_t t_us, const E& e) {
    const EventName& name = e.kind;
    std::uint64_t folded = name.word;
    e.fields([&folded](std::string_view, const auto& v) {
      using vsr::sim::trace_word;
      folded = (folded ^ trace_word(v)) * 0x100000001b3ULL;
    });
    mix(folded);
    if (!detailed()) return;
    vsr::JsonObject o = trace_line(t_us, name.text);
    e.fields([&o](std::string_view key, const auto& v) {
      using vsr::put_json;
      put_json(o, key, v);
    });
    line(o.take());
  }

  [[nodiscard]] std::uint64_t hash() const { return hash_; }
  [[nodiscard]] std::vector<std::string> recent() const { return {recent_.begin(), recent_.end()}; }

 private:
  /// Feeds one word of an event into the hash.
  void mix(std::uint64_t word) {
    hash_ ^= word + 0x9e3779b97f4a7c15ULL + (hash_ << 6) + (hash_ >> 2);
    hash_ *= 0xff51afd7ed558ccdULL;
    hash_ ^= hash_ >> 29;
  }

  /// Records a formatted line. Precondition: detailed().
  void line(std::string text) {
    if (out_ != nullptr) *out_ << text << '\n';
    if (context_lines_ == 0) return;
    recent_.push_back(std::move(text));
    if (recent_.size() > context_lines_) recent_.pop_front();
  }

  std::ostream* out_;
  std::size_t context_lines_;
  bool detailed_;  // out_ or a context ring: fixed at construction, asked per event
  std::deque<std::string> recent_;
  std::uint64_t hash_ = 0x6a09e667f3bcc908ULL;
};

}  // namespace vsr::sim
