#include "sim/systems.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "sim/kv_system.hpp"

namespace vsr::sim {

namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, const System*, std::less<>> systems{{"kv", &kv_system()}};
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

bool is_system_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
  });
}

InputResult<void> register_system(const System& system) {
  if (!is_system_name(system.name)) {
    return InputError{fmt::format("system name '{}': use letters, digits, '-' and '_'", system.name)};
  }
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.systems[system.name] = &system;
  return outcome::success();
}

InputResult<const System*> find_system(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.systems.find(name);
  if (it != r.systems.end()) return it->second;
  std::vector<std::string_view> names;
  for (const auto& [n, s] : r.systems) names.push_back(n);
  return InputError{fmt::format("unknown system '{}' (known: {})", name, fmt::join(names, ", "))};
}

std::vector<const System*> known_systems() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<const System*> out;
  for (const auto& [n, s] : r.systems) out.push_back(s);
  return out;
}

}  // namespace vsr::sim
