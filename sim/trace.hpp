// The run's trace: a 64-bit hash over every event (always computed: the proof of
// determinism) and, when asked, the events as JSON lines and a ring of recent lines
// for failure reports. Lines are formatted lazily: a run without a trace file or
// context pays only for the hash.
#pragma once

#include <cstdint>
#include <deque>
#include <ostream>
#include <string>
#include <string_view>
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

/// The line of a violated check; `detail` may span several lines (the checker's
/// explanation), which the writer escapes.
inline std::string violation_line(std::uint64_t t_us, std::string_view check, std::string_view detail) {
  return trace_line(t_us, "violation").str("check", check).str("detail", detail).take();
}

class Trace {
 public:
  Trace(std::ostream* out, std::size_t context_lines) : out_(out), context_lines_(context_lines) {}

  /// True when lines are wanted (a trace file or a context ring).
  [[nodiscard]] bool detailed() const { return out_ != nullptr || context_lines_ > 0; }

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

  [[nodiscard]] std::uint64_t hash() const { return hash_; }
  [[nodiscard]] std::vector<std::string> recent() const { return {recent_.begin(), recent_.end()}; }

 private:
  std::ostream* out_;
  std::size_t context_lines_;
  std::deque<std::string> recent_;
  std::uint64_t hash_ = 0x6a09e667f3bcc908ULL;
};

}  // namespace vsr::sim
