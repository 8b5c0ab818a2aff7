#include "vsr/assert.hpp"

#include <fmt/format.h>

namespace vsr {

void assertion_failed(const char* expression, const std::string& detail,
                      std::source_location where) {
  throw AssertionError(fmt::format("assertion failed: {} at {}:{}{}{}", expression,
                                   where.file_name(), where.line(),
                                   detail.empty() ? "" : ": ", detail));
}

}  // namespace vsr
