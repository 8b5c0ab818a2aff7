#include "vsr/node_core.hpp"

#include <doctest/doctest.h>

#include "vsr/kv.hpp"
#include "vsr/memory_device.hpp"

using namespace vsr;

namespace {

constexpr ClusterId cluster{7};
constexpr std::uint64_t device_bytes = std::uint64_t{64} << 20;

Config config_of(std::uint32_t n, std::uint8_t self) { return Config::make(n, ReplicaIndex(self)).value(); }

Hello client_hello(std::uint64_t id) { return Hello{cluster, PeerRole::client, id}; }
Hello replica_hello(std::uint64_t index) { return Hello{cluster, PeerRole::replica, index}; }

Request write_request(std::uint64_t client, const std::string& value) {
  return Request{ClientId(client), RequestNumber(1), encode_kv_op(KvOp{KvOpKind::write, "k", value, ""}),
                 SessionNumber(0)};
}

std::size_t replies_in(const std::vector<Outgoing>& out) {
  std::size_t n = 0;
  for (const Outgoing& o : out) n += std::holds_alternative<Reply>(o.message) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("node core: requests stepped in one turn share one group commit") {
  MemoryDevice device(device_bytes);
  NodeCore core(cluster, config_of(1, 0), device);
  REQUIRE(core.start(std::make_unique<KvMachine>(), true, 1));
  std::vector<Outgoing> out;
  core.flush(out);
  out.clear();
  const std::uint64_t syncs_before = device.syncs();
  for (std::uint64_t c = 1; c <= 10; ++c) REQUIRE(core.receive(client_hello(c), write_request(c, "v")));
  // Nothing promised leaves before the flush: the ops are not durable yet.
  CHECK(replies_in(out) == 0);
  core.flush(out);
  CHECK(replies_in(out) == 10);
  CHECK(core.counters().ops_committed == 10);
  CHECK(core.host().writes_completed() >= 10);
  // Ten batches, and a few syncs for all of them (the prepares' sync, then the commit's
  // state), never one sync per op: the group commit.
  CHECK(device.syncs() - syncs_before <= 4);
  for (const Outgoing& o : out) CHECK(!(std::holds_alternative<ReplicaIndex>(o.to)));
}

TEST_CASE("node core: a backup's PrepareOk leaves only once its entry is durable") {
  MemoryDevice device(device_bytes);
  {
    NodeCore core(cluster, config_of(3, 1), device);
    REQUIRE(core.start(std::make_unique<KvMachine>(), true, 1));
    std::vector<Outgoing> out;
    core.flush(out);
    out.clear();
    LogEntry e{ViewNumber(0), ClientId(9), RequestNumber(1), encode_kv_op(KvOp{KvOpKind::write, "k", "v", ""}), 0,
               SessionNumber(0)};
    seal_chain(empty_log_checksum, OpNumber(1), std::span<LogEntry>(&e, 1));
    REQUIRE(core.receive(replica_hello(0), Prepare{ViewNumber(0), OpNumber(1), CommitNumber(0), e, ReplicaIndex(0)}));
    core.flush(out);
    bool prepare_ok = false;
    for (const Outgoing& o : out) prepare_ok |= std::holds_alternative<PrepareOk>(o.message);
    REQUIRE(prepare_ok);
  }
  // The power fails right after the PrepareOk left: what was promised is on the device.
  device.crash_losing_pending();
  NodeCore again(cluster, config_of(3, 1), device);
  auto restarted = again.start(std::make_unique<KvMachine>(), false, 2);
  REQUIRE(restarted);
  CHECK(restarted.value().restart.from_disk);
  CHECK(again.replica().op() == OpNumber(1));
}

TEST_CASE("node core: messages that claim another sender are refused and change nothing") {
  MemoryDevice device(device_bytes);
  NodeCore core(cluster, config_of(3, 0), device);
  REQUIRE(core.start(std::make_unique<KvMachine>(), true, 1));
  CHECK_FALSE(core.admit(Hello{ClusterId(8), PeerRole::replica, 1}));
  CHECK(core.admit(replica_hello(1)));
  const OpNumber op_before = core.replica().op();
  auto spoofed = core.receive(replica_hello(2), Message{Commit{ViewNumber(0), CommitNumber(0), ReplicaIndex(1)}});
  REQUIRE_FALSE(spoofed);
  CHECK(spoofed.error().message.find("replica 2 sent a message it may not send") != std::string::npos);
  auto from_client = core.receive(client_hello(5), Message{StartViewChange{ViewNumber(9), ReplicaIndex(1)}});
  REQUIRE_FALSE(from_client);
  CHECK(from_client.error().message.find("clients send requests only") != std::string::npos);
  auto reply = core.receive(replica_hello(1), Message{Reply{ViewNumber(0), ClientId(5), RequestNumber(1), {}, ReplicaIndex(1)}});
  CHECK_FALSE(reply);
  CHECK(core.counters().messages_refused == 3);
  CHECK(core.counters().messages_in == 0);
  CHECK(core.replica().view() == ViewNumber(0));  // the forged StartViewChange did nothing
  CHECK(core.replica().op() == op_before);
}
