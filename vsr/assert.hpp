// Always-on assertions for internal invariants (DESIGN.md, "Errors").
// A failed assertion throws AssertionError, so a driver (the simulator) can report it
// with the seed that produced it; uncaught, it terminates the process.
#pragma once

#include <stdexcept>
#include <string>

namespace vsr {

/// Thrown when an internal invariant is broken: always a bug, never bad input.
class AssertionError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

[[noreturn]] void assertion_failed(const char* expression, const std::string& detail,
                                   const char* file, int line);

}  // namespace vsr

/// VSR_ASSERT(cond) or VSR_ASSERT(cond, detail-string): checked in every build type.
#define VSR_ASSERT(cond, ...)                                                        \
  do {                                                                               \
    if (!(cond)) [[unlikely]]                                                        \
      ::vsr::assertion_failed(#cond, std::string{__VA_ARGS__}, __FILE__, __LINE__);  \
  } while (false)
