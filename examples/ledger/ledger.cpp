#include "examples/ledger/ledger.hpp"

#include <array>
#include <numeric>

#include <fmt/format.h>

namespace vsr::examples {

namespace {

constexpr std::size_t op_bytes = 11;
constexpr std::size_t result_bytes = 1 + 8 * ledger_accounts;

void put_i64(Bytes& out, std::int64_t v) {
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(u >> (8 * i)));
}

std::int64_t get_i64(const Bytes& in, std::size_t at) {
  std::uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= std::uint64_t{in[at + i]} << (8 * i);
  return static_cast<std::int64_t>(u);
}

/// A transfer that fits `s` (the source is not overdrawn by it).
bool covered(const Balances& s, const LedgerOp& op) { return s[op.from] >= op.amount; }

Balances moved(Balances s, const LedgerOp& op) {
  s[op.from] -= op.amount;
  s[op.to] += op.amount;
  return s;
}

}  // namespace

Bytes encode(const LedgerOp& op) {
  Bytes out{static_cast<std::uint8_t>(op.kind), op.from, op.to};
  put_i64(out, op.amount);
  return out;
}

std::optional<LedgerOp> decode_op(const Bytes& bytes) {
  if (bytes.size() != op_bytes || bytes[1] >= ledger_accounts || bytes[2] >= ledger_accounts) return std::nullopt;
  LedgerOp op{static_cast<LedgerOp::Kind>(bytes[0]), bytes[1], bytes[2], get_i64(bytes, 3)};
  if (op.kind == LedgerOp::Kind::statement && op.from == 0 && op.to == 0 && op.amount == 0) return op;
  if (op.kind == LedgerOp::Kind::transfer && op.from != op.to && op.amount > 0) return op;
  return std::nullopt;
}

Bytes encode(const LedgerResult& r) {
  Bytes out{static_cast<std::uint8_t>(r.ok ? 1 : 0)};
  for (std::int64_t b : r.balances) put_i64(out, b);
  return out;
}

std::optional<LedgerResult> decode_result(const Bytes& bytes) {
  if (bytes.size() != result_bytes || bytes[0] > 1) return std::nullopt;
  LedgerResult r{bytes[0] == 1, {}};
  for (std::size_t a = 0; a < ledger_accounts; ++a) r.balances[a] = get_i64(bytes, 1 + 8 * a);
  return r;
}

// ---------------------------------------------------------------- the machine

Bytes LedgerMachine::apply(const Bytes& operation) {
  std::optional<LedgerOp> op = decode_op(operation);
  if (!op) return encode(LedgerResult{false, balances_});  // malformed: refused, nothing changes
  const bool ok = op->kind == LedgerOp::Kind::statement || covered(balances_, *op);
  if (ok && op->kind == LedgerOp::Kind::transfer) balances_ = moved(balances_, *op);
  return encode(LedgerResult{ok, balances_});
}

Bytes LedgerMachine::snapshot() const {
  Bytes out;
  for (std::int64_t b : balances_) put_i64(out, b);
  return out;
}

Result<void> LedgerMachine::restore(const Bytes& snapshot) {
  if (snapshot.size() != 8 * ledger_accounts) {
    return Error{fmt::format("a ledger snapshot is {} bytes, not {}", snapshot.size(),
                                                   8 * ledger_accounts)};
  }
  for (std::size_t a = 0; a < ledger_accounts; ++a) balances_[a] = get_i64(snapshot, 8 * a);
  return outcome::success();
}

std::uint64_t LedgerMachine::state_hash() const {
  Bytes s = snapshot();
  return hash_bytes(s.data(), s.size());
}

std::string ledger_conserved(const StateMachine& machine) {
  const Balances& b = static_cast<const LedgerMachine&>(machine).balances();
  const std::int64_t total = std::accumulate(b.begin(), b.end(), std::int64_t{0});
  if (total != ledger_opening_balance * ledger_accounts) {
    return fmt::format("the balances {} sum to {}, not {}", fmt::join(b, ", "), total,
                       ledger_opening_balance * ledger_accounts);
  }
  for (std::size_t a = 0; a < b.size(); ++a) {
    if (b[a] < 0) return fmt::format("account {} is overdrawn: {}", a, b[a]);
  }
  return {};
}

// ---------------------------------------------------------------- the model

std::optional<LedgerModel::State> LedgerModel::step(const State& s, const Input& in, const Output& out) {
  if (in.kind == LedgerOp::Kind::statement) {
    if (out.ok && out.balances == s) return s;
    return std::nullopt;
  }
  if (out.ok != covered(s, in)) return std::nullopt;  // refused iff it would overdraw
  State after = out.ok ? moved(s, in) : s;
  if (out.balances != after) return std::nullopt;
  return after;
}

LedgerModel::State LedgerModel::effect(const State& s, const Input& in) {
  return in.kind == LedgerOp::Kind::transfer && covered(s, in) ? moved(s, in) : s;
}

std::uint64_t LedgerModel::hash(const State& s) {
  std::uint64_t h = 0;
  for (std::int64_t b : s) h = hash_combine(h, static_cast<std::uint64_t>(b));
  return h;
}

std::string LedgerModel::describe_state(const State& s) { return fmt::format("[{}]", fmt::join(s, " ")); }

std::string LedgerModel::describe(const Input& in) {
  if (in.kind == LedgerOp::Kind::statement) return "statement";
  return fmt::format("transfer {} from {} to {}", in.amount, in.from, in.to);
}

std::string LedgerModel::describe(const Input& in, const Output& out) {
  return fmt::format("{} -> {} {}", describe(in), out.ok ? "ok" : "refused", describe_state(out.balances));
}

// ---------------------------------------------------------------- the system

const sim::System& ledger_system() {
  static const sim::System system = sim::make_system<LedgerModel>({
      .name = "ledger",
      .summary = "a bank ledger: transfers between 5 accounts (no overdraft) and statements; money is conserved",
      .make_machine = [] { return std::make_unique<LedgerMachine>(); },
      .check_machine = ledger_conserved,
      // 30% statements, 70% transfers of 1..60 between two distinct accounts.
      .next_input =
          [](std::uint32_t, sim::Prng& rng, const std::optional<LedgerResult>&) {
            if (rng.chance(0.3)) return LedgerOp{};
            auto a = static_cast<std::uint8_t>(rng.below(ledger_accounts));
            auto b = static_cast<std::uint8_t>((a + 1 + rng.below(ledger_accounts - 1)) % ledger_accounts);
            return LedgerOp{LedgerOp::Kind::transfer, a, b, static_cast<std::int64_t>(1 + rng.below(60))};
          },
      .encode_input = [](const LedgerOp& op) { return encode(op); },
      .decode_input = decode_op,
      .decode_output = [](const LedgerOp&, const Bytes& r) { return decode_result(r); },
      .failed = [](const LedgerResult& r) { return !r.ok; },
      // A single partition whose indeterminate transfers never expire can make a long
      // segment's search large; past 2^16 configurations a run's check is `unknown`
      // (counted by the sweep) rather than slow.
      .check_options = {.max_configs = std::uint64_t{1} << 16},
  });
  return system;
}

}  // namespace vsr::examples
