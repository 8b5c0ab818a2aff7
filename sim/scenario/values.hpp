// The values of a scenario command's words and arguments, read with sim/limits.hpp's
// parsers (one syntax of durations, probabilities, seeds and bounded integers for
// vsr-sim, vsr-check and scenarios), and the two ways a command stops: a script error
// (the file is malformed: `vsr-sim scenario` exits 2) and a failure (a check failed:
// the file fails, exit 1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "sim/history.hpp"
#include "sim/scenario/command.hpp"

namespace vsr::sim {

/// The command cannot run as written (a value out of range, a replica that is down, a
/// busy client...): reported as "<path>:<line>: <message>".
struct ScriptError {
  std::string message;
};

/// A safety check, a protocol assertion or the linearizability check failed: the run
/// stops and the file fails, whatever its expected output says.
struct ScriptFailure {
  std::string message;
};

/// The value of a parser's result, or its error thrown as a ScriptError.
template <class T>
T or_throw(InputResult<T> r) {
  if (!r) throw ScriptError{std::move(r.error().message)};
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

/// A whole number in [min, max] (parse_bounded_uint).
std::uint64_t count_value(std::string_view text, std::string_view what, std::uint64_t min, std::uint64_t max);

/// `true` or `false`.
bool bool_value(std::string_view text, std::string_view what);

/// A probability (parse_probability): `0.25`, `1e-05`.
double probability_value(std::string_view text, std::string_view what);

/// `run for=`: a duration (parse_duration_us, at most max_sim_duration_us) or "50ticks",
/// as a number of scenario ticks (scenario_tick_us each); at least one tick.
std::uint64_t ticks_value(std::string_view text, std::string_view what);

/// The argument `key` read with the parser above; when the command leaves it out,
/// `fallback`, false and 0.
std::uint64_t count_arg(const ScriptCommand& c, std::string_view key, std::uint64_t fallback, std::uint64_t min,
                        std::uint64_t max);
bool bool_arg(const ScriptCommand& c, std::string_view key);
double probability_arg(const ScriptCommand& c, std::string_view key);

/// The argument `key`; absent, it is the error "<command>: <key>=... is required".
const std::string& required_arg(const ScriptCommand& c, std::string_view key);

}  // namespace vsr::sim
