#include "vsr/telemetry.hpp"

#include <array>

namespace vsr {

std::string_view status_name(StatusKind s) {
  switch (s) {
    case StatusKind::normal: return "normal";
    case StatusKind::view_change: return "view_change";
    case StatusKind::recovering: return "recovering";
    case StatusKind::state_transfer: return "state_transfer";
  }
  return "unknown";
}

std::string_view event_name(EventKind k) {
  static constexpr std::array<std::string_view, event_kind_count> names = {
#define VSR_X(id, name) name,
      VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
  };
  auto i = static_cast<std::size_t>(k);
  return i < names.size() ? names[i] : std::string_view("vsr.unknown");
}

}  // namespace vsr
