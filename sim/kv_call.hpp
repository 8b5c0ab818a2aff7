// The bridge from the checker's model of an operation (sim/history.hpp) to the KV
// machine's operation (vsr/kv.hpp): integers travel as decimal strings.
#pragma once

#include "sim/history.hpp"
#include "vsr/kv.hpp"

namespace vsr::sim {

/// The KV operation a client sends for `call`.
KvOp to_kv(const OpCall& call);
/// The request bytes a client sends for `call`.
inline Bytes kv_request(const OpCall& call) { return encode_kv_op(to_kv(call)); }
/// The call a KV request's bytes make (the inverse of encode_kv_op(to_kv(call))). Error:
/// the bytes are no KV operation, or its values are not decimal integers.
InputResult<OpCall> call_of(const Bytes& operation);

/// What a completed operation tells the history: its outcome, the value a read saw,
/// and why a cas or a delete failed.
struct KvAnswer {
  Outcome outcome = Outcome::ok;
  Value value;
  CasError cas_error = CasError::unspecified;
};

/// The answer the KV machine's `result` bytes give to `call`. Errors: the bytes are no
/// KV result, the machine calls the operation malformed, or a read's value is not a
/// decimal integer (the workload writes only integers).
InputResult<KvAnswer> answer_of(const OpCall& call, const Bytes& result);

}  // namespace vsr::sim
