// The wire format (layout in codec.hpp). The field lists below are written once per
// message type and shared by encode and decode, so the two cannot disagree; the
// encoding is canonical (fixed-width integers, bools exactly 0/1, no trailing bytes),
// so encode(decode(x)) == x for every x that decodes.
#include "vsr/codec.hpp"

#include <array>
#include <type_traits>
#include <utility>

#include "vsr/state_machine.hpp"  // hash_bytes: our deterministic 64-bit hash
#include "vsr/wire.hpp"

namespace vsr {

namespace {

constexpr std::uint8_t magic0 = 'V';
constexpr std::uint8_t magic1 = 'S';
constexpr std::size_t checksummed_header_bytes = 8;  // magic, version, type, body length
/// view + client + request (u64 each) + the operation's u32 length + the checksum and
/// the session (u64 each).
constexpr std::size_t min_log_entry_bytes = 3 * 8 + 4 + 2 * 8;

// ---- The field list of each message, in wire order --------------------------------
// `M` is `T` when decoding and `const T` when encoding; `io(field, name)` reads or
// writes one field.

template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<LogEntry>) {
  io(m.view, "entry.view");
  io(m.client, "entry.client");
  io(m.request, "entry.request");
  io(m.operation, "entry.operation");
  io(m.checksum, "entry.checksum");
  io(m.session, "entry.session");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<Request>) {
  io(m.client, "client");
  io(m.request, "request");
  io(m.operation, "operation");
  io(m.session, "session");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<Prepare>) {
  io(m.view, "view");
  io(m.op, "op");
  io(m.commit, "commit");
  io(m.entry, "entry");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<PrepareOk>) {
  io(m.view, "view");
  io(m.op, "op");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<Reply>) {
  io(m.view, "view");
  io(m.client, "client");
  io(m.request, "request");
  io(m.result, "result");
  io(m.session, "session");
  io(m.evicted, "evicted");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<Commit>) {
  io(m.view, "view");
  io(m.commit, "commit");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<StartViewChange>) {
  io(m.view, "view");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<DoViewChange>) {
  io(m.view, "view");
  io(m.last_normal_view, "last_normal_view");
  io(m.op, "op");
  io(m.commit, "commit");
  io(m.log, "log");
  io(m.parent, "parent");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<StartView>) {
  io(m.view, "view");
  io(m.op, "op");
  io(m.commit, "commit");
  io(m.log, "log");
  io(m.parent, "parent");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<GetState>) {
  io(m.view, "view");
  io(m.op, "op");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<NewState>) {
  io(m.view, "view");
  io(m.first_op, "first_op");
  io(m.op, "op");
  io(m.commit, "commit");
  io(m.entries, "entries");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<Recovery>) {
  io(m.nonce, "nonce");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<RecoveryResponse>) {
  io(m.view, "view");
  io(m.nonce, "nonce");
  io(m.has_log, "has_log");
  io(m.op, "op");
  io(m.commit, "commit");
  io(m.log, "log");
  io(m.parent, "parent");
  io(m.replica, "replica");
}

template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<GetEntries>) {
  io(m.last, "last");
  io(m.checksum, "checksum");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<Entries>) {
  io(m.last, "last");
  io(m.parent, "parent");
  io(m.entries, "entries");
  io(m.replica, "replica");
}

template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<GetSnapshot>) {
  io(m.op, "op");
  io(m.offset, "offset");
  io(m.replica, "replica");
}
template <class Io, class M>
void fields(Io& io, M& m, std::type_identity<SnapshotChunk>) {
  io(m.op, "op");
  io(m.checksum, "checksum");
  io(m.state_hash, "state_hash");
  io(m.total_bytes, "total_bytes");
  io(m.offset, "offset");
  io(m.data, "data");
  io(m.data_checksum, "data_checksum");
  io(m.replica, "replica");
}

template <class Io, class M>
void all_fields(Io& io, M& m) {
  fields(io, m, std::type_identity<std::remove_const_t<M>>{});
}

// ---- Encoding and decoding of one field, by field type ------------------------------

class Encoder {
 public:
  explicit Encoder(Bytes& out) : w_(out) {}
  template <class Tag, class Rep>
  void operator()(const Tagged<Tag, Rep>& v, std::string_view /*name*/) {
    if constexpr (sizeof(Rep) == 1) {
      w_.u8(v.value);
    } else {
      static_assert(sizeof(Rep) == 8);
      w_.u64(v.value);
    }
  }
  void operator()(const bool& v, std::string_view) { w_.boolean(v); }
  void operator()(const std::uint64_t& v, std::string_view) { w_.u64(v); }
  void operator()(const std::uint32_t& v, std::string_view) { w_.u32(v); }
  void operator()(const Bytes& v, std::string_view) { w_.bytes(v); }
  void operator()(const LogEntry& e, std::string_view) { all_fields(*this, e); }
  void operator()(const std::vector<LogEntry>& log, std::string_view) {
    w_.count(log.size());
    for (const auto& e : log) all_fields(*this, e);
  }

 private:
  wire::Writer w_;
};

/// Counts the bytes an Encoder would write, without writing them.
class Sizer {
 public:
  template <class Tag, class Rep>
  void operator()(const Tagged<Tag, Rep>&, std::string_view) {
    bytes += sizeof(Rep) == 1 ? 1 : 8;
  }
  void operator()(const bool&, std::string_view) { bytes += 1; }
  void operator()(const std::uint64_t&, std::string_view) { bytes += 8; }
  void operator()(const std::uint32_t&, std::string_view) { bytes += 4; }
  void operator()(const Bytes& v, std::string_view) { bytes += 4 + v.size(); }
  void operator()(const LogEntry& e, std::string_view) { all_fields(*this, e); }
  void operator()(const std::vector<LogEntry>& log, std::string_view) {
    bytes += 4;
    for (const auto& e : log) all_fields(*this, e);
  }

  std::size_t bytes = 0;
};

class Decoder {
 public:
  explicit Decoder(wire::Reader& r) : r_(r) {}
  template <class Tag, class Rep>
  void operator()(Tagged<Tag, Rep>& v, std::string_view name) {
    if constexpr (sizeof(Rep) == 1) {
      v.value = r_.u8(name);
    } else {
      static_assert(sizeof(Rep) == 8);
      v.value = r_.u64(name);
    }
  }
  void operator()(bool& v, std::string_view name) { v = r_.boolean(name); }
  void operator()(std::uint64_t& v, std::string_view name) { v = r_.u64(name); }
  void operator()(std::uint32_t& v, std::string_view name) { v = r_.u32(name); }
  void operator()(Bytes& v, std::string_view name) { v = r_.bytes(name); }
  void operator()(LogEntry& e, std::string_view) { all_fields(*this, e); }
  /// The count is bounded by the remaining input before anything is reserved.
  void operator()(std::vector<LogEntry>& log, std::string_view name) {
    const std::size_t n = r_.count(name, min_log_entry_bytes);
    log.reserve(n);
    for (std::size_t i = 0; i < n && r_.ok(); ++i) all_fields(*this, log.emplace_back());
  }

 private:
  wire::Reader& r_;
};

template <std::size_t I>
Message decode_alternative(Decoder& d) {
  std::variant_alternative_t<I, Message> m;
  all_fields(d, m);
  return m;
}

/// Parses the body of message type `type` (< message_type_count).
template <std::size_t... I>
Message decode_fields(std::size_t type, Decoder& d, std::index_sequence<I...>) {
  using Fn = Message (*)(Decoder&);
  constexpr std::array<Fn, sizeof...(I)> table = {&decode_alternative<I>...};
  return table[type](d);
}

// ---- Internal consistency ----------------------------------------------------------

Error inconsistent(std::string_view name, std::string detail) {
  return Error{fmt::format("{}: {}", name, detail)};
}

template <class M>
Result<void> check_replica(const M& m, std::string_view name) {
  if constexpr (requires { m.replica; }) {
    if (m.replica.value >= max_replica_count) {
      return inconsistent(name, fmt::format("replica index {} is not below {}", m.replica,
                                            max_replica_count));
    }
  }
  return outcome::success();
}

Result<void> check_commit_not_above_op(std::string_view name, CommitNumber commit, OpNumber op) {
  if (commit.value > op.value) {
    return inconsistent(name, fmt::format("commit {} exceeds op {}", commit, op));
  }
  return outcome::success();
}

/// A log suffix ending at op `op`: at most op entries; a suffix from op 1 has the empty
/// log's checksum as its parent.
Result<void> check_suffix(std::string_view name, const std::vector<LogEntry>& log,
                          std::uint64_t parent, OpNumber op, CommitNumber commit) {
  if (log.size() > op.value) {
    return inconsistent(name, fmt::format("log has {} entries, more than op {}", log.size(), op));
  }
  if (log.size() == op.value && parent != empty_log_checksum) {
    return inconsistent(name, fmt::format("log starts at op 1 but its parent checksum is {:x}, "
                                          "not the empty log's",
                                          parent));
  }
  return check_commit_not_above_op(name, commit, op);
}

template <class M>
Result<void> check_fields(const M&, std::string_view) {
  return outcome::success();
}

/// The primary prepares op `op` (≥ 1) only after committing every op before it at most.
Result<void> check_fields(const Prepare& m, std::string_view name) {
  if (m.op.value < 1) return inconsistent(name, "op must be at least 1");
  if (m.commit.value >= m.op.value) {
    return inconsistent(name, fmt::format("commit {} is not below op {}", m.commit, m.op));
  }
  return outcome::success();
}

Result<void> check_fields(const DoViewChange& m, std::string_view name) {
  return check_suffix(name, m.log, m.parent, m.op, m.commit);
}

Result<void> check_fields(const StartView& m, std::string_view name) {
  return check_suffix(name, m.log, m.parent, m.op, m.commit);
}

/// At least one entry, ops last-size+1 .. last, all at least 1.
Result<void> check_fields(const Entries& m, std::string_view name) {
  if (m.entries.empty()) return inconsistent(name, "no entries");
  if (m.entries.size() > m.last.value) {
    return inconsistent(name, fmt::format("{} entries end at op {}, so the first is below op 1",
                                          m.entries.size(), m.last));
  }
  if (m.entries.size() == m.last.value && m.parent != empty_log_checksum) {
    return inconsistent(name, fmt::format("entries start at op 1 but the parent checksum is {:x}, "
                                          "not the empty log's",
                                          m.parent));
  }
  return outcome::success();
}

/// Entries are ops first_op .. first_op+size-1, all within the sender's log of `op` ops.
Result<void> check_fields(const NewState& m, std::string_view name) {
  if (m.first_op.value < 1) return inconsistent(name, "first_op must be at least 1");
  const std::uint64_t n = m.entries.size();
  if (n > 0 && (n > m.op.value || m.first_op.value - 1 > m.op.value - n)) {
    return inconsistent(name, fmt::format("{} entries from first_op {} run past op {}", n,
                                          m.first_op, m.op));
  }
  return check_commit_not_above_op(name, m.commit, m.op);
}

/// The chunk lies within the blob: offset + size ≤ total, and a chunk has data unless
/// the blob is empty.
Result<void> check_fields(const SnapshotChunk& m, std::string_view name) {
  if (m.offset > m.total_bytes || m.data.size() > m.total_bytes - m.offset) {
    return inconsistent(name, fmt::format("{} bytes at offset {} run past the blob's {} bytes",
                                          m.data.size(), m.offset, m.total_bytes));
  }
  if (m.data.empty() && m.total_bytes > 0) return inconsistent(name, "no data");
  return outcome::success();
}

/// Only the primary sends its log; everyone else sends none and zero op/commit.
Result<void> check_fields(const RecoveryResponse& m, std::string_view name) {
  if (m.has_log) return check_suffix(name, m.log, m.parent, m.op, m.commit);
  if (m.op.value != 0 || m.commit.value != 0 || !m.log.empty() || m.parent != empty_log_checksum) {
    return inconsistent(name, fmt::format("has_log is false but op is {}, commit {}, log has "
                                          "{} entries, parent {:x} (all must be 0)",
                                          m.op, m.commit, m.log.size(), m.parent));
  }
  return outcome::success();
}

// ---- The frame ---------------------------------------------------------------------

std::uint64_t frame_checksum(std::span<const std::uint8_t> header,
                             std::span<const std::uint8_t> body) {
  const std::uint64_t h = hash_bytes(header.data(), checksummed_header_bytes);
  return hash_bytes(body.data(), body.size(), h);
}

/// Fills in the header of `frame` (header space + body) for message type `type`.
void seal(Bytes& frame, std::uint8_t type) {
  VSR_ASSERT(frame.size() >= frame_header_bytes && frame.size() <= max_frame_bytes,
             fmt::format("frame of {} bytes", frame.size()));
  frame[0] = magic0;
  frame[1] = magic1;
  frame[2] = frame_version;
  frame[3] = type;
  wire::store_le(&frame[4], frame.size() - frame_header_bytes, 4);
  std::span<const std::uint8_t> all(frame);
  wire::store_le(&frame[8],
                 frame_checksum(all.first(frame_header_bytes), all.subspan(frame_header_bytes)), 8);
}

/// Size, length field and checksum: everything about the frame but its body.
Result<void> check_envelope(std::span<const std::uint8_t> frame) {
  if (frame.size() > max_frame_bytes) {
    return Error{fmt::format("decode: oversize: frame of {} bytes exceeds the limit of {}",
                             frame.size(), max_frame_bytes)};
  }
  if (frame.size() < frame_header_bytes) {
    return Error{fmt::format("decode: truncated: need {} bytes for the frame header, have {}",
                             frame_header_bytes, frame.size())};
  }
  const std::uint64_t body_bytes = wire::load_le(&frame[4], 4);
  const std::size_t have = frame.size() - frame_header_bytes;
  if (body_bytes > max_frame_bytes - frame_header_bytes) {
    return Error{fmt::format("decode: oversize: length field claims {} body bytes, limit is {}",
                             body_bytes, max_frame_bytes - frame_header_bytes)};
  }
  if (body_bytes > have) {
    return Error{fmt::format("decode: truncated: length field claims {} body bytes, have {}",
                             body_bytes, have)};
  }
  if (body_bytes < have) {
    return Error{fmt::format("decode: {} trailing bytes after the frame's {} body bytes",
                             have - body_bytes, body_bytes)};
  }
  const std::uint64_t stored = wire::load_le(&frame[8], 8);
  const std::uint64_t computed =
      frame_checksum(frame.first(frame_header_bytes), frame.subspan(frame_header_bytes));
  if (stored != computed) {
    return Error{fmt::format("decode: checksum mismatch: stored {:016x}, computed {:016x}",
                             stored, computed)};
  }
  return outcome::success();
}

/// Magic, version and type; the envelope is already known good.
Result<std::size_t> check_header(std::span<const std::uint8_t> frame) {
  if (frame[0] != magic0 || frame[1] != magic1) {
    return Error{fmt::format("decode: bad magic {:02x}{:02x} (not a vsr frame)", frame[0],
                             frame[1])};
  }
  if (frame[2] != frame_version) {
    return Error{fmt::format("decode: unsupported version {} (expected {})", frame[2],
                             frame_version)};
  }
  if (frame[3] >= message_type_count) {
    return Error{fmt::format("decode: unknown message type {}", frame[3])};
  }
  return std::size_t{frame[3]};
}

}  // namespace

Result<void> check_message(const Message& m) {
  const std::string_view name = message_name(m);
  return std::visit(
      [name](const auto& x) -> Result<void> {
        BOOST_OUTCOME_TRY(check_replica(x, name));
        return check_fields(x, name);
      },
      m);
}

Bytes encode(const Message& m) {
  const auto consistent = check_message(m);
  VSR_ASSERT(consistent.has_value(), consistent.has_error() ? consistent.error().message : "");
  Bytes frame(frame_header_bytes);
  Encoder enc(frame);
  std::visit([&enc](const auto& x) { all_fields(enc, x); }, m);
  seal(frame, static_cast<std::uint8_t>(m.index()));
  return frame;
}

std::size_t encoded_size(const Message& m) {
  Sizer sizer;
  std::visit([&sizer](const auto& x) { all_fields(sizer, x); }, m);
  return frame_header_bytes + sizer.bytes;
}

std::size_t encoded_entry_size(const LogEntry& e) {
  Sizer sizer;
  all_fields(sizer, e);
  return sizer.bytes;
}

Bytes seal_frame(std::uint8_t type, std::span<const std::uint8_t> body) {
  Bytes frame(frame_header_bytes);
  frame.insert(frame.end(), body.begin(), body.end());
  seal(frame, type);
  return frame;
}

Result<Message> decode(std::span<const std::uint8_t> frame) {
  BOOST_OUTCOME_TRY(check_envelope(frame));
  auto type = check_header(frame);
  if (!type) return type.error();
  const std::string context = fmt::format("decode: {}", message_name(type.value()));
  wire::Reader reader(frame, frame_header_bytes, context);
  Decoder dec(reader);
  Message m = decode_fields(type.value(), dec, std::make_index_sequence<message_type_count>{});
  BOOST_OUTCOME_TRY(reader.finish());
  if (auto ok = check_message(m); !ok) return Error{"decode: " + ok.error().message};
  return m;
}

}  // namespace vsr
