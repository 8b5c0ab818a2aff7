// Tagged integer types for the protocol's numbers, so that a view number cannot be
// passed where an op number is expected (DESIGN.md, "Naming and files").
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

namespace vsr {

/// A strongly typed unsigned integer. Distinct Tags never convert into each other;
/// the raw value is reachable only through `.value`.
template <typename Tag, typename Rep = std::uint64_t>
struct Tagged {
  Rep value{};

  constexpr Tagged() = default;
  constexpr explicit Tagged(Rep v) : value(v) {}

  constexpr auto operator<=>(const Tagged&) const = default;

  /// The successor. Precondition: value is not the maximum of Rep.
  [[nodiscard]] constexpr Tagged next() const { return Tagged(static_cast<Rep>(value + 1)); }
  /// The predecessor, saturating at zero.
  [[nodiscard]] constexpr Tagged prev() const {
    return Tagged(value == 0 ? Rep{0} : static_cast<Rep>(value - 1));
  }
};

using ViewNumber = Tagged<struct ViewTag>;
using OpNumber = Tagged<struct OpTag>;
using CommitNumber = Tagged<struct CommitTag>;
using ReplicaIndex = Tagged<struct ReplicaTag, std::uint8_t>;
using ClientId = Tagged<struct ClientTag>;
using RequestNumber = Tagged<struct RequestTag>;
using Nonce = Tagged<struct NonceTag>;
/// A client's session (issue 15): the op number of the register request that opened it.
using SessionNumber = Tagged<struct SessionTag>;

/// The commit number names an op: the highest op known committed.
constexpr OpNumber to_op(CommitNumber c) { return OpNumber(c.value); }
constexpr CommitNumber to_commit(OpNumber o) { return CommitNumber(o.value); }

/// Opaque bytes: state-machine operations and results, encoded messages.
using Bytes = std::vector<std::uint8_t>;

/// Where a message comes from or goes to: a replica or a client.
using Endpoint = std::variant<ReplicaIndex, ClientId>;

/// The largest cluster the protocol supports (replica indices fit one byte).
inline constexpr std::size_t max_replica_count = 32;

}  // namespace vsr

template <typename Tag, typename Rep>
struct std::hash<vsr::Tagged<Tag, Rep>> {
  std::size_t operator()(const vsr::Tagged<Tag, Rep>& t) const noexcept {
    return std::hash<Rep>{}(t.value);
  }
};

template <typename Tag, typename Rep>
struct fmt::formatter<vsr::Tagged<Tag, Rep>> : fmt::formatter<std::uint64_t> {
  auto format(const vsr::Tagged<Tag, Rep>& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::uint64_t>::format(static_cast<std::uint64_t>(t.value), ctx);
  }
};

template <>
struct fmt::formatter<vsr::Endpoint> : fmt::formatter<std::string_view> {
  auto format(const vsr::Endpoint& e, fmt::format_context& ctx) const {
    std::string s = std::holds_alternative<vsr::ReplicaIndex>(e)
                        ? fmt::format("r{}", std::get<vsr::ReplicaIndex>(e))
                        : fmt::format("c{}", std::get<vsr::ClientId>(e));
    return fmt::formatter<std::string_view>::format(s, ctx);
  }
};
