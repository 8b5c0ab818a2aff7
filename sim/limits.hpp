// The limits of every entry point (vsr-sim's flags, vsr-check --timeout, the scenario
// language's `cluster`, `run`, `stabilize`, `sim`, `at`, `op`, and `vsr-sim shrink`),
// in one place, and the one syntax of durations, probabilities, seeds and bounded
// integers they all accept. README.md, "Limits", lists them per entry point.
//
// Every parser returns an error that starts with `what` (the flag or key, as the user
// wrote it) and states the limit it broke, e.g. "--duration: '2h' exceeds the maximum 1h".
// Nothing here throws, and nothing allocates more than the text it is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/history.hpp"

namespace vsr::sim {

inline constexpr std::uint64_t us_per_s = 1'000'000;

/// Simulated time: the fault phase (`--duration`, `sim for=`, `run for=`), the liveness
/// bound (`--liveness`, `sim liveness=`), `stabilize` tick counts, and every time in a
/// schedule (`at`, `until=`, `think=`, the network and disk keys). One hour: a run that
/// long already takes minutes of wall time, and a sweep runs thousands of them.
inline constexpr std::uint64_t max_sim_duration_us = 3'600 * us_per_s;

/// The scenario driver's round (`run for=`, `stabilize`): one tick of 10 ms.
inline constexpr std::uint64_t scenario_tick_us = 10'000;
inline constexpr std::uint64_t max_scenario_ticks = max_sim_duration_us / scenario_tick_us;

/// vsr-check --timeout: wall-clock time per history file; 0 means none.
inline constexpr std::uint64_t max_check_timeout_us = 24 * 3'600 * us_per_s;

/// Cluster size, everywhere (`--replicas`, scenario `cluster replicas=`, `sim replicas=`):
/// the sizes the swarm draws and sweeps therefore test.
inline constexpr std::uint64_t min_replicas = 1;
inline constexpr std::uint64_t max_replicas = 7;

/// Clients: at least one in a random run (`--clients`: its workload needs one); a script
/// (`cluster clients=`, `sim clients=`) may have none, since shrinking drops client slots.
inline constexpr std::uint64_t min_run_clients = 1;
inline constexpr std::uint64_t max_clients = 64;

/// Seeds of one sweep (`--seeds A..B`), and its parallel runs (`--jobs`; a sweep never
/// starts more threads than it has seeds).
inline constexpr std::uint64_t max_sweep_seeds = 10'000'000;
inline constexpr std::uint64_t max_jobs = 1024;

/// `vsr-sim shrink --max-runs`: candidate replays.
inline constexpr std::uint64_t max_shrink_runs = 1'000'000;
/// `vsr-sim shrink --reseeds`: other seeds tried per candidate (sim/shrink.hpp).
inline constexpr std::uint64_t max_shrink_reseeds = 64;

/// Input files read whole: a scenario script, a tape (`--input`), a sweep's JSON (`compare`).
inline constexpr std::size_t max_scenario_file_bytes = std::size_t{16} << 20;
inline constexpr std::size_t max_tape_bytes = std::size_t{16} << 20;
inline constexpr std::size_t max_sweep_json_bytes = std::size_t{1} << 30;

/// A duration: a whole number with a unit, `250us`, `500ms`, `10s`, `2m`, `1h`, or a bare
/// number of seconds (`5` is 5 s). No sign, no fraction (write `500ms`, not `0.5s`).
/// The result is in microseconds, within [min_us, max_us].
InputResult<std::uint64_t> parse_duration_us(std::string_view text, std::string_view what,
                                             std::uint64_t min_us, std::uint64_t max_us);

/// `us` in the largest unit that writes it exactly: "1h", "90s", "500ms", "250us".
std::string format_duration(std::uint64_t us);

/// A decimal integer in [min, max], no sign, no spaces.
InputResult<std::uint64_t> parse_bounded_uint(std::string_view text, std::string_view what,
                                              std::uint64_t min, std::uint64_t max);

/// A seed: any integer 0..2^64-1. "-1" and "18446744073709551616" are errors.
InputResult<std::uint64_t> parse_seed(std::string_view text, std::string_view what);

/// A probability in [0, 1], written as a decimal (`0.25`, `1`, `.5`) or in the exponent
/// form fmt prints small doubles in (`1e-05`), so a printed schedule reads back the same bits.
InputResult<double> parse_probability(std::string_view text, std::string_view what);

/// The whole file at `path`, at most `max_bytes`. A directory, a missing or unreadable
/// file, a read error or a larger file is an error naming `what` and the path.
InputResult<std::string> read_input_file(const std::string& path, std::string_view what,
                                         std::size_t max_bytes);

}  // namespace vsr::sim
