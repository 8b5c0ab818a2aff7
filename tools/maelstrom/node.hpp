// A Maelstrom node for the lin-kv workload, sans-IO: lines in, lines out, time passed
// in as an argument. node_main.cpp wires it to stdin/stdout and a monotonic clock;
// tests drive it directly.
//
// What it holds: one vsr::NodeCore and its replica (whose index is the position of
// node_id in node_ids), a pool of vsr::Client sessions, and the forwarding table (which
// Maelstrom request each busy session answers). Nothing else: the KV state lives in the
// replica.
//
// A client request (read/write/cas from any Maelstrom client, at any node) becomes a
// KV operation submitted through one session of this node. The session's vsr Request
// goes to the primary of the local replica's view (to every replica on resend); the
// primary's Reply comes back to this node, which owns the session's ClientId, and is
// relayed as read_ok / write_ok / cas_ok / error. A retried request keeps its
// (client, request) pair, so the replicated client table executes it at most once.
//
// Request lifecycle and error codes:
//   - held: while the local replica is not normal (view change, state transfer) a
//     request waits here unsent. Refused with 11 (temporarily unavailable, definite)
//     after hold_timeout_ms: it never left this node, so it surely did not happen.
//   - sent: answered from the primary's reply; if none arrives request_timeout_ms after
//     arrival, error 0 (timeout, indefinite) and the session is abandoned for good (its
//     id is never reused: a late execution stays attributed to the timed-out request).
//   - refused at once with 11 when max_sessions requests are already in flight, or
//     before init, or when the local replica's log has no room for the operation
//     (vsr::max_log_bytes: only with checkpoints off or too rare).
//   - refused at once with 12 when its KV operation exceeds max_op_bytes (too large to
//     replicate), or when a number in it would not read back exactly (kv_json.hpp).
//
// Peer messages: a frame that does not decode, or names another sender, is logged and
// dropped; one the replica rejects (vsr::Replica::step, a claim no honest peer makes)
// is counted in NodeStats::rejected and logged. Neither stops the node. A protocol
// message goes to the core as from replica <its src's index>; a Request, which a peer
// node relays from one of its sessions, as from a client, and only when the session id
// is one that node makes (owner_of).
// Bad input never throws: an error reply (12 malformed, 10 not supported) when the
// message names its sender and has an integer msg_id, a log line otherwise.
//
// The replica: this node is a thin adapter over vsr::NodeCore (vsr/node_core.hpp), the
// pure node the TCP server runs too: it checks who may send what, steps the replica,
// writes each output batch to the block device, and flush() makes every queued write
// durable with one sync (group commit) before it releases the messages that waited on
// it, so nothing promised is lost to a kill -9. The node flushes once per input (a line,
// a tick), delivers what the core returns (to peers, or to its own sessions' replies),
// and repeats until the core has nothing more to send. The device: a vsr::MemoryDevice
// by default (nothing survives the process), or the device that NodeOptions::
// open_device opens at init, once the node knows its id (node_main.cpp: the file
// DIR/<node_id>.vsr of --data-dir). At init a device that never held anything
// (NodeDevice::fresh) is formatted and the replica boots as a new member; any other
// device is restarted from: from what storage recovered, or, when the device is
// unreadable or holds a faulty record, by the recovery protocol (§4.3) with
// NodeOptions::incarnation as the nonce. A device failure (a failed write or sync)
// stops the node for good: failure() says why, and it answers nothing more.
//
// Session ids: a node makes ids (owner + 1) << 56 | (incarnation mod 2^32) << 24 |
// sequence, so a restarted node (a new incarnation) never reuses the ids, and request
// numbers, of its previous life (vsr::Client's precondition).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "vsr/block_device.hpp"
#include "vsr/client.hpp"
#include "vsr/node_core.hpp"
#include "vsr/replica.hpp"
#include "tools/maelstrom/kv_json.hpp"

namespace vsr::maelstrom {

/// The device a node keeps its replica's storage on (NodeOptions::open_device).
struct NodeDevice {
  std::shared_ptr<BlockDevice> device;
  /// True only for a device that never held anything (a file this call created): the
  /// replica boots on it as a new member. Any other device, even an unreadable or
  /// empty one, restarts the replica (a node that lost its disk must not boot: it
  /// would forget promises it made).
  bool fresh = false;
};

/// Opens the device of the node named `node_id` (called once, at init).
using OpenDevice = std::function<Result<NodeDevice>(const std::string& node_id)>;

struct NodeOptions {
  /// One replica (and client) tick per this many milliseconds of the monotonic clock.
  std::uint32_t tick_ms = 10;
  /// A request held unsent (local replica not normal) this long is refused with 11.
  std::uint32_t hold_timeout_ms = 1000;
  /// A sent request unanswered this long after it arrived gets error 0 (indefinite).
  std::uint32_t request_timeout_ms = 2000;
  /// A session resends its request to every replica after this many ticks.
  std::uint32_t client_resend_ticks = 25;
  /// Requests in flight at this node (held + sent); more are refused with 11.
  std::uint32_t max_sessions = 256;
  /// The largest encoded KV operation (key, value, from, to) admitted; larger ones are
  /// refused with 12. Bounds what a request, a Prepare and a NewState carry.
  std::uint32_t max_op_bytes = 1u << 20;
  /// Config::checkpoint_interval_ops of the replica (0: no checkpoints).
  std::uint32_t checkpoint_interval_ops = 256;
  /// Every telemetry event of the replica goes to stderr as one JSON line
  /// (vsr::telemetry_json, docs/TELEMETRY.md), with t_us = the node's clock.
  bool telemetry = true;
  /// Opens the replica's device at init; empty: a fresh in-memory device (the replica
  /// boots, and nothing survives the process).
  OpenDevice open_device;
  /// Fresh for each start of the process (node_main.cpp draws it from
  /// std::random_device; the node itself stays deterministic given its inputs): the
  /// nonce of a recovery (§4.3) and part of every session id.
  std::uint64_t incarnation = 0;
  /// The replica's timeouts, in ticks (defaults sized for tick_ms = 10).
  Timeouts timeouts = lan_timeouts();
};

/// Counters for logs and tests.
struct NodeStats {
  std::uint64_t requests = 0;         // client requests accepted (parsed)
  std::uint64_t replied_ok = 0;       // *_ok and definite KV errors (20, 22) from the log
  std::uint64_t refused = 0;          // 11: held too long, too many in flight, before init
  std::uint64_t timed_out = 0;        // 0: sent, no reply in time
  std::uint64_t bad_input = 0;        // malformed lines and messages (replied or logged)
  std::uint64_t rejected = 0;         // messages the replica rejected (vsr.protocol.message.rejected)
  std::uint64_t oversize_dropped = 0; // outgoing messages too large for a frame (never expected)
  std::uint64_t peer_messages_in = 0;
  std::uint64_t peer_messages_out = 0;
};

class Node {
 public:
  explicit Node(NodeOptions options = {});

  /// Handles one input line (without its '\n'). Never throws on any input.
  void on_line(std::string_view line, std::uint64_t now_ms);
  /// Advances the clock to `now_ms` (monotonic, never backwards): runs the ticks due,
  /// expires held and sent requests, dispatches held ones if the replica is normal.
  void advance(std::uint64_t now_ms);
  /// The earliest time advance() has work to do.
  [[nodiscard]] std::uint64_t next_wakeup_ms() const;

  /// Output lines for stdout (no '\n'), in order; moved out.
  std::vector<std::string> take_lines();
  /// Log lines for stderr; moved out.
  std::vector<std::string> take_logs();

  [[nodiscard]] bool initialized() const { return core_ != nullptr; }
  /// The replica; null before init and after a device failure.
  [[nodiscard]] const Replica* replica() const {
    return serving() ? &core_->replica() : nullptr;
  }
  /// Set when the node stopped for good (its device could not be opened or failed):
  /// it then answers nothing more, and its driver should exit.
  [[nodiscard]] const std::optional<Error>& failure() const { return failure_; }
  [[nodiscard]] const NodeStats& stats() const { return stats_; }
  [[nodiscard]] std::size_t in_flight() const {
    return held_.size() + sessions_.size() - idle_.size();
  }

  /// The node (index into node_ids) that owns a session id, or nullopt when the id
  /// is not one a node makes. Ids are (owner + 1) << 56 | incarnation << 24 | sequence,
  /// with incarnation taken mod 2^32 and 1 <= sequence <= max_session_sequence.
  static std::optional<std::uint32_t> owner_of(ClientId id);
  static ClientId session_id(std::uint32_t owner, std::uint64_t incarnation, std::uint32_t sequence);
  static constexpr std::uint32_t max_session_sequence = (1u << 24) - 1;

 private:
  /// A Maelstrom request this node owes a reply: the forwarding-table entry.
  struct Waiting {
    std::string client;      // the Maelstrom src, e.g. "c4"
    nlohmann::json msg_id;   // echoed as in_reply_to (an integer)
    KvOpKind kind = KvOpKind::read;
    Bytes operation;
    std::uint64_t arrived_ms = 0;
  };
  /// One vsr client session. Busy while `waiting` is set: then it is the forwarding
  /// table's entry for that Maelstrom request.
  struct Session {
    Session(ClientId id, const ClientConfig& config) : client(id, config) {}
    Client client;
    std::optional<Waiting> waiting;
  };

  // --- input dispatch ---
  void on_message(const nlohmann::json& message);
  void on_init(const std::string& src, const nlohmann::json& body, const nlohmann::json& msg_id);
  /// Opens the device and starts the core on it (boot or restart); false on failure
  /// (failure_ set).
  bool start_core(const Config& config);
  void on_client_request(const std::string& src, const nlohmann::json& body,
                         const nlohmann::json& msg_id);
  void on_peer(const std::string& src, const nlohmann::json& body);

  // --- requests and sessions ---
  void dispatch_held();
  void submit(Waiting w);
  void expire(std::uint64_t now_ms);
  void on_reply(const vsr::Reply& reply);
  void route_client_output(ClientOutput out);

  // --- the core ---
  void tick_all();
  /// Hands `m` to the core as from `hello`; a refusal is bad input (logged).
  void receive(const Hello& hello, const Message& m);
  /// Flushes the core and delivers what it sends, until it sends nothing more (a reply
  /// to one of this node's sessions can make the session send the local replica a
  /// request). Publishes the core's telemetry and log lines; stops on a device failure.
  void pump();
  /// Sends `m` to `to`: a peer node, the local replica (through the core), or a
  /// session's owner (this node's own sessions take replies here).
  void deliver(const Endpoint& to, Message m);
  /// Moves the core's telemetry events (when options_.telemetry) and log lines (its
  /// replicas named as Maelstrom nodes) to logs_, and its rejection count to stats_.
  void publish_core_output();
  /// Whether the replica is up (false once the device failed: then failure_ is set).
  [[nodiscard]] bool serving() const { return core_ && core_->serving(); }
  void stop(Error why);

  // --- output ---
  void send_peer(std::uint32_t to, const Message& m);
  void reply(const std::string& dest, const nlohmann::json& in_reply_to, nlohmann::json body);
  void refuse(const std::string& dest, const nlohmann::json& in_reply_to, ErrorCode code,
              std::string_view text);
  void send_line(const std::string& dest, nlohmann::json body);
  void bad_input(std::string_view what);
  void log(std::string line);

  NodeOptions options_;
  std::string node_id_;
  std::vector<std::string> node_ids_;
  std::uint32_t self_ = 0;
  std::shared_ptr<BlockDevice> device_;  // declared before core_, which refers to it
  std::unique_ptr<NodeCore> core_;
  std::optional<Error> failure_;
  std::uint64_t now_ms_ = 0;
  std::uint64_t next_tick_ms_ = 0;
  std::uint32_t next_session_ = 1;
  std::int64_t next_msg_id_ = 1;
  std::deque<Waiting> held_;
  std::map<ClientId, Session> sessions_;  // busy and idle; abandoned ones are erased
  std::vector<ClientId> idle_;            // sessions free for the next request
  NodeStats stats_;
  std::vector<std::string> lines_;
  std::vector<std::string> logs_;
  std::string_view line_;  // the line on_line is handling (for check_numbers_exact)
};

}  // namespace vsr::maelstrom
