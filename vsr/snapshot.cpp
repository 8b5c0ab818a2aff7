#include "vsr/snapshot.hpp"

#include "vsr/wire.hpp"

namespace vsr {

namespace {
/// client + request (u64 each) + the reply's u32 length + session + last op (u64 each).
constexpr std::size_t min_session_bytes = 8 + 8 + 4 + 8 + 8;
}  // namespace

Bytes encode_snapshot(const Bytes& machine, const std::map<ClientId, ClientSession>& clients) {
  Bytes out;
  wire::Writer w(out);
  w.bytes(machine);
  w.count(clients.size());
  for (const auto& [client, session] : clients) {
    w.u64(client.value);
    w.u64(session.request.value);
    w.bytes(session.reply);
    w.u64(session.session.value);
    w.u64(session.last_op.value);
  }
  return out;
}

Result<SnapshotState> decode_snapshot(std::span<const std::uint8_t> blob) {
  wire::Reader r(blob, 0, "decode_snapshot");
  SnapshotState s;
  s.machine = r.bytes("machine");
  const std::size_t n = r.count("clients", min_session_bytes);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const ClientId client(r.u64("client"));
    ClientSession session;
    session.request = RequestNumber(r.u64("request"));
    session.reply = r.bytes("reply");
    session.session = SessionNumber(r.u64("session"));
    session.last_op = OpNumber(r.u64("last_op"));
    if (!r.ok()) break;
    if (session.request.value == 0) r.fail(fmt::format("client {} has request 0", client));
    if (!s.clients.empty() && client <= s.clients.rbegin()->first) {
      r.fail(fmt::format("client {} is not above the previous one", client));
    }
    s.clients.emplace(client, std::move(session));
  }
  BOOST_OUTCOME_TRY(r.finish());
  return s;
}

}  // namespace vsr
