// A checkpoint's replicated state as one byte string (the blob a SnapshotChunk carries
// in pieces): the state machine's snapshot and the client table. Issue 15.
#pragma once

#include <map>
#include <span>

#include "vsr/config.hpp"
#include "vsr/output.hpp"

namespace vsr {

/// What a snapshot blob holds.
struct SnapshotState {
  Bytes machine;                              // StateMachine::snapshot()
  std::map<ClientId, ClientSession> clients;  // the client table
  auto operator<=>(const SnapshotState&) const = default;
};

/// The blob: u32-length machine bytes, then a u32 client count and per client (in
/// ClientId order) u64 client, u64 request, u32-length reply. Little-endian, canonical.
Bytes encode_snapshot(const Bytes& machine, const std::map<ClientId, ClientSession>& clients);

/// Decodes a blob. Total: any bytes yield the state or an error naming the problem
/// (truncated, trailing bytes, clients out of order, a session with request 0); never
/// allocates more than the input justifies.
Result<SnapshotState> decode_snapshot(std::span<const std::uint8_t> blob);

}  // namespace vsr
