// A sequential specification for the model-generic linearizability checker
// (sim/lin_stream.hpp): Porcupine's `Model`, as a C++20 concept. A user who tests
// their own replicated service describes what one operation does to the service's
// state, and the checker decides whether a concurrent history could have come from
// one copy of it.
//
// The model is a deterministic sequential object: a State, Inputs (what a client asked
// for) and Outputs (what it was told). Everything is a static function of its
// arguments: no hidden state, so the verdict depends only on the history.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>

namespace vsr::sim::lin {

/// Requirements (M is the model type; s a State, in an Input, out an Output):
/// - `M::initial()`: the state before any operation.
/// - `M::step(s, in, out)`: the state after an operation that completed with `out`, if
///   `out` is what the object answers to `in` in state `s`; nullopt if it is not (the
///   op cannot be linearized in `s`). An output may say less than the object would
///   (a failed cas without its reason): step accepts every state it fits.
/// - `M::effect(s, in)`: the state after an operation whose outcome the client never
///   learned (a timeout, a crash), had it taken effect in `s`. Returning `s` itself
///   means it could change nothing there.
/// - `M::partition(in)`: the independent part of the object the op touches (a key of a
///   map); ops of different parts are checked separately (linearizability is
///   compositional). A model with one part returns one constant.
/// - `M::hash(s)`: a hash of the state, equal for equal states (the search's memo).
/// - `M::describe_state(s)`, `M::describe(in)`, `M::describe(in, out)`: short texts
///   for explanations ("absent", "write 3", "read -> 3").
/// Optional: `M::observer(in, out)`, true if the completed op changes no state in any
/// state (a read, a failed cas): the search then places it as early as it fits, which
/// prunes much of the search where reads are common.
/// Optional: `static constexpr bool just_in_time = true` promises that an indeterminate
/// op o never needs to come right before a completed op r that fits the current state
/// s: whatever o-then-r reaches, r alone (o left free for later) reaches too, or r and
/// o commute. The search then applies indeterminate ops only where a completed op does
/// not fit, which keeps histories with many timeouts tractable. True of registers and
/// maps of registers (every mutation overwrites, or fits one state only); false of a
/// counter with increments (o = set 5, r = increment: 6 needs o first).
/// State is default-constructible, copyable and equality-comparable; Input and Output
/// are copyable and equality-comparable (ops with equal inputs, and outputs, are
/// interchangeable, which the search exploits);
/// Key (the partition) is totally ordered, which fixes the order parts are reported in.
template <typename M>
concept Model = requires(const typename M::State& s, const typename M::Input& in,
                         const typename M::Output& out) {
  typename M::State;
  typename M::Input;
  typename M::Output;
  typename M::Key;
  { M::initial() } -> std::same_as<typename M::State>;
  { M::step(s, in, out) } -> std::same_as<std::optional<typename M::State>>;
  { M::effect(s, in) } -> std::same_as<typename M::State>;
  { M::partition(in) } -> std::convertible_to<typename M::Key>;
  { M::hash(s) } -> std::convertible_to<std::uint64_t>;
  { M::describe_state(s) } -> std::convertible_to<std::string>;
  { M::describe(in) } -> std::convertible_to<std::string>;
  { M::describe(in, out) } -> std::convertible_to<std::string>;
} && std::semiregular<typename M::State> && std::equality_comparable<typename M::State> &&
    std::copyable<typename M::Input> && std::equality_comparable<typename M::Input> && std::copyable<typename M::Output> &&
    std::equality_comparable<typename M::Output> &&
    std::totally_ordered<typename M::Key>;

}  // namespace vsr::sim::lin
