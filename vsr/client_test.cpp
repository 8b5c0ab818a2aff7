// Client unit tests (paper §4.1 "the client side"): where requests go, resends,
// learning the view, and exactly one completion per request.
#include "vsr/client.hpp"

#include <doctest/doctest.h>

#include "vsr/test_pump.hpp"

using namespace vsr;
using namespace vsr::test;

namespace {

ClientConfig client_config(std::uint32_t n, std::uint32_t timeout_ticks) {
  auto c = ClientConfig::make(n, timeout_ticks);
  REQUIRE(c.has_value());
  return c.value();
}

std::vector<std::uint32_t> destinations(const ClientOutput& o) {
  std::vector<std::uint32_t> r;
  for (const auto& s : o.send) r.push_back(std::get<ReplicaIndex>(s.to).value);
  return r;
}

Reply reply_to(ClientId c, std::uint64_t request, std::uint64_t view, Bytes result = kv_write("r", "")) {
  return Reply{ViewNumber(view), c, RequestNumber(request), std::move(result),
               rep(static_cast<std::uint32_t>(view % 3))};
}

}  // namespace

TEST_CASE("§4.1 client: config is validated") {
  CHECK(ClientConfig::make(0, 10).has_error());
  CHECK(ClientConfig::make(static_cast<std::uint32_t>(max_replica_count) + 1, 10).has_error());
  CHECK(ClientConfig::make(3, 0).has_error());
  CHECK(ClientConfig::make(3, 1).has_value());
}

TEST_CASE("§4.1 client: a request goes to the believed primary, and to all after a timeout") {
  Client c(ClientId(5), client_config(3, 10));
  CHECK_FALSE(c.busy());
  const RequestNumber r = c.submit(kv_write("x", "1"));
  CHECK(r == RequestNumber(1));
  CHECK(c.busy());
  ClientOutput o = c.take_output();
  REQUIRE(destinations(o) == std::vector<std::uint32_t>{0});
  CHECK(std::get<Request>(o.send[0].message) == Request{ClientId(5), RequestNumber(1), kv_write("x", "1")});
  CHECK_FALSE(o.completed.has_value());

  for (int t = 0; t < 9; ++t) {
    c.tick();
    CHECK(c.take_output().send.empty());
  }
  c.tick();
  o = c.take_output();
  CHECK(destinations(o) == std::vector<std::uint32_t>{0, 1, 2});
  for (const auto& s : o.send) CHECK(std::get<Request>(s.message).request == RequestNumber(1));
  // And again after another full timeout, with the same request number.
  for (int t = 0; t < 9; ++t) c.tick();
  CHECK(c.take_output().send.empty());
  c.tick();
  o = c.take_output();
  CHECK(destinations(o) == std::vector<std::uint32_t>{0, 1, 2});
  for (const auto& s : o.send) CHECK(std::get<Request>(s.message).request == RequestNumber(1));
}

TEST_CASE("§4.1 client: an idle client sends nothing") {
  Client c(ClientId(5), client_config(3, 2));
  for (int t = 0; t < 10; ++t) c.tick();
  CHECK(c.take_output().send.empty());
}

TEST_CASE("§4.1 client: learns the view from replies and sends there next") {
  Client c(ClientId(5), client_config(3, 10));
  c.submit(kv_read("x"));
  (void)c.take_output();
  c.step(reply_to(ClientId(5), 1, 4));
  CHECK(c.view() == ViewNumber(4));
  ClientOutput o = c.take_output();
  REQUIRE(o.completed.has_value());
  CHECK(o.completed->view == ViewNumber(4));
  c.submit(kv_read("x"));
  CHECK(destinations(c.take_output()) == std::vector<std::uint32_t>{1});  // 4 % 3
  // An older view in a later reply does not move it back.
  c.step(reply_to(ClientId(5), 2, 2));
  CHECK(c.view() == ViewNumber(4));
  // A reply meant for another client teaches nothing.
  c.step(reply_to(ClientId(6), 1, 9));
  CHECK(c.view() == ViewNumber(4));
}

TEST_CASE("§4.1 client: exactly one completion per request; stale and duplicate replies ignored") {
  Client c(ClientId(5), client_config(3, 10));
  c.submit(kv_write("x", "1"));
  (void)c.take_output();
  // A reply for a request not yet made, or for another client: ignored.
  c.step(reply_to(ClientId(5), 2, 0));
  c.step(reply_to(ClientId(6), 1, 0));
  CHECK_FALSE(c.take_output().completed.has_value());
  CHECK(c.busy());

  c.step(reply_to(ClientId(5), 1, 0, kv_write("first", "")));
  ClientOutput o = c.take_output();
  REQUIRE(o.completed.has_value());
  CHECK(o.completed->request == RequestNumber(1));
  CHECK(o.completed->result == kv_write("first", ""));
  CHECK_FALSE(c.busy());
  // A duplicate of the same reply: no second completion.
  c.step(reply_to(ClientId(5), 1, 0, kv_write("second", "")));
  CHECK_FALSE(c.take_output().completed.has_value());

  // Next request; the old request's late reply must not complete it.
  CHECK(c.submit(kv_read("x")) == RequestNumber(2));
  (void)c.take_output();
  c.step(reply_to(ClientId(5), 1, 0));
  CHECK_FALSE(c.take_output().completed.has_value());
  CHECK(c.busy());
  // Nor does ticking after completion resend anything.
  c.step(reply_to(ClientId(5), 2, 0));
  REQUIRE(c.take_output().completed.has_value());
  for (int t = 0; t < 30; ++t) c.tick();
  CHECK(c.take_output().send.empty());
}

TEST_CASE("§4.1 client against a cluster: resends find the new primary after a view change") {
  Cluster cluster(3);
  Client c(ClientId(9), client_config(3, 30));
  cluster.attach(c);
  // A first request, answered by the primary of view 0.
  cluster.submit(c, kv_write("x", "1"));
  cluster.deliver_all();
  REQUIRE(cluster.completions(c.id()).size() == 1);
  CHECK(cluster.completions(c.id())[0].view == ViewNumber(0));
  // The primary is cut off: the next request goes to it and is lost.
  cluster.isolate(0);
  cluster.submit(c, kv_cas("x", "1", "2"));
  cluster.deliver_all();
  CHECK(cluster.completions(c.id()).size() == 1);
  // Time passes for everyone: the backups elect replica 1, the client resends to all.
  cluster.settle(60);
  REQUIRE(cluster.completions(c.id()).size() == 2);
  const ClientCompletion& done = cluster.completions(c.id())[1];
  CHECK(done.request == RequestNumber(2));
  CHECK(done.view == ViewNumber(1));
  CHECK(kv_result(done.result) == kv_ok());  // the cas ran once, on "1"
  CHECK(c.view() == ViewNumber(1));
  CHECK(cluster.replica(1).is_acting_primary());
  CHECK(cluster.executions(1, c.id(), 2) == 1);
  // The next request goes straight to replica 1.
  cluster.submit(c, kv_read("x"));
  REQUIRE(cluster.count(from_client(c.id())) == 1);
  CHECK(cluster.count(from_client(c.id()) && to(1)) == 1);
  cluster.deliver_all();
  REQUIRE(cluster.completions(c.id()).size() == 3);
  CHECK(kv_result(cluster.completions(c.id())[2].result) == kv_value("2"));
  cluster.heal();
  cluster.settle(20);
  cluster.require_converged();
  CHECK(cluster.completions(c.id()).size() == 3);
  // The cas was resent to every replica, yet every replica ran it exactly once.
  for (std::uint32_t r = 0; r < 3; ++r) CHECK(cluster.executions(r, c.id(), 2) == 1);
}

TEST_CASE("§4.1 client against a cluster: a duplicated reply completes the request once") {
  Cluster cluster(3);
  Client c(ClientId(9), client_config(3, 30));
  cluster.attach(c);
  cluster.submit(c, kv_write("x", "1"));
  cluster.deliver_all(!is<Reply>());
  REQUIRE(cluster.duplicate(is<Reply>(), 3) == 3);
  cluster.deliver_all();
  CHECK(cluster.replies(c.id()).size() == 4);
  CHECK(cluster.completions(c.id()).size() == 1);
}

TEST_CASE("sessions: a client opens a session first, names it after, and opens a new one after an eviction") {
  ClientConfig cfg = client_config(3, 10);
  cfg.open_sessions = true;
  Client c(ClientId(5), cfg);
  const RequestNumber r = c.submit(kv_write("x", "1"));
  CHECK(r == RequestNumber(2));  // 1 is the register request
  ClientOutput o = c.take_output();
  REQUIRE(o.send.size() == 1);
  CHECK(std::get<Request>(o.send[0].message) == Request{ClientId(5), RequestNumber(1), {}, register_session});
  // The register's reply opens session 17: the operation follows, naming it.
  Reply opened = reply_to(ClientId(5), 1, 0, {});
  opened.session = SessionNumber(17);
  c.step(opened);
  o = c.take_output();
  CHECK_FALSE(o.completed.has_value());
  REQUIRE(o.send.size() == 1);
  CHECK(std::get<Request>(o.send[0].message) ==
        Request{ClientId(5), RequestNumber(2), kv_write("x", "1"), SessionNumber(17)});
  CHECK(c.session() == SessionNumber(17));
  // A resend repeats the operation, not the register.
  for (int t = 0; t < 10; ++t) c.tick();
  o = c.take_output();
  REQUIRE(o.send.size() == 3);
  for (const auto& s : o.send) CHECK(std::get<Request>(s.message).request == RequestNumber(2));
  // Evicted: the request completes as such, with no result, and the session is gone.
  Reply evicted = reply_to(ClientId(5), 2, 0, {});
  evicted.session = SessionNumber(17);
  evicted.evicted = true;
  c.step(evicted);
  o = c.take_output();
  REQUIRE(o.completed.has_value());
  CHECK(o.completed->evicted);
  CHECK(o.completed->result.empty());
  CHECK(c.session().value == 0);
  // The next submit opens a new session, under a fresh number.
  CHECK(c.submit(kv_read("x")) == RequestNumber(4));
  o = c.take_output();
  REQUIRE(o.send.size() == 1);
  CHECK(std::get<Request>(o.send[0].message) == Request{ClientId(5), RequestNumber(3), {}, register_session});
}
