#include "vsr/assert.hpp"

#include <fmt/format.h>

namespace vsr {

void assertion_failed(const char* expression, const std::string& detail,
                      const char* file, int line) {
  throw AssertionError(fmt::format("assertion failed: {} at {}:{}{}{}", expression,
                                   file, line,
                                   detail.empty() ? "" : ": ", detail));
}

}  // namespace vsr
