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

void PersistDelta::swap(PersistDelta& other) noexcept {
  std::swap(truncate_to, other.truncate_to);
  std::swap(append_first, other.append_first);
  append.swap(other.append);
  std::swap(state, other.state);
  checkpoint.swap(other.checkpoint);
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
  persist.truncate_to.reset();
  persist.append_first = OpNumber{};
  persist.append.clear();
  persist.state.reset();
  persist.checkpoint.reset();
  send_now.clear();
  send_after_persist.clear();
  committed.clear();
  facts.clear();
  events.clear();
  probes.fill(0);
}

void apply_delta(PersistedState& stored, const PersistDelta& delta) {
  if (delta.truncate_to && delta.truncate_to->value < stored.log.size()) {
    stored.log.resize(delta.truncate_to->value);
  }
  if (!delta.append.empty()) {
    VSR_ASSERT(delta.append_first.value == stored.log.size() + 1,
               "append must follow the stored log");
    stored.log.insert(stored.log.end(), delta.append.begin(), delta.append.end());
  }
  if (delta.state) stored.state = *delta.state;
  if (delta.checkpoint) {
    VSR_ASSERT(delta.checkpoint->op.value <= stored.log.size(),
               "a checkpoint covers only ops the stored log holds");
    VSR_ASSERT(!stored.checkpoint || stored.checkpoint->op <= delta.checkpoint->op,
               "checkpoints are stored in op order");
    stored.checkpoint = *delta.checkpoint;
  }
}

}  // namespace vsr
