#include "sim/invariants.hpp"

#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "vsr/assert.hpp"
#include "vsr/codec.hpp"

namespace vsr::sim {

std::uint64_t entry_hash(const LogEntry& e) {
  std::uint64_t h = hash_bytes(e.operation.data(), e.operation.size());
  h = hash_combine(h, e.view.value);
  h = hash_combine(h, e.client.value);
  return hash_combine(h, e.request.value) | 1;  // never 0, which marks "not known yet"
}

InvariantChecker::InvariantChecker(std::uint32_t replica_count, std::size_t max_message_bytes)
    : replicas_(replica_count), max_message_bytes_(max_message_bytes) {}

std::optional<CheckFailure> InvariantChecker::after_step(const Replica& r) {
  if (oversized_) return std::exchange(oversized_, std::nullopt);
  try {
    r.check_invariants();
  } catch (const AssertionError& e) {
    return CheckFailure{"replica-invariants", fmt::format("replica {}: {}", r.index(), e.what())};
  }
  PerReplica& p = replicas_[r.index().value];
  if (auto f = check_monotonic(r, p)) return f;
  if (auto f = check_primary(r, p)) return f;
  if (auto f = check_checkpoint(r, p)) return f;
  if (r.commit() == p.commit && p.checked == to_op(r.commit())) return std::nullopt;
  if (auto f = check_committed_prefix(r, p)) return f;
  p.commit = r.commit();
  return check_state_hash(r);
}

std::optional<CheckFailure> InvariantChecker::check_monotonic(const Replica& r, PerReplica& p) {
  if (r.view() < p.view) {
    return CheckFailure{"monotonic-view", fmt::format("replica {} went from view {} back to {}",
                                                      r.index(), p.view, r.view())};
  }
  if (r.commit() < p.commit) {
    return CheckFailure{"monotonic-commit",
                        fmt::format("replica {} went from commit {} back to {}", r.index(),
                                    p.commit, r.commit())};
  }
  p.view = r.view();
  max_view_ = std::max(max_view_, r.view().value);
  return std::nullopt;
}

/// One acting primary per view; a replica that starts acting as primary holds every op
/// a client saw acknowledged.
std::optional<CheckFailure> InvariantChecker::check_primary(const Replica& r, PerReplica& p) {
  bool acting = r.is_acting_primary();
  bool started = acting && !p.was_acting_primary;
  p.was_acting_primary = acting;
  if (!acting) return std::nullopt;
  auto [it, inserted] = primary_of_view_.try_emplace(r.view().value, r.index());
  if (it->second != r.index()) {
    return CheckFailure{"one-primary-per-view",
                        fmt::format("replicas {} and {} both act as primary of view {}",
                                    it->second, r.index(), r.view())};
  }
  if (!started) return std::nullopt;
  // Ops acknowledged in a later view are skipped: this is a stale primary of an older one.
  for (auto v = acknowledged_ops_.begin(); v != acknowledged_ops_.end() && v->first <= r.view(); ++v) {
    for (auto [first, last] : v->second.runs()) {
      // Ops in its checkpoint are checked by snapshot-matches-donor and checkpoint-agrees.
      for (std::uint64_t k = std::max(first, r.log_base().value + 1); k <= last; ++k) {
        const OpNumber op{k};
        const std::uint64_t want = committed_entry_hash_[k - 1];
        if (op > r.op() || (want != 0 && entry_hash(r.entry(op)) != want)) {
          return CheckFailure{"acknowledged-op-survives",
                              fmt::format("replica {} became primary of view {} without op {}, "
                                          "which a client saw acknowledged (its log ends at op {})",
                                          r.index(), r.view(), op, r.op())};
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<CheckFailure> InvariantChecker::check_committed_prefix(const Replica& r,
                                                                     PerReplica& p) {
  // Ops in the replica's checkpoint have no entry left (their state is checked by
  // state-hash-agrees and the checkpoint checks). One it committed and compacted in the
  // same step, first of all replicas, gets digest 0, "not known yet": the next replica
  // that commits it with its entry fills it in.
  const OpNumber from = std::max(p.checked, r.log_base());
  if (committed_entry_hash_.size() < from.value) committed_entry_hash_.resize(from.value, 0);
  for (OpNumber op = from.next(); op <= to_op(r.commit()); op = op.next()) {
    std::uint64_t h = entry_hash(r.entry(op));
    if (committed_entry_hash_.size() < op.value || committed_entry_hash_[op.value - 1] == 0) {
      if (committed_entry_hash_.size() < op.value) committed_entry_hash_.push_back(h);
      committed_entry_hash_[op.value - 1] = h;
      const LogEntry& e = r.entry(op);
      auto [latest, fresh] = latest_request_.try_emplace(e.client, e.request, op);
      if (!fresh && latest->second.first < e.request) latest->second = {e.request, op};
    } else if (committed_entry_hash_[op.value - 1] != h) {
      return CheckFailure{"committed-ops-agree",
                          fmt::format("replica {} committed op {} as {}, another replica "
                                      "committed a different operation there",
                                      r.index(), op, r.entry(op))};
    }
  }
  p.checked = to_op(r.commit());
  return std::nullopt;
}

/// Issue 15: checkpoints at the same op hold the same replicated state on every replica.
std::optional<CheckFailure> InvariantChecker::check_checkpoint(const Replica& r, PerReplica& p) {
  if (r.checkpoint_op().value == 0) return std::nullopt;
  if (r.log_base() > r.checkpoint_op()) {
    return CheckFailure{"prefix-discarded-durably",
                        fmt::format("replica {} discarded its log up to op {} but its checkpoint is at op {}",
                                    r.index(), r.log_base(), r.checkpoint_op())};
  }
  // An installed snapshot is some donor's checkpoint: the one every replica has there.
  if (r.installed_snapshot_op() != p.installed_snapshot && r.installed_snapshot_op() == r.checkpoint_op()) {
    p.installed_snapshot = r.installed_snapshot_op();
    auto donor = checkpoint_hash_.find(r.checkpoint_op().value);
    if (donor == checkpoint_hash_.end() || donor->second != r.checkpoint_state_hash()) {
      return CheckFailure{"snapshot-matches-donor",
                          fmt::format("replica {} installed a snapshot at op {} with state hash {:x}, "
                                      "which no replica's checkpoint there has",
                                      r.index(), r.checkpoint_op(), r.checkpoint_state_hash())};
    }
  }
  auto [it, inserted] = checkpoint_hash_.try_emplace(r.checkpoint_op().value, r.checkpoint_state_hash());
  if (!inserted && it->second != r.checkpoint_state_hash()) {
    return CheckFailure{"checkpoint-agrees",
                        fmt::format("replica {}'s checkpoint at op {} has state hash {:x}, another "
                                    "replica's there had {:x}",
                                    r.index(), r.checkpoint_op(), r.checkpoint_state_hash(), it->second)};
  }
  return std::nullopt;
}

std::optional<CheckFailure> InvariantChecker::check_state_hash(const Replica& r) {
  std::uint64_t commit = r.commit().value;
  std::uint64_t h = r.state_hash() | 1;  // never 0, which marks "not seen"
  if (state_hash_at_commit_.size() <= commit) state_hash_at_commit_.resize(commit + 1, 0);
  std::uint64_t& seen = state_hash_at_commit_[commit];
  if (seen == 0) seen = h;
  if (seen != h) {
    return CheckFailure{"state-hash-agrees",
                        fmt::format("replica {} at commit {} has state hash {:016x}, another "
                                    "replica at the same commit had {:016x}",
                                    r.index(), commit, h, seen)};
  }
  return std::nullopt;
}

std::optional<CheckFailure> InvariantChecker::on_committed(ReplicaIndex r, const Committed& c) {
  RequestNumber& last = replicas_[r.value].executed[c.client];
  if (c.request <= last) {
    return CheckFailure{"exactly-once",
                        fmt::format("replica {} executed request {} of client {} (op {}) after "
                                    "already executing request {}",
                                    r, c.request, c.client, c.op, last)};
  }
  last = c.request;
  return std::nullopt;
}

void InvariantChecker::on_promise(ReplicaIndex r, ViewNumber view) {
  PerReplica& p = replicas_[r.value];
  p.promised_view = std::max(p.promised_view, view);
}

namespace {
/// Whether `m`'s type carries bytes or entries, so that its size varies.
bool has_variable_size(const Message& m) {
  return std::visit(
      [](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return !(std::is_same_v<T, PrepareOk> || std::is_same_v<T, Commit> ||
                 std::is_same_v<T, StartViewChange> || std::is_same_v<T, GetState> ||
                 std::is_same_v<T, Recovery> || std::is_same_v<T, GetEntries> ||
                 std::is_same_v<T, GetSnapshot>);
      },
      m);
}
}  // namespace

void InvariantChecker::on_message_sent(ReplicaIndex r, const Message& m) {
  std::optional<ViewNumber> view;
  if (const auto* p = std::get_if<PrepareOk>(&m)) view = p->view;
  if (const auto* p = std::get_if<StartViewChange>(&m)) view = p->view;
  if (const auto* p = std::get_if<DoViewChange>(&m)) view = p->view;
  if (const auto* p = std::get_if<StartView>(&m)) view = p->view;
  if (view) on_promise(r, *view);
  // Issue 15: no message carries more than the bound, whatever path built it (the
  // replica's own send asserts it too; replies are pushed past that assertion). Only
  // types with contents of varying size are measured: every other type encodes to a
  // few dozen bytes, below min_message_bytes, so sizing it on this hot path is waste.
  if (oversized_ || !has_variable_size(m)) return;
  if (const std::size_t bytes = encoded_size(m); bytes > max_message_bytes_) {
    oversized_ = CheckFailure{"message-fits",
                              fmt::format("replica {} sent a {} of {} bytes, above max_message_bytes {}",
                                          r, message_name(m), bytes, max_message_bytes_)};
  }
}

std::optional<CheckFailure> InvariantChecker::on_restart(const Replica& r, bool wiped) {
  PerReplica& p = replicas_[r.index().value];
  if (!wiped && r.view() < p.promised_view) {
    return CheckFailure{"durable-promises",
                        fmt::format("replica {} restarted from disk in view {} after promising "
                                    "view {}: the promise was not persisted first",
                                    r.index(), r.view(), p.promised_view)};
  }
  PerReplica fresh;
  fresh.promised_view = wiped ? ViewNumber{} : p.promised_view;
  fresh.view = r.view();
  fresh.commit = r.commit();
  for (const auto& [client, session] : r.client_table()) fresh.executed[client] = session.request;
  p = std::move(fresh);
  return std::nullopt;
}

void InvariantChecker::on_client_ack(ClientId client, RequestNumber request, ViewNumber view) {
  auto it = latest_request_.find(client);
  if (it != latest_request_.end() && it->second.first == request) acknowledged_ops_[view].add(it->second.second.value);
}

}  // namespace vsr::sim
