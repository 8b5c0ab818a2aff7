// The one JSON writer: whatever bytes go in, a strict parser (nlohmann-json) reads the
// result back, and valid UTF-8 text comes back unchanged.
#include "vsr/json_writer.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

using vsr::JsonObject;
using vsr::json_quote;

namespace {
std::string parse_string(const std::string& json) { return nlohmann::json::parse(json).get<std::string>(); }
}  // namespace

TEST_CASE("json_quote: every single byte gives valid JSON; ASCII comes back unchanged") {
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    const std::string q = json_quote(s);
    INFO("byte ", b, " quoted as ", q);
    std::string back;
    REQUIRE_NOTHROW(back = parse_string(q));
    CHECK(back == (b < 0x80 ? s : std::string("\xef\xbf\xbd")));
    for (char c : q) CHECK(static_cast<unsigned char>(c) >= 0x20);  // no raw control character
  }
}

TEST_CASE("json_quote: a multi-line explanation with quotes, tabs and backslashes round-trips") {
  const std::string text = "key \"k0\": not linearizable\n  => process 3 read -> 7 [ok]\t(at 5 us)\r\n\\ end\x01";
  CHECK(parse_string(json_quote(text)) == text);
  CHECK(json_quote("a\nb") == R"("a\nb")");
  CHECK(json_quote("\x1f") == R"("\u001f")");
}

TEST_CASE("json_quote: UTF-8 passes through; broken sequences become U+FFFD") {
  const std::string utf8 = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
  CHECK(parse_string(json_quote(utf8)) == utf8);
  CHECK(parse_string(json_quote("\xc3")) == "\xef\xbf\xbd");              // truncated
  CHECK(parse_string(json_quote("\xc0\xaf")) == "\xef\xbf\xbd\xef\xbf\xbd");  // overlong
  CHECK(parse_string(json_quote("\xed\xa0\x80")) == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  CHECK(parse_string(json_quote("\xf4\x90\x80\x80")).substr(0, 3) == "\xef\xbf\xbd");  // > U+10FFFF
}

TEST_CASE("json_quote: pseudo-random byte strings always parse") {
  std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    for (int k = 0; k < 24; ++k) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      s += static_cast<char>(x & 0xff);
    }
    CHECK_NOTHROW(parse_string(json_quote(s)));
  }
}

TEST_CASE("JsonObject: fields in call order, every kind of value") {
  const std::string line = JsonObject()
                               .num("t_us", std::uint64_t{18446744073709551615ULL})
                               .num("peer", -1)
                               .str("detail", "two\nlines")
                               .boolean("wipe", true)
                               .raw("cut", R"(["0->1"])")
                               .take();
  CHECK(line == R"({"t_us":18446744073709551615,"peer":-1,"detail":"two\nlines","wipe":true,"cut":["0->1"]})");
  const auto j = nlohmann::json::parse(line);
  CHECK(j["detail"] == "two\nlines");
  CHECK(JsonObject().take() == "{}");
}
