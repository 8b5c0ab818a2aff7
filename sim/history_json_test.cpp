#include "sim/history_json.hpp"

#include <doctest/doctest.h>

#include "sim/history_gen.hpp"
#include "sim/linearizability.hpp"

namespace vsr::sim {
namespace {

std::string error_of(std::string_view text) {
  auto r = parse_history_json(text, "h.jsonl");
  REQUIRE(r.has_error());
  return r.error().message;
}

TEST_CASE("json: a small history parses with every field") {
  const char* text =
      R"({"process":0,"type":"invoke","f":"write","key":"x","value":1,"time":10}
{"process":1,"type":"invoke","f":"read","key":"x","value":null,"time":11}
{"process":0,"type":"ok","f":"write","key":"x","value":1,"time":12}

{"process":1,"type":"ok","f":"read","key":"x","value":1,"time":13}
{"process":2,"type":"invoke","f":"cas","key":7,"value":[1,2],"time":14}
{"process":2,"type":"fail","f":"cas","key":7,"value":[1,2],"error":"not_found","time":15}
{"process":3,"type":"invoke","f":"delete","key":"x","time":16}
{"process":3,"type":"info","f":"delete","key":"x","time":17}
{"process":4,"type":"invoke","f":"read","key":"y","time":18}
{"process":4,"type":"ok","f":"read","key":"y","value":null,"time":19,"extra":"ignored"}
)";
  auto r = parse_history_json(text, "h.jsonl");
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  const History& h = r.value();
  REQUIRE(h.ops.size() == 5);
  CHECK(h.ops[0].call == OpCall::write("x", 1));
  CHECK(h.ops[0].outcome == Outcome::ok);
  CHECK(h.ops[0].invoke_line == 1);
  CHECK(h.ops[0].complete_line == 3);
  CHECK(h.ops[1].result == Value{1});
  CHECK(h.ops[1].complete_line == 5);
  CHECK(h.ops[2].call == OpCall::cas("7", 1, 2));
  CHECK(h.ops[2].cas_error == CasError::not_found);
  CHECK(h.ops[3].outcome == Outcome::info);
  CHECK(h.ops[4].result == std::nullopt);
  CHECK(h.ops[4].complete_time == 19);
  CHECK(check(h).verdict == Verdict::linearizable);
}

TEST_CASE("json: an invoke without a completion stays pending") {
  auto r = parse_history_json(R"({"process":0,"type":"invoke","f":"write","key":"x","value":1})", "h");
  REQUIRE(r.has_value());
  CHECK(r.value().ops[0].outcome == Outcome::pending);
}

TEST_CASE("json: round trip through to_json_lines") {
  RegisterGenOptions o{9, 300, 6, 3, 20, 4};
  const History h = generate_register_history(o);
  const std::string text = to_json_lines(h);
  auto r = parse_history_json(text, "gen");
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  REQUIRE(r.value().ops.size() == h.ops.size());
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    CHECK(r.value().ops[i].call == h.ops[i].call);
    CHECK(r.value().ops[i].outcome == h.ops[i].outcome);
    CHECK(r.value().ops[i].result == h.ops[i].result);
    CHECK(r.value().ops[i].invoke_seq == h.ops[i].invoke_seq);
    CHECK(r.value().ops[i].complete_seq == h.ops[i].complete_seq);
  }
  CHECK(to_json_lines(r.value()) == text);
}

TEST_CASE("json: malformed input is rejected with file, line and reason") {
  CHECK(error_of("{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"x\"}\nnot json\n") ==
        "h.jsonl:2: not valid JSON");
  CHECK(error_of("[1,2]") == "h.jsonl:1: each line must be a JSON object");
  CHECK(error_of(R"({"type":"invoke","f":"read","key":"x"})") == "h.jsonl:1: missing \"process\"");
  CHECK(error_of(R"({"process":"a","type":"invoke","f":"read","key":"x"})").find("\"process\" must be an integer") !=
        std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"begin","f":"read","key":"x"})").find("unknown \"type\"") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"append","key":"x"})").find("unknown \"f\"") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"read"})") == "h.jsonl:1: missing \"key\"");
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"read","key":[1]})").find("\"key\" must be") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"write","key":"x"})").find("needs an integer") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"write","key":"x","value":1.5})").find("must be an integer") !=
        std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"write","key":"x","value":18446744073709551615})")
            .find("does not fit") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"cas","key":"x","value":[1]})").find("[from, to]") !=
        std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"ok","f":"read","key":"x","value":1})").find("no op in flight") !=
        std::string::npos);
  const std::string inv = R"({"process":0,"type":"invoke","f":"read","key":"x"})";
  CHECK(error_of(inv + "\n" + inv).find("h.jsonl:2: process 0 invokes an op while") == 0);
  CHECK(error_of(inv + "\n" + R"({"process":0,"type":"ok","f":"write","key":"x"})").find("does not match") !=
        std::string::npos);
  CHECK(error_of(inv + "\n" + R"({"process":0,"type":"ok","f":"read","key":"y","value":1})").find("does not match") !=
        std::string::npos);
  CHECK(error_of(inv + "\n" + R"({"process":0,"type":"ok","f":"read","key":"x"})").find("needs \"value\"") !=
        std::string::npos);
  CHECK(error_of(inv + "\n" + R"({"process":0,"type":"info","f":"read","key":"x"})" + "\n" + inv)
            .find("h.jsonl:3: process 0 invokes an op after an indeterminate") == 0);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"read","key":"x","time":5})" + std::string{"\n"} +
                 R"({"process":0,"type":"ok","f":"read","key":"x","value":null,"time":4})")
            .find("goes backwards") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"cas","key":"x","value":[1,2]})" + std::string{"\n"} +
                 R"({"process":0,"type":"fail","f":"cas","key":"x","error":"nope"})")
            .find("\"error\" must be") != std::string::npos);
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"write","key":"x","value":1})" + std::string{"\n"} +
                 R"({"process":0,"type":"ok","f":"write","key":"x","value":2})")
            .find("differs from its invoke") != std::string::npos);
  CHECK(error_of(std::string(2u << 20, ' ') + "x").find("longer than 1 MiB") != std::string::npos);
  CHECK(error_of(std::string(100000, '[')).find("not valid JSON") != std::string::npos);
}

/// `inner` wrapped in `depth` arrays.
std::string nested(std::size_t depth, std::string_view inner = "1") {
  return std::string(depth, '[') + std::string{inner} + std::string(depth, ']');
}

TEST_CASE("json: nesting is bounded while parsing, whichever field holds it") {
  const std::string ok_line = R"({"process":0,"type":"invoke","f":"read","key":"x"})";
  const std::string deep = nested(100000);  // 200 KB: a crash (stack overflow) before the limit
  const std::vector<std::pair<std::string, std::string>> fields = {
      {"value", R"("process":1,"type":"invoke","f":"write","key":"y")"},
      {"key", R"("process":1,"type":"invoke","f":"write","value":2)"},
      {"process", R"("type":"invoke","f":"write","key":"y","value":2)"},
      {"time", R"("process":1,"type":"invoke","f":"write","key":"y","value":2)"},
  };
  for (const auto& f : fields) {
    const std::string& field = f.first;
    CAPTURE(field);
    const std::string line = "{" + f.second + ",\"" + field + "\":" + deep + "}";
    CHECK(error_of(ok_line + "\n\n" + line) == "h.jsonl:3: nesting deeper than 64 levels");
  }
  // Deep objects too, and the limit is exact: 64 levels pass the parse (and are then
  // rejected for what they are, in a short message), 65 do not.
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(100000, '}');
  CHECK(error_of(R"({"process":0,"type":"invoke","f":"write","key":"x","value":)" + objects + "}") ==
        "h.jsonl:1: nesting deeper than 64 levels");
  const std::string head = R"({"process":0,"type":"invoke","f":"write","key":"x","value":)";
  CHECK(error_of(head + nested(64) + "}") == "h.jsonl:1: nesting deeper than 64 levels");
  const std::string at_limit = error_of(head + nested(63) + "}");
  CHECK(at_limit.find("h.jsonl:1: write value must be an integer, not [[[[") == 0);
  CHECK(at_limit.size() < 120);
}

TEST_CASE("json: error messages never echo long input") {
  const std::string big(60000, 'v');
  std::string wide = "[7";
  for (int i = 0; i < 30000; ++i) wide += ",7";
  wide += "]";
  const std::string inv = R"({"process":0,"type":"invoke","f":"read","key":"x"})";
  const std::vector<std::string> lines = {
      R"({"process":0,"type":"invoke","f":")" + big + R"(","key":"x"})",
      R"({"process":0,"type":")" + big + R"(","f":"read","key":"x"})",
      R"({"process":0,"type":"invoke","f":"read","key":)" + wide + "}",
      R"({"process":0,"type":"invoke","f":"write","key":"x","value":)" + wide + "}",
      R"({"process":0,"type":"invoke","f":"write","key":"x","value":")" + big + R"("})",
      R"({"process":0,"type":"invoke","f":"read","key":"x","value":")" + big + R"("})",
      R"({"process":")" + big + R"(","type":"invoke","f":"read","key":"x"})",
      R"({"process":0,"type":"invoke","f":"read","key":"x","time":)" + wide + "}",
      inv + "\n" + R"({"process":0,"type":"ok","f":"read","key":")" + big + R"(","value":1})",
      R"({"process":0,"type":"invoke","f":"read","key":")" + big + R"("})" + "\n" +
          R"({"process":0,"type":"ok","f":"read","key":"y","value":1})",
      R"({"process":0,"type":"invoke","f":"cas","key":"x","value":[1,2]})" + std::string{"\n"} +
          R"({"process":0,"type":"fail","f":"cas","key":"x","error":")" + big + R"("})",
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(i);
    const std::string e = error_of(lines[i]);
    CHECK(e.size() < 300);
    const bool cut = e.find("vvvvvvvvvv...") != std::string::npos || e.find("7,7,7,7,7...") != std::string::npos;
    CHECK_MESSAGE(cut, e);
  }
}

}  // namespace
}  // namespace vsr::sim
