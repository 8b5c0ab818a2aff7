// vsr-sim: the simulation driver (tools/driver.hpp) over the KV store, the default,
// and the bank-ledger example (examples/ledger/ledger.hpp).
#include "examples/ledger/ledger.hpp"
#include "sim/kv_system.hpp"
#include "tools/driver.hpp"

int main(int argc, char** argv) {
  return vsr::sim::run_cli(argc, argv, {&vsr::sim::kv_system(), &vsr::examples::ledger_system()});
}
