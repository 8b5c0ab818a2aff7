// The fuzz targets' cluster: sim::Cluster (hosting, carrying out every output batch,
// every safety check) with delivery by "byte tape" (issue 14): nothing happens unless
// the caller says so, one input at a time. fuzz_replica decodes its input bytes into
// these inputs; make_corpus scripts them to collect real messages. What it adds to
// sim::Cluster:
//   - a pool of messages in flight, which the caller delivers, drops or duplicates in
//     any order; a message to its sender itself is never dropped (vsr/output.hpp);
//   - disks whose writes complete when the caller says so, or at once (instant_disks);
//     a write with nothing to persist completes as soon as the writes before it have;
//   - crash and restart as one input: from the disk or, after a wipe within VR's fault
//     budget (Cluster::wipe_allowed), in recovery with the next nonce;
//   - a Reply to a client taken as that client's acknowledgement
//     (InvariantChecker::on_client_ack): there is no client process;
//   - a count of the messages the replicas rejected (MessageRejected facts).
// A failed check or an AssertionError from a replica is a finding (fuzz_check.hpp): it
// aborts, naming the input, so libFuzzer saves the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/cluster.hpp"
#include "sim/sim_host.hpp"
#include "vsr/config.hpp"
#include "vsr/message.hpp"
#include "vsr/output.hpp"

namespace vsr::fuzz {

/// A message in flight from replica `from` to replica `to`.
struct Envelope {
  ReplicaIndex from;
  ReplicaIndex to;
  Message message;
};

struct TapeOptions {
  bool instant_disks = false;     // every write completes as soon as it is queued
  std::uint64_t first_nonce = 0;  // recoveries use first_nonce, first_nonce + 1, ...
  bool trace = false;             // prints every input to stderr
  std::uint32_t checkpoint_interval_ops = 0;  // Config's, for every replica
  std::uint32_t log_retention_ops = 128;      // Config's, for every replica
};

class TapeCluster final : private sim::ClusterDriver {
 public:
  /// Sees every message that leaves a host (to a replica or to a client), as it leaves.
  using SentListener = std::function<void(ReplicaIndex from, const Outgoing&)>;
  /// The pool holds at most this many messages; past it, the oldest is lost.
  static constexpr std::size_t max_in_flight = 2048;

  /// A cluster of `n` replicas (Config::make must accept n), booted in index order.
  TapeCluster(std::uint32_t n, TapeOptions options, SentListener on_sent = {});
  TapeCluster(const TapeCluster&) = delete;  // the cluster points at this driver
  TapeCluster& operator=(const TapeCluster&) = delete;

  [[nodiscard]] std::uint32_t size() const { return cluster_.size(); }
  /// Every replica is up between inputs.
  [[nodiscard]] const sim::SimHost& host(std::uint32_t r) const { return cluster_.host(r); }
  [[nodiscard]] const Config& config(std::uint32_t r) const { return cluster_.config(r); }
  /// Messages in flight, oldest first.
  [[nodiscard]] const std::vector<Envelope>& in_flight() const { return in_flight_; }
  /// MessageRejected facts so far, all replicas.
  [[nodiscard]] std::uint64_t rejected() const { return rejected_; }

  // ---- the pool. Precondition for `i`: i < in_flight().size().

  /// Takes message i out of the pool and delivers it.
  void deliver(std::size_t i);
  /// Loses message i unless it is to its sender itself; returns whether it was lost.
  bool drop(std::size_t i);
  /// Loses every message in flight but those to their senders themselves.
  void drop_all();
  /// Adds a copy of message i to the pool, newest.
  void duplicate(std::size_t i);

  // ---- inputs. Precondition for `r` and `to`: below size().

  /// Delivers `m` from outside the pool (a client request, a replay, a forgery), from
  /// replica `from` if it claims one; `verb` names the input in the trace and findings.
  void inject(std::string_view verb, std::optional<std::uint32_t> from, std::uint32_t to, const Message& m);
  /// One tick of r's clock.
  void tick(std::uint32_t r);
  /// r's oldest write completes, then the empty ones right behind it; nothing if r has
  /// no write in flight.
  void complete_write(std::uint32_t r);
  /// Every write in flight of every replica completes.
  void complete_all_writes();
  /// Crashes r (its writes in flight, and the messages waiting on them, are lost) and
  /// restarts it: in recovery from an empty disk if `wipe` and the wipe budget allows
  /// it, or r needed recovery already; from its disk otherwise.
  void crash_restart(std::uint32_t r, bool wipe);

 private:
  /// The input in progress, described (only for the trace and a finding).
  struct Note {
    Note() = default;
    Note(std::string_view v, std::uint32_t r) : verb(v), to(r) {}
    Note(std::string_view v, std::uint32_t r, std::optional<std::uint32_t> f, const Message& m)
        : verb(v), to(r), from(f), message(&m) {}
    std::string_view verb;
    std::uint32_t to = 0;
    std::optional<std::uint32_t> from;
    const Message* message = nullptr;  // may point into the pool: reset after the input
  };
  [[nodiscard]] static std::string describe(const Note& note);

  /// Runs one input `f` to the cluster, noted as `note`: an AssertionError is a finding.
  template <typename F>
  void guarded(const Note& note, F&& f);

  void observe(std::uint32_t r, const Output& out) override;
  void send(std::uint32_t r, Outgoing&& o) override;
  void write_queued(std::uint32_t r) override;
  [[noreturn]] void check_failed(const sim::CheckFailure& failure) override;
  /// Completes r's writes at the front of its queue that persist nothing.
  void complete_empty_writes(std::uint32_t r);

  TapeOptions options_;
  SentListener on_sent_;
  std::vector<Envelope> in_flight_;
  Note note_;
  std::uint64_t next_nonce_;
  std::uint64_t rejected_ = 0;
  sim::Cluster cluster_;  // last: booting it sends into the members above
};

}  // namespace vsr::fuzz
