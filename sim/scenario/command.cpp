#include "sim/scenario/command.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

namespace vsr::sim {

const std::string* ScriptCommand::arg(std::string_view key) const {
  for (const auto& [k, v] : args) {
    if (k == key) return &v;
  }
  return nullptr;
}

InputResult<ScriptCommand> split_command(std::string_view line) {
  ScriptCommand c;
  std::istringstream in{std::string(line)};
  std::string word;
  if (in >> word) c.name = word;
  while (in >> word) {
    auto eq = word.find('=');
    if (eq == std::string::npos) {
      c.words.push_back(word);
      continue;
    }
    std::string key = word.substr(0, eq);
    std::string value = word.substr(eq + 1);
    if (key.empty() || value.empty()) return InputError{fmt::format("bad argument '{}': expected key=value", word)};
    if (c.arg(key) != nullptr) return InputError{fmt::format("argument '{}' given twice", key)};
    c.args.emplace_back(std::move(key), std::move(value));
  }
  return c;
}

InputResult<void> check_shape(const ScriptCommand& command, const CommandSpec& spec) {
  for (const auto& [k, v] : command.args) {
    if (std::find(spec.keys.begin(), spec.keys.end(), k) == spec.keys.end()) {
      return InputError{fmt::format("{}: unknown argument '{}' (usage: {})", command.name, k, spec.usage)};
    }
  }
  if (command.words.size() < spec.min_words || command.words.size() > spec.max_words) {
    return InputError{fmt::format("{}: wrong number of arguments (usage: {})", command.name, spec.usage)};
  }
  return outcome::success();
}

}  // namespace vsr::sim
