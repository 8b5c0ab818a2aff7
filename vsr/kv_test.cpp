#include "vsr/kv.hpp"

#include <string>

#include <doctest/doctest.h>

using namespace vsr;

namespace {

KvOp read(std::string k) { return KvOp{KvOpKind::read, std::move(k), "", ""}; }
KvOp write(std::string k, std::string v) { return KvOp{KvOpKind::write, std::move(k), std::move(v), ""}; }
KvOp cas(std::string k, std::string from, std::string to) {
  return KvOp{KvOpKind::cas, std::move(k), std::move(to), std::move(from)};
}
KvOp del(std::string k) { return KvOp{KvOpKind::del, std::move(k), "", ""}; }

const KvResult ok{KvStatus::ok, std::nullopt};
const KvResult not_found{KvStatus::not_found, std::nullopt};
const KvResult precondition_failed{KvStatus::precondition_failed, std::nullopt};
const KvResult bad_operation{KvStatus::bad_operation, std::nullopt};
KvResult ok_value(std::string v) { return KvResult{KvStatus::ok, std::move(v)}; }

/// Applies `op` through the byte interface, as a replica does.
KvResult apply_bytes(KvMachine& m, const KvOp& op) {
  auto r = decode_kv_result(m.apply(encode_kv_op(op)));
  REQUIRE(r.has_value());
  return r.value();
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

KvMachine machine_with(std::initializer_list<std::pair<const char*, const char*>> kvs) {
  KvMachine m;
  for (const auto& [k, v] : kvs) m.apply_op(write(k, v));
  return m;
}

}  // namespace

TEST_CASE("kv: read of a missing key is not_found with no value") {
  KvMachine m;
  CHECK(m.apply_op(read("x")) == not_found);
  CHECK(apply_bytes(m, read("x")) == not_found);
}

TEST_CASE("kv: write then read returns the value; write overwrites") {
  KvMachine m;
  CHECK(m.apply_op(write("x", "5")) == ok);
  CHECK(m.apply_op(read("x")) == ok_value("5"));
  CHECK(apply_bytes(m, write("x", "6")) == ok);
  CHECK(apply_bytes(m, read("x")) == ok_value("6"));
  CHECK(m.apply_op(write("empty", "")) == ok);
  CHECK(m.apply_op(read("empty")) == ok_value(""));
}

TEST_CASE("kv: cas sets only when the key exists with the expected value") {
  KvMachine m;
  CHECK(m.apply_op(cas("x", "1", "2")) == not_found);
  CHECK(m.data().empty());
  m.apply_op(write("x", "1"));
  CHECK(m.apply_op(cas("x", "7", "2")) == precondition_failed);
  CHECK(m.apply_op(read("x")) == ok_value("1"));
  CHECK(m.apply_op(cas("x", "1", "2")) == ok);
  CHECK(m.apply_op(read("x")) == ok_value("2"));
  CHECK(apply_bytes(m, cas("x", "1", "3")) == precondition_failed);
  CHECK(apply_bytes(m, cas("x", "2", "3")) == ok);
  CHECK(m.apply_op(read("x")) == ok_value("3"));
}

TEST_CASE("kv: delete removes a key; delete of a missing key is not_found") {
  KvMachine m = machine_with({{"x", "1"}, {"y", "2"}});
  CHECK(m.apply_op(del("x")) == ok);
  CHECK(m.apply_op(read("x")) == not_found);
  CHECK(m.apply_op(del("x")) == not_found);
  CHECK(apply_bytes(m, del("y")) == ok);
  CHECK(m.data().empty());
}

TEST_CASE("kv: undecodable operation bytes give bad_operation and change nothing") {
  KvMachine m = machine_with({{"x", "1"}});
  const std::uint64_t before = m.state_hash();
  const Bytes bad[] = {Bytes{}, Bytes{9, 0, 0, 0, 0}, Bytes{1, 5, 0, 0, 0, 'x'},
                       Bytes{0, 1, 0, 0, 0, 'x', 0}, Bytes{1, 0xff, 0xff, 0xff, 0xff}};
  for (const Bytes& op : bad) {
    auto r = decode_kv_result(m.apply(op));
    REQUIRE(r.has_value());
    CHECK(r.value() == bad_operation);
  }
  CHECK(m.state_hash() == before);
}

TEST_CASE("kv: op and result encodings round-trip") {
  const KvOp ops[] = {read("x"), write("x", "5"), cas("k", "1", "2"), del("key"),
                      write("", ""), cas("", "", ""), write(std::string(1000, 'a'), std::string("\0\1", 2))};
  for (const KvOp& op : ops) {
    const Bytes b = encode_kv_op(op);
    auto back = decode_kv_op(b);
    REQUIRE(back.has_value());
    CHECK(back.value() == op);
    CHECK(encode_kv_op(back.value()) == b);
  }
  const KvResult results[] = {ok, not_found, precondition_failed, bad_operation, ok_value(""),
                              ok_value("hello")};
  for (const KvResult& r : results) {
    const Bytes b = encode_kv_result(r);
    auto back = decode_kv_result(b);
    REQUIRE(back.has_value());
    CHECK(back.value() == r);
    CHECK(encode_kv_result(back.value()) == b);
  }
}

TEST_CASE("kv: op encoding is compact: kind, key, then only the kind's fields") {
  CHECK(encode_kv_op(read("x")) == Bytes{0, 1, 0, 0, 0, 'x'});
  CHECK(encode_kv_op(write("x", "5")) == Bytes{1, 1, 0, 0, 0, 'x', 1, 0, 0, 0, '5'});
  CHECK(encode_kv_op(cas("x", "1", "2")) ==
        Bytes{2, 1, 0, 0, 0, 'x', 1, 0, 0, 0, '1', 1, 0, 0, 0, '2'});
  CHECK(encode_kv_op(del("x")) == Bytes{3, 1, 0, 0, 0, 'x'});
  CHECK(encode_kv_result(ok_value("5")) == Bytes{0, 1, 1, 0, 0, 0, '5'});
  CHECK(encode_kv_result(not_found) == Bytes{1, 0});
}

TEST_CASE("kv: decode errors name the problem") {
  auto error_of = [](const auto& r) { return r.has_error() ? r.error().message : std::string(); };
  CHECK(error_of(decode_kv_op(Bytes{})) ==
        "decode_kv_op: truncated: need 1 bytes for field 'kind' at offset 0, have 0");
  CHECK(error_of(decode_kv_op(Bytes{7, 0, 0, 0, 0})) == "decode_kv_op: unknown op kind 7");
  CHECK(error_of(decode_kv_op(Bytes{1, 1, 0, 0, 0, 'x'})) ==
        "decode_kv_op: truncated: need 4 bytes for field 'value' at offset 6, have 0");
  CHECK(error_of(decode_kv_op(Bytes{0, 0xff, 0xff, 0xff, 0x7f})) ==
        "decode_kv_op: truncated: need 2147483647 bytes for field 'key' at offset 5, have 0");
  CHECK(error_of(decode_kv_op(Bytes{3, 0, 0, 0, 0, 0})) ==
        "decode_kv_op: 1 trailing bytes after the last field at offset 5");
  CHECK(error_of(decode_kv_result(Bytes{4, 0})) == "decode_kv_result: unknown status 4");
  CHECK(error_of(decode_kv_result(Bytes{0, 2})) ==
        "decode_kv_result: field 'has_value' at offset 1 is 2, not a bool (0 or 1)");
  CHECK(error_of(decode_kv_result(Bytes{0, 1, 3, 0, 0, 0, 'a'})) ==
        "decode_kv_result: truncated: need 3 bytes for field 'value' at offset 6, have 1");
}

TEST_CASE("kv: snapshot and restore round-trip exactly") {
  KvMachine a = machine_with({{"b", "2"}, {"a", "1"}, {"", "empty key"}, {"c", ""}});
  const Bytes snap = a.snapshot();
  KvMachine b = machine_with({{"zzz", "old"}});
  REQUIRE(b.restore(snap).has_value());
  CHECK(b.data() == a.data());
  CHECK(b.state_hash() == a.state_hash());
  CHECK(b.snapshot() == snap);
  KvMachine empty;
  REQUIRE(b.restore(empty.snapshot()).has_value());
  CHECK(b.data().empty());
}

TEST_CASE("kv: restore rejects bad bytes and leaves the state unchanged") {
  KvMachine m = machine_with({{"x", "1"}});
  const auto before = m.data();
  const Bytes good = machine_with({{"a", "1"}, {"b", "2"}}).snapshot();
  auto error_of = [&m](const Bytes& b) {
    auto r = m.restore(b);
    return r.has_error() ? r.error().message : std::string("restored");
  };
  CHECK(contains(error_of(Bytes{}), "restore: truncated"));
  CHECK(contains(error_of(Bytes(good.begin(), good.end() - 1)), "restore: truncated"));
  Bytes trailing = good;
  trailing.push_back(0);
  CHECK(contains(error_of(trailing), "1 trailing bytes"));
  Bytes huge_count = good;
  huge_count[3] = 0x80;  // 2^31 entries claimed by a few bytes
  CHECK(contains(error_of(huge_count), "claims 2147483650 items of at least 8 bytes"));
  // The same key twice, and keys out of order: not canonical.
  const Bytes dup = {2, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0};
  CHECK(contains(error_of(dup), "key at offset 13 is not above the previous key"));
  const Bytes unordered = {2, 0, 0, 0, 1, 0, 0, 0, 'b', 0, 0, 0, 0, 1, 0, 0, 0, 'a', 0, 0, 0, 0};
  CHECK(contains(error_of(unordered), "not above the previous key"));
  CHECK(m.data() == before);
}

TEST_CASE("kv: state_hash is equal for equal states and differs for different ones") {
  KvMachine a = machine_with({{"x", "1"}, {"y", "2"}});
  KvMachine b = machine_with({{"y", "2"}, {"x", "1"}});  // another order, same state
  CHECK(a.state_hash() == b.state_hash());
  b.apply_op(write("y", "3"));
  CHECK(a.state_hash() != b.state_hash());
  b.apply_op(write("y", "2"));
  CHECK(a.state_hash() == b.state_hash());
  // Boundaries between keys and values matter.
  CHECK(machine_with({{"ab", "c"}}).state_hash() != machine_with({{"a", "bc"}}).state_hash());
  CHECK(machine_with({{"a", ""}}).state_hash() != KvMachine().state_hash());
  CHECK(machine_with({{"a", "1"}}).state_hash() != machine_with({{"a", "1"}, {"b", "1"}}).state_hash());
  // A fixed value: the hash must not change across platforms, compilers or builds.
  CHECK(KvMachine().state_hash() == hash_mix(0));
  CHECK(machine_with({{"x", "1"}, {"key", "value"}}).state_hash() == 0xd603ed51fc979a97ULL);
}

TEST_CASE("kv: formatters") {
  CHECK(fmt::format("{}", write("x", "5")) == "write x=5");
  CHECK(fmt::format("{}", cas("x", "1", "2")) == "cas x 1->2");
  CHECK(fmt::format("{}", read("x")) == "read x");
  CHECK(fmt::format("{}", del("x")) == "delete x");
  CHECK(fmt::format("{}", ok_value("5")) == "ok 5");
  CHECK(fmt::format("{}", ok) == "ok");
  CHECK(fmt::format("{}", not_found) == "not_found");
  CHECK(fmt::format("{}", precondition_failed) == "precondition_failed");
  CHECK(fmt::format("{}", bad_operation) == "bad_operation");
}
