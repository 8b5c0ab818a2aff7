// The pure heart of a real node (vsr/io/node.hpp, and any other runtime): one replica on
// its ReplicaHost (vsr/host.hpp), the checks on who may say what, and group commit.
// No sockets, no clock: the runtime hands it decoded messages with the Hello of the
// connection they came on, calls tick() on its clock, and calls flush() once per turn
// of its event loop, then sends what flush() returned.
//
// Group commit (issue 18): receive() and tick() write each output batch to storage at
// once (Storage::write, no sync) and queue its promises; flush() makes every write
// queued since the last flush durable with one sync, then releases the messages that
// waited on them, in the order the replica produced them (rule D1 of storage.hpp: a
// sync covers every record written before it). Messages a replica sends itself are
// delivered back within flush() until none is left, so a primary counts its own
// PrepareOk in the same turn. The more requests arrive in one turn, the more records
// one fsync covers.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vsr/block_device.hpp"
#include "vsr/host.hpp"
#include "vsr/stream.hpp"

namespace vsr {

/// What a node has done, for metrics (the runtime exports them as Prometheus counters;
/// the group commit's batches and syncs are ReplicaHost's writes_completed and syncs).
struct NodeCounters {
  std::uint64_t messages_in = 0;        // accepted and stepped (requests included)
  std::uint64_t requests_in = 0;        // client Requests stepped
  std::uint64_t messages_refused = 0;   // claimed a sender other than the connection's
  std::uint64_t messages_rejected = 0;  // stepped, and the replica rejected them
  std::uint64_t messages_out = 0;       // handed to the runtime to send
  std::uint64_t replies_out = 0;        // of which replies to clients
  std::uint64_t ticks = 0;
  std::uint64_t ops_committed = 0;      // ops executed (Output::committed)
};

/// How start() went.
struct NodeStart {
  bool booted = false;  // a brand new member (the device was formatted)
  RestartReport restart;  // otherwise: how the restart went
  std::string summary;    // one line for the log
};

class NodeCore {
 public:
  /// A node for replica `config.self` of cluster `cluster`, on `device` (which must
  /// outlive it). Nothing runs until start().
  NodeCore(ClusterId cluster, const Config& config, BlockDevice& device);

  /// Boots a brand new member when `format` (the device is formatted: only for a
  /// member of a new cluster), otherwise restarts from the device: from what storage
  /// recovered, or by the recovery protocol (§4.3) with nonce `incarnation` when the
  /// device is blank, unreadable or holds a faulty record. An error when the device
  /// failed (the node cannot serve).
  Result<NodeStart> start(std::unique_ptr<StateMachine> machine, bool format,
                          std::uint64_t incarnation);

  /// Whether a connection that opened with `hello` may talk to this node.
  [[nodiscard]] Result<void> admit(const Hello& hello) const;
  /// Steps `m`, which arrived on a connection that opened with `hello` (admitted).
  /// A message that names a sender other than the connection's (a replica message
  /// naming another replica, a Reply, or anything but a Request from a client) is
  /// refused: an error says why, and nothing changes. A client connection may carry
  /// the requests of many client ids (a client process keeps many sessions in flight on
  /// one connection); its Hello's sender names the process only. VR trusts clients not
  /// to lie about their ids (the paper's model), so ids are not checked against it.
  Result<void> receive(const Hello& hello, const Message& m);
  /// Advances the replica's clock by one tick.
  void tick();
  /// Makes every write queued since the last flush durable (one sync), then appends to
  /// `out` the messages to send, in order: never one addressed to this replica itself
  /// (those are stepped here). After a device failure the node is down for good:
  /// failure() says why and nothing more is sent.
  void flush(std::vector<Outgoing>& out);

  [[nodiscard]] bool serving() const { return host_.up(); }
  [[nodiscard]] const std::optional<Error>& failure() const { return host_.device_failure(); }
  [[nodiscard]] const Replica& replica() const { return host_.replica(); }
  [[nodiscard]] const ReplicaHost& host() const { return host_; }
  [[nodiscard]] const NodeCounters& counters() const { return counters_; }
  [[nodiscard]] ClusterId cluster() const { return cluster_; }
  /// Telemetry events produced since the last call, in order; moved out.
  std::vector<TelemetryEvent> take_events();
  /// Log lines (rejections, status changes) since the last call; moved out.
  std::vector<std::string> take_logs();

 private:
  /// Takes the replica's output and writes its persist (no sync); sends that may leave
  /// now go to pending_.
  void absorb_output();
  void route(Outgoing&& o);
  void note_status();

  ClusterId cluster_;
  ReplicaHost host_;
  Output out_;
  std::vector<Outgoing> pending_;           // may leave at the next flush
  std::deque<Message> local_;               // addressed to this replica, to step
  std::vector<TelemetryEvent> events_;
  std::vector<std::string> logs_;
  NodeCounters counters_;
  ViewNumber logged_view_{};
  StatusKind logged_status_ = StatusKind::normal;
};

}  // namespace vsr
