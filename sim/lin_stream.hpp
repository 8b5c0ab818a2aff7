// The streaming linearizability checker for a user's model (sim/lin_model.hpp): it
// takes a history one event at a time, checks it in segments while it runs, and
// forgets what it has checked, so its memory follows the concurrency, not the length
// of the history. The simulator checks every run with it (a one-hour run keeps no
// history); a whole history from a file is checked the same way.
//
// How a history is cut. Each partition is checked alone (linearizability is
// compositional). A partition is cut whenever no op of it is in flight: every op that
// completed before the cut returned before any op after it was invoked, so the part
// before the cut can be linearized on its own, and what it hands to the next part is
// the set of configurations it can end in: the model's state, and which indeterminate
// ops (a timeout, a crash: never known to have happened or not) are still free to take
// effect later. An indeterminate op stays free until some linearization needs it, so a
// configuration names them by class (equal inputs) and count. The next segment starts
// from each configuration carried; the history is linearizable iff every segment ends
// in at least one configuration. This is exact, not an approximation: the carried set
// holds every configuration a linearization of the prefix can end in, up to dominance
// (same state, no fewer free ops: strictly more options).
//
// Bounds: a segment's search memoises at most `max_configs` configurations; a
// partition carries at most `max_carried` configurations and `max_free_classes`
// distinct inputs of indeterminate ops still free (each may take effect at any later
// time, so they are never forgotten); past any of them, that partition is `unknown` and
// is no longer checked (the rest still is). Deterministic: the verdict
// depends only on the order of events, never on the machine.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/lin_model.hpp"
#include "sim/lin_segment.hpp"

namespace vsr::sim::lin {

/// The outcome of a whole check.
enum class StreamVerdict : std::uint8_t { linearizable, not_linearizable, unknown };

struct StreamOptions {
  std::uint64_t max_configs = std::uint64_t{1} << 20;  // per segment search
  std::size_t max_carried = 4096;                      // per partition, between segments
  std::size_t max_free_classes = 4096;                 // per partition: distinct free indeterminate inputs
};

/// What the checker did, for metrics and for showing that memory stays bounded.
struct StreamStats {
  std::uint64_t ops = 0;            // invocations seen
  std::uint64_t segments = 0;       // segments checked
  std::size_t largest_segment = 0;  // ops in the largest one
  std::uint64_t configs = 0;        // configurations memoised, all searches together
  std::size_t most_carried = 0;     // largest configuration set handed between segments
};

/// An op as an explanation shows it. `output` is empty for an op whose outcome is
/// unknown (or, in a failing prefix, that had not completed by its end).
template <Model M, typename Tag>
struct StreamOp {
  Tag tag;
  typename M::Input input;
  std::optional<typename M::Output> output;
  Pos call = 0;
  Pos ret = never_pos;
};

/// Why a partition is not linearizable, minimised within its failing segment.
template <Model M, typename Tag>
struct StreamViolation {
  typename M::Key key;
  /// The states the partition could be in when the segment began (described), and the
  /// indeterminate ops still free then (described, with how many of each).
  std::vector<std::string> start_states;
  std::vector<std::pair<std::string, std::uint32_t>> free_ops;
  /// The shortest failing prefix of the segment: its ops in invocation order; `culprit`
  /// indexes the op whose completion ends it (it cannot be placed).
  std::vector<StreamOp<M, Tag>> prefix;
  std::size_t culprit = 0;
  std::size_t segment_ops = 0;  // ops in the whole failing segment
};

struct NoTag {};

template <Model M, typename Tag = NoTag>
class StreamChecker {
 public:
  using Key = typename M::Key;
  using Input = typename M::Input;
  using Output = typename M::Output;
  using State = typename M::State;
  using Violation = StreamViolation<M, Tag>;

  explicit StreamChecker(StreamOptions options = {}) : options_(options) {}

  /// An op is invoked. `id` names it until it completes (unique among ops in flight).
  void invoke(std::uint64_t id, Input input, Tag tag = {}) {
    ++stats_.ops;
    const Pos pos = pos_++;
    if (done()) return;
    Key key = M::partition(input);
    Part& part = parts_[key];
    if (part.unknown) return;
    part.seg.push_back(Pending{std::move(tag), std::move(input), std::nullopt, pos, never_pos, Kind::in_flight});
    ++part.in_flight;
    flight_.emplace(id, Flight{std::move(key), part.seg.size() - 1});
  }
  /// The op completed with `output`: it took effect, and this is what it returned.
  /// `tag`, if given, replaces the one given at invocation (explanations show it).
  void complete(std::uint64_t id, Output output, std::optional<Tag> tag = {}) {
    end(id, Kind::required, std::move(output), std::move(tag));
  }
  /// Nobody knows whether the op took effect (a timeout, a crash).
  void complete_unknown(std::uint64_t id, std::optional<Tag> tag = {}) {
    end(id, Kind::unknown, std::nullopt, std::move(tag));
  }
  /// The op certainly took no effect and returned nothing to check (a failed write).
  void complete_void(std::uint64_t id) { end(id, Kind::none, std::nullopt, std::nullopt); }

  /// Ends the history: ops still in flight become indeterminate, and every partition's
  /// last segment is checked.
  StreamVerdict finish() {
    std::vector<std::uint64_t> open;
    for (const auto& [id, f] : flight_) open.push_back(id);
    for (std::uint64_t id : open) complete_unknown(id);
    for (auto& [key, part] : parts_) {
      if (!part.unknown && !part.seg.empty()) cut(key, part);
      if (done()) break;  // fail() cleared parts_
    }
    return verdict();
  }

  [[nodiscard]] StreamVerdict verdict() const {
    if (violation_) return StreamVerdict::not_linearizable;
    return unknown_keys_.empty() ? StreamVerdict::linearizable : StreamVerdict::unknown;
  }
  /// Set once a segment fails; nothing is checked after that.
  [[nodiscard]] const std::optional<Violation>& violation() const { return violation_; }
  /// Partitions given up on (a bound), with why.
  [[nodiscard]] const std::vector<std::pair<Key, std::string>>& unknown_keys() const { return unknown_keys_; }
  [[nodiscard]] const StreamStats& stats() const { return stats_; }

 private:
  enum class Kind : std::uint8_t { in_flight, required, unknown, none };
  struct Pending {
    Tag tag;
    Input input;
    std::optional<Output> output;
    Pos call = 0;
    Pos ret = never_pos;
    Kind kind = Kind::in_flight;
  };
  struct Config {
    State state;
    std::vector<std::uint32_t> free;  // free members per class of Part::classes
  };
  struct Part {
    std::vector<Input> classes;  // inputs of indeterminate ops still free in some config
    std::vector<Config> configs{Config{M::initial(), {}}};
    std::vector<Pending> seg;  // the open segment, invocation order
    std::uint32_t in_flight = 0;
    bool unknown = false;
  };
  struct Flight {
    Key key;
    std::size_t index = 0;  // in Part::seg
  };

  [[nodiscard]] bool done() const { return violation_.has_value(); }

  void end(std::uint64_t id, Kind kind, std::optional<Output> output, std::optional<Tag> tag) {
    const Pos pos = pos_++;
    auto it = flight_.find(id);
    if (it == flight_.end()) return;  // unknown id, or its partition was given up
    auto part_it = parts_.find(it->second.key);
    Pending& p = part_it->second.seg[it->second.index];
    p.kind = kind;
    p.output = std::move(output);
    if (tag) p.tag = std::move(*tag);
    if (kind == Kind::required) p.ret = pos;
    flight_.erase(it);
    Part& part = part_it->second;
    if (--part.in_flight == 0 && !done()) cut(part_it->first, part);
  }

  /// The class of `input` in `part`, appended if new.
  static std::size_t class_of(Part& part, const Input& input) {
    for (std::size_t k = 0; k < part.classes.size(); ++k) {
      if (part.classes[k] == input) return k;
    }
    part.classes.push_back(input);
    return part.classes.size() - 1;
  }

  /// The segment's search input up to `cutoff` (never_pos: all of it): ops completed by
  /// then are required, ops invoked but not completed by then are indeterminate.
  void build(Part& part, Pos cutoff) {
    req_.clear();
    new_calls_.assign(part.classes.size(), {});
    for (const Pending& p : part.seg) {
      if (p.call > cutoff || p.kind == Kind::none) continue;
      if (p.kind == Kind::required && p.ret <= cutoff) {
        req_.push_back(SegRequired<M>{p.input, *p.output, p.call, p.ret});
        continue;
      }
      const std::size_t k = class_of(part, p.input);
      if (k >= new_calls_.size()) new_calls_.resize(k + 1);
      new_calls_[k].push_back(p.call);
    }
  }
  /// The classes as seen from start configuration `c`.
  void classes_for(const Part& part, const Config& c) {
    classes_.resize(part.classes.size());
    for (std::size_t k = 0; k < part.classes.size(); ++k) {
      classes_[k].input = part.classes[k];
      classes_[k].carried = k < c.free.size() ? c.free[k] : 0;
      classes_[k].calls = k < new_calls_.size() ? new_calls_[k] : std::vector<Pos>{};
    }
  }

  void cut(const Key& key, Part& part) {
    ++stats_.segments;
    stats_.largest_segment = std::max(stats_.largest_segment, part.seg.size());
    build(part, never_pos);
    if (part.classes.empty() && sequential()) return cut_sequential(key, part);
    std::vector<Config> next;
    for (const Config& c : part.configs) {
      classes_for(part, c);
      finals_.clear();
      const SegEnd end = search_.run(c.state, req_, classes_, true, options_.max_configs, finals_);
      stats_.configs += search_.configs();
      if (end == SegEnd::budget) return give_up(key, part, "search bound");
      for (SegFinal<M>& f : finals_) {
        Config out{std::move(f.state), std::vector<std::uint32_t>(classes_.size())};
        for (std::size_t k = 0; k < classes_.size(); ++k) out.free[k] = classes_[k].size() - f.used[k];
        add_config(next, std::move(out));
      }
    }
    if (next.empty()) return fail(key, part);
    if (next.size() > options_.max_carried) return give_up(key, part, "carried-configurations bound");
    stats_.most_carried = std::max(stats_.most_carried, next.size());
    part.configs = std::move(next);
    drop_spent_classes(part);
    part.seg.clear();
    if (part.classes.size() > options_.max_free_classes) give_up(key, part, "indeterminate-ops bound");
  }

  /// Whether the segment's completed ops do not overlap (each returned before the next
  /// was invoked) and it has no indeterminate op: then real time fixes their order.
  [[nodiscard]] bool sequential() const {
    for (std::size_t i = 1; i < req_.size(); ++i) {
      if (req_[i - 1].ret > req_[i].call) return false;
    }
    return true;
  }
  /// The common case, without a search: each start state takes the ops in order.
  void cut_sequential(const Key& key, Part& part) {
    std::vector<Config> next;
    for (const Config& c : part.configs) {
      std::optional<State> s = c.state;
      for (std::size_t i = 0; i < req_.size() && s; ++i) s = M::step(*s, req_[i].input, req_[i].output);
      if (s) add_config(next, Config{std::move(*s), {}});
    }
    if (next.empty()) return fail(key, part);
    stats_.most_carried = std::max(stats_.most_carried, next.size());
    part.configs = std::move(next);
    part.seg.clear();
  }

  /// Adds `c` unless a config with its state and no fewer free ops is there; drops the
  /// ones it dominates.
  static void add_config(std::vector<Config>& set, Config c) {
    auto ge = [](const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
      for (std::size_t k = 0; k < a.size(); ++k) {
        if (a[k] < b[k]) return false;
      }
      return true;
    };
    for (const Config& x : set) {
      if (x.state == c.state && ge(x.free, c.free)) return;
    }
    std::erase_if(set, [&](const Config& x) { return x.state == c.state && ge(c.free, x.free); });
    set.push_back(std::move(c));
  }

  /// Forgets classes with no free member in any configuration.
  static void drop_spent_classes(Part& part) {
    std::size_t out = 0;
    for (std::size_t k = 0; k < part.classes.size(); ++k) {
      bool live = false;
      for (const Config& c : part.configs) live = live || c.free[k] > 0;
      if (!live) continue;
      for (Config& c : part.configs) c.free[out] = c.free[k];
      if (out != k) part.classes[out] = std::move(part.classes[k]);
      ++out;
    }
    part.classes.resize(out);
    for (Config& c : part.configs) c.free.resize(out);
  }

  void give_up(const Key& key, Part& part, std::string why) {
    part.unknown = true;
    part.seg.clear();
    part.configs.clear();
    part.classes.clear();
    std::erase_if(flight_, [&](const auto& kv) { return kv.second.key == key; });
    part.in_flight = 0;
    unknown_keys_.emplace_back(key, std::move(why));
  }

  /// Whether the segment's prefix up to `cutoff` can be linearized from some start.
  bool prefix_fits(Part& part, Pos cutoff) {
    build(part, cutoff);
    for (const Config& c : part.configs) {
      classes_for(part, c);
      finals_.clear();
      if (search_.run(c.state, req_, classes_, false, options_.max_configs, finals_) != SegEnd::not_linearizable) {
        return true;  // a bound here counts as fitting: the minimisation stays sound
      }
    }
    return false;
  }

  /// Records the violation, minimised to the shortest failing prefix of the segment.
  void fail(const Key& key, Part& part) {
    std::vector<Pos> ends;
    for (const Pending& p : part.seg) {
      if (p.kind == Kind::required) ends.push_back(p.ret);
    }
    std::sort(ends.begin(), ends.end());
    std::size_t lo = 0, hi = ends.size() - 1;  // the whole segment (ends[hi]) fails
    while (lo < hi) {
      const std::size_t mid = lo + (hi - lo) / 2;
      if (prefix_fits(part, ends[mid])) lo = mid + 1;
      else hi = mid;
    }
    const Pos cutoff = ends[hi];
    Violation v{key, {}, {}, {}, 0, part.seg.size()};
    for (const Config& c : part.configs) v.start_states.push_back(M::describe_state(c.state));
    for (std::size_t k = 0; k < part.classes.size(); ++k) {
      std::uint32_t most = 0;
      for (const Config& c : part.configs) most = std::max(most, k < c.free.size() ? c.free[k] : 0U);
      if (most > 0) v.free_ops.emplace_back(M::describe(part.classes[k]), most);
    }
    for (const Pending& p : part.seg) {
      if (p.call > cutoff || p.kind == Kind::none) continue;
      const bool returned = p.kind == Kind::required && p.ret <= cutoff;
      if (p.ret == cutoff) v.culprit = v.prefix.size();
      v.prefix.push_back({p.tag, p.input, returned ? p.output : std::nullopt, p.call, returned ? p.ret : never_pos});
    }
    violation_ = std::move(v);
    parts_.clear();
    flight_.clear();
  }

  StreamOptions options_;
  Pos pos_ = 0;
  std::map<Key, Part> parts_;
  std::map<std::uint64_t, Flight> flight_;
  std::optional<Violation> violation_;
  std::vector<std::pair<Key, std::string>> unknown_keys_;
  StreamStats stats_;
  SegmentSearch<M> search_;
  std::vector<SegRequired<M>> req_;
  std::vector<std::vector<Pos>> new_calls_;
  std::vector<SegClass<M>> classes_;
  std::vector<SegFinal<M>> finals_;
};

}  // namespace vsr::sim::lin
