// The system under test, as a value: what the simulator needs to run any replicated
// service on the real protocol and check it. A System names a state machine factory
// (every replica runs one, rebuilt on every restart), an optional invariant on one
// machine's state, and `start`, which makes one run's client side (SystemRun): the
// workload that draws operations, and the checker that judges what clients were told.
//
// The KV store (sim/kv_system.hpp) is the default system. A user's own system is most
// easily described by a linearizability model and a codec (sim/model_system.hpp):
// make_system<Model>(...) builds the System with the streaming checker on that model.
// A system is stateless between runs: everything a run learns lives in its SystemRun,
// so runs on several threads share one System.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sim/history.hpp"
#include "sim/lin_stream.hpp"
#include "sim/prng.hpp"
#include "vsr/state_machine.hpp"
#include "vsr/types.hpp"

namespace vsr::sim {

/// How a completed operation counts in a run's figures: it took effect, or it
/// definitely did not (a failed precondition, a refused transfer).
enum class Answer : std::uint8_t { ok, fail };

/// One run's client side: its workload and its history check. Calls come in the order
/// events happen. Op ids are unique within the run; a process has one op in flight at
/// a time and issues nothing after an abandoned op.
class SystemRun {
 public:
  virtual ~SystemRun() = default;

  /// The request client slot `slot` sends next, drawn from `rng` (the run's workload
  /// stream) and nothing else, so that a seed always draws the same operations.
  virtual Bytes next_operation(std::uint32_t slot, Prng& rng) = 0;

  /// Op `id` of `process` (on client slot `slot`) was invoked at `time_us` with
  /// `operation`: the one next_operation just returned for the slot, or, in a run that
  /// replays a schedule (and never calls next_operation), the schedule's. Error: the
  /// bytes are no operation of this system (a hand-edited schedule).
  virtual InputResult<void> invoke(std::uint64_t id, std::uint32_t slot, std::int64_t process,
                                   const Bytes& operation, std::uint64_t time_us) = 0;
  /// Op `id` completed with the state machine's `result`. Error: the result does not
  /// decode, or answers a different operation (a protocol bug the run reports).
  virtual InputResult<Answer> complete(std::uint64_t id, const Bytes& result, std::uint64_t time_us) = 0;
  /// Op `id` was abandoned (a timeout, an evicted session): it may or may not take effect.
  virtual void abandon(std::uint64_t id, std::uint64_t time_us) = 0;
  /// Op `id` as it stands (invoked, or just completed or abandoned), in one line, for
  /// the trace. Only ops in flight and the last one to end are known.
  [[nodiscard]] virtual std::string describe(std::uint64_t id) const = 0;

  /// The history ends: ops still in flight are indeterminate; the last checks run.
  virtual void finish() = 0;
  /// Why the history is not linearizable, once it is known not to be; "" until then.
  /// Checked after every completion, so a run fails at the op that shows it.
  [[nodiscard]] virtual std::string violation() const = 0;
  /// What the check left undecided ("" if nothing), for the run's figures.
  [[nodiscard]] virtual std::string unknown() const = 0;
  /// The check's figures (sim/lin_stream.hpp).
  [[nodiscard]] virtual lin::StreamStats check_stats() const = 0;
  /// The whole history, when the run kept it and the system records KV histories
  /// (`--history`); empty otherwise.
  virtual History take_history() { return {}; }
};

/// What a run tells its system when it starts.
struct SystemRunOptions {
  std::uint32_t clients = 0;    // client slots
  std::uint32_t key_count = 1;  // the swarm's key-space size (a hint; a system may ignore it)
  bool check = true;            // check the history (RunOptions::check_linearizability)
  bool keep_history = false;    // keep it for take_history
};

using MachineFactory = std::function<std::unique_ptr<StateMachine>()>;
/// An invariant on one replica's state machine, checked after every input to that
/// replica: "" when it holds, else what is wrong.
using MachineCheck = std::function<std::string(const StateMachine&)>;

struct System {
  std::string name;      // `vsr-sim --system NAME`; letters, digits, '-' and '_'
  std::string summary;   // one line for `vsr-sim systems`
  MachineFactory make_machine;
  MachineCheck check_machine;  // optional
  std::function<std::unique_ptr<SystemRun>(const SystemRunOptions&)> start;
};

}  // namespace vsr::sim
