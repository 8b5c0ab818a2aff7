// A bank ledger, the second system the simulator tests (`vsr-sim sweep --system
// ledger`), built only on the public API, as a user's own service would be:
//   - five accounts opened with 100 each; a transfer moves an amount between two of
//     them, refused when the source would be overdrawn; a statement reads them all;
//     every answer carries the balances as they stand after the op (as a bank's
//     receipt does), which also keeps the linearizability check cheap: each answer
//     pins the state, so few orders of concurrent ops fit;
//   - its state-machine invariant: money is conserved (the balances always sum to
//     500, no balance is negative), checked on every replica after every input;
//   - its model: the whole ledger is one state (a transfer spans two accounts), so the
//     history does not split by key, unlike the KV store's.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "sim/model_system.hpp"
#include "vsr/state_machine.hpp"

namespace vsr::examples {

inline constexpr std::uint8_t ledger_accounts = 5;
inline constexpr std::int64_t ledger_opening_balance = 100;

using Balances = std::array<std::int64_t, ledger_accounts>;

/// transfer(from, to, amount) between two distinct accounts, amount > 0; or a
/// statement (from, to and amount 0).
struct LedgerOp {
  enum class Kind : std::uint8_t { transfer = 1, statement = 2 };
  Kind kind = Kind::statement;
  std::uint8_t from = 0;
  std::uint8_t to = 0;
  std::int64_t amount = 0;
  bool operator==(const LedgerOp&) const = default;
};

/// The answer: ok (a transfer done, or a statement), or refused (a transfer that would
/// overdraw: nothing moved); and every balance after the op.
struct LedgerResult {
  bool ok = true;
  Balances balances{};
  bool operator==(const LedgerResult&) const = default;
};

/// Request and result bytes: u8 kind, u8 from, u8 to, i64 amount (little-endian);
/// u8 ok, then each balance as i64. Decoding refuses anything else (nullopt).
Bytes encode(const LedgerOp& op);
std::optional<LedgerOp> decode_op(const Bytes& bytes);
Bytes encode(const LedgerResult& r);
std::optional<LedgerResult> decode_result(const Bytes& bytes);

class LedgerMachine final : public StateMachine {
 public:
  LedgerMachine() { balances_.fill(ledger_opening_balance); }
  Bytes apply(const Bytes& operation) override;
  [[nodiscard]] Bytes snapshot() const override;
  Result<void> restore(const Bytes& snapshot) override;
  [[nodiscard]] std::uint64_t state_hash() const override;
  [[nodiscard]] const Balances& balances() const { return balances_; }

 private:
  Balances balances_{};
};

/// "" while money is conserved on `machine` (a LedgerMachine), else what is wrong.
std::string ledger_conserved(const StateMachine& machine);

/// The ledger as a linearizability model (sim/lin_model.hpp).
struct LedgerModel {
  using State = Balances;
  using Input = LedgerOp;
  using Output = LedgerResult;
  using Key = int;  // one partition: a transfer spans two accounts

  static State initial() {
    State s;
    s.fill(ledger_opening_balance);
    return s;
  }
  static std::optional<State> step(const State& s, const Input& in, const Output& out);
  static State effect(const State& s, const Input& in);
  /// Statements and refused transfers change nothing.
  static bool observer(const Input& in, const Output& out) { return in.kind == LedgerOp::Kind::statement || !out.ok; }
  static int partition(const Input&) { return 0; }
  static std::uint64_t hash(const State& s);
  static std::string describe_state(const State& s);
  static std::string describe(const Input& in);
  static std::string describe(const Input& in, const Output& out);
};

/// The system `vsr-sim --system ledger` runs.
const sim::System& ledger_system();

}  // namespace vsr::examples
