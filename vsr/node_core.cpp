#include "vsr/node_core.hpp"

#include <fmt/format.h>

#include "vsr/telemetry.hpp"

namespace vsr {

NodeCore::NodeCore(ClusterId cluster, const Config& config, BlockDevice& device)
    : cluster_(cluster), host_(config, device) {}

Result<NodeStart> NodeCore::start(std::unique_ptr<StateMachine> machine, bool format,
                                  std::uint64_t incarnation) {
  NodeStart s;
  if (format) {
    host_.boot(std::move(machine));
    s.booted = true;
    s.summary = "booted as a member of a new cluster (the device was formatted)";
  } else {
    s.restart = host_.restart(std::move(machine), [&] { return incarnation; });
    if (s.restart.from_disk) {
      const Replica& r = host_.replica();
      s.summary = fmt::format("restarted from disk at view {} op {} commit {} ({} records replayed{})",
                              r.view(), r.op(), r.commit(), s.restart.storage->records,
                              s.restart.storage->torn_tail ? ", a torn tail discarded" : "");
    } else {
      const std::string why =
          s.restart.unreadable ? fmt::format("the device is unreadable: {}", s.restart.unreadable->message)
          : s.restart.storage && s.restart.storage->faulty
              ? fmt::format("storage holds a faulty record (seq {}): {}", s.restart.storage->faulty->seq,
                            s.restart.storage->faulty->why)
              : std::string("the disk cannot be trusted");
      s.summary = fmt::format("running recovery (§4.3, nonce {}) because {}", incarnation, why);
    }
  }
  if (host_.device_failure()) return *host_.device_failure();
  logged_view_ = host_.replica().view();
  logged_status_ = host_.replica().status();
  absorb_output();
  return s;
}

Result<void> NodeCore::admit(const Hello& hello) const {
  return admit_hello(hello, cluster_, host_.config());
}

Result<void> NodeCore::receive(const Hello& hello, const Message& m) {
  if (!serving()) return Error{"the node is down"};
  if (hello.role == PeerRole::client) {
    const auto* request = std::get_if<Request>(&m);
    if (request == nullptr) {
      ++counters_.messages_refused;
      return Error{fmt::format("client {} sent a {} (clients send requests only)", hello.sender, m)};
    }
    ++counters_.requests_in;
  } else {
    const auto sender = claimed_sender(m);
    if (!sender || sender->value != hello.sender || std::holds_alternative<Reply>(m)) {
      ++counters_.messages_refused;
      return Error{fmt::format("replica {} sent a message it may not send: {}", hello.sender, m)};
    }
  }
  ++counters_.messages_in;
  host_.replica().step(m);
  absorb_output();
  return outcome::success();
}

void NodeCore::tick() {
  if (!serving()) return;
  ++counters_.ticks;
  host_.replica().tick();
  absorb_output();
}

void NodeCore::absorb_output() {
  if (!serving()) return;
  host_.replica().take_output(out_);
  counters_.ops_committed += out_.committed.size();
  for (TelemetryEvent& e : out_.events) events_.push_back(std::move(e));
  for (const Fact& f : out_.facts) {
    if (const auto* rejected = std::get_if<MessageRejected>(&f)) {
      ++counters_.messages_rejected;
      logs_.push_back(fmt::format("the replica rejected a message from {}: {}",
                                  rejected->sender ? fmt::format("replica {}", *rejected->sender)
                                                   : std::string("a client"),
                                  reject_reason_name(rejected->reason)));
    }
  }
  host_.carry_out(out_, [this](Outgoing&& o) { route(std::move(o)); });
  note_status();
}

void NodeCore::route(Outgoing&& o) {
  const auto* r = std::get_if<ReplicaIndex>(&o.to);
  if (r != nullptr && *r == host_.self()) {
    local_.push_back(std::move(o.message));
    return;
  }
  pending_.push_back(std::move(o));
}

void NodeCore::flush(std::vector<Outgoing>& out) {
  // Self-addressed messages are stepped first, all of them, so the batches they make
  // join the same sync as everything else of this turn; then one sync for every write
  // queued; its released messages may be self-addressed again, hence the loop.
  while (serving()) {
    if (!local_.empty()) {
      while (!local_.empty() && serving()) {
        Message m = std::move(local_.front());
        local_.pop_front();
        host_.replica().step(m);
        absorb_output();
      }
      continue;
    }
    if (host_.writes().empty()) break;
    while (!host_.writes().empty() && serving()) {
      host_.complete_oldest_write([this](Outgoing&& o) { route(std::move(o)); });
    }
  }
  if (!serving()) {
    pending_.clear();
    local_.clear();
    return;
  }
  for (Outgoing& o : pending_) {
    ++counters_.messages_out;
    if (std::holds_alternative<ClientId>(o.to)) ++counters_.replies_out;
    out.push_back(std::move(o));
  }
  pending_.clear();
}

void NodeCore::note_status() {
  if (!serving()) return;
  const Replica& r = host_.replica();
  if (r.view() == logged_view_ && r.status() == logged_status_) return;
  logs_.push_back(fmt::format("view {} status {} (op {} commit {})", r.view(), status_name(r.status()),
                              r.op(), r.commit()));
  logged_view_ = r.view();
  logged_status_ = r.status();
}

std::vector<TelemetryEvent> NodeCore::take_events() { return std::exchange(events_, {}); }
std::vector<std::string> NodeCore::take_logs() { return std::exchange(logs_, {}); }

}  // namespace vsr
