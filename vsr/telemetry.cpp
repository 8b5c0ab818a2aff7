#include "vsr/telemetry.hpp"

#include "vsr/json_writer.hpp"

#include <array>

#include <fmt/format.h>

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

std::string_view reject_reason_name(RejectReason r) {
  switch (r) {
#define VSR_X(id, number) \
  case RejectReason::id: return #id;
    VSR_REJECT_REASONS(VSR_X)
#undef VSR_X
  }
  return "unknown";
}

std::string_view event_name(EventKind k) {
  static constexpr std::array<std::string_view, event_kind_count> names = {
#define VSR_X(id, name, role, detail) name,
      VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
  };
  auto i = static_cast<std::size_t>(k);
  return i < names.size() ? names[i] : std::string_view("vsr.unknown");
}

std::string_view event_role(EventKind k) {
  static constexpr std::array<std::string_view, event_kind_count> roles = {
#define VSR_X(id, name, role, detail) #role,
      VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
  };
  auto i = static_cast<std::size_t>(k);
  return i < roles.size() ? roles[i] : std::string_view("point");
}

std::string_view event_detail(EventKind k) {
  static constexpr std::array<std::string_view, event_kind_count> details = {
#define VSR_X(id, name, role, detail) #detail,
      VSR_TELEMETRY_EVENTS(VSR_X)
#undef VSR_X
  };
  auto i = static_cast<std::size_t>(k);
  return i < details.size() ? details[i] : std::string_view("unknown");
}

std::string telemetry_json(const TelemetryEvent& e, std::uint64_t t_us) {
  JsonObject o;
  o.num("t_us", t_us).str("ev", "telemetry");
  for_each_field(e, [&o](std::string_view key, const auto& v) { put_json(o, key, v); });
  return o.take();
}

}  // namespace vsr
