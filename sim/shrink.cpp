#include "sim/shrink.hpp"

#include <algorithm>
#include <utility>

#include "sim/prng.hpp"
#include "vsr/config.hpp"

namespace vsr::sim {

namespace {

/// "assertion failed: EXPR at FILE:LINE[: detail]" -> "EXPR at FILE:LINE".
std::string assertion_site(const std::string& detail) {
  for (std::string_view ext : {".cpp:", ".hpp:"}) {
    auto at = detail.find(ext);
    if (at == std::string::npos) continue;
    auto end = at + ext.size();
    while (end < detail.size() && detail[end] >= '0' && detail[end] <= '9') ++end;
    return detail.substr(0, end);
  }
  return detail;
}

}  // namespace

FailureClass failure_class(const RunResult& r) {
  FailureClass c{r.verdict, r.check};
  // An assertion is classed by the site that fired, not by the values it printed.
  if (r.verdict == RunVerdict::crash) c.check += ": " + assertion_site(r.detail);
  return c;
}

ShrinkSize size_of(const Schedule& s, const RunResult& r) {
  return ShrinkSize{r.stats.events, s.faults.size(), s.op_count(), s.params.replica_count,
                    s.params.client_count, s.duration_us};
}

ScheduleRunner simulation_runner(const RunOptions& base) {
  return [base](const Schedule& s) {
    RunOptions o;
    o.check_linearizability = base.check_linearizability;
    o.schedule = &s;
    o.record_schedule = true;
    return run_simulation(o);
  };
}

namespace {

/// Maps network node `k` of a cluster of `n` replicas to one of `n2` replicas and the
/// client slots in `keep` (old slot -> new slot, or -1); nullopt when it is gone.
std::optional<std::uint32_t> map_node(std::uint32_t k, std::uint32_t n, std::uint32_t n2,
                                      const std::vector<int>& slot_map) {
  if (k < n) return k < n2 ? std::optional<std::uint32_t>(k) : std::nullopt;
  std::uint32_t slot = k - n;
  if (slot >= slot_map.size() || slot_map[slot] < 0) return std::nullopt;
  return n2 + static_cast<std::uint32_t>(slot_map[slot]);
}

/// `s` with `n2` replicas and only the client slots where `slot_map` is not -1:
/// faults on removed replicas, cuts and clogs touching removed nodes are dropped.
Schedule reshape(const Schedule& s, std::uint32_t n2, const std::vector<int>& slot_map) {
  Schedule out = s;
  std::uint32_t n = s.params.replica_count;
  out.params.replica_count = n2;
  out.faults.clear();
  for (FaultStep f : s.faults) {
    if (f.kind == FaultStep::Kind::clog) {
      auto a = map_node(f.from, n, n2, slot_map);
      auto b = map_node(f.to, n, n2, slot_map);
      if (!a || !b) continue;
      f.from = *a;
      f.to = *b;
    } else if (f.kind == FaultStep::Kind::partition) {
      std::erase_if(f.cuts, [&](const auto& c) { return c.first >= n2 || c.second >= n2; });
    } else if (f.kind != FaultStep::Kind::heal && f.replica >= n2) {
      continue;
    }
    out.faults.push_back(std::move(f));
  }
  out.clients.clear();
  for (std::size_t slot = 0; slot < s.clients.size(); ++slot) {
    if (slot_map[slot] >= 0) out.clients.push_back(s.clients[slot]);
  }
  out.params.client_count = static_cast<std::uint32_t>(out.clients.size());
  return out;
}

std::vector<int> identity_slots(std::size_t count) {
  std::vector<int> m(count);
  for (std::size_t i = 0; i < count; ++i) m[i] = static_cast<int>(i);
  return m;
}

/// Where an operation sits in a schedule: [slot][index].
struct OpRef {
  std::size_t slot;
  std::size_t index;
};

class Shrinker {
 public:
  Shrinker(Schedule start, FailureClass target, const ScheduleRunner& run, const ShrinkOptions& o)
      : current_(std::move(start)), target_(std::move(target)), run_(run), options_(o) {}

  /// Replays the starting schedule; false if it does not fail as the target.
  bool reproduce() { return fails(current_); }

  void shrink() {
    // A calm network first: with fixed delays and no random drops, removing one
    // operation no longer reshuffles the fate of every later message, so the
    // operation and fault passes can remove much more.
    for (int round = 0; round < 8 && budget_left(); ++round) {
      bool changed = cut_duration();
      changed |= normalize();
      changed |= calmer_network();
      changed |= fewer_faults();
      changed |= fewer_replicas();
      changed |= fewer_clients();
      changed |= fewer_ops();
      changed |= normalize();
      changed |= shorter_thinks();
      changed |= earlier_faults();
      if (!changed) break;
    }
  }

  const Schedule& current() const { return current_; }
  const RunResult& current_run() const { return current_run_; }
  std::uint32_t runs() const { return runs_; }

 private:
  bool budget_left() const { return runs_ < options_.max_runs; }

  bool fails(const Schedule& s) {
    if (!budget_left()) return false;
    ++runs_;
    RunResult r = run_(s);
    if (failure_class(r) != target_) return false;
    current_run_ = std::move(r);
    return true;
  }

  /// Keeps `candidate` if it differs from the current schedule and still fails, under
  /// its own seed or, failing that, under one of `reseeds` other seeds. A schedule's
  /// seed draws only what the schedule leaves random: message fates, disk latencies,
  /// drift, tick phases, nonces. A removal often stops failing not because what it
  /// removed mattered but because it moved the timing, and with it which fates the
  /// critical messages meet; under fresh fates the smaller schedule may fail again.
  /// The other seeds are a splitmix chain from the candidate's: shrinking stays
  /// deterministic.
  bool attempt(Schedule candidate) {
    if (candidate == current_) return false;
    std::uint64_t chain = candidate.params.seed;
    for (std::uint32_t i = 0; i <= options_.reseeds && budget_left(); ++i) {
      if (i > 0) candidate.params.seed = splitmix64(chain);
      if (fails(candidate)) {
        current_ = std::move(candidate);
        return true;
      }
    }
    return false;
  }

  Schedule with_duration(std::uint64_t duration_us) const {
    Schedule c = current_;
    c.duration_us = duration_us;
    std::erase_if(c.faults, [&](const FaultStep& f) { return f.at_us >= duration_us; });
    return c;
  }

  /// End the fault phase right after a failure inside it; then halve it while it fails.
  bool cut_duration() {
    bool changed = false;
    std::uint64_t at = current_run_.failed_at_us;
    if (at + 1 < current_.duration_us) changed |= attempt(with_duration(at + 1));
    while (current_.duration_us > 1000 && budget_left() && attempt(with_duration(current_.duration_us / 2))) {
      changed = true;
    }
    return changed;
  }

  bool fewer_replicas() {
    std::uint32_t n = current_.params.replica_count;
    auto slots = identity_slots(current_.clients.size());
    for (std::uint32_t n2 = 1; n2 < n; ++n2) {
      if (!Config::make(n2, ReplicaIndex(0)).has_value()) continue;
      if (attempt(reshape(current_, n2, slots))) return true;
    }
    return false;
  }

  bool fewer_clients() {
    bool changed = false;
    for (std::size_t slot = current_.clients.size(); slot-- > 0 && budget_left();) {
      auto map = identity_slots(current_.clients.size());
      map[slot] = -1;
      for (std::size_t later = slot + 1; later < map.size(); ++later) map[later] -= 1;
      changed |= attempt(reshape(current_, current_.params.replica_count, map));
    }
    return changed;
  }

  /// Delta debugging (ddmin, by complements) over `items`: `build` makes the schedule
  /// that keeps exactly the given items.
  template <typename T, typename Build>
  bool ddmin(std::vector<T> items, Build build) {
    if (items.empty()) return false;
    if (attempt(build(std::vector<T>{}))) return true;
    bool changed = false;
    std::size_t parts = 2;
    while (items.size() >= 2 && budget_left()) {
      std::size_t chunk = (items.size() + parts - 1) / parts;
      bool reduced = false;
      for (std::size_t start = 0; start < items.size() && budget_left(); start += chunk) {
        std::vector<T> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
        rest.insert(rest.end(), items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), start + chunk)),
                    items.end());
        if (attempt(build(rest))) {
          items = std::move(rest);
          parts = std::max<std::size_t>(parts - 1, 2);
          reduced = changed = true;
          break;
        }
      }
      if (!reduced) {
        if (parts >= items.size()) break;
        parts = std::min(parts * 2, items.size());
      }
    }
    return changed;
  }

  bool fewer_faults() {
    std::vector<std::size_t> all(current_.faults.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    Schedule base = current_;
    return ddmin(all, [&](const std::vector<std::size_t>& keep) {
      Schedule c = base;
      c.params.seed = current_.params.seed;  // a reseeded success moves it
      c.faults.clear();
      for (std::size_t i : keep) c.faults.push_back(base.faults[i]);
      return c;
    });
  }

  bool fewer_ops() {
    std::vector<OpRef> all;
    for (std::size_t s = 0; s < current_.clients.size(); ++s) {
      for (std::size_t i = 0; i < current_.clients[s].size(); ++i) all.push_back({s, i});
    }
    Schedule base = current_;
    return ddmin(all, [&](const std::vector<OpRef>& keep) {
      Schedule c = base;
      c.params.seed = current_.params.seed;  // a reseeded success moves it
      for (auto& steps : c.clients) steps.clear();
      for (const OpRef& r : keep) c.clients[r.slot].push_back(base.clients[r.slot][r.index]);
      return c;
    });
  }

  /// Less idle time between a slot's operations: every think time halved, while the
  /// run still fails, down to none.
  bool shorter_thinks() {
    bool changed = false;
    for (int halvings = 0; halvings < 12 && budget_left(); ++halvings) {
      Schedule c = current_;
      bool any = false;
      for (auto& steps : c.clients) {
        for (ClientStep& step : steps) {
          any |= step.think_us > 0;
          step.think_us = halvings == 0 ? 0 : step.think_us / 2;
        }
      }
      if (!any) break;
      if (attempt(std::move(c))) {
        changed = true;
        if (halvings == 0) break;  // no think time left
      } else if (halvings > 0) {
        break;
      }
    }
    return changed;
  }

  /// `current_` with fault `i` and every later one `shift_us` earlier (as is the end
  /// of the fault phase), so the faults keep their spacing after i.
  Schedule shifted(std::size_t i, std::uint64_t shift_us) const {
    Schedule c = current_;
    for (std::size_t k = i; k < c.faults.size(); ++k) {
      c.faults[k].at_us -= shift_us;
      if (c.faults[k].kind == FaultStep::Kind::clog) c.faults[k].until_us -= shift_us;
    }
    c.duration_us -= std::min(c.duration_us - 1, shift_us);
    return c;
  }

  /// Less idle time before each fault: the gap since the previous fault (or the start)
  /// is halved while the run still fails, moving every later fault with it. Fates
  /// are keyed by message identity (network.hpp), so moving time leaves them alone.
  bool earlier_faults() {
    bool changed = false;
    for (std::size_t i = 0; i < current_.faults.size() && budget_left(); ++i) {
      while (budget_left()) {
        std::uint64_t prev = i == 0 ? 0 : current_.faults[i - 1].at_us;
        std::uint64_t gap = current_.faults[i].at_us - prev;
        if (gap < 2'000) break;
        if (!attempt(shifted(i, gap / 2))) break;
        changed = true;
      }
    }
    return changed;
  }

  bool calmer_network() {
    bool changed = false;
    auto tweak = [&](auto&& edit) {
      Schedule c = current_;
      edit(c.params);
      changed |= attempt(std::move(c));
    };
    tweak([](SwarmParams& p) { p.drop_probability = 0; p.client_drop_probability = 0; });
    // Fates are keyed by message identity (network.hpp): a lower drop rate drops a
    // subset of the messages a higher one drops, so halving it removes drops only.
    for (int i = 0; i < 6 && current_.params.drop_probability > 0.001; ++i) {
      Schedule c = current_;
      c.params.drop_probability /= 2;
      c.params.client_drop_probability /= 2;
      if (!attempt(std::move(c))) break;
      changed = true;
    }
    tweak([](SwarmParams& p) { p.duplicate_probability = 0; });
    tweak([](SwarmParams& p) { p.tail_probability = 0; p.tail_mean_us = 0; });
    tweak([](SwarmParams& p) { p.disk_slow_probability = 0; p.disk_slow_mean_us = 0; });
    tweak([](SwarmParams& p) { p.drift_ppm = 0; });
    tweak([](SwarmParams& p) { p.delay_mean_us = 0; });  // every message takes delay_min
    tweak([](SwarmParams& p) { p.disk_latency_mean_us = 0; });
    tweak([](SwarmParams& p) { p.delay_min_us = std::min<std::uint64_t>(p.delay_min_us, 100); });
    Schedule no_clogs = current_;
    std::erase_if(no_clogs.faults, [](const FaultStep& f) { return f.kind == FaultStep::Kind::clog; });
    changed |= attempt(std::move(no_clogs));
    return changed;
  }

  /// Replaces the schedule by what its last failing replay recorded: steps that did
  /// nothing (a restart of a replica that was up, a heal with no partition) vanish.
  bool normalize() {
    Schedule effective = current_run_.schedule;
    if (effective.params.replica_count == 0) return false;
    if (effective.faults.size() >= current_.faults.size() && effective.op_count() >= current_.op_count()) return false;
    return attempt(std::move(effective));
  }

  Schedule current_;
  FailureClass target_;
  const ScheduleRunner& run_;
  ShrinkOptions options_;
  RunResult current_run_;
  std::uint32_t runs_ = 0;
};

}  // namespace

ShrinkResult shrink(const Schedule& recorded, const FailureClass& target, const ScheduleRunner& run,
                    const ShrinkOptions& options) {
  ShrinkResult out;
  out.target = target;
  Shrinker s(recorded, target, run, options);
  out.reproduced = s.reproduce();
  if (out.reproduced) {
    out.before = size_of(recorded, s.current_run());
    s.shrink();
    out.minimal_run = s.current_run();
  }
  out.minimal = s.current();
  out.after = size_of(out.minimal, out.minimal_run);
  out.runs = s.runs();
  return out;
}

}  // namespace vsr::sim
