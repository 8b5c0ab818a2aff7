#include "sim/kv_system.hpp"

#include <algorithm>
#include <array>
#include <vector>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "sim/kv_call.hpp"
#include "sim/kv_model.hpp"
#include "vsr/assert.hpp"
#include "vsr/kv.hpp"

namespace vsr::sim {

namespace {

/// One KV run's workload and check.
class KvRun final : public SystemRun {
 public:
  explicit KvRun(const SystemRunOptions& o) : key_count_(o.key_count), check_(o.check) {
    if (o.keep_history) recorder_.emplace();
  }

  /// The call is kept, so that invoke need not decode what was just drawn (SystemRun:
  /// an invoke follows its slot's draw, unless the run replays and never draws).
  Bytes next_operation(std::uint32_t slot, Prng& rng) override {
    if (drawn_.size() <= slot) drawn_.resize(slot + 1);
    Drawn& d = drawn_[slot];
    d.call = draw_call(rng);
    d.pending = true;
    return kv_request(d.call);
  }

  InputResult<void> invoke(std::uint64_t id, std::uint32_t slot, std::int64_t process, const Bytes& operation,
                           std::uint64_t time_us) override {
    OpCall call;
    if (slot < drawn_.size() && drawn_[slot].pending) {
      call = std::move(drawn_[slot].call);
      drawn_[slot].pending = false;
    } else {
      VSR_SIM_TRY(call, call_of(operation));  // replayed from a schedule
    }
    HistoryRecorder::OpIndex index = 0;
    if (recorder_) {
      VSR_SIM_TRY(index, recorder_->invoke(process, call, static_cast<std::int64_t>(time_us)));
    }
    Open& open = open_.emplace_back();
    open.id = id;
    open.index = index;
    open.op.process = process;
    open.op.call = std::move(call);
    open.op.invoke_time = static_cast<std::int64_t>(time_us);
    if (check_) lin_.invoke(id, open.op);
    return outcome::success();
  }

  InputResult<Answer> complete(std::uint64_t id, const Bytes& result, std::uint64_t time_us) override {
    auto it = find(open_, id);
    VSR_ASSERT(it != open_.end(), "completion of an op not in flight");
    VSR_SIM_TRY(KvAnswer a, answer_of(it->op.call, result));
    end(it, a.outcome, a.value, a.cas_error, time_us);
    return a.outcome == Outcome::ok ? Answer::ok : Answer::fail;
  }

  void abandon(std::uint64_t id, std::uint64_t time_us) override {
    auto it = find(open_, id);
    VSR_ASSERT(it != open_.end(), "an abandoned op not in flight");
    end(it, Outcome::info, std::nullopt, CasError::unspecified, time_us);
  }

  [[nodiscard]] std::string describe(std::uint64_t id) const override {
    auto it = find(open_, id);
    return describe_with_key(it != open_.end() ? it->op : last_);
  }

  void finish() override {
    if (check_) lin_.finish();
  }
  [[nodiscard]] std::string violation() const override {
    return lin_.verdict() == lin::StreamVerdict::not_linearizable ? lin_.explain() : std::string();
  }
  [[nodiscard]] std::string unknown() const override { return lin_.unknown_keys(); }
  [[nodiscard]] lin::StreamStats check_stats() const override { return lin_.stats(); }
  History take_history() override { return recorder_ ? std::move(*recorder_).finish() : History{}; }

 private:
  struct Open {
    std::uint64_t id = 0;
    Op op;
    HistoryRecorder::OpIndex index = 0;  // in recorder_
  };
  struct Drawn {
    OpCall call;
    bool pending = false;  // drawn, not invoked yet
  };

  /// Ops in flight are few (one per client slot): a scan beats a tree.
  template <typename Ops>
  static auto find(Ops& ops, std::uint64_t id) -> decltype(ops.begin()) {
    return std::find_if(ops.begin(), ops.end(), [&](const Open& o) { return o.id == id; });
  }

  /// The op ends: its results as the history keeps them (a read's value, a failed
  /// cas's reason), then the recorder and the check learn it.
  void end(std::vector<Open>::iterator it, Outcome outcome, const Value& value, CasError cas_error,
           std::uint64_t time_us) {
    Op& op = it->op;
    op.outcome = outcome;
    op.result = (op.call.kind == OpKind::read && outcome == Outcome::ok) ? value : Value{};
    op.cas_error = (op.call.kind == OpKind::cas && outcome == Outcome::fail) ? cas_error : CasError::unspecified;
    op.complete_time = static_cast<std::int64_t>(time_us);
    if (recorder_) {
      auto ok = recorder_->complete(it->index, outcome, value, op.complete_time, cas_error);
      VSR_ASSERT(ok.has_value(), "the simulator broke a history rule");
    }
    if (check_) lin_.complete(it->id, op);
    last_ = std::move(op);
    *it = std::move(open_.back());
    open_.pop_back();
  }

  /// 40% reads, 35% writes of a fresh value, 20% compare-and-sets (usually from the
  /// value last written, so some succeed), 5% deletes, on a key drawn uniformly.
  OpCall draw_call(Prng& rng) {
    std::string key = fmt::format("k{}", rng.below(key_count_));
    constexpr std::array<std::uint32_t, 4> weights = {40, 35, 20, 5};
    switch (rng.weighted(weights)) {
      case 0: return OpCall::read(key);
      case 1: {
        std::int64_t v = next_value_++;
        last_value_[key] = v;
        return OpCall::write(key, v);
      }
      case 2: {
        auto it = last_value_.find(key);
        std::int64_t from = it == last_value_.end() || rng.chance(0.2) ? 0 : it->second;
        std::int64_t to = next_value_++;
        last_value_[key] = to;
        return OpCall::cas(key, from, to);
      }
      default: return OpCall::del(key);
    }
  }

  std::uint32_t key_count_;
  bool check_;
  std::int64_t next_value_ = 1;
  std::map<std::string, std::int64_t> last_value_;  // the workload's guess for cas
  std::vector<Drawn> drawn_;                        // [slot]: the call drawn last
  std::vector<Open> open_;                          // ops in flight
  Op last_;                                         // the op that ended last
  std::optional<HistoryRecorder> recorder_;         // with keep_history
  KvStreamCheck lin_;
};

}  // namespace

const System& kv_system() {
  static const System system{
      "kv",
      "the key-value store: read, write, cas and delete of integers over the swarm's keys",
      [] { return std::make_unique<KvMachine>(); },
      {},
      [](const SystemRunOptions& o) { return std::make_unique<KvRun>(o); },
  };
  return system;
}

}  // namespace vsr::sim
