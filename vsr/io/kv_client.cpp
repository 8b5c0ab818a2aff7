#include "vsr/io/kv_client.hpp"

#include <utility>

#include <fmt/format.h>

namespace vsr::io {

namespace {

KvReply to_kv_reply(ClientResult r) {
  KvReply out{r.outcome, KvStatus::bad_operation, std::nullopt, r.latency_us, std::move(r.why)};
  if (r.outcome != ClientOutcome::ok) return out;
  auto decoded = decode_kv_result(r.result);
  if (!decoded) {
    out.why = fmt::format("the cluster's result did not decode: {}", decoded.error().message);
    return out;
  }
  out.status = decoded.value().status;
  out.value = std::move(decoded.value().value);
  return out;
}

}  // namespace

std::string describe(const KvReply& r) {
  if (r.outcome == ClientOutcome::ok) {
    switch (r.status) {
      case KvStatus::ok: return "ok";
      case KvStatus::not_found: return "not found";
      case KvStatus::precondition_failed: return "precondition failed (the value differs)";
      case KvStatus::bad_operation: return r.why.empty() ? "the cluster rejected the operation" : r.why;
    }
  }
  const bool definite = r.outcome == ClientOutcome::refused;
  return fmt::format("{} ({}): {}", outcome_name(r.outcome),
                     definite ? "not executed" : "indeterminate: it may or may not have executed", r.why);
}

void KvClient::submit(const KvOp& op, Callback done) {
  client_.submit(encode_kv_op(op), [done = std::move(done)](ClientResult r) { done(to_kv_reply(std::move(r))); });
}

void KvClient::put(std::string key, std::string value, Callback done) {
  submit(KvOp{KvOpKind::write, std::move(key), std::move(value), {}}, std::move(done));
}

void KvClient::get(std::string key, Callback done) {
  submit(KvOp{KvOpKind::read, std::move(key), {}, {}}, std::move(done));
}

void KvClient::cas(std::string key, std::string from, std::string to, Callback done) {
  submit(KvOp{KvOpKind::cas, std::move(key), std::move(to), std::move(from)}, std::move(done));
}

void KvClient::del(std::string key, Callback done) {
  submit(KvOp{KvOpKind::del, std::move(key), {}, {}}, std::move(done));
}

KvReply KvClient::run(const KvOp& op) {
  std::optional<KvReply> out;
  submit(op, [&out](KvReply r) { out = std::move(r); });
  auto& io = client_.io();
  io.restart();
  // The client's tick timer is always armed until close(), and close() delivers every
  // pending result, so run_one() never runs out of work before `out` is set.
  while (!out && io.run_one() > 0) {
  }
  if (!out) {
    return KvReply{ClientOutcome::timeout, KvStatus::bad_operation, std::nullopt, 0,
                   "the io_context stopped before the reply (indeterminate)"};
  }
  return std::move(*out);
}

KvReply KvClient::put(std::string key, std::string value) {
  return run(KvOp{KvOpKind::write, std::move(key), std::move(value), {}});
}

KvReply KvClient::get(std::string key) { return run(KvOp{KvOpKind::read, std::move(key), {}, {}}); }

KvReply KvClient::cas(std::string key, std::string from, std::string to) {
  return run(KvOp{KvOpKind::cas, std::move(key), std::move(to), std::move(from)});
}

KvReply KvClient::del(std::string key) { return run(KvOp{KvOpKind::del, std::move(key), {}, {}}); }

}  // namespace vsr::io
