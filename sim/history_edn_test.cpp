#include "sim/history_edn.hpp"

#include <doctest/doctest.h>

#include "sim/linearizability.hpp"

namespace vsr::sim {
namespace {

History parse_ok(std::string_view text) {
  auto r = parse_history_edn(text, "h.edn");
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  return std::move(r).value();
}

std::string error_of(std::string_view text) {
  auto r = parse_history_edn(text, "h.edn");
  REQUIRE(r.has_value() == false);
  return r.error().message;
}

TEST_CASE("edn: a Knossos-style single register, one map per line") {
  const History h = parse_ok(
      "{:process 0, :type :invoke, :f :write, :value 1}\n"
      "{:process 0, :type :ok, :f :write, :value 1}\n"
      "{:process 1, :type :invoke, :f :cas, :value [1 2]}\n"
      "{:process 1, :type :ok, :f :cas, :value [1 2]}\n"
      "{:process 0, :type :invoke, :f :read, :value nil}\n"
      "{:process 0, :type :ok, :f :read, :value 2}\n");
  REQUIRE(h.ops.size() == 3);
  CHECK(h.ops[0].call.key == single_register_key);
  CHECK(h.ops[1].call == OpCall::cas("register", 1, 2));
  CHECK(h.ops[2].result == Value{2});
  CHECK(h.ops[2].invoke_line == 5);
  CHECK(check(h).verdict == Verdict::linearizable);
}

TEST_CASE("edn: a real Jepsen file: comments, a vector, multi-line maps, extras, nemesis") {
  const History h = parse_ok(R"(; a Jepsen history
[{:type :invoke, :f :read, :value nil, :process 0, :time 1000, :index 0}
 {:process :nemesis, :type :info, :f :start, :value nil}
 {:type :ok,
  :f :read,
  :value nil,   ; absent
  :process 0,
  :time 2000, :index 1}
 #jepsen.history.Op{:index 2, :type :invoke, :f :write, :value 3, :process 1}
 {:type :info, :f :write, :value 3, :process 1, :error [:timeout "no reply"]}
 {:type :invoke, :f :write, :value 4, :process 2}
 {:type :fail, :f :write, :value 4, :process 2}
 {:type :invoke, :f :read, :process 3}
 {:type :fail, :f :read, :process 3, :error :unavailable}
 {:type :invoke, :f :read, :process 5, #_ :discarded #_ 1 :value nil}
 {:type :ok, :f :read, :process 5, :value 3, :extra #{1 2 "s"}, :ratio 1/2, :f2 1.5e3, :c \a}
 {:type :invoke, :f :cas, :value [3 5], :process 4}
]
)");
  REQUIRE(h.ops.size() == 6);
  CHECK(h.ops[0].invoke_line == 2);
  CHECK(h.ops[0].complete_line == 4);
  CHECK(h.ops[1].outcome == Outcome::info);
  CHECK(h.ops[2].outcome == Outcome::fail);
  CHECK(h.ops[3].outcome == Outcome::fail);
  CHECK(h.ops[4].result == Value{3});
  CHECK(h.ops[5].outcome == Outcome::pending);
  CHECK(check(h).verdict == Verdict::linearizable);
}

TEST_CASE("edn: multi-key histories use :key") {
  const History h = parse_ok(
      "{:process 0 :type :invoke :f :write :key :a :value 1}\n"
      "{:process 0 :type :ok :f :write :key :a :value 1}\n"
      "{:process 1 :type :invoke :f :read :key 7}\n"
      "{:process 1 :type :ok :f :read :key 7 :value 1}\n");
  CHECK(h.ops[0].call.key == "a");
  CHECK(h.ops[1].call.key == "7");
  const CheckResult r = check(h);
  CHECK(r.verdict == Verdict::not_linearizable);
  CHECK(r.keys.size() == 2);
}

TEST_CASE("edn: malformed input names file, line and reason") {
  CHECK(error_of("{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :read :value") ==
        "h.edn:2: unterminated collection opened on line 2 (missing '}')");
  CHECK(error_of("{:process 0 :type :invoke :f #") == "h.edn:1: unexpected end of input after '#'");
  CHECK(error_of("\n\n{:process 0 :type :invoke :f :read") ==
        "h.edn:3: unterminated collection opened on line 3 (missing '}')");
  CHECK(error_of("{:process 0 :type}") == "h.edn:1: a map needs an even number of forms (key value pairs)");
  CHECK(error_of("{:process 0 :type :invoke :f :read}\n)") == "h.edn:2: unexpected ')'");
  CHECK(error_of("\"abc") == "h.edn:1: unterminated string");
  CHECK(error_of("42") == "h.edn:1: expected an op map, found an integer");
  CHECK(error_of("{:type :invoke :f :read}") == "h.edn:1: op without :process");
  CHECK(error_of("{:process 0 :type :begin :f :read}").find("unknown :type :begin") != std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :append :value [1 2]}").find("unsupported :f :append") !=
        std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :write :value \"x\"}").find("must be an integer, not a string") !=
        std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :cas :value [1]}").find(":value [from to]") != std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :write :value 99999999999999999999}").find("does not fit") !=
        std::string::npos);
  CHECK(error_of("{:process 0 :type :ok :f :read :value 1}").find("no op in flight") != std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :read}\n{:process 0 :type :ok :f :write :value 1}")
            .find("h.edn:2: completion :write") == 0);
  CHECK(error_of("{:process 0 :type :invoke :f :read :key 1}\n{:process 1 :type :invoke :f :read}")
            .find("h.edn:2: ops with and without :key are mixed") == 0);
  CHECK(error_of("{:process 0 :type :invoke :f :read}\n{:process 0 :type :info :f :read}\n"
                 "{:process 0 :type :invoke :f :read}")
            .find("h.edn:3: process 0 invokes an op after an indeterminate") == 0);
  CHECK(error_of(std::string(1000, '[')).find("nested deeper than 64 levels") != std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :read :key [1]}").find(":key must be") != std::string::npos);
  CHECK(error_of("{:process 0 :type :invoke :f :read :x 12abc}").find("malformed number") != std::string::npos);
}

TEST_CASE("edn: a history wrapped in a list ( ... ) reads exactly like one wrapped in [ ... ]") {
  const std::string ops =
      "{:process 0, :type :invoke, :f :write, :value 1}\n"
      "{:process 1, :type :invoke, :f :cas, :value [1 2]}\n"
      "{:process 0, :type :ok, :f :write, :value 1}\n"
      "{:process 1, :type :ok, :f :cas, :value [1 2]}\n"
      "{:process 2, :type :invoke, :f :read, :value nil}\n"
      "{:process 2, :type :ok, :f :read, :value 2}\n"
      "{:process 3, :type :invoke, :f :write, :value 7}\n";
  const History list = parse_ok("; Knossos\n(" + ops + ")\n");
  const History vec = parse_ok("; Knossos\n[" + ops + "]\n");
  REQUIRE(list.ops.size() == 4);
  REQUIRE(vec.ops.size() == list.ops.size());
  for (std::size_t i = 0; i < list.ops.size(); ++i) {
    CAPTURE(i);
    CHECK(list.ops[i].call == vec.ops[i].call);
    CHECK(list.ops[i].outcome == vec.ops[i].outcome);
    CHECK(list.ops[i].result == vec.ops[i].result);
    CHECK(list.ops[i].invoke_seq == vec.ops[i].invoke_seq);
    CHECK(list.ops[i].complete_seq == vec.ops[i].complete_seq);
    CHECK(list.ops[i].invoke_line == vec.ops[i].invoke_line);
  }
  CHECK(list.ops[3].outcome == Outcome::pending);
  CHECK(check(list).verdict == Verdict::linearizable);
  // Only the first form may wrap the history; a list inside it is still not an op.
  CHECK(error_of("(" + ops + "(1 2))") == "h.edn:8: expected an op map, found a list");
  CHECK(error_of("{:process 0 :type :invoke :f :read}\n(" + ops + ")").find("h.edn:2: expected an op map, found a list") == 0);
}

TEST_CASE("edn: nesting and discard chains are bounded; errors never echo long input") {
  // 100,000 levels, balanced: rejected at level 65, fast, no deep recursion.
  CHECK(error_of(std::string(100000, '[') + std::string(100000, ']')) == "h.edn:1: nested deeper than 64 levels");
  CHECK(error_of(std::string(100000, '(') + std::string(100000, ')')) == "h.edn:1: nested deeper than 64 levels");
  std::string maps;
  for (int i = 0; i < 100000; ++i) maps += "{:a ";
  CHECK(error_of(maps + "1" + std::string(100000, '}')) == "h.edn:1: nested deeper than 64 levels");
  CHECK(error_of(std::string(100000, '#') ).find("h.edn:1: ") == 0);
  // A 64 KB chain of discards is a loop, not a recursion (it used to overflow the stack).
  std::string discards;
  for (int i = 0; i < 16000; ++i) discards += "#_1 ";
  const History h = parse_ok(discards + "{:process 0 :type :invoke :f :read}\n" + discards);
  CHECK(h.ops.size() == 1);
  CHECK(parse_ok("[" + discards + "{:process 0 :type :invoke :f :read} " + discards + "]").ops.size() == 1);

  const std::string big(60000, 'v');
  const std::vector<std::string> inputs = {
      "{:process 0 :type :invoke :f :" + big + "}",
      "{:process 0 :type :" + big + " :f :read}",
      "{:process 0 :type :invoke :f :read :x 1" + big + "}",
      "{:process 0 :type :invoke :f :write :value " + std::string(60000, '9') + "}",
      "{:process 0 :type :invoke :f :read :key :" + big + "}\n{:process 0 :type :ok :f :read :key :y :value 1}",
      "{:process 0 :type :invoke :f :read :key :x}\n{:process 0 :type :ok :f :read :key :" + big + " :value 1}",
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    const std::string e = error_of(inputs[i]);
    CHECK(e.size() < 300);
    CHECK(e.find("...") != std::string::npos);
  }
}

}  // namespace
}  // namespace vsr::sim
