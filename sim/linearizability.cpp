// The public checker (sim/linearizability.hpp): the history is partitioned by key,
// each key is compiled (sim/linearizability_compiled.hpp) and searched
// (sim/linearizability_search.hpp) on a pool of workers, and a violating key is
// minimised to its shortest failing prefix. The explanation text is in
// sim/linearizability_explain.cpp.
#include "sim/linearizability.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "sim/linearizability_compiled.hpp"
#include "sim/linearizability_search.hpp"

namespace vsr::sim {
namespace {

using lin::Budget;
using lin::Clock;
using lin::Compiled;
using lin::ReqOp;
using lin::SearchEnd;
using lin::SearchOptions;
using lin::compile;
using lin::max_values;
using lin::unwritten_value_ops;

struct KeyJob {
  std::string key;
  std::vector<std::size_t> ops;  // History::ops indices, invocation order
};

/// Searches `c`, adding the search's memo statistics to `stats` if given.
SearchEnd run_search(const Compiled& c, const Budget& b, SearchOptions o, KeyResult* stats) {
  const lin::SearchResult res = lin::search(c, b, o);
  if (stats) {
    stats->configs += res.configs;
    stats->memo_bytes = std::max(stats->memo_bytes, res.memo_bytes);
  }
  return res.end;
}

void set_unknown(KeyResult& kr, SearchEnd end) {
  kr.verdict = Verdict::unknown;
  kr.unknown_reason = end == SearchEnd::timeout ? "timeout" : "memory bound";
}

/// Binary search for the shortest failing prefix, then enumerate the states at which
/// its last op could have been placed. `fails_by`: an event position such that the
/// prefix ending there is known not to be linearizable (never_seq: the whole key).
Violation explain_violation(const History& h, const KeyJob& job, const Budget& b, std::uint64_t fails_by) {
  Violation v;
  std::vector<std::uint64_t> ends;  // returns of required ops: the candidate prefix ends
  for (const ReqOp& r : compile(h, job.ops, never_seq).req) ends.push_back(r.ret_pos);
  std::sort(ends.begin(), ends.end());
  std::size_t lo = 0;  // ends[hi] fails: the last return at or before fails_by
  std::size_t hi = static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), fails_by) - ends.begin()) - 1;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const SearchEnd e = run_search(compile(h, job.ops, ends[mid]), b, {}, nullptr);
    if (e == SearchEnd::not_linearizable) {
      hi = mid;
    } else if (e == SearchEnd::linearizable) {
      lo = mid + 1;
    } else {
      v.minimal = false;
      lo = hi;  // keep the shortest prefix known to fail
    }
  }
  const std::uint64_t cutoff = ends[hi];
  const Compiled c = compile(h, job.ops, cutoff);
  std::size_t target = 0;
  for (std::size_t i = 0; i < c.req.size(); ++i) {
    if (c.req[i].ret_pos == cutoff) target = i;
  }
  v.op = c.req[target].history_index;
  const std::vector<std::size_t> unwritten = unwritten_value_ops(c);
  v.needs_unwritten_value = std::find(unwritten.begin(), unwritten.end(), target) != unwritten.end();
  for (std::size_t i : job.ops) {
    const Op& op = h.ops[i];
    if (op.invoke_seq > cutoff) break;
    v.prefix_ops.push_back(i);
    v.prefix_events += 1 + (op.outcome != Outcome::pending && op.complete_seq <= cutoff ? 1 : 0);
  }
  // Dominance pruning keeps every state sequence, so it keeps every state at which
  // the target is tried; dead info classes are kept so that their values show.
  const lin::SearchResult res = lin::search(c, b, SearchOptions{true, false, target});
  v.possible_values_complete = res.end == SearchEnd::not_linearizable;
  v.op_fits_somewhere = res.target_fits;
  for (std::size_t id = 0; id < c.values.size(); ++id) {
    if (res.seen_states[id]) v.possible_values.push_back(c.values[id]);
  }
  return v;
}

/// The key's verdict: first the search-free check for ops needing a value nobody wrote
/// (a single such read decides the key, however many ops are pending), then the search.
KeyResult check_key(const History& h, const KeyJob& job, const Budget& b, bool want_explain) {
  KeyResult kr;
  kr.key = job.key;
  kr.op_count = job.ops.size();
  const Compiled c = compile(h, job.ops, never_seq);
  if (c.values.size() >= max_values) {
    set_unknown(kr, SearchEnd::memory);
    return kr;
  }
  std::uint64_t fails_by = never_seq;
  SearchEnd end = SearchEnd::not_linearizable;
  if (const std::vector<std::size_t> unwritten = unwritten_value_ops(c); !unwritten.empty()) {
    fails_by = c.req[unwritten.front()].ret_pos;
  } else {
    end = run_search(c, b, {}, &kr);
  }
  switch (end) {
    case SearchEnd::linearizable: kr.verdict = Verdict::linearizable; break;
    case SearchEnd::not_linearizable:
      kr.verdict = Verdict::not_linearizable;
      if (want_explain) kr.violation = explain_violation(h, job, b, fails_by);
      break;
    default: set_unknown(kr, end); break;
  }
  return kr;
}

std::vector<KeyJob> partition(const History& h) {
  std::map<std::string, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < h.ops.size(); ++i) by_key[h.ops[i].call.key].push_back(i);
  std::vector<KeyJob> jobs;
  for (auto& [k, ops] : by_key) jobs.push_back({k, std::move(ops)});
  return jobs;
}

Verdict combine(Verdict a, Verdict b) {
  if (a == Verdict::not_linearizable || b == Verdict::not_linearizable) return Verdict::not_linearizable;
  if (a == Verdict::unknown || b == Verdict::unknown) return Verdict::unknown;
  return Verdict::linearizable;
}

}  // namespace

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::linearizable: return "linearizable";
    case Verdict::not_linearizable: return "not linearizable";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

CheckResult check(const History& history, const CheckOptions& options) {
  const std::vector<KeyJob> jobs = partition(history);
  const unsigned workers = std::max(1U, std::min<unsigned>(options.jobs, static_cast<unsigned>(jobs.size())));
  Budget budget;
  if (options.timeout) budget.deadline = Clock::now() + *options.timeout;
  budget.max_bytes = options.max_memory_bytes / std::max(1U, options.jobs);

  // Largest keys first for balance; results land in key order regardless.
  std::vector<std::size_t> order(jobs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return jobs[a].ops.size() > jobs[b].ops.size();
  });
  std::vector<KeyResult> results(jobs.size());
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t k; (k = next.fetch_add(1)) < order.size();) {
      const std::size_t j = order[k];
      results[j] = check_key(history, jobs[j], budget, options.explain);
    }
  };
  if (workers == 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (unsigned w = 0; w < workers; ++w) pool.emplace_back(work);
  }
  CheckResult out;
  out.op_count = history.ops.size();
  for (KeyResult& kr : results) {
    out.verdict = combine(out.verdict, kr.verdict);
    out.keys.push_back(std::move(kr));
  }
  return out;
}

}  // namespace vsr::sim
