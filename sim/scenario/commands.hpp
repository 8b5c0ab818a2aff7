// The command table of scenario scripts: every command's name, its spec (words, keys,
// usage line) and its handler (sim/scenario/handlers.hpp). The file parser checks each
// command line against it; the interpreter dispatches through it; the command
// reference (scenario_help, README.md "Scenarios") is its usage lines.
#pragma once

#include <string_view>

#include "sim/history.hpp"
#include "sim/scenario/command.hpp"
#include "sim/scenario/session.hpp"

namespace vsr::sim {

using CommandHandler = void (*)(ScenarioSession& session, const ScriptCommand& command);

struct CommandEntry {
  CommandSpec spec;
  CommandHandler handler;
  /// The command acts on the hand-delivered cluster, so `cluster` must come first.
  bool needs_cluster = false;
};

/// The command named `name`, or null.
const CommandEntry* find_command(std::string_view name);

/// A command line split and checked against its command's spec.
struct ParsedCommand {
  const CommandEntry* entry = nullptr;
  ScriptCommand command;
};

/// Splits `line` (split_command), finds its command ("unknown command 'x'") and
/// checks its shape (check_shape).
InputResult<ParsedCommand> parse_command(std::string_view line);

/// The command reference, one usage line per command.
std::string_view scenario_help();

}  // namespace vsr::sim
