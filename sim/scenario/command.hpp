// The command grammar of scenario scripts (sim/scenario/scenario.hpp): one line is a
// command name, then positional words and `key=value` arguments, separated by blanks,
// e.g. `deliver type=prepare to=r1 count=2` or `crash 1 wipe`. What each command
// accepts (how many words, which keys) is its CommandSpec, listed in the command
// table (sim/scenario/commands.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/history.hpp"

namespace vsr::sim {

/// One command line split into words: the name, positional words, key=value pairs
/// (in the order written; no key twice).
struct ScriptCommand {
  std::string name;
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::string>> args;

  /// The value of `key`, or null when the command does not give it.
  [[nodiscard]] const std::string* arg(std::string_view key) const;
};

/// The shape of one command: the number of positional words it takes, the keys it
/// accepts, and its usage line (quoted in errors and in the command reference).
struct CommandSpec {
  std::string_view name;
  std::size_t min_words = 0;
  std::size_t max_words = 0;
  std::vector<std::string_view> keys;
  std::string_view usage;
};

/// Splits `line` into a command. Errors: an argument with an empty key or value
/// ("bad argument 'k=': expected key=value"), a key given twice.
InputResult<ScriptCommand> split_command(std::string_view line);

/// Checks a split command against its spec: every key known, the number of words in
/// range. The errors quote the usage line.
InputResult<void> check_shape(const ScriptCommand& command, const CommandSpec& spec);

}  // namespace vsr::sim
