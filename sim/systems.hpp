// The systems under test a program knows by name (`vsr-sim --system NAME`, a
// scenario's `sim system=NAME`, a replayed schedule's system). The KV store is always
// known; a program adds its own with register_system before it runs them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/system.hpp"

namespace vsr::sim {

/// Whether `name` can name a system: letters, digits, '-' and '_', not empty.
bool is_system_name(std::string_view name);

/// Makes `system` known by its name, replacing any system of that name. `system` must
/// outlive every run. Error: the name is not letters, digits, '-' and '_'. Thread-safe.
InputResult<void> register_system(const System& system);

/// The system named `name`, or an error listing the known ones. Thread-safe.
InputResult<const System*> find_system(std::string_view name);

/// Every known system, by name.
std::vector<const System*> known_systems();

}  // namespace vsr::sim
