#include "vsr/output.hpp"

#include <algorithm>
#include <utility>

#include "vsr/assert.hpp"

namespace vsr {

void PersistDelta::truncate(OpNumber to) {
  if (!append.empty()) {
    if (to >= append_first) {
      // Only shrink: cutting at or beyond the last pending append drops nothing.
      append.resize(std::min<std::size_t>(append.size(), to.value - append_first.value + 1));
      return;
    }
    append.clear();
  }
  truncate_to = truncate_to ? std::min(*truncate_to, to) : to;
}

void PersistDelta::add(OpNumber op, const LogEntry& entry) {
  if (append.empty()) {
    append_first = op;
  } else {
    VSR_ASSERT(op.value == append_first.value + append.size(), "appends must be contiguous");
  }
  append.push_back(entry);
}

void PersistDelta::reset(LogBase base) {
  reset_log = base;
  truncate_to.reset();
  append.clear();
  append_first = OpNumber{};
  discard_to.reset();
}

void PersistDelta::swap(PersistDelta& other) noexcept {
  std::swap(reset_log, other.reset_log);
  std::swap(truncate_to, other.truncate_to);
  std::swap(append_first, other.append_first);
  append.swap(other.append);
  std::swap(state, other.state);
  checkpoint.swap(other.checkpoint);
  std::swap(discard_to, other.discard_to);
}

void Output::swap(Output& other) noexcept {
  persist.swap(other.persist);
  send_now.swap(other.send_now);
  send_after_persist.swap(other.send_after_persist);
  committed.swap(other.committed);
  facts.swap(other.facts);
  events.swap(other.events);
  const ProbeCounts held = probes;  // trivially copied: cheaper than an element-wise swap
  probes = other.probes;
  other.probes = held;
}

void Output::clear() {
  persist.reset_log.reset();
  persist.truncate_to.reset();
  persist.append_first = OpNumber{};
  persist.append.clear();
  persist.state.reset();
  persist.checkpoint.reset();
  persist.discard_to.reset();
  send_now.clear();
  send_after_persist.clear();
  committed.clear();
  facts.clear();
  events.clear();
  probes.fill(0);
}

void apply_delta(PersistedState& stored, const PersistDelta& delta) {
  if (delta.reset_log) {
    stored.log.clear();
    stored.log_base = *delta.reset_log;
  }
  if (delta.truncate_to && *delta.truncate_to < stored.last_op()) {
    VSR_ASSERT(*delta.truncate_to >= stored.log_base.op, "a truncation keeps the stored base");
    stored.log.resize(delta.truncate_to->value - stored.log_base.op.value);
  }
  if (!delta.append.empty()) {
    VSR_ASSERT(delta.append_first == stored.last_op().next(), "append must follow the stored log");
    stored.log.insert(stored.log.end(), delta.append.begin(), delta.append.end());
  }
  if (delta.state) stored.state = *delta.state;
  if (delta.checkpoint) {
    VSR_ASSERT(delta.checkpoint->op <= stored.last_op(),
               "a checkpoint covers only ops the stored log holds");
    VSR_ASSERT(!stored.checkpoint || stored.checkpoint->op <= delta.checkpoint->op,
               "checkpoints are stored in op order");
    stored.checkpoint = *delta.checkpoint;
  }
  // Not asserted against the stored checkpoint: a replica that discarded a prefix its
  // disk's checkpoint does not cover is a bug the simulator reports (invariant
  // prefix-discarded-durably) with its seed, rather than a crash of the driver.
  if (delta.discard_to && delta.discard_to->op > stored.log_base.op) {
    VSR_ASSERT(delta.discard_to->op <= stored.last_op(), "a discard stays within the stored log");
    stored.log.erase(stored.log.begin(),
                     stored.log.begin() +
                         static_cast<std::ptrdiff_t>(delta.discard_to->op.value - stored.log_base.op.value));
    stored.log_base = *delta.discard_to;
  }
}

}  // namespace vsr
