#include "sim/network.hpp"

#include <cstdint>
#include <map>

#include <doctest/doctest.h>

using vsr::sim::OccurrenceCounter;

TEST_CASE("occurrence counter: counts each name, across growth and one generation change") {
  OccurrenceCounter c;
  CHECK(c.count(0) == 0);
  CHECK(c.count(0) == 1);
  CHECK(c.count(42) == 0);
  CHECK(c.count(42) == 1);
  // Fill the current generation with other names (growth rehashes on the way); 42 was
  // seen in it, so it is carried into the next one with its count.
  for (std::uint64_t n = 1000; n < 1000 + OccurrenceCounter::generation_names; ++n) CHECK(c.count(n) == 0);
  CHECK(c.count(42) == 2);
  CHECK(c.count(1000) == 1);  // in the previous generation: carried over
  CHECK(c.count(1000) == 2);
}

TEST_CASE("occurrence counter: a name unseen for a whole generation is forgotten; memory is bounded") {
  OccurrenceCounter c;
  CHECK(c.count(7) == 0);
  CHECK(c.count(7) == 1);
  const std::uint64_t g = OccurrenceCounter::generation_names;
  for (std::uint64_t n = 1; n <= 3 * g; ++n) c.count(n * 1000003 + 11);
  CHECK(c.count(7) == 0);  // two generations went by without it
  CHECK(c.count(7) == 1);
}

TEST_CASE("occurrence counter: agrees with a plain two-generation count over a long mixed stream") {
  // The rule written plainly: counts live in the current generation; a name not in it
  // takes its count from the previous one (or 0); a new name that would make the
  // current generation exceed generation_names starts a new one first.
  const std::size_t g = OccurrenceCounter::generation_names;
  std::map<std::uint64_t, std::uint32_t> current, previous;
  auto reference = [&](std::uint64_t name) -> std::uint32_t {
    if (auto it = current.find(name); it != current.end()) return it->second++;
    if (current.size() == g) {
      previous = std::move(current);
      current.clear();
    }
    auto old = previous.find(name);
    std::uint32_t before = old == previous.end() ? 0 : old->second;
    current[name] = before + 1;
    return before;
  };
  OccurrenceCounter c;
  for (std::uint64_t n = 0; n < 5 * g; ++n) {
    // Mostly fresh names, with repeats of recent and of long-gone ones.
    std::uint64_t name = n % 3 == 0 ? (n * 2654435761U) % 50000 + 1 : n + 100000;
    REQUIRE(c.count(name) == reference(name));
  }
}
