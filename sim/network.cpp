#include "sim/network.hpp"

#include <algorithm>
#include <variant>

#include "vsr/state_machine.hpp"

namespace vsr::sim {

namespace {

// The fields that name a message: what it is about, not the sender's state when it
// left (a Prepare's commit number, a log's length), which shifts with timing.
std::uint64_t identity(const Request& m) { return hash_combine(m.client.value, m.request.value); }
std::uint64_t identity(const Prepare& m) { return hash_combine(m.view.value, m.op.value); }
std::uint64_t identity(const PrepareOk& m) { return hash_combine(m.view.value, m.op.value); }
std::uint64_t identity(const Reply& m) {
  return hash_combine(hash_combine(m.client.value, m.request.value), m.view.value);
}
std::uint64_t identity(const Commit& m) { return hash_combine(m.view.value, m.commit.value); }
std::uint64_t identity(const StartViewChange& m) { return m.view.value; }
std::uint64_t identity(const DoViewChange& m) { return m.view.value; }
std::uint64_t identity(const StartView& m) { return m.view.value; }
std::uint64_t identity(const GetState& m) { return hash_combine(m.view.value, m.op.value); }
std::uint64_t identity(const NewState& m) { return hash_combine(m.view.value, m.first_op.value); }
std::uint64_t identity(const Recovery& m) { return m.nonce.value; }
std::uint64_t identity(const RecoveryResponse& m) { return hash_combine(m.view.value, m.nonce.value); }
std::uint64_t identity(const GetEntries& m) { return hash_combine(m.last.value, m.checksum); }
std::uint64_t identity(const Entries& m) { return hash_combine(m.last.value, m.parent); }
std::uint64_t identity(const GetSnapshot& m) { return hash_combine(m.op.value, m.offset); }
std::uint64_t identity(const SnapshotChunk& m) { return hash_combine(m.op.value, m.offset); }

}  // namespace

OccurrenceCounter::Slot& OccurrenceCounter::find(std::vector<Slot>& table, std::uint64_t name) {
  const std::size_t mask = table.size() - 1;
  for (std::size_t i = (name * 0x9e3779b97f4a7c15ULL) >> 20 & mask;; i = (i + 1) & mask) {
    Slot& s = table[i];
    if (s.name == name || s.name == 0) return s;
  }
}

std::uint32_t OccurrenceCounter::count(std::uint64_t name) {
  if (name == 0) return zero_++;
  if (2 * (used_ + 1) > current_.size()) make_room();
  Slot& s = find(current_, name);
  if (s.name == name) return s.count++;
  std::uint32_t before = 0;
  if (!previous_.empty()) {
    const Slot& old = find(previous_, name);
    if (old.name == name) before = old.count;
  }
  s = Slot{name, before + 1};
  ++used_;
  return before;
}

void OccurrenceCounter::make_room() {
  if (current_.size() >= max_slots) {  // a new generation; the oldest is forgotten
    previous_.swap(current_);
    current_.assign(max_slots, Slot{});
    used_ = 0;
    return;
  }
  std::vector<Slot> old = std::move(current_);
  current_.assign(old.empty() ? initial_slots : 2 * old.size(), Slot{});
  for (const Slot& s : old) {
    if (s.name != 0) find(current_, s.name) = s;
  }
}

Network::Network(const SwarmParams& params, std::uint64_t fate_key, const Tape* tape, Prng& tape_rng)
    : params_(&params),
      key_(fate_key),
      tape_(tape),
      tape_rng_(&tape_rng),
      replicas_(params.replica_count),
      nodes_(params.replica_count + params.client_count),
      blocked_(replicas_, std::vector<bool>(replicas_, false)),
      clogged_until_us_(static_cast<std::size_t>(nodes_) * nodes_, 0) {}

void Network::cut(const std::vector<Link>& cuts) {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  for (const auto& [a, b] : cuts) {
    if (a < replicas_ && b < replicas_ && a != b) blocked_[a][b] = true;
  }
  partitioned_ = true;
}

std::vector<Link> Network::cuts() const {
  std::vector<Link> links;
  for (std::uint32_t a = 0; a < replicas_; ++a) {
    for (std::uint32_t b = 0; b < replicas_; ++b) {
      if (blocked_[a][b]) links.emplace_back(a, b);
    }
  }
  return links;
}

void Network::heal() {
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  partitioned_ = false;
}

void Network::clog(std::uint32_t a, std::uint32_t b, std::uint64_t until_us) {
  clogged_until_us_[static_cast<std::size_t>(a) * nodes_ + b] = until_us;
}

void Network::clear_clogs() { std::fill(clogged_until_us_.begin(), clogged_until_us_.end(), 0); }

/// The generator of `m`'s fate on a -> b: keyed by the link, the message's type and
/// identity, and how many such messages crossed the link before; the tape's, while it
/// lasts.
Prng& Network::fate_rng(std::uint32_t a, std::uint32_t b, const Message& m) {
  if (tape_ != nullptr && tape_->used() < tape_->size()) return *tape_rng_;
  std::uint64_t id = std::visit([](const auto& x) { return identity(x); }, m);
  std::uint64_t link = (static_cast<std::uint64_t>(a) << 32) | b;
  std::uint64_t name = hash_combine(hash_combine(link, m.index()), id);
  std::uint32_t occurrence = seen_.count(name);
  fate_ = Prng(hash_combine(hash_combine(key_, name), occurrence));
  return fate_;
}

std::uint64_t Network::delay_us(const SwarmParams& p, Prng& rng) {
  auto d = p.delay_min_us + static_cast<std::uint64_t>(rng.exponential(static_cast<double>(p.delay_mean_us)));
  if (rng.chance(p.tail_probability)) {
    d += static_cast<std::uint64_t>(rng.exponential(static_cast<double>(p.tail_mean_us)));
  }
  return d;
}

Route Network::route(std::uint32_t a, std::uint32_t b, bool client_link, const Message& m, std::uint64_t now_us,
                     bool faults) {
  Route route;
  Prng& rng = fate_rng(a, b, m);  // keyed: counted even when a partition cuts it
  if (faults && !client_link && blocked_[a][b]) {
    route.dropped = true;
    route.reason = "partition";
    return route;
  }
  if (faults && rng.chance(client_link ? params_->client_drop_probability : params_->drop_probability)) {
    route.dropped = true;
    route.reason = "drop";
    return route;
  }
  std::uint64_t clogged = faults ? clogged_until_us_[static_cast<std::size_t>(a) * nodes_ + b] : 0;
  route.copies = rng.chance(params_->duplicate_probability) ? 2 : 1;
  for (int i = 0; i < route.copies; ++i) route.deliver_us[i] = std::max(now_us, clogged) + delay_us(*params_, rng);
  // Drawn last, and only for snapshot chunks, so no other message's fate moves.
  if (faults && std::holds_alternative<SnapshotChunk>(m) && rng.chance(params_->snapshot_corrupt_probability)) {
    route.corrupt = true;
    route.corrupt_state_hash = rng.chance(0.5);
  }
  return route;
}

std::uint32_t Network::hold(const Endpoint& from, const Endpoint& to, Message&& message) {
  if (free_.empty()) {
    parcels_.push_back(Parcel{from, to, std::move(message)});
    return static_cast<std::uint32_t>(parcels_.size() - 1);
  }
  std::uint32_t index = free_.back();
  free_.pop_back();
  Parcel& p = parcels_[index];
  p.from = from;
  p.to = to;
  p.message = std::move(message);
  return index;
}

}  // namespace vsr::sim
