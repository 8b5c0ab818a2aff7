#include "sim/scenario/values.hpp"

#include <fmt/format.h>

#include "sim/limits.hpp"

namespace vsr::sim {

std::uint64_t count_value(std::string_view text, std::string_view what, std::uint64_t min, std::uint64_t max) {
  return or_throw(parse_bounded_uint(text, what, min, max));
}

bool bool_value(std::string_view text, std::string_view what) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw ScriptError{fmt::format("{}: '{}' is not true or false", what, text)};
}

double probability_value(std::string_view text, std::string_view what) {
  return or_throw(parse_probability(text, what));
}

std::uint64_t ticks_value(std::string_view text, std::string_view what) {
  constexpr std::string_view ticks_unit = "ticks";
  if (text.size() > ticks_unit.size() && text.ends_with(ticks_unit)) {
    return count_value(text.substr(0, text.size() - ticks_unit.size()), what, 1, max_scenario_ticks);
  }
  std::uint64_t ticks = or_throw(parse_duration_us(text, what, 1, max_sim_duration_us)) / scenario_tick_us;
  if (ticks == 0) {
    throw ScriptError{
        fmt::format("{}: '{}' is shorter than one tick ({})", what, text, format_duration(scenario_tick_us))};
  }
  return ticks;
}

std::uint64_t count_arg(const ScriptCommand& c, std::string_view key, std::uint64_t fallback, std::uint64_t min,
                        std::uint64_t max) {
  const std::string* v = c.arg(key);
  return v ? count_value(*v, key, min, max) : fallback;
}

bool bool_arg(const ScriptCommand& c, std::string_view key) {
  const std::string* v = c.arg(key);
  return v ? bool_value(*v, key) : false;
}

double probability_arg(const ScriptCommand& c, std::string_view key) {
  const std::string* v = c.arg(key);
  return v ? probability_value(*v, key) : 0.0;
}

const std::string& required_arg(const ScriptCommand& c, std::string_view key) {
  const std::string* v = c.arg(key);
  if (v == nullptr) throw ScriptError{fmt::format("{}: {}=... is required", c.name, key)};
  return *v;
}

}  // namespace vsr::sim
