// What every fuzz target uses to report a finding: print what broke, then abort(),
// so libFuzzer saves the input as a crash-* file. Always on (not assert()).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vsr::fuzz {

[[noreturn]] inline void finding(const std::string& what) {
  std::fprintf(stderr, "\n==== FUZZ FINDING ====\n%s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace vsr::fuzz

/// FUZZ_CHECK(cond, detail-string): a property the target asserts; a finding if false.
#define FUZZ_CHECK(cond, ...)                                                         \
  do {                                                                                \
    if (!(cond)) [[unlikely]]                                                         \
      ::vsr::fuzz::finding(std::string("property violated: " #cond "\n") +           \
                           std::string{__VA_ARGS__});                                 \
  } while (false)
