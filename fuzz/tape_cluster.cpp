#include "fuzz/tape_cluster.hpp"

#include <utility>

#include <fmt/format.h>

#include "fuzz/fuzz_check.hpp"
#include "vsr/assert.hpp"
#include "vsr/telemetry.hpp"

namespace vsr::fuzz {

namespace {

ReplicaIndex rep(std::uint32_t i) { return ReplicaIndex(static_cast<std::uint8_t>(i)); }

std::vector<Config> configs(std::uint32_t n, const TapeOptions& options) {
  std::vector<Config> out;
  for (std::uint32_t r = 0; r < n; ++r) {
    auto c = Config::make(n, rep(r));
    FUZZ_CHECK(c.has_value(), fmt::format("a config of {} replicas", n));
    c.value().checkpoint_interval_ops = options.checkpoint_interval_ops;
    c.value().log_retention_ops = options.log_retention_ops;
    out.push_back(c.value());
  }
  return out;
}

}  // namespace

TapeCluster::TapeCluster(std::uint32_t n, TapeOptions options, SentListener on_sent)
    : options_(options),
      on_sent_(std::move(on_sent)),
      next_nonce_(options.first_nonce),
      cluster_(configs(n, options), *this) {
  for (std::uint32_t r = 0; r < n; ++r) guarded({"boot", r}, [&] { cluster_.boot(r); });
}

std::string TapeCluster::describe(const Note& note) {
  if (note.message == nullptr) return fmt::format("{} r{}", note.verb, note.to);
  if (!note.from) return fmt::format("{} to r{} {}", note.verb, note.to, *note.message);
  return fmt::format("{} r{}->r{} {}", note.verb, *note.from, note.to, *note.message);
}

template <typename F>
void TapeCluster::guarded(const Note& note, F&& f) {
  note_ = note;
  if (options_.trace) fmt::print(stderr, "[tape] {}\n", describe(note_));
  try {
    f();
  } catch (const AssertionError& e) {
    finding(fmt::format("replica {} assertion on {}: {}", note_.to, describe(note_), e.what()));
  }
  note_ = {};  // its message may be gone
}

// ---------------------------------------------------------------- the pool

void TapeCluster::deliver(std::size_t i) {
  Envelope e = std::move(in_flight_[i]);
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
  guarded({"deliver", e.to.value, e.from.value, e.message}, [&] { cluster_.step(e.to.value, e.message); });
}

bool TapeCluster::drop(std::size_t i) {
  const Envelope& e = in_flight_[i];
  if (e.from == e.to) return false;
  if (options_.trace) fmt::print(stderr, "[tape] drop r{}->r{} {}\n", e.from, e.to, e.message);
  in_flight_.erase(in_flight_.begin() + static_cast<std::ptrdiff_t>(i));
  return true;
}

void TapeCluster::drop_all() {
  std::erase_if(in_flight_, [](const Envelope& e) { return e.from != e.to; });
}

void TapeCluster::duplicate(std::size_t i) {
  Envelope copy = in_flight_[i];  // push_back may move the original
  in_flight_.push_back(std::move(copy));
}

// ---------------------------------------------------------------- inputs

void TapeCluster::inject(std::string_view verb, std::optional<std::uint32_t> from, std::uint32_t to,
                         const Message& m) {
  guarded({verb, to, from, m}, [&] { cluster_.step(to, m); });
}

void TapeCluster::tick(std::uint32_t r) {
  guarded({"tick", r}, [&] { cluster_.tick(r); });
}

void TapeCluster::complete_write(std::uint32_t r) {
  if (!host(r).has_writes()) return;
  guarded({"complete a write of", r}, [&] {
    cluster_.complete_oldest_write(r);
    complete_empty_writes(r);
  });
}

void TapeCluster::complete_all_writes() {
  for (std::uint32_t r = 0; r < size(); ++r) {
    while (host(r).has_writes()) complete_write(r);
  }
}

void TapeCluster::crash_restart(std::uint32_t r, bool wipe) {
  wipe = wipe && cluster_.wipe_allowed(r);
  if (options_.trace) {
    fmt::print(stderr, "[tape] crash r{} (losing {} writes){}\n", r, host(r).host().writes().size(),
               wipe ? ", wipe" : "");
  }
  guarded({"restart", r}, [&] {
    cluster_.crash(r, wipe);
    cluster_.restart(r, [&] { return next_nonce_++; });
  });
}

// ---------------------------------------------------------------- ClusterDriver

void TapeCluster::observe(std::uint32_t, const Output& out) {
  for (const Fact& f : out.facts) rejected_ += std::holds_alternative<MessageRejected>(f);
}

void TapeCluster::send(std::uint32_t r, Outgoing&& o) {
  if (on_sent_) on_sent_(rep(r), o);
  if (const auto* client = std::get_if<ClientId>(&o.to)) {
    // A Reply from the acting primary is what a client sees as an acknowledgement.
    const auto* reply = std::get_if<Reply>(&o.message);
    FUZZ_CHECK(reply != nullptr, "only replies go to clients");
    FUZZ_CHECK(reply->client == *client, "a reply to the wrong client");
    cluster_.checker().on_client_ack(reply->client, reply->request, reply->view);
    return;
  }
  const ReplicaIndex to = std::get<ReplicaIndex>(o.to);
  FUZZ_CHECK(to.value < size(), fmt::format("r{} sent to r{} in a cluster of {}", r, to, size()));
  if (in_flight_.size() >= max_in_flight) in_flight_.erase(in_flight_.begin());
  in_flight_.push_back({rep(r), to, std::move(o.message)});
}

void TapeCluster::write_queued(std::uint32_t r) {
  if (!options_.instant_disks) return complete_empty_writes(r);
  while (host(r).has_writes()) cluster_.complete_oldest_write(r);
}

void TapeCluster::check_failed(const sim::CheckFailure& failure) {
  finding(fmt::format("check {} failed after {}: {}", failure.check, describe(note_), failure.detail));
}

void TapeCluster::complete_empty_writes(std::uint32_t r) {
  while (host(r).has_writes() && host(r).host().writes().front().delta.empty()) cluster_.complete_oldest_write(r);
}

}  // namespace vsr::fuzz
