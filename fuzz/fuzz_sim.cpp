// fuzz_sim: the fuzzer's bytes replace the simulator's PRNG (tape mode, sim/prng.hpp
// Tape): the swarm draw (cluster size, clients, fault rates), every network decision
// (delay, drop, duplicate, clog), every fault (crash, wipe, pause, partition), the
// workload, clock drift, disk latency and recovery nonces read the input, then fall
// back to seed 1's streams once it runs out.
//
// Property: the run passes. A violated safety invariant, a non-linearizable history, a
// liveness failure or a protocol assertion aborts, so libFuzzer saves the input; it
// replays outside the fuzzer with the same verdict and trace hash:
//   vsr-sim replay --input crash-<sha1> --trace t.jsonl
// (run and replay --input default to the shape used here: tape_faults, tape_duration_us.)
//
// Guidance: code coverage of vsr/ and sim/, plus extra counters for the protocol
// states a run reached (view changes, crashes, wipes, final view, ops by outcome...,
// bucketed by powers of two), so inputs that reach deeper protocol states are kept
// even when they cover no new line.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "sim/simulator.hpp"

namespace {

using namespace vsr::sim;

constexpr std::size_t max_input_bytes = 64 << 10;

// libFuzzer treats every non-zero byte here as a coverage feature (cleared per run).
constexpr std::size_t counter_count = 512;
__attribute__((used, section("__libfuzzer_extra_counters"))) std::uint8_t protocol_counters[counter_count];

void mark(std::size_t what, std::uint64_t value) {
  const std::size_t bucket = std::min<std::size_t>(std::bit_width(value), 15);
  protocol_counters[(what * 16 + bucket) % counter_count] = 1;
}

void mark_states(const RunResult& r) {
  const RunStats& s = r.stats;
  std::size_t k = 0;
  for (std::uint64_t v : {s.view_changes, s.final_view, s.crashes, s.wipes, s.partitions, s.pauses,
                          s.ops_ok, s.ops_failed, s.ops_info, s.messages_dropped, s.final_commit,
                          std::uint64_t{r.params.replica_count}, std::uint64_t{r.params.client_count}}) {
    mark(k++, v);
  }
  // Combinations that matter for VR: wipes in a small cluster, view changes per crash.
  mark(k++, s.wipes * 8 + r.params.replica_count);
  mark(k++, (s.view_changes + 1) / (s.crashes + 1));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > max_input_bytes) return 0;
  RunOptions o;
  o.faults = tape_faults;
  o.duration_us = tape_duration_us;
  o.input = std::vector<std::uint8_t>(data, data + size);
  RunResult r = run_simulation(o);
  mark_states(r);
  if (r.verdict != RunVerdict::passed) {
    vsr::fuzz::finding(fmt::format(
        "fuzz_sim: verdict {} [{}] at t={} us\n{}\ntrace-hash: {:016x}\ninput: {} bytes, {} used\n"
        "replay: vsr-sim replay --input <the crash file libFuzzer names below> --trace t.jsonl",
        to_string(r.verdict), r.check, r.failed_at_us, r.detail, r.trace_hash, size,
        r.stats.input_bytes_used));
  }
  return 0;
}
