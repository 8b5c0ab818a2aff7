// The default state machine: a key-value map with read, write, compare-and-set and
// delete. Keys and values are byte strings (the simulator stores decimal integers;
// the Maelstrom node stores JSON scalars verbatim).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "vsr/state_machine.hpp"

namespace vsr {

enum class KvOpKind : std::uint8_t { read = 0, write = 1, cas = 2, del = 3 };

struct KvOp {
  KvOpKind kind = KvOpKind::read;
  std::string key;
  std::string value;     // write: the new value; cas: the new value ("to")
  std::string expected;  // cas only: the value required ("from")
  auto operator<=>(const KvOp&) const = default;
};

enum class KvStatus : std::uint8_t {
  ok = 0,
  not_found = 1,            // read/cas/delete of a key that does not exist
  precondition_failed = 2,  // cas whose expected value differs from the current one
  bad_operation = 3,        // the operation bytes did not decode
};

struct KvResult {
  KvStatus status = KvStatus::ok;
  std::optional<std::string> value;  // read: the value when status == ok
  auto operator<=>(const KvResult&) const = default;
};

Bytes encode_kv_op(const KvOp& op);
Result<KvOp> decode_kv_op(const Bytes& bytes);
Bytes encode_kv_result(const KvResult& r);
Result<KvResult> decode_kv_result(const Bytes& bytes);

class KvMachine final : public StateMachine {
 public:
  Bytes apply(const Bytes& operation) override;
  [[nodiscard]] Bytes snapshot() const override;
  Result<void> restore(const Bytes& snapshot) override;
  [[nodiscard]] std::uint64_t state_hash() const override;

  /// Applies a decoded op directly (tests and tools).
  KvResult apply_op(const KvOp& op);
  [[nodiscard]] const std::map<std::string, std::string>& data() const { return data_; }

 private:
  std::map<std::string, std::string> data_;  // ordered: snapshots and hashes are stable
};

}  // namespace vsr

template <>
struct fmt::formatter<vsr::KvOp> : fmt::formatter<std::string_view> {
  fmt::format_context::iterator format(const vsr::KvOp& op, fmt::format_context& ctx) const;
};
template <>
struct fmt::formatter<vsr::KvResult> : fmt::formatter<std::string_view> {
  fmt::format_context::iterator format(const vsr::KvResult& r, fmt::format_context& ctx) const;
};
