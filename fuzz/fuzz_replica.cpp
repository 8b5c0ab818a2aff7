// fuzz_replica: a small cluster of real vsr::Replica objects, driven one input at a
// time by the fuzzer's bytes. Each step is one of:
//   - deliver a message in flight, the fuzzer choosing which (so any order), or the
//     oldest; drop one; duplicate one;
//   - tick one replica (a burst of 1..16 ticks), or every replica once;
//   - a client request (client 1..3, request number next / repeated / skipped ahead,
//     a KV operation or arbitrary bytes) to a replica of the fuzzer's choice;
//   - complete one pending disk write of a replica (then the messages that waited on
//     it leave), or every pending write;
//   - crash a replica and restart it from its disk: writes in flight, and the messages
//     waiting on them, are lost;
//   - wipe a replica's disk and restart it in recovery (§4.3) with a fresh nonce, at
//     most f replicas without trustworthy state at a time (VR's fault budget);
//   - inject a stale or replayed copy of any message a replica really sent earlier
//     (to the destination it was sent to): whatever view, op and commit it carried;
//   - inject a well-formed message whose claims cannot contradict a correct replica.
//
// What "cannot contradict" means. VR is not Byzantine-tolerant: a forged Prepare,
// StartView, DoViewChange, NewState or RecoveryResponse that impersonates a correct
// replica with a log it never had can break safety, and that is no bug. So the fuzzer
// forges only messages a correct replica could have sent at some point, or messages
// the protocol must ignore:
//   - StartViewChange for any view from max-view-seen - 2 .. +3, from any other
//     replica: a vote only makes replicas send their real DoViewChange; a view still
//     needs f+1 real DoViewChanges to form.
//   - GetState for any view near the current ones and any op up to log length + 8, or
//     one of the 16 largest op numbers, from any other replica: it only makes a
//     correct replica send its real log (or nothing).
//   - Recovery with a nonce from a range the driver never uses for real recoveries:
//     the responses carry real state and are ignored by everyone (wrong nonce).
//   - Commit from a replica that is not the primary of the view it names (any view,
//     any commit number): the protocol must ignore it.
//   - PrepareOk(v, k) from replica s when s's disk says it is normal in view v and
//     durably holds at least k ops: exactly what s acknowledged (or will).
// And messages that lie in a way the receiver can check (vsr::RejectReason), which it
// must reject (a vsr.protocol.message.rejected event) or ignore, never act on:
//   - any of five message types naming a view above vsr::max_view (near 2^64 half the time);
//   - a StartView from the primary of a view at or above the receiver's, or a
//     DoViewChange to the receiver as the primary of its view (with the highest last
//     normal view, so it would win the choice), whose log is a prefix of the
//     receiver's that lacks one of the ops it executed, or changes one;
//   - a Prepare whose entry claims a later view than the Prepare, a StartView whose
//     length is not its op number, a StartViewChange from a replica outside the cluster.
// The first and the last group must be rejected in any state: the target checks it.
//
// The cluster is fuzz/tape_cluster.hpp (sim::Cluster with delivery by this tape): it
// hosts the replicas (sim/sim_host.hpp: persists queue as writes in flight, crashes
// lose them with the messages waiting on them, a wiped replica restarts in recovery
// until its recovered state is durable), carries out every output batch and runs
// every check after every input: Replica::check_invariants() and sim/invariants.hpp's
// InvariantChecker (after_step, on_committed for every executed op, on_message_sent
// for every message that leaves a host, on_restart at every restart, on_client_ack for
// every Reply the acting primary sends), and the cluster's committed-op-durable check.
// This file decodes the bytes into the cluster's inputs and keeps the fuzzer's rules:
// which forgeries are fair, and that the lies above are rejected. A failed check or an
// AssertionError from a replica aborts with a message, so libFuzzer saves the input.
// FUZZ_REPLICA_TRACE=1 in the environment prints every input (for reproducers).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "fuzz/tape_cluster.hpp"
#include "vsr/config.hpp"
#include "vsr/kv.hpp"
#include "vsr/message.hpp"
#include "vsr/replica.hpp"

namespace {

using namespace vsr;
using vsr::fuzz::Envelope;

constexpr std::size_t max_steps = 4000;
constexpr std::size_t max_remembered = 512;            // sent messages kept for replays
constexpr std::uint64_t real_nonce_base = 1ULL << 40;  // forged nonces stay below

/// The fuzzer's bytes, read as small numbers; zeros once exhausted.
class Input {
 public:
  explicit Input(std::span<const std::uint8_t> b) : b_(b) {}
  [[nodiscard]] bool done() const { return pos_ >= b_.size(); }
  std::uint8_t u8() { return pos_ < b_.size() ? b_[pos_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(u8() | (u8() << 8)); }
  std::uint64_t u64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(u8()) << (8 * i);
    return v;
  }

 private:
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
};

ReplicaIndex rep(std::uint32_t i) { return ReplicaIndex(static_cast<std::uint8_t>(i)); }

/// The fuzzer: reads one step at a time from the input and carries it out on the cluster.
class ReplicaFuzzer {
 public:
  explicit ReplicaFuzzer(std::uint32_t n)
      : n_(n), cluster_(n, options(), [this](ReplicaIndex from, const Outgoing& o) { remember(from, o); }) {}

  void step(Input& in) {
    const std::uint8_t op = in.u8();
    switch (op % 16) {
      case 0: case 1: case 2: if (auto i = pick(in)) cluster_.deliver(*i); break;
      case 3: if (!in_flight().empty()) cluster_.deliver(0); break;
      case 4: if (auto i = pick(in)) cluster_.drop(*i); break;
      case 5: if (auto i = pick(in)) cluster_.duplicate(*i); break;
      case 6: {
        std::uint32_t r = replica(in);
        for (int k = 1 + in.u8() % 16; k > 0; --k) cluster_.tick(r);
        break;
      }
      case 7: for (std::uint32_t r = 0; r < n_; ++r) cluster_.tick(r); break;
      case 8: request(in); break;
      case 9: cluster_.complete_write(replica(in)); break;
      case 10: cluster_.complete_all_writes(); break;
      case 11: cluster_.crash_restart(replica(in), /*wipe=*/false); break;
      case 12: cluster_.crash_restart(replica(in), /*wipe=*/true); break;
      case 13: replay(in); break;
      case 14: forge(in); break;
      case 15: for (int k = in.u8(); k > 0 && !in_flight().empty(); --k) cluster_.deliver(0); break;
    }
  }

 private:
  static fuzz::TapeOptions options() {
    return {.instant_disks = false,
            .first_nonce = real_nonce_base,
            .trace = std::getenv("FUZZ_REPLICA_TRACE") != nullptr};
  }
  [[nodiscard]] const std::vector<Envelope>& in_flight() const { return cluster_.in_flight(); }
  [[nodiscard]] const Replica& replica_at(std::uint32_t r) const { return cluster_.host(r).replica(); }
  [[nodiscard]] const Config& config(std::uint32_t r) const { return cluster_.config(r); }
  std::uint32_t replica(Input& in) const { return in.u8() % n_; }
  std::optional<std::size_t> pick(Input& in) const {
    if (in_flight().empty()) return std::nullopt;
    return in.u16() % in_flight().size();
  }
  /// Every message a replica sends to a replica, kept (the latest max_remembered) for replays.
  void remember(ReplicaIndex from, const Outgoing& o) {
    const auto* to = std::get_if<ReplicaIndex>(&o.to);
    if (to == nullptr) return;
    if (remembered_.size() >= max_remembered) remembered_.pop_front();
    remembered_.push_back({from, *to, o.message});
  }

  // ---- clients

  void request(Input& in) {
    ClientId client(1 + in.u8() % 3);
    std::uint64_t& next = next_request_[client.value];
    const std::uint8_t how = in.u8();
    std::uint64_t number = next + 1;  // a new request
    if (how % 8 == 5 && next > 0) number = next;                  // a resend
    if (how % 8 == 6) number = 1 + in.u8() % (next + 2);          // any recent number
    if (how % 8 == 7) number = next + 2 + in.u8() % 4;            // skips ahead
    next = std::max(next, number);
    Bytes op;
    const std::uint8_t kind = in.u8();
    std::string key(1, static_cast<char>('a' + kind % 3));
    std::string value = std::to_string(in.u8() % 8);
    switch ((kind / 3) % 5) {
      case 0: op = encode_kv_op(KvOp{KvOpKind::read, key, "", ""}); break;
      case 1: op = encode_kv_op(KvOp{KvOpKind::write, key, value, ""}); break;
      case 2: op = encode_kv_op(KvOp{KvOpKind::cas, key, value, std::to_string(in.u8() % 8)}); break;
      case 3: op = encode_kv_op(KvOp{KvOpKind::del, key, "", ""}); break;
      default:  // arbitrary bytes: the machine must answer bad_operation, not crash
        for (int k = in.u8() % 6; k > 0; --k) op.push_back(in.u8());
    }
    std::uint32_t r = replica(in);
    Request m{client, RequestNumber(number), std::move(op)};
    cluster_.inject("request", std::nullopt, r, m);
  }

  // ---- replays and forgeries

  void replay(Input& in) {
    if (remembered_.empty()) return;
    const Envelope& e = remembered_[in.u16() % remembered_.size()];
    Envelope copy = e;  // `remembered_` may change while the replica answers
    cluster_.inject("replay", copy.from.value, copy.to.value, copy.message);
  }

  [[nodiscard]] ViewNumber max_view() const {
    ViewNumber v{};
    for (std::uint32_t r = 0; r < n_; ++r) v = std::max(v, replica_at(r).view());
    return v;
  }

  void forge(Input& in) {
    const std::uint8_t kind = in.u8();
    const std::uint32_t to = replica(in);
    std::uint32_t from = replica(in);
    if (from == to) from = (from + 1) % n_;
    if (n_ == 1) return;
    const ReplicaIndex s = rep(from);
    // Views around the ones in use: up to two below the highest, three above.
    std::uint64_t top = max_view().value;
    std::uint64_t v = top + in.u8() % 6;
    v = v >= 2 ? v - 2 : 0;
    if (kind % 9 >= 5) return forge_lie(kind % 9, in, to, s);
    Message m;
    switch (kind % 5) {
      case 0: m = StartViewChange{ViewNumber(v), s}; break;
      case 1: {
        const std::uint8_t how = in.u8();
        std::uint64_t op = how % 16 == 0 ? ~std::uint64_t{0} - how / 16  // the largest numbers
                                         : how % (replica_at(from).op().value + 9);
        m = GetState{ViewNumber(v), OpNumber(op), s};
        break;
      }
      case 2: m = Recovery{Nonce(in.u16()), s}; break;
      case 3: {
        if (config(to).primary_of(ViewNumber(v)) == s) v += 1;  // never the view's primary
        if (config(to).primary_of(ViewNumber(v)) == s) return;
        std::uint64_t commit = in.u8() % 4 == 0 ? in.u64() : in.u8();
        m = Commit{ViewNumber(v), CommitNumber(commit), s};
        break;
      }
      default: {
        const PersistedState& d = cluster_.host(from).disk();
        if (d.state.view != d.state.last_normal_view || cluster_.host(from).needs_recovery()) return;
        std::uint64_t op = in.u8() % (d.last_op().value + 1);
        m = PrepareOk{d.state.view, OpNumber(op), s};
        break;
      }
    }
    cluster_.inject("forged", from, to, m);
  }

  /// A message that lies in a way `to` can check (see the header): `to` must reject or
  /// ignore it; `must_reject` ones in any state.
  void forge_lie(std::uint32_t kind, Input& in, std::uint32_t to, ReplicaIndex s) {
    const Replica& target = replica_at(to);
    const Config& cfg = config(to);
    Message m;
    bool must_reject = true;
    switch (kind) {
      case 5: {  // a view past max_view
        const std::uint8_t how = in.u8();
        const std::uint64_t v = how % 2 == 0 ? ~std::uint64_t{0} - how / 2
                                             : vsr::max_view.value + 1 + in.u64() % (vsr::max_view.value - 1);
        const ViewNumber view(v);
        switch (in.u8() % 5) {
          case 0: m = StartViewChange{view, s}; break;
          case 1: m = Commit{view, CommitNumber(in.u8()), cfg.primary_of(view)}; break;
          case 2: m = StartView{view, OpNumber(0), CommitNumber(0), {}, cfg.primary_of(view)}; break;
          case 3: m = DoViewChange{view, ViewNumber(0), OpNumber(0), CommitNumber(0), {}, s}; break;
          default: m = GetState{view, OpNumber(0), s}; break;
        }
        break;
      }
      case 6: {  // a new view's log that drops or changes an executed op
        const std::uint64_t executed = target.commit().value;
        if (executed == 0 || target.log_base().value > 0) return;  // a whole log from op 1
        must_reject = false;  // ignored when stale, or when the target is recovering
        const std::uint64_t keep = in.u8() % (executed + 1);
        std::vector<LogEntry> log(target.log().begin(),
                                  target.log().begin() + static_cast<std::ptrdiff_t>(keep));
        if (keep == executed) log.back().operation.push_back(0xff);  // changed, not dropped
        seal_chain(empty_log_checksum, OpNumber(1), log);  // a well-formed lie
        const OpNumber op(log.size());
        const CommitNumber commit(in.u8() % (op.value + 1));
        ViewNumber view(target.view().value + in.u8() % 3);
        if (in.u8() % 2 == 0) {
          if (cfg.primary_of(view) == rep(to)) view = view.next();
          m = StartView{view, op, commit, std::move(log), cfg.primary_of(view)};
        } else {
          if (cfg.primary_of(view) != rep(to)) return;
          m = DoViewChange{view, view, op, commit, std::move(log), s};
        }
        break;
      }
      case 7: {  // an entry from a later view than its Prepare
        const ViewNumber view = target.view();
        const OpNumber op = target.op().next();
        LogEntry e{ViewNumber(view.value + 1 + in.u8()), ClientId(1), RequestNumber(1), {}};
        m = Prepare{view, op, CommitNumber(std::min(target.commit().value, op.value - 1)),
                    std::move(e), cfg.primary_of(view)};
        break;
      }
      default: {  // a sender outside the cluster, or a StartView of the wrong length
        if (in.u8() % 2 == 0) {
          m = StartViewChange{target.view(), rep(n_ + in.u8() % (max_replica_count - n_))};
        } else {
          // More entries than its op number (a shorter log is a suffix, issue 15).
          const ViewNumber view(target.view().value + 1);
          std::vector<LogEntry> log = target.log();
          log.push_back(LogEntry{});
          m = StartView{view, OpNumber(log.size() - 1), CommitNumber(0), std::move(log),
                        cfg.primary_of(view)};
        }
        break;
      }
    }
    const std::uint64_t before = cluster_.rejected();
    const ViewNumber view_before = target.view();
    cluster_.inject("forged lie", s.value, to, m);
    if (must_reject) {
      FUZZ_CHECK(cluster_.rejected() > before, fmt::format("r{} did not reject {}", to, m));
      FUZZ_CHECK(replica_at(to).view() == view_before, fmt::format("r{} moved on {}", to, m));
    }
  }

  std::uint32_t n_;
  std::deque<Envelope> remembered_;
  std::map<std::uint64_t, std::uint64_t> next_request_;  // client -> highest number sent
  fuzz::TapeCluster cluster_;  // last: booting it already sends to remember()
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  Input in(std::span<const std::uint8_t>(data, size));
  constexpr std::uint32_t sizes[] = {3, 3, 5, 1, 2, 4, 3, 5};
  ReplicaFuzzer fuzzer(sizes[in.u8() % 8]);
  for (std::size_t steps = 0; steps < max_steps && !in.done(); ++steps) fuzzer.step(in);
  return 0;
}
