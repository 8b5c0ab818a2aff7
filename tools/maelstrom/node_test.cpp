// Unit tests for the Maelstrom node: the JSON <-> KV mapping, base64, error replies to
// bad input, and a 3-node cluster of Nodes wired together in memory (fake clock).
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "tools/maelstrom/base64.hpp"
#include "tools/maelstrom/kv_json.hpp"
#include "tools/maelstrom/node.hpp"
#include "vsr/codec.hpp"

using namespace vsr;
using namespace vsr::maelstrom;

namespace {

std::string text_of(const json& j) { return scalar_to_text(j, "x").value(); }

/// The single line a node produced, parsed; fails the test otherwise.
json only_line(Node& node) {
  auto lines = node.take_lines();
  REQUIRE(lines.size() == 1);
  return json::parse(lines[0]);
}

json request(std::string src, std::string dest, json body) {
  return json{{"src", std::move(src)}, {"dest", std::move(dest)}, {"body", std::move(body)}};
}

/// N nodes joined by an in-memory network: lines are routed by "dest" after
/// `latency_ms`; links in `cut` drop messages. Client replies are collected.
struct Cluster {
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::string> ids;
  std::uint64_t now_ms = 0;
  std::uint64_t latency_ms = 1;
  std::set<std::pair<std::size_t, std::size_t>> cut;
  std::multimap<std::uint64_t, std::pair<std::size_t, std::string>> in_flight;  // due -> (node, line)
  std::vector<json> client_inbox;
  std::int64_t next_msg_id = 100;

  explicit Cluster(std::size_t n, const std::function<NodeOptions(std::size_t)>& options_of = {}) {
    for (std::size_t i = 0; i < n; ++i) {
      nodes.push_back(std::make_unique<Node>(options_of ? options_of(i) : NodeOptions{}));
      ids.push_back("n" + std::to_string(i + 1));
    }
    for (std::size_t i = 0; i < n; ++i) init(i);
  }

  /// Sends node `i` Maelstrom's init and expects init_ok; returns its log lines.
  std::vector<std::string> init(std::size_t i) {
    json init{{"type", "init"}, {"msg_id", 1}, {"node_id", ids[i]}, {"node_ids", ids}};
    nodes[i]->on_line(request("c0", ids[i], init).dump(), now_ms);
    auto logs = nodes[i]->take_logs();
    collect(i);  // a restarted replica may talk to its peers at once
    const auto ok = std::find_if(client_inbox.begin(), client_inbox.end(), [](const json& m) {
      return m["dest"] == "c0" && m["body"]["type"] == "init_ok";
    });
    CHECK(ok != client_inbox.end());
    if (ok != client_inbox.end()) client_inbox.erase(ok);
    return logs;
  }

  /// Node `i` is killed (its messages in flight to it are lost) and a new Node with
  /// `options` takes its place and gets init again; returns the new node's log lines.
  std::vector<std::string> restart(std::size_t i, NodeOptions options) {
    nodes[i] = std::make_unique<Node>(std::move(options));
    for (auto it = in_flight.begin(); it != in_flight.end();) {
      it = it->second.first == i ? in_flight.erase(it) : std::next(it);
    }
    auto logs = init(i);
    nodes[i]->advance(now_ms);
    collect(i);
    return logs;
  }

  std::size_t index(const std::string& id) const {
    return static_cast<std::size_t>(std::find(ids.begin(), ids.end(), id) - ids.begin());
  }

  void collect(std::size_t from) {
    for (auto& line : nodes[from]->take_lines()) {
      json m = json::parse(line);
      const std::string dest = m["dest"];
      if (dest[0] == 'c') {
        client_inbox.push_back(std::move(m));
        continue;
      }
      const std::size_t to = index(dest);
      if (cut.count({from, to}) == 0) in_flight.emplace(now_ms + latency_ms, std::pair{to, line});
    }
    nodes[from]->take_logs();
  }

  /// Advances the clock by 1 ms: delivers what is due, ticks every node.
  void step() {
    ++now_ms;
    while (!in_flight.empty() && in_flight.begin()->first <= now_ms) {
      auto [to, line] = in_flight.begin()->second;
      in_flight.erase(in_flight.begin());
      nodes[to]->on_line(line, now_ms);
      collect(to);
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      nodes[i]->advance(now_ms);
      collect(i);
    }
  }

  /// Sends a client request to node `at` and runs until its reply (or `limit_ms`).
  json call(std::size_t at, json body, std::uint64_t limit_ms = 5000) {
    const std::int64_t id = next_msg_id++;
    body["msg_id"] = id;
    nodes[at]->on_line(request("c1", ids[at], body).dump(), now_ms);
    collect(at);
    for (std::uint64_t t = 0; t < limit_ms; ++t) {
      for (auto it = client_inbox.begin(); it != client_inbox.end(); ++it) {
        if ((*it)["body"]["in_reply_to"] == id) {
          json reply = (*it)["body"];
          client_inbox.erase(it);
          return reply;
        }
      }
      step();
    }
    return json{{"type", "no reply"}};
  }

  void run_ms(std::uint64_t ms) {
    for (std::uint64_t t = 0; t < ms; ++t) step();
  }

  void isolate(std::size_t node) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      cut.insert({node, i});
      cut.insert({i, node});
    }
  }
};

}  // namespace

TEST_CASE("kv_json: scalars are stored as their JSON text and read back faithfully") {
  for (const char* text : {"1", "-7", "18446744073709551615", "1.5", "\"a b\"", "true", "null",
                           "\"\\u00e9\\n\""}) {
    const json j = json::parse(text);
    const std::string stored = text_of(j);
    CHECK(text_to_scalar(stored).value() == j);
  }
  CHECK(text_of(json::parse("\"1\"")) != text_of(json::parse("1")));  // string vs number
  CHECK(scalar_to_text(json::array({1}), "key").error().code == ErrorCode::malformed_request);
  CHECK(scalar_to_text(json::object(), "value").error().text.find("'value'") != std::string::npos);
  CHECK(text_to_scalar("{not json").error().code == ErrorCode::crash);
}

TEST_CASE("kv_json: lin-kv requests map to KV operations") {
  auto read = parse_kv_request(json{{"type", "read"}, {"key", 3}}).value();
  CHECK(read.kind == KvOpKind::read);
  CHECK(read.key == "3");
  auto write = parse_kv_request(json{{"type", "write"}, {"key", "k"}, {"value", 4}}).value();
  CHECK(write.kind == KvOpKind::write);
  CHECK(write.key == "\"k\"");
  CHECK(write.value == "4");
  auto cas = parse_kv_request(json{{"type", "cas"}, {"key", 1}, {"from", 2}, {"to", nullptr}}).value();
  CHECK(cas.kind == KvOpKind::cas);
  CHECK(cas.expected == "2");
  CHECK(cas.value == "null");
}

TEST_CASE("kv_json: missing or ill-typed fields are error 12, unknown types error 10") {
  CHECK(parse_kv_request(json{{"type", "read"}}).error().code == ErrorCode::malformed_request);
  CHECK(parse_kv_request(json{{"type", "write"}, {"key", 1}}).error().code ==
        ErrorCode::malformed_request);
  CHECK(parse_kv_request(json{{"type", "cas"}, {"key", 1}, {"to", 2}}).error().code ==
        ErrorCode::malformed_request);
  CHECK(parse_kv_request(json{{"type", "write"}, {"key", 1}, {"value", json::array()}})
            .error().code == ErrorCode::malformed_request);
  CHECK(parse_kv_request(json{{"type", "delete"}, {"key", 1}}).error().code ==
        ErrorCode::not_supported);
}

TEST_CASE("kv_json: KV results map to lin-kv replies and Maelstrom error codes") {
  CHECK(kv_reply_body(KvOpKind::read, KvResult{KvStatus::ok, "\"x\""}) ==
        json{{"type", "read_ok"}, {"value", "x"}});
  CHECK(kv_reply_body(KvOpKind::write, KvResult{}) == json{{"type", "write_ok"}});
  CHECK(kv_reply_body(KvOpKind::cas, KvResult{}) == json{{"type", "cas_ok"}});
  CHECK(kv_reply_body(KvOpKind::read, KvResult{KvStatus::not_found, {}})["code"] == 20);
  CHECK(kv_reply_body(KvOpKind::cas, KvResult{KvStatus::not_found, {}})["code"] == 20);
  CHECK(kv_reply_body(KvOpKind::cas, KvResult{KvStatus::precondition_failed, {}})["code"] == 22);
  CHECK(kv_reply_body(KvOpKind::cas, KvResult{KvStatus::precondition_failed, {}})["type"] == "error");
  CHECK(is_definite(11));
  CHECK(is_definite(20));
  CHECK(is_definite(22));
  CHECK_FALSE(is_definite(0));
  CHECK_FALSE(is_definite(13));
  CHECK_FALSE(is_definite(999));
}

TEST_CASE("kv_json: json_depth counts nesting outside strings") {
  CHECK(json_depth("{\"a\":[1,{\"b\":2}]}", 100) == 3);
  CHECK(json_depth("\"[[[[\"", 100) == 0);
  CHECK(json_depth("\"\\\"[[\"", 100) == 0);
  CHECK(json_depth(std::string(1000, '['), 10) == 11);
}

TEST_CASE("base64: round trips every length, rejects non-canonical text") {
  for (std::size_t n = 0; n < 20; ++n) {
    Bytes b;
    for (std::size_t i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(i * 37 + 250));
    CHECK(base64_decode(base64_encode(b)).value() == b);
  }
  CHECK(base64_encode(Bytes{'M', 'a'}) == "TWE=");
  for (const char* bad : {"TWE", "TW=E", "T===", "TWF=", "TW!=", "====", "TWE=TWE="}) {
    CHECK_FALSE(base64_decode(bad).has_value());
  }
}

TEST_CASE("node: bad input gets an error reply when answerable, a log line otherwise") {
  Node node;
  node.on_line("this is not json", 0);
  CHECK(node.take_lines().empty());
  CHECK(node.take_logs().size() == 1);
  node.on_line(std::string(100000, '['), 0);
  CHECK(node.take_lines().empty());
  node.on_line("[1,2]", 0);
  node.on_line("{\"src\":1}", 0);
  node.on_line(request("c1", "n1", json{{"type", "read"}, {"key", 1}}).dump(), 0);  // no msg_id
  CHECK(node.take_lines().empty());

  // Before init, a client request is refused with a definite error.
  node.on_line(request("c1", "n1", json{{"type", "read"}, {"msg_id", 5}, {"key", 1}}).dump(), 0);
  json r = only_line(node);
  CHECK(r["src"] == "n1");
  CHECK(r["dest"] == "c1");
  CHECK(r["body"]["code"] == 11);
  CHECK(r["body"]["in_reply_to"] == 5);

  node.on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"},
                                        {"node_ids", {"n2"}}}).dump(), 0);
  CHECK(only_line(node)["body"]["code"] == 12);
  node.on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 2}, {"node_id", "n1"},
                                        {"node_ids", {"n1"}}}).dump(), 0);
  CHECK(only_line(node)["body"]["type"] == "init_ok");

  node.on_line(request("c1", "n1", json{{"type", "frobnicate"}, {"msg_id", 7}}).dump(), 0);
  json unknown = only_line(node)["body"];
  CHECK(unknown["type"] == "error");
  CHECK(unknown["code"] == 10);
  CHECK(unknown["in_reply_to"] == 7);
  node.on_line(request("c1", "n1", json{{"type", "write"}, {"msg_id", 8}, {"key", 1}}).dump(), 0);
  CHECK(only_line(node)["body"]["code"] == 12);
  node.on_line(request("c1", "n1", json{{"msg_id", 9}}).dump(), 0);
  CHECK(only_line(node)["body"]["code"] == 12);
  node.on_line(request("n2", "n1", json{{"type", "vsr"}, {"msg", "!!"}}).dump(), 0);
  node.on_line(request("n1", "n1", json{{"type", "vsr"}, {"msg", "AAAA"}}).dump(), 0);
  CHECK(node.take_lines().empty());
  CHECK(node.stats().bad_input >= 8);
}

TEST_CASE("node: a single node serves lin-kv by itself") {
  Node node;
  node.on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"},
                                        {"node_ids", {"n1"}}}).dump(), 0);
  node.take_lines();
  node.on_line(request("c1", "n1", json{{"type", "write"}, {"msg_id", 2}, {"key", "k"},
                                        {"value", "v"}}).dump(), 1);
  CHECK(only_line(node)["body"]["type"] == "write_ok");
  node.on_line(request("c1", "n1", json{{"type", "read"}, {"msg_id", 3}, {"key", "k"}}).dump(), 2);
  CHECK(only_line(node)["body"]["value"] == "v");
}

TEST_CASE("node: telemetry events reach stderr as JSON lines, unless turned off") {
  for (bool on : {true, false}) {
    NodeOptions options;
    options.telemetry = on;
    Node node(options);
    node.on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"},
                                          {"node_ids", {"n1"}}}).dump(), 0);
    node.take_lines();
    node.take_logs();
    node.on_line(request("c1", "n1", json{{"type", "write"}, {"msg_id", 2}, {"key", "k"},
                                          {"value", "v"}}).dump(), 7);
    std::set<std::string> names;
    for (const auto& line : node.take_logs()) {
      json j = json::parse(line, nullptr, false);
      if (j.is_object() && j.value("ev", "") == "telemetry") {
        names.insert(j.value("name", ""));
        CHECK(j["t_us"] == 7000);
      }
    }
    if (on) {
      CHECK(names.contains("vsr.protocol.prepare.sent"));
      CHECK(names.contains("vsr.commit.advance"));
    } else {
      CHECK(names.empty());
    }
  }
}

TEST_CASE("node: three nodes; requests at any node; lin-kv errors") {
  Cluster c(3);
  CHECK(c.call(1, json{{"type", "read"}, {"key", 7}})["code"] == 20);
  CHECK(c.call(1, json{{"type", "write"}, {"key", 7}, {"value", 1}})["type"] == "write_ok");
  CHECK(c.call(2, json{{"type", "read"}, {"key", 7}})["value"] == 1);
  CHECK(c.call(0, json{{"type", "cas"}, {"key", 7}, {"from", 2}, {"to", 3}})["code"] == 22);
  CHECK(c.call(2, json{{"type", "cas"}, {"key", 8}, {"from", 2}, {"to", 3}})["code"] == 20);
  CHECK(c.call(2, json{{"type", "cas"}, {"key", 7}, {"from", 1}, {"to", 3}})["type"] == "cas_ok");
  CHECK(c.call(0, json{{"type", "read"}, {"key", 7}})["value"] == 3);
  CHECK(c.call(1, json{{"type", "write"}, {"key", "7"}, {"value", true}})["type"] == "write_ok");
  CHECK(c.call(1, json{{"type", "read"}, {"key", "7"}})["value"] == true);
  CHECK(c.call(1, json{{"type", "read"}, {"key", 7}})["value"] == 3);
}

TEST_CASE("node: the primary fails; a view change; a minority node refuses or times out") {
  Cluster c(3);
  CHECK(c.call(1, json{{"type", "write"}, {"key", 1}, {"value", 1}})["type"] == "write_ok");
  c.isolate(0);  // n1, the primary of view 0
  // At the old primary the write cannot commit: an indefinite timeout.
  json at_old = c.call(0, json{{"type", "write"}, {"key", 1}, {"value", 2}});
  CHECK(at_old["type"] == "error");
  CHECK(at_old["code"] == 0);
  // The majority elects n2 or n3 and serves requests again.
  json at_new = c.call(2, json{{"type", "write"}, {"key", 1}, {"value", 3}});
  CHECK(at_new["type"] == "write_ok");
  CHECK(c.nodes[1]->replica()->view() > ViewNumber(0));
  // Heal: the old primary learns the new view; its write (value 2) may or may not have
  // taken effect, but a later read sees a committed state from any node.
  c.cut.clear();
  c.run_ms(2000);
  json read = c.call(0, json{{"type", "read"}, {"key", 1}});
  CHECK(read["type"] == "read_ok");
  CHECK((read["value"] == 3 || read["value"] == 2));
  // A node cut off from everyone is in view change: its requests are held, then
  // refused with the definite code 11.
  c.isolate(2);
  c.run_ms(1000);
  json refused = c.call(2, json{{"type", "write"}, {"key", 1}, {"value", 4}});
  CHECK(refused["code"] == 11);
  c.cut.clear();
  c.run_ms(2000);
  CHECK(c.call(2, json{{"type", "read"}, {"key", 1}})["type"] == "read_ok");
}

TEST_CASE("node: a request retried after a lost reply executes once (client table)") {
  Cluster c(3);
  CHECK(c.call(1, json{{"type", "write"}, {"key", 5}, {"value", 0}})["type"] == "write_ok");
  // Cut the primary -> n2 link: n2's session gets no reply and resends to everyone; the
  // primary answers each resend from its client table without executing again.
  c.cut.insert({0, 1});
  const std::uint64_t before = c.nodes[0]->replica()->commit().value;
  json r = c.call(1, json{{"type", "cas"}, {"key", 5}, {"from", 0}, {"to", 1}}, 1500);
  c.cut.clear();
  c.run_ms(500);
  CHECK(c.nodes[0]->replica()->commit().value <= before + 1);
  CHECK(c.call(0, json{{"type", "read"}, {"key", 5}})["value"] == 1);
  CHECK((r["type"] == "cas_ok" || r["code"] == 0));
}

// ---------------------------------------------------------------- issue 13: sizes, numbers, hostile peers

namespace {

/// Sends a client request written as raw JSON text (`fields` without msg_id, e.g.
/// R"("type":"read","key":1)"), so numbers reach the node exactly as written.
json call_raw(Cluster& c, std::size_t at, const std::string& fields) {
  const std::int64_t id = c.next_msg_id++;
  const std::string line = fmt::format(R"({{"src":"c1","dest":"{}","body":{{"msg_id":{},{}}}}})",
                                       c.ids[at], id, fields);
  c.nodes[at]->on_line(line, c.now_ms);
  c.collect(at);
  for (std::uint64_t t = 0; t < 5000; ++t) {
    for (auto it = c.client_inbox.begin(); it != c.client_inbox.end(); ++it) {
      if ((*it)["body"]["in_reply_to"] == id) {
        json reply = (*it)["body"];
        c.client_inbox.erase(it);
        return reply;
      }
    }
    c.step();
  }
  return json{{"type", "no reply"}};
}

/// A node initialised as n1 of {n1, n2, n3}, with no peers attached.
std::unique_ptr<Node> lone_node_of_three() {
  auto node = std::make_unique<Node>();
  node->on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"},
                                         {"node_ids", {"n1", "n2", "n3"}}}).dump(), 0);
  CHECK(only_line(*node)["body"]["type"] == "init_ok");
  node->take_logs();
  return node;
}

/// `m` as the vsr line a peer sends.
std::string peer_line(const std::string& src, const Message& m) {
  return request(src, "n1", json{{"type", "vsr"}, {"msg", base64_encode(encode(m))}}).dump();
}

/// How many telemetry lines in `logs` are vsr.protocol.message.rejected with `reason`.
std::size_t rejected_events(const std::vector<std::string>& logs, RejectReason reason) {
  std::size_t n = 0;
  for (const auto& line : logs) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("name", "") == "vsr.protocol.message.rejected" &&
        j.value("detail", 0) == static_cast<int>(reason)) {
      ++n;
    }
  }
  return n;
}

}  // namespace

TEST_CASE("kv_json: a number is admitted only if it reads back as the same number") {
  for (const char* exact : {"0", "-0", "1", "-7", "18446744073709551615", "-9223372036854775808",
                            "1.5", "1.50", "1e2", "1E+2", "0.1", "-2.5e-3", "100.0", "0e5"}) {
    INFO(exact);
    CHECK(number_is_exact(exact));
  }
  for (const char* inexact : {"123456789012345678901234567890", "18446744073709551616",
                              "-9223372036854775809", "0.30000000000000001", "1e400",
                              "1e-400", "1e99999999999", "12a", "--1", "1.", ".5", ""}) {
    INFO(inexact);
    CHECK_FALSE(number_is_exact(inexact));
  }
  CHECK(check_numbers_exact(R"({"a":[1,2.5,"123456789012345678901234567890"]})").has_value());
  auto bad = check_numbers_exact(R"({"msg_id":3,"value":123456789012345678901234567890})");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::malformed_request);
  CHECK(bad.error().text.find("1.2345678901234568e+29") != std::string::npos);
}

TEST_CASE("node: a 30-digit integer is refused with 12, never read back as another number") {
  // Issue 13 item 10: it was stored as the double 1.2345678901234568e+29.
  Cluster c(3);
  json w = call_raw(c, 1, R"("type":"write","key":1,"value":123456789012345678901234567890)");
  CHECK(w["type"] == "error");
  CHECK(w["code"] == 12);
  CHECK(call_raw(c, 1, R"("type":"read","key":1)")["code"] == 20);  // nothing was written
  CHECK(call_raw(c, 0, R"("type":"read","key":123456789012345678901234567890)")["code"] == 12);
  CHECK(call_raw(c, 2, R"("type":"cas","key":1,"from":1,"to":1e-400)")["code"] == 12);
  // Numbers that survive are read back as the number written.
  CHECK(call_raw(c, 1, R"("type":"write","key":1,"value":18446744073709551615)")["type"] ==
        "write_ok");
  json r = call_raw(c, 2, R"("type":"read","key":1)");
  CHECK(r["value"] == 18446744073709551615ull);
  CHECK(call_raw(c, 1, R"("type":"write","key":2,"value":1e2)")["type"] == "write_ok");
  CHECK(call_raw(c, 0, R"("type":"read","key":2)")["value"] == 100.0);
}

TEST_CASE("node: a 70 MB write is refused with 12, and the node stays up") {
  // Issue 13 item 2: the primary aborted on the codec's frame-size assertion.
  Cluster c(3);
  const std::string huge(70u << 20, 'x');
  json r = c.call(0, json{{"type", "write"}, {"key", 1}, {"value", huge}});
  CHECK(r["type"] == "error");
  CHECK(r["code"] == 12);
  CHECK(r["text"].get<std::string>().find("too large to replicate") != std::string::npos);
  // Just over the limit is refused too; just under it is replicated.
  NodeOptions defaults;
  const std::size_t overhead = encode_kv_op(KvOp{KvOpKind::write, "1", "\"\"", ""}).size();
  const std::string over(defaults.max_op_bytes - overhead + 1, 'y');
  CHECK(c.call(1, json{{"type", "write"}, {"key", 1}, {"value", over}})["code"] == 12);
  const std::string under(defaults.max_op_bytes - overhead, 'z');
  CHECK(c.call(1, json{{"type", "write"}, {"key", 1}, {"value", under}})["type"] == "write_ok");
  CHECK(c.call(2, json{{"type", "read"}, {"key", 1}})["value"] == under);
}

TEST_CASE("node: StartViews from n2 (view 1) then n3 (view 2) dropping an executed op: rejected") {
  // Issue 13 item 3: "a new log must keep every executed op" aborted the node.
  auto node = lone_node_of_three();
  LogEntry op1{ViewNumber(1), Node::session_id(1, 0, 1), RequestNumber(1),
               encode_kv_op(KvOp{KvOpKind::write, "1", "5", ""})};
  op1.checksum = entry_checksum(OpNumber(1), op1, empty_log_checksum);
  node->on_line(peer_line("n2", StartView{ViewNumber(1), OpNumber(1), CommitNumber(1), {op1},
                                          ReplicaIndex(1)}), 1);
  REQUIRE(node->replica()->view() == ViewNumber(1));
  REQUIRE(node->replica()->commit() == CommitNumber(1));
  node->on_line(peer_line("n3", StartView{ViewNumber(2), OpNumber(0), CommitNumber(0), {},
                                          ReplicaIndex(2)}), 2);
  const auto logs = node->take_logs();
  CHECK(rejected_events(logs, RejectReason::drops_executed) == 1);
  CHECK(node->stats().rejected == 1);
  CHECK(std::any_of(logs.begin(), logs.end(), [](const std::string& l) {
    return l.find("rejected a message from n3: drops_executed") != std::string::npos;
  }));
  CHECK(node->replica()->view() == ViewNumber(1));
  CHECK(node->replica()->op() == OpNumber(1));
  for (std::uint64_t t = 3; t < 3000; t += 10) node->advance(t);  // and it keeps running
}

TEST_CASE("node: a Commit at view 2^64-3 then a StartViewChange at 2^64-1: rejected") {
  // Issue 13 item 3: the view change that followed wrapped the view number and aborted.
  auto node = lone_node_of_three();
  const std::uint64_t top = ~std::uint64_t{0};
  node->on_line(peer_line("n2", Commit{ViewNumber(top - 2), CommitNumber(0), ReplicaIndex(1)}), 1);
  node->on_line(peer_line("n3", StartViewChange{ViewNumber(top), ReplicaIndex(2)}), 2);
  for (std::uint64_t t = 3; t < 3000; t += 10) node->advance(t);
  CHECK(rejected_events(node->take_logs(), RejectReason::view_overflow) == 2);
  CHECK(node->stats().rejected == 2);
  CHECK(node->replica()->view() == ViewNumber(0));
  // Still the primary of view 0, it takes requests (its backups are not attached here).
  node->on_line(request("c1", "n1", json{{"type", "read"}, {"msg_id", 9}, {"key", 1}}).dump(), 3000);
  CHECK(node->in_flight() == 1);
}

// ---------------------------------------------------------------- issue 17: storage, restarts

namespace {

/// A node's device that outlives its Node objects (a disk across process restarts):
/// the first open is of a new device, every later one of a used device.
struct Disk {
  std::shared_ptr<MemoryDevice> device = std::make_shared<MemoryDevice>(default_memory_device_bytes);
  int opens = 0;

  NodeOptions options(std::uint64_t incarnation) {
    NodeOptions o;
    o.telemetry = false;
    o.incarnation = incarnation;
    o.open_device = [this](const std::string&) -> Result<NodeDevice> {
      return NodeDevice{device, opens++ == 0};
    };
    return o;
  }
};

bool has_line(const std::vector<std::string>& logs, std::string_view text) {
  return std::any_of(logs.begin(), logs.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("node: a single node restarts from its device with the committed data") {
  Disk disk;
  auto init = [](Node& node) {
    node.on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"},
                                          {"node_ids", {"n1"}}}).dump(), 0);
    CHECK(only_line(node)["body"]["type"] == "init_ok");
    return node.take_logs();
  };
  {
    Node node(disk.options(1));
    CHECK(has_line(init(node), "booted as a new member (formatted a new device)"));
    node.on_line(request("c1", "n1", json{{"type", "write"}, {"msg_id", 2}, {"key", "k"},
                                          {"value", "v"}}).dump(), 1);
    CHECK(only_line(node)["body"]["type"] == "write_ok");
  }
  // kill -9: the process dies; what was not synced is lost (all of it was synced).
  disk.device->crash_losing_pending();
  Node node(disk.options(2));
  const auto logs = init(node);
  CHECK(has_line(logs, "start: restarted from disk at view"));
  CHECK(has_line(logs, "op 1 commit 1"));
  REQUIRE(node.replica() != nullptr);
  node.on_line(request("c1", "n1", json{{"type", "read"}, {"msg_id", 3}, {"key", "k"}}).dump(), 2);
  CHECK(only_line(node)["body"]["value"] == "v");
  node.on_line(request("c1", "n1", json{{"type", "write"}, {"msg_id", 4}, {"key", "k"},
                                        {"value", "w"}}).dump(), 3);
  CHECK(only_line(node)["body"]["type"] == "write_ok");
  CHECK(disk.device->syncs() > 0);
}

TEST_CASE("node: three nodes; each restarts from disk in turn, or recovers from an empty one") {
  std::vector<Disk> disks(3);
  Cluster c(3, [&](std::size_t i) { return disks[i].options(10 + i); });
  CHECK(c.call(1, json{{"type", "write"}, {"key", 1}, {"value", 1}})["type"] == "write_ok");
  std::uint64_t incarnation = 100;
  std::int64_t value = 1;
  for (std::size_t i : {1, 2, 0}) {  // the backups, then the primary of view 0
    disks[i].device->crash_losing_pending();
    const auto logs = c.restart(i, disks[i].options(incarnation++));
    CHECK(has_line(logs, "restarted from disk at view"));
    c.run_ms(1500);
    ++value;
    CHECK(c.call(i, json{{"type", "write"}, {"key", 1}, {"value", value}})["type"] == "write_ok");
    const json read = c.call(i, json{{"type", "read"}, {"key", 1}});
    CHECK(read["value"] == value);
  }
  // A used device that reads as nothing (its superblocks gone): never booted as a new
  // member; the replica rebuilds itself by the recovery protocol, then serves.
  disks[1].device->wipe();
  const auto logs = c.restart(1, disks[1].options(incarnation++));
  CHECK(has_line(logs, "running recovery (§4.3, nonce"));
  c.run_ms(1500);
  REQUIRE(c.nodes[1]->replica() != nullptr);
  CHECK(c.nodes[1]->replica()->status() == StatusKind::normal);
  CHECK(c.call(1, json{{"type", "read"}, {"key", 1}})["value"] == value);
  CHECK(c.call(1, json{{"type", "write"}, {"key", 1}, {"value", 9}})["type"] == "write_ok");
}

TEST_CASE("node: a device that cannot be opened stops the node with the reason") {
  NodeOptions options;
  options.open_device = [](const std::string& id) -> Result<NodeDevice> {
    return Error{fmt::format("data file /nowhere/{}.vsr: locked by another process", id)};
  };
  Node node(options);
  node.on_line(request("c0", "n1", json{{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"},
                                        {"node_ids", {"n1"}}}).dump(), 0);
  const json reply = only_line(node);
  CHECK(reply["body"]["code"] == 13);
  REQUIRE(node.failure().has_value());
  CHECK(node.failure()->message.find("/nowhere/n1.vsr") != std::string::npos);
  node.on_line(request("c1", "n1", json{{"type", "read"}, {"msg_id", 2}, {"key", 1}}).dump(), 1);
  CHECK(node.take_lines().empty());
}

TEST_CASE("node: session ids carry the incarnation; a restarted node never reuses one") {
  const ClientId a = Node::session_id(2, 7, 1);
  const ClientId b = Node::session_id(2, 8, 1);
  CHECK(a != b);
  CHECK(Node::owner_of(a) == std::optional<std::uint32_t>(2));
  CHECK(Node::owner_of(b) == std::optional<std::uint32_t>(2));
  CHECK(!Node::owner_of(ClientId(1)).has_value());
  CHECK(!Node::owner_of(Node::session_id(2, 7, 0)).has_value());
}
