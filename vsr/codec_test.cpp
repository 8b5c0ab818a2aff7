#include "vsr/codec.hpp"
#include "vsr/snapshot.hpp"

#include <string>
#include <utility>

#include <doctest/doctest.h>

#include "vsr/assert.hpp"
#include "vsr/state_machine.hpp"

using namespace vsr;

namespace {

// ---- Helpers -----------------------------------------------------------------------

/// SplitMix64, with our own bounded draws (never std::*_distribution).
struct Prng {
  std::uint64_t state;
  std::uint64_t next() {
    state += 0x9e3779b97f4a7c15ULL;
    return hash_mix(state);
  }
  /// A value in [0, n); slightly biased, which a test does not mind. Precondition: n > 0.
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool coin() { return (next() & 1) != 0; }
  /// Mostly small numbers (the interesting edges), sometimes anything.
  std::uint64_t number() { return below(4) == 0 ? next() : below(10); }
  Bytes bytes(std::size_t max_size) {
    Bytes b(below(max_size + 1));
    for (auto& x : b) x = static_cast<std::uint8_t>(next());
    return b;
  }
};

Bytes pattern(std::size_t n, std::uint8_t salt) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 31 + salt);
  return b;
}

LogEntry entry(std::uint64_t k, std::size_t op_bytes = 3) {
  return LogEntry{ViewNumber(k / 4), ClientId(100 + k % 7), RequestNumber(k),
                  pattern(op_bytes, static_cast<std::uint8_t>(k))};
}

std::vector<LogEntry> log_of(std::size_t n, std::size_t op_bytes = 3) {
  std::vector<LogEntry> log;
  for (std::size_t k = 0; k < n; ++k) log.push_back(entry(k, op_bytes));
  return log;
}

/// At least one message of every type, with non-trivial contents.
std::vector<Message> samples() {
  return {
      Request{ClientId(7), RequestNumber(42), pattern(5, 1)},
      Request{ClientId(0), RequestNumber(0), Bytes{}},
      Request{ClientId(7), RequestNumber(43), Bytes{}, register_session},
      Request{ClientId(7), RequestNumber(44), pattern(3, 4), SessionNumber(43)},
      Prepare{ViewNumber(3), OpNumber(9), CommitNumber(8), entry(9), ReplicaIndex(1)},
      Prepare{ViewNumber(UINT64_MAX), OpNumber(1), CommitNumber(0), LogEntry{}, ReplicaIndex(31)},
      PrepareOk{ViewNumber(3), OpNumber(9), ReplicaIndex(2)},
      Reply{ViewNumber(3), ClientId(7), RequestNumber(42), pattern(200'000, 2), ReplicaIndex(0)},
      Reply{ViewNumber(3), ClientId(7), RequestNumber(44), {}, ReplicaIndex(1), SessionNumber(43), true},
      Prepare{ViewNumber(3), OpNumber(9), CommitNumber(8),
              LogEntry{ViewNumber(3), ClientId(7), RequestNumber(44), pattern(3, 4), 99, SessionNumber(43)},
              ReplicaIndex(1)},
      Commit{ViewNumber(4), CommitNumber(UINT64_MAX - 1), ReplicaIndex(4)},
      StartViewChange{ViewNumber(5), ReplicaIndex(3)},
      DoViewChange{ViewNumber(5), ViewNumber(3), OpNumber(1000), CommitNumber(990),
                   log_of(1000), ReplicaIndex(2)},
      DoViewChange{ViewNumber(1), ViewNumber(0), OpNumber(0), CommitNumber(0), {}, ReplicaIndex(0)},
      DoViewChange{ViewNumber(9), ViewNumber(8), OpNumber(5000), CommitNumber(4990), log_of(64),
                   ReplicaIndex(3), 0x0123456789abcdefULL},
      StartView{ViewNumber(9), OpNumber(70), CommitNumber(60), log_of(64), ReplicaIndex(1), 77},
      StartView{ViewNumber(5), OpNumber(3), CommitNumber(3), log_of(3, 0), ReplicaIndex(2)},
      GetState{ViewNumber(6), OpNumber(17), ReplicaIndex(1)},
      NewState{ViewNumber(6), OpNumber(18), OpNumber(30), CommitNumber(25), log_of(13),
               ReplicaIndex(0)},
      NewState{ViewNumber(6), OpNumber(31), OpNumber(30), CommitNumber(30), {}, ReplicaIndex(0)},
      Recovery{Nonce(0xdeadbeefcafeULL), ReplicaIndex(2)},
      RecoveryResponse{ViewNumber(8), Nonce(77), true, OpNumber(4), CommitNumber(2), log_of(4),
                       ReplicaIndex(0)},
      RecoveryResponse{ViewNumber(8), Nonce(77), false, OpNumber(0), CommitNumber(0), {},
                       ReplicaIndex(1)},
      RecoveryResponse{ViewNumber(8), Nonce(78), true, OpNumber(400), CommitNumber(390), log_of(4),
                       ReplicaIndex(0), UINT64_MAX},
      GetEntries{OpNumber(336), 0xfeedULL, ReplicaIndex(4)},
      Entries{OpNumber(336), 0xbeefULL, log_of(128), ReplicaIndex(2)},
      Entries{OpNumber(2), empty_log_checksum, log_of(2), ReplicaIndex(2)},
      GetSnapshot{OpNumber(64), 4096, ReplicaIndex(3)},
      SnapshotChunk{OpNumber(64), 0xabcULL, 0xdefULL, 10, 4, Bytes{1, 2, 3}, 0x123ULL, ReplicaIndex(1)},
      SnapshotChunk{OpNumber(1), 0, 0, 0, 0, {}, 0, ReplicaIndex(0)},
  };
}

std::vector<LogEntry> random_log(Prng& g, std::size_t n) {
  std::vector<LogEntry> log(n);
  for (auto& e : log) {
    e = LogEntry{ViewNumber(g.number()), ClientId(g.number()), RequestNumber(g.number()),
                 g.bytes(g.below(4) == 0 ? 300 : 8), g.number(), SessionNumber(g.number())};
  }
  return log;
}

/// A random, internally consistent message of a random type.
Message random_message(Prng& g) {
  const auto v = ViewNumber(g.number());
  const auto r = ReplicaIndex(static_cast<std::uint8_t>(g.below(max_replica_count)));
  const std::size_t n = g.below(12);
  switch (g.below(message_type_count)) {
    case 0: return Request{ClientId(g.number()), RequestNumber(g.number()), g.bytes(64)};
    case 1: {
      const std::uint64_t op = 1 + g.below(g.coin() ? 10 : UINT64_MAX - 1);
      return Prepare{v, OpNumber(op), CommitNumber(g.below(op)), random_log(g, 1)[0], r};
    }
    case 2: return PrepareOk{v, OpNumber(g.number()), r};
    case 3: return Reply{v, ClientId(g.number()), RequestNumber(g.number()), g.bytes(64), r};
    case 4: return Commit{v, CommitNumber(g.number()), r};
    case 5: return StartViewChange{v, r};
    case 6: {
      const std::uint64_t op = n + (g.coin() ? 0 : g.below(100));
      return DoViewChange{v, ViewNumber(g.number()), OpNumber(op), CommitNumber(g.below(op + 1)),
                          random_log(g, n), r, op == n ? empty_log_checksum : g.next()};
    }
    case 7: {
      const std::uint64_t op = n + (g.coin() ? 0 : g.below(100));
      return StartView{v, OpNumber(op), CommitNumber(g.below(op + 1)), random_log(g, n), r,
                       op == n ? empty_log_checksum : g.next()};
    }
    case 8: return GetState{v, OpNumber(g.number()), r};
    case 9: {
      const std::uint64_t op = n + g.below(5);
      const std::uint64_t first = 1 + g.below(op - n + 1);
      return NewState{v, OpNumber(first), OpNumber(op), CommitNumber(g.below(op + 1)),
                      random_log(g, n), r};
    }
    case 10: return Recovery{Nonce(g.next()), r};
    case 11: {
      if (g.coin()) return RecoveryResponse{v, Nonce(g.next()), false, {}, {}, {}, r};
      const std::uint64_t op = n + (g.coin() ? 0 : g.below(100));
      return RecoveryResponse{v, Nonce(g.next()), true, OpNumber(op),
                              CommitNumber(g.below(op + 1)), random_log(g, n), r,
                              op == n ? empty_log_checksum : g.next()};
    }
    case 12: return GetEntries{OpNumber(g.number()), g.next(), r};
    case 13: {
      const std::uint64_t last = n + 1 + (g.coin() ? 0 : g.below(100));
      return Entries{OpNumber(last), last == n + 1 ? empty_log_checksum : g.next(),
                     random_log(g, n + 1), r};
    }
    case 14: return GetSnapshot{OpNumber(g.number()), g.next(), r};
    default: {
      Bytes data = g.bytes(64);
      if (data.empty()) data.push_back(7);
      const std::uint64_t offset = g.below(1000);
      const std::uint64_t total = offset + data.size() + g.below(1000);
      return SnapshotChunk{OpNumber(g.number()), g.next(), g.next(), total, offset, std::move(data),
                           g.next(), r};
    }
  }
}

/// decode() must fail; returns its message.
std::string decode_error(std::span<const std::uint8_t> frame) {
  auto r = decode(frame);
  if (r.has_value()) FAIL("decoded unexpectedly: ", fmt::format("{}", r.value()));
  return r.error().message;
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

/// Recomputes the checksum after a test edited the frame (the layout in codec.hpp).
void reseal(Bytes& frame) {
  const std::uint64_t h = hash_bytes(
      frame.data() + frame_header_bytes, frame.size() - frame_header_bytes,
      hash_bytes(frame.data(), 8));
  for (int i = 0; i < 8; ++i) frame[8 + i] = static_cast<std::uint8_t>(h >> (8 * i));
}

/// Overwrites the little-endian integer of `width` bytes at frame offset `at`, and reseals.
void patch(Bytes& frame, std::size_t at, std::uint64_t value, std::size_t width = 8) {
  REQUIRE(at + width <= frame.size());
  for (std::size_t i = 0; i < width; ++i) frame[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
  reseal(frame);
}

/// A SnapshotChunk frame with no data of a 5-byte blob (encode() would assert on it).
Bytes encode_unchecked_chunk() {
  Bytes f = encode(SnapshotChunk{OpNumber(9), 1, 2, 0, 0, {}, 3, ReplicaIndex(1)});
  patch(f, frame_header_bytes + 24, 5);  // total_bytes
  return f;
}

/// Body offset → frame offset.
constexpr std::size_t body(std::size_t offset) { return frame_header_bytes + offset; }

}  // namespace

// ---- Valid input -------------------------------------------------------------------

TEST_CASE("codec: round-trips every message type") {
  std::vector<bool> covered(message_type_count, false);
  for (const Message& m : samples()) {
    CAPTURE(message_name(m));
    covered[m.index()] = true;
    const Bytes frame = encode(m);
    auto back = decode(frame);
    REQUIRE(back.has_value());
    CHECK(back.value() == m);
    CHECK(encode(back.value()) == frame);
  }
  for (std::size_t t = 0; t < message_type_count; ++t) CHECK_MESSAGE(covered[t], message_name(t));
}

TEST_CASE("codec: frame layout is magic, version, type, body length, checksum, body") {
  const Bytes frame = encode(StartViewChange{ViewNumber(0x0102030405060708ULL), ReplicaIndex(9)});
  REQUIRE(frame.size() == frame_header_bytes + 9);
  CHECK(frame[0] == 'V');
  CHECK(frame[1] == 'S');
  CHECK(frame[2] == frame_version);
  CHECK(frame[3] == 5);  // StartViewChange's index in Message
  CHECK(frame[4] == 9);
  CHECK(frame[5] == 0);
  CHECK(frame[16] == 0x08);  // little-endian view
  CHECK(frame[23] == 0x01);
  CHECK(frame[24] == 9);
  Bytes copy = frame;
  reseal(copy);
  CHECK(copy == frame);  // the test's reading of the checksum agrees with the codec's
}

TEST_CASE("codec: encoding is deterministic") {
  for (const Message& m : samples()) CHECK(encode(m) == encode(Message(m)));
}

TEST_CASE("codec: randomized round-trip property") {
  Prng g{12345};
  for (int i = 0; i < 3000; ++i) {
    const Message m = random_message(g);
    CAPTURE(i);
    CAPTURE(fmt::format("{}", m));
    const Bytes frame = encode(m);
    CHECK(encoded_size(m) == frame.size());
    auto back = decode(frame);
    REQUIRE(back.has_value());
    CHECK(back.value() == m);
    CHECK(encode(back.value()) == frame);
  }
}

TEST_CASE("codec: any body that decodes re-encodes to the identical frame") {
  Prng g{99};
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes frame = encode(random_message(g));
    Bytes b(frame.begin() + frame_header_bytes, frame.end());
    for (std::uint64_t k = g.below(3); k > 0 && !b.empty(); --k) {
      b[g.below(b.size())] = static_cast<std::uint8_t>(g.below(4) == 0 ? g.next() : g.below(3));
    }
    const Bytes mutated = seal_frame(frame[3], b);
    auto m = decode(mutated);
    if (!m) continue;
    ++decoded;
    CHECK(encode(m.value()) == mutated);
  }
  CHECK(decoded > 1000);  // the property was exercised, not vacuous
}

// ---- Malformed input ---------------------------------------------------------------

TEST_CASE("codec: rejects every truncation of a valid frame") {
  for (const Message& m : samples()) {
    const Bytes frame = encode(m);
    if (frame.size() > 100'000) continue;
    CAPTURE(message_name(m));
    for (std::size_t n = 0; n < frame.size(); ++n) {
      const std::string e = decode_error(std::span(frame).first(n));
      if (!contains(e, "decode: truncated")) FAIL_CHECK(n, ": ", e);
    }
  }
  const Bytes frame = encode(PrepareOk{ViewNumber(1), OpNumber(2), ReplicaIndex(0)});
  CHECK(decode_error(std::span(frame).first(3)) ==
        "decode: truncated: need 16 bytes for the frame header, have 3");
  CHECK(decode_error(std::span(frame).first(20)) ==
        "decode: truncated: length field claims 17 body bytes, have 4");
}

TEST_CASE("codec: a truncated body names the field, its offset and what remains") {
  // A PrepareOk body cut inside 'op', with a header that agrees (so only the body parse sees it).
  const Bytes full = encode(PrepareOk{ViewNumber(1), OpNumber(2), ReplicaIndex(0)});
  const Bytes cut = seal_frame(full[3], std::span(full).subspan(frame_header_bytes, 11));
  CHECK(decode_error(cut) ==
        "decode: prepare_ok: truncated: need 8 bytes for field 'op' at offset 24, have 3");
  const Bytes no_replica = seal_frame(full[3], std::span(full).subspan(frame_header_bytes, 16));
  CHECK(contains(decode_error(no_replica), "need 1 bytes for field 'replica' at offset 32, have 0"));
}

TEST_CASE("codec: one flipped bit anywhere is rejected") {
  for (const Message& m : samples()) {
    const Bytes frame = encode(m);
    if (frame.size() > 2'000) continue;
    CAPTURE(message_name(m));
    for (std::size_t i = 0; i < frame.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes bad = frame;
        bad[i] ^= static_cast<std::uint8_t>(1u << bit);
        const std::string e = decode_error(bad);
        const bool length_field = i >= 4 && i < 8;
        if (!length_field && !contains(e, "decode: checksum mismatch")) FAIL_CHECK(i, ": ", e);
        if (length_field && !contains(e, "truncated") && !contains(e, "trailing") &&
            !contains(e, "oversize")) {
          FAIL_CHECK(i, ": ", e);
        }
      }
    }
  }
}

TEST_CASE("codec: rejects an unknown type, bad magic and an unsupported version") {
  CHECK(decode_error(seal_frame(message_type_count, {})) == "decode: unknown message type 16");
  CHECK(decode_error(seal_frame(255, Bytes(9))) == "decode: unknown message type 255");
  Bytes frame = encode(StartViewChange{ViewNumber(1), ReplicaIndex(1)});
  Bytes bad_magic = frame;
  patch(bad_magic, 0, 'X', 1);
  CHECK(contains(decode_error(bad_magic), "decode: bad magic 5853"));
  Bytes bad_version = frame;
  patch(bad_version, 2, 2, 1);
  CHECK(decode_error(bad_version) == "decode: unsupported version 2 (expected 1)");
}

TEST_CASE("codec: rejects an oversize frame or length field before allocating") {
  Bytes frame = encode(Commit{ViewNumber(1), CommitNumber(1), ReplicaIndex(0)});
  patch(frame, 4, 0xffffffffULL, 4);
  CHECK(contains(decode_error(frame), "decode: oversize: length field claims 4294967295 body bytes"));
  const Bytes huge(max_frame_bytes + 1, 0);
  CHECK(contains(decode_error(huge), "decode: oversize: frame of 67108865 bytes"));
}

TEST_CASE("codec: rejects trailing bytes after the frame and after the last field") {
  Bytes frame = encode(Commit{ViewNumber(1), CommitNumber(1), ReplicaIndex(0)});
  Bytes longer = frame;
  longer.push_back(0);
  CHECK(decode_error(longer) == "decode: 1 trailing bytes after the frame's 17 body bytes");
  Bytes b(frame.begin() + frame_header_bytes, frame.end());
  b.push_back(7);
  b.push_back(7);
  CHECK(decode_error(seal_frame(frame[3], b)) ==
        "decode: commit: 2 trailing bytes after the last field at offset 33");
}

TEST_CASE("codec: a bool must be exactly 0 or 1") {
  Bytes frame = encode(RecoveryResponse{ViewNumber(1), Nonce(2), false, {}, {}, {}, ReplicaIndex(0)});
  patch(frame, body(16), 2, 1);  // has_log
  CHECK(decode_error(frame) ==
        "decode: recovery_response: field 'has_log' at offset 32 is 2, not a bool (0 or 1)");
}

TEST_CASE("codec: huge claimed counts are rejected without allocating") {
  // A DoViewChange with an empty log whose count claims 2^31 entries: the frame is tiny.
  Bytes dvc = encode(DoViewChange{ViewNumber(1), ViewNumber(0), OpNumber(0), CommitNumber(0), {},
                                  ReplicaIndex(0)});
  patch(dvc, body(32), 1ULL << 31, 4);
  CHECK(decode_error(dvc) ==
        "decode: do_view_change: field 'log' at offset 48 claims 2147483648 items of at least 44 "
        "bytes, but only 9 bytes remain");
  // A count the input can just not hold: 2 entries' worth of minimal room claims 3.
  Bytes two = encode(StartView{ViewNumber(1), OpNumber(2), CommitNumber(0), log_of(2, 0),
                               ReplicaIndex(0)});
  patch(two, body(24), 3, 4);
  CHECK(contains(decode_error(two), "claims 3 items of at least 44 bytes, but only 97 bytes remain"));
  // A byte string claiming 2^31 bytes.
  Bytes req = encode(Request{ClientId(1), RequestNumber(1), Bytes{}});
  patch(req, body(16), 1ULL << 31, 4);
  CHECK(decode_error(req) ==
        "decode: request: truncated: need 2147483648 bytes for field 'operation' at offset 36, "
        "have 8");
}

TEST_CASE("codec: rejects internally inconsistent fields") {
  SUBCASE("do_view_change: more entries than op, or a log from op 1 with a parent") {
    Bytes f = encode(DoViewChange{ViewNumber(5), ViewNumber(3), OpNumber(3), CommitNumber(1),
                                  log_of(3), ReplicaIndex(2)});
    Bytes more = f;
    patch(more, body(16), 2);
    CHECK(decode_error(more) == "decode: do_view_change: log has 3 entries, more than op 2");
    // A suffix (3 entries ending at op 5) is fine; a whole log has the empty parent.
    Bytes suffix = f;
    patch(suffix, body(16), 5);
    CHECK(decode(suffix).has_value());
    patch(f, f.size() - 9, 42);  // parent
    CHECK(decode_error(f) == "decode: do_view_change: log starts at op 1 but its parent checksum "
                             "is 2a, not the empty log's");
  }
  SUBCASE("do_view_change: commit above op") {
    Bytes f = encode(DoViewChange{ViewNumber(5), ViewNumber(3), OpNumber(3), CommitNumber(1),
                                  log_of(3), ReplicaIndex(2)});
    patch(f, body(24), 4);
    CHECK(decode_error(f) == "decode: do_view_change: commit 4 exceeds op 3");
  }
  SUBCASE("start_view: log size differs from op") {
    Bytes f = encode(StartView{ViewNumber(5), OpNumber(2), CommitNumber(2), log_of(2),
                               ReplicaIndex(0)});
    patch(f, body(8), 1);
    CHECK(decode_error(f) == "decode: start_view: log has 2 entries, more than op 1");
  }
  SUBCASE("prepare: op 0, or commit not below op") {
    Bytes f = encode(Prepare{ViewNumber(1), OpNumber(5), CommitNumber(4), entry(5), ReplicaIndex(0)});
    Bytes zero = f;
    patch(zero, body(8), 0);
    patch(zero, body(16), 0);
    CHECK(decode_error(zero) == "decode: prepare: op must be at least 1");
    patch(f, body(16), 5);
    CHECK(decode_error(f) == "decode: prepare: commit 5 is not below op 5");
  }
  SUBCASE("new_state: first_op 0, entries past op, commit above op") {
    const Bytes f = encode(NewState{ViewNumber(1), OpNumber(3), OpNumber(5), CommitNumber(5),
                                    log_of(3), ReplicaIndex(0)});
    Bytes zero = f;
    patch(zero, body(8), 0);
    CHECK(decode_error(zero) == "decode: new_state: first_op must be at least 1");
    Bytes past = f;
    patch(past, body(8), 4);
    CHECK(decode_error(past) == "decode: new_state: 3 entries from first_op 4 run past op 5");
    Bytes wrap = f;
    patch(wrap, body(8), UINT64_MAX);
    CHECK(contains(decode_error(wrap), "run past op 5"));
    Bytes short_log = f;
    patch(short_log, body(16), 2);
    patch(short_log, body(8), 1);
    CHECK(decode_error(short_log) == "decode: new_state: 3 entries from first_op 1 run past op 2");
    Bytes commit = f;
    patch(commit, body(24), 6);
    CHECK(decode_error(commit) == "decode: new_state: commit 6 exceeds op 5");
  }
  SUBCASE("recovery_response: fields that contradict has_log") {
    Bytes without = encode(RecoveryResponse{ViewNumber(1), Nonce(2), false, {}, {}, {},
                                            ReplicaIndex(0)});
    patch(without, body(17), 1);  // op
    CHECK(decode_error(without) ==
          "decode: recovery_response: has_log is false but op is 1, commit 0, log has 0 entries, "
          "parent 0 (all must be 0)");
    Bytes with = encode(RecoveryResponse{ViewNumber(1), Nonce(2), true, OpNumber(2),
                                         CommitNumber(1), log_of(2), ReplicaIndex(0)});
    Bytes flipped = with;
    patch(flipped, body(16), 0, 1);  // has_log
    CHECK(contains(decode_error(flipped), "has_log is false but op is 2"));
    patch(with, body(17), 1);
    CHECK(decode_error(with) == "decode: recovery_response: log has 2 entries, more than op 1");
  }
  SUBCASE("entries: none, a first op below 1, or a run from op 1 with a parent") {
    const Bytes f = encode(Entries{OpNumber(9), 5, log_of(3), ReplicaIndex(1)});
    Bytes below = f;
    patch(below, body(0), 2);
    CHECK(decode_error(below) == "decode: entries: 3 entries end at op 2, so the first is below op 1");
    Bytes from_one = f;
    patch(from_one, body(0), 3);
    CHECK(decode_error(from_one) == "decode: entries: entries start at op 1 but the parent checksum "
                                    "is 5, not the empty log's");
    // last 9, parent 5, a count of 0, replica 1: encode() would assert on it.
    const Bytes empty = seal_frame(static_cast<std::uint8_t>(Message{Entries{}}.index()),
                                   Bytes{9, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(decode_error(empty) == "decode: entries: no entries");
  }
  SUBCASE("snapshot_chunk: data past the blob's end, or none") {
    // op, checksum, state_hash (8 each), then total_bytes at body 24 and offset at 32.
    Bytes f = encode(SnapshotChunk{OpNumber(9), 1, 2, 10, 4, Bytes{1, 2, 3}, 3, ReplicaIndex(1)});
    Bytes past = f;
    patch(past, body(32), 8);
    CHECK(decode_error(past) ==
          "decode: snapshot_chunk: 3 bytes at offset 8 run past the blob's 10 bytes");
    Bytes beyond = f;
    patch(beyond, body(32), ~std::uint64_t{0});  // offset + size would wrap
    CHECK(contains(decode_error(beyond), "run past the blob's 10 bytes"));
    CHECK(decode_error(encode_unchecked_chunk()) == "decode: snapshot_chunk: no data");
  }
  SUBCASE("replica index out of range, in every replica message") {
    for (const Message& m : samples()) {
      if (std::holds_alternative<Request>(m)) continue;
      CAPTURE(message_name(m));
      Bytes f = encode(m);
      patch(f, f.size() - 1, max_replica_count, 1);  // the replica is always last
      CHECK(decode_error(f) ==
            fmt::format("decode: {}: replica index 32 is not below 32", message_name(m)));
    }
  }
}

TEST_CASE("codec: encode asserts on an inconsistent message") {
  CHECK_THROWS_AS(encode(DoViewChange{ViewNumber(1), ViewNumber(0), OpNumber(0), CommitNumber(0),
                                      log_of(1), ReplicaIndex(0)}),
                  AssertionError);
  CHECK_THROWS_AS(encode(Prepare{ViewNumber(1), OpNumber(0), CommitNumber(0), {}, ReplicaIndex(0)}),
                  AssertionError);
  CHECK_THROWS_AS(encode(Commit{ViewNumber(1), CommitNumber(0), ReplicaIndex(40)}), AssertionError);
  auto ok = check_message(Message{StartView{ViewNumber(1), OpNumber(1), CommitNumber(2),
                                            log_of(1), ReplicaIndex(0)}});
  REQUIRE(ok.has_error());
  CHECK(ok.error().message == "start_view: commit 2 exceeds op 1");
}

// ---- The snapshot blob (vsr/snapshot.hpp) -----------------------------------------

TEST_CASE("snapshot blob: round-trips, and any damage is an error, never a crash") {
  std::map<ClientId, ClientSession> clients;
  clients[ClientId(3)] = ClientSession{RequestNumber(7), Bytes{1, 2}};
  clients[ClientId(9)] = ClientSession{RequestNumber(1), Bytes{}};
  clients[ClientId(11)] = ClientSession{RequestNumber(4), Bytes{8}, SessionNumber(40), OpNumber(52)};
  const Bytes blob = encode_snapshot(Bytes{5, 6, 7}, clients);
  auto back = decode_snapshot(blob);
  REQUIRE(back.has_value());
  CHECK(back.value().machine == Bytes{5, 6, 7});
  CHECK(back.value().clients == clients);
  for (std::size_t n = 0; n < blob.size(); ++n) {
    CHECK_FALSE(decode_snapshot(std::span(blob).first(n)).has_value());  // every truncation
  }
  Bytes trailing = blob;
  trailing.push_back(0);
  CHECK(contains(decode_snapshot(trailing).error().message, "trailing"));
  Bytes huge = blob;
  huge[7] = 0xff;  // the client count's high byte: more clients than bytes
  CHECK(contains(decode_snapshot(huge).error().message, "claims"));
  std::map<ClientId, ClientSession> zero{{ClientId(1), ClientSession{RequestNumber(0), {}}}};
  CHECK(contains(decode_snapshot(encode_snapshot({}, zero)).error().message, "request 0"));
  for (std::size_t i = 0; i < blob.size(); ++i) {  // one flipped byte: decodes or errs
    Bytes flipped = blob;
    flipped[i] ^= 0xff;
    (void)decode_snapshot(flipped);
  }
}
