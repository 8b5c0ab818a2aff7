// Smoke checks of message names and formatters (traces and filters rely on them).
#include "vsr/message.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

using namespace vsr;

TEST_CASE("message: every type has a distinct snake_case name") {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < message_type_count; ++i) {
    const std::string_view name = message_name(i);
    CHECK(name != "unknown");
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
    CHECK(seen.insert(name).second);
  }
  CHECK(message_name(message_type_count) == "unknown");
  CHECK(message_name(Message{PrepareOk{}}) == "prepare_ok");
  CHECK(message_name(Message{RecoveryResponse{}}) == "recovery_response");
}

namespace {
/// Every alternative formats as "<its name>{...}".
template <std::size_t... I>
void check_every_type_formats(std::index_sequence<I...>) {
  const Message all[] = {Message{std::in_place_index<I>}...};
  for (const Message& m : all) {
    const std::string s = fmt::format("{}", m);
    CHECK(s.rfind(std::string(message_name(m)) + "{", 0) == 0);
  }
}
}  // namespace

TEST_CASE("message: formatters name the type and the key fields") {
  const Message ok = PrepareOk{ViewNumber(3), OpNumber(7), ReplicaIndex(2)};
  CHECK(fmt::format("{}", ok) == "prepare_ok{from=2 view=3 op=7}");
  const Message req = Request{ClientId(9), RequestNumber(4), Bytes{0xab, 0x01}};
  CHECK(fmt::format("{}", req) == "request{client=9 req=4 op=ab01}");
  DoViewChange dvc{ViewNumber(5), ViewNumber(4), OpNumber(2), CommitNumber(1),
                   {LogEntry{}, LogEntry{}}, ReplicaIndex(1)};
  CHECK(fmt::format("{}", Message{dvc}).find("log=2 entries") != std::string::npos);
  check_every_type_formats(std::make_index_sequence<message_type_count>{});
}

TEST_CASE("message: format_bytes shows at most 16 bytes then the size") {
  CHECK(format_bytes(Bytes{}).empty());
  CHECK(format_bytes(Bytes{0x00, 0xff}) == "00ff");
  const Bytes big(40, 0x11);
  CHECK(format_bytes(big) == std::string(32, '1') + "..(40B)");
}

TEST_CASE("message: endpoints format as r<index> and c<client>") {
  CHECK(fmt::format("{}", Endpoint{ReplicaIndex(3)}) == "r3");
  CHECK(fmt::format("{}", Endpoint{ClientId(12)}) == "c12");
}

TEST_CASE("message: the entry checksum chains a log; one changed field or op breaks the chain") {
  std::vector<LogEntry> log = {LogEntry{ViewNumber(0), ClientId(1), RequestNumber(1), Bytes{1}},
                               LogEntry{ViewNumber(0), ClientId(2), RequestNumber(1), Bytes{2}},
                               LogEntry{ViewNumber(1), ClientId(1), RequestNumber(2), Bytes{3}}};
  CHECK_FALSE(chain_valid(empty_log_checksum, OpNumber(1), log));
  seal_chain(empty_log_checksum, OpNumber(1), log);
  CHECK(chain_valid(empty_log_checksum, OpNumber(1), log));
  CHECK(log[0].checksum == entry_checksum(OpNumber(1), log[0], empty_log_checksum));
  CHECK(log[2].checksum == entry_checksum(OpNumber(3), log[2], log[1].checksum));
  // A suffix checks against its parent's checksum alone.
  CHECK(chain_valid(log[0].checksum, OpNumber(2), std::span(log).subspan(1)));
  CHECK_FALSE(chain_valid(log[0].checksum, OpNumber(3), std::span(log).subspan(1)));  // op off by one
  CHECK_FALSE(chain_valid(log[1].checksum, OpNumber(2), std::span(log).subspan(1)));  // other parent
  // Every field is covered; the stored checksum is not an input.
  for (int field = 0; field < 5; ++field) {
    LogEntry e = log[1];
    if (field == 0) e.view = ViewNumber(7);
    if (field == 1) e.client = ClientId(7);
    if (field == 2) e.request = RequestNumber(7);
    if (field == 3) e.operation.push_back(0);
    if (field == 4) e.session = SessionNumber(7);
    CHECK(entry_checksum(OpNumber(2), e, log[0].checksum) != log[1].checksum);
  }
  LogEntry same = log[1];
  same.checksum = 12345;
  CHECK(entry_checksum(OpNumber(2), same, log[0].checksum) == log[1].checksum);
  // Portable: a fixed value, the same with every compiler and standard library.
  CHECK(entry_checksum(OpNumber(1), LogEntry{}, empty_log_checksum) == 0xef740600ef0609b7ULL);
}
