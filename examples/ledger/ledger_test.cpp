// The bank-ledger example: its codec, machine, invariant and model, and its runs in the
// simulator (vsr-sim --system ledger).
#include "examples/ledger/ledger.hpp"

#include <doctest/doctest.h>

#include "sim/simulator.hpp"

using namespace vsr;
using namespace vsr::examples;

namespace {

LedgerOp transfer(std::uint8_t from, std::uint8_t to, std::int64_t amount) {
  return LedgerOp{LedgerOp::Kind::transfer, from, to, amount};
}

Balances opening() {
  Balances b;
  b.fill(ledger_opening_balance);
  return b;
}

}  // namespace

TEST_CASE("ledger codec: every request and result decodes to itself; anything else is refused") {
  for (const LedgerOp& op : {transfer(0, 4, 60), transfer(3, 1, 1), LedgerOp{}}) {
    auto back = decode_op(encode(op));
    REQUIRE(back.has_value());
    CHECK(*back == op);
  }
  LedgerResult r{false, opening()};
  r.balances[2] = -7;
  CHECK(decode_result(encode(r)) == r);
  CHECK(!decode_op(encode(transfer(2, 2, 5))).has_value());  // to itself
  CHECK(!decode_op(encode(transfer(0, 5, 5))).has_value());  // no account 5
  CHECK(!decode_op(encode(transfer(0, 1, 0))).has_value());  // nothing to move
  CHECK(!decode_op(encode(transfer(0, 1, -3))).has_value());
  CHECK(!decode_op(Bytes{2, 0, 0}).has_value());              // short
  Bytes op = encode(transfer(0, 1, 5));
  op[0] = 9;
  CHECK(!decode_op(op).has_value());                          // no such kind
  CHECK(!decode_result(Bytes(41, 2)).has_value());            // ok is 0 or 1
}

TEST_CASE("ledger machine: transfers move money, overdrafts are refused, snapshots restore exactly") {
  LedgerMachine m;
  auto answer = [&](const LedgerOp& op) { return decode_result(m.apply(encode(op))).value(); };
  LedgerResult r = answer(transfer(0, 1, 60));
  CHECK(r.ok);
  CHECK(r.balances[0] == 40);
  CHECK(r.balances[1] == 160);
  r = answer(transfer(0, 2, 41));  // 40 left: refused, nothing moves
  CHECK(!r.ok);
  CHECK(r.balances == m.balances());
  CHECK(m.balances()[0] == 40);
  CHECK(answer(LedgerOp{}).balances == m.balances());
  CHECK(!decode_result(m.apply(Bytes{1, 2, 3})).value().ok);  // malformed: refused
  CHECK(ledger_conserved(m).empty());

  LedgerMachine copy;
  REQUIRE(copy.restore(m.snapshot()).has_value());
  CHECK(copy.balances() == m.balances());
  CHECK(copy.state_hash() == m.state_hash());
  CHECK(copy.state_hash() != LedgerMachine().state_hash());
  CHECK(!copy.restore(Bytes{1, 2}).has_value());
  CHECK(copy.balances() == m.balances());  // a bad snapshot changes nothing
}

TEST_CASE("ledger invariant: money created or an account overdrawn is reported") {
  LedgerMachine m;
  Balances created = opening();
  created[3] += 1;
  Bytes snapshot;
  for (std::int64_t b : created) {
    for (int i = 0; i < 8; ++i) snapshot.push_back(static_cast<std::uint8_t>(static_cast<std::uint64_t>(b) >> (8 * i)));
  }
  REQUIRE(m.restore(snapshot).has_value());
  CHECK(ledger_conserved(m).find("sum to 501, not 500") != std::string::npos);
}

TEST_CASE("ledger model: an answer fits only the state it pins") {
  using M = LedgerModel;
  const M::State s = M::initial();
  M::State after = s;
  after[0] = 70;
  after[1] = 130;
  CHECK(M::step(s, transfer(0, 1, 30), LedgerResult{true, after}) == after);
  CHECK(!M::step(s, transfer(0, 1, 30), LedgerResult{true, s}).has_value());      // balances not moved
  CHECK(!M::step(s, transfer(0, 1, 30), LedgerResult{false, s}).has_value());     // refused, yet covered
  CHECK(!M::step(s, transfer(0, 1, 130), LedgerResult{true, s}).has_value());     // an overdraft done
  CHECK(M::step(s, transfer(0, 1, 130), LedgerResult{false, s}) == s);            // refused: right
  CHECK(M::step(s, LedgerOp{}, LedgerResult{true, s}) == s);
  CHECK(!M::step(s, LedgerOp{}, LedgerResult{true, after}).has_value());
  CHECK(M::effect(s, transfer(0, 1, 30)) == after);
  CHECK(M::effect(s, transfer(0, 1, 130)) == s);
  CHECK(M::describe(transfer(0, 1, 30), LedgerResult{true, after}) == "transfer 30 from 0 to 1 -> ok [70 130 100 100 100]");
}

TEST_CASE("ledger in the simulator: seeds pass every check, and replay to the same trace hash") {
  std::uint64_t transfers = 0;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    vsr::sim::RunOptions o;
    o.system = &ledger_system();
    o.seed = seed;
    o.duration_us = 2'000'000;
    o.faults = seed % 2 == 0 ? vsr::sim::FaultLevel::harsh : vsr::sim::FaultLevel::normal;
    vsr::sim::RunResult r = vsr::sim::run_simulation(o);
    REQUIRE_MESSAGE(r.verdict == vsr::sim::RunVerdict::passed, seed, ": ", r.check, ": ", r.detail);
    CHECK(vsr::sim::run_simulation(o).trace_hash == r.trace_hash);
    transfers += r.stats.ops_ok;
  }
  CHECK(transfers > 200);
}
