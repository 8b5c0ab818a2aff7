#include "vsr/config.hpp"

#include <string>
#include <utility>

#include <doctest/doctest.h>

using vsr::Config;
using vsr::ReplicaIndex;
using vsr::Timeouts;
using vsr::ViewNumber;

namespace {

/// The error message of a Config::make that must fail.
std::string make_error(std::uint32_t n, std::uint8_t self, Timeouts t = {}) {
  auto r = Config::make(n, ReplicaIndex(self), t);
  REQUIRE(r.has_error());
  return r.error().message;
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("config: make accepts every valid cluster size and self index") {
  for (std::uint32_t n = 1; n <= vsr::max_replica_count; ++n) {
    for (std::uint32_t self = 0; self < n; ++self) {
      auto r = Config::make(n, ReplicaIndex(static_cast<std::uint8_t>(self)));
      REQUIRE(r.has_value());
      CHECK(r.value().replica_count == n);
      CHECK(r.value().self == ReplicaIndex(static_cast<std::uint8_t>(self)));
    }
  }
}

TEST_CASE("config: make rejects a replica_count of 0 or above 32") {
  CHECK(contains(make_error(0, 0), "replica_count 0"));
  CHECK(contains(make_error(33, 0), "replica_count 33"));
  CHECK(contains(make_error(1000, 0), "outside 1..32"));
}

TEST_CASE("config: make rejects a self index not below replica_count") {
  CHECK(contains(make_error(3, 3), "self index 3"));
  CHECK(contains(make_error(1, 1), "self index 1"));
  CHECK(contains(make_error(5, 200), "self index 200"));
}

TEST_CASE("config: make rejects a zero timeout, naming the field") {
  const std::pair<std::uint32_t Timeouts::*, const char*> fields[] = {
      {&Timeouts::heartbeat_ticks, "heartbeat_ticks"},
      {&Timeouts::primary_silence_ticks, "primary_silence_ticks"},
      {&Timeouts::view_change_timeout_ticks, "view_change_timeout_ticks"},
      {&Timeouts::view_change_resend_ticks, "view_change_resend_ticks"},
      {&Timeouts::repair_resend_ticks, "repair_resend_ticks"},
      {&Timeouts::prepare_resend_ticks, "prepare_resend_ticks"},
      {&Timeouts::recovery_resend_ticks, "recovery_resend_ticks"},
  };
  for (const auto& [field, field_name] : fields) {
    const std::string name = field_name;  // CAPTURE cannot take a structured binding (clang)
    CAPTURE(name);
    Timeouts t;
    t.*field = 0;
    const std::string e = make_error(3, 0, t);
    CHECK(contains(e, name));
    CHECK(contains(e, "at least 1"));
  }
}

TEST_CASE("config: make rejects primary_silence_ticks not above heartbeat_ticks") {
  Timeouts t;
  t.heartbeat_ticks = 10;
  t.primary_silence_ticks = 10;
  CHECK(contains(make_error(3, 0, t), "primary_silence_ticks (10) must exceed heartbeat_ticks"));
  t.primary_silence_ticks = 5;
  CHECK(contains(make_error(3, 0, t), "primary_silence_ticks (5)"));
  t.primary_silence_ticks = 11;
  CHECK(Config::make(3, ReplicaIndex(0), t).has_value());
}

TEST_CASE("config: quorum is n/2+1 and max_faulty is n minus a quorum") {
  const std::uint32_t quorums[] = {1, 2, 2, 3, 3, 4, 4};
  const std::uint32_t faulty[] = {0, 0, 1, 1, 2, 2, 3};
  for (std::uint32_t n = 1; n <= 7; ++n) {
    CAPTURE(n);
    const Config c = Config::make(n, ReplicaIndex(0)).value();
    CHECK(c.quorum() == quorums[n - 1]);
    CHECK(c.quorum() == n / 2 + 1);
    CHECK(c.max_faulty() == faulty[n - 1]);
    CHECK(2 * c.quorum() > n);  // any two quorums intersect
  }
}

TEST_CASE("config: primary_of is round-robin over the replicas") {
  const Config c = Config::make(3, ReplicaIndex(1)).value();
  CHECK(c.primary_of(ViewNumber(0)) == ReplicaIndex(0));
  CHECK(c.primary_of(ViewNumber(1)) == ReplicaIndex(1));
  CHECK(c.primary_of(ViewNumber(2)) == ReplicaIndex(2));
  CHECK(c.primary_of(ViewNumber(3)) == ReplicaIndex(0));
  CHECK(c.primary_of(ViewNumber(301)) == ReplicaIndex(1));
  const Config one = Config::make(1, ReplicaIndex(0)).value();
  CHECK(one.primary_of(ViewNumber(12345)) == ReplicaIndex(0));
}

TEST_CASE("config: log_retention_ops defaults to twice the default pipeline, and is at most 2^30") {
  Config c = Config::make(3, ReplicaIndex(0)).value();
  CHECK(c.log_retention_ops == 2 * c.max_pipeline_ops);
  c.log_retention_ops = 0;  // keep nothing below a checkpoint
  CHECK(c.validate().has_value());
  c.log_retention_ops = 1u << 30;
  CHECK(c.validate().has_value());
  c.log_retention_ops = (1u << 30) + 1;
  REQUIRE(c.validate().has_error());
  CHECK(c.validate().error().message == "config: log_retention_ops 1073741825 is above 2^30");
}
