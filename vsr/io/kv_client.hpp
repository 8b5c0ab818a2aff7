// The key-value service over a ClusterClient (vsr/kv.hpp's operations): asynchronous
// put/get/cas/del with callbacks, and blocking wrappers that run the io_context until
// the result arrives (for command lines and simple programs).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "vsr/io/cluster_client.hpp"
#include "vsr/kv.hpp"

namespace vsr::io {

/// One KV operation's outcome. `outcome` says whether the cluster answered (ok) or not
/// (timeout/evicted: indeterminate; refused: never sent); only when it is ok do
/// `status` and `value` mean anything: get of a missing key is not_found, a cas whose
/// expected value differs is precondition_failed, and a result that does not decode is
/// bad_operation with `why` saying so.
struct KvReply {
  ClientOutcome outcome = ClientOutcome::refused;
  KvStatus status = KvStatus::bad_operation;
  std::optional<std::string> value;  // get, when status is ok
  std::uint64_t latency_us = 0;
  std::string why;

  [[nodiscard]] bool ok() const { return outcome == ClientOutcome::ok && status == KvStatus::ok; }
};

/// "ok", "not found", "precondition failed", or why the operation has no result.
std::string describe(const KvReply& r);

class KvClient {
 public:
  using Callback = std::function<void(KvReply)>;

  /// `client` must outlive this object.
  explicit KvClient(ClusterClient& client) : client_(client) {}

  void submit(const KvOp& op, Callback done);
  void put(std::string key, std::string value, Callback done);
  void get(std::string key, Callback done);
  void cas(std::string key, std::string from, std::string to, Callback done);
  void del(std::string key, Callback done);

  /// Submits `op` and runs the client's io_context until its reply (at most the
  /// request timeout). Precondition: not called from inside an io_context handler.
  KvReply run(const KvOp& op);
  KvReply put(std::string key, std::string value);
  KvReply get(std::string key);
  KvReply cas(std::string key, std::string from, std::string to);
  KvReply del(std::string key);

 private:
  ClusterClient& client_;
};

}  // namespace vsr::io
