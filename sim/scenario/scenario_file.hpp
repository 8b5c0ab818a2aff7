// The scenario file format: commands, each followed by a `----` line and its expected
// output; a blank line (or the end of the file) ends the block. Outside a block, `#`
// starts a comment line and blank lines are ignored. Inside an expected output block
// every line is output (the interpreter never prints blank lines). This file reads it,
// writes it back with new expected outputs (--rewrite), and diffs expected against
// actual output. It runs nothing (sim/scenario/interpreter.hpp does).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/history.hpp"

namespace vsr::sim {

/// One command with its expected output.
struct ScenarioBlock {
  std::uint32_t line = 0;  // the command's line (1-based)
  std::string command;     // the command line, as written
  std::vector<std::string> expected;
  bool has_separator = false;  // false only when parsed for rewriting
};

/// A parsed file: blocks, plus the text around them (comments, blank lines) kept
/// verbatim so --rewrite changes nothing but the expected outputs.
struct ScenarioFile {
  std::string path;
  struct Item {
    bool is_block = false;
    std::string text;        // !is_block: one verbatim line
    std::size_t block = 0;   // is_block: index into blocks
  };
  std::vector<Item> items;
  std::vector<ScenarioBlock> blocks;
};

/// What running a file produced: the actual output of every block, in order.
struct ScenarioRun {
  std::vector<std::vector<std::string>> actual;  // [block]
  /// Set when a safety check, a protocol assertion, or the linearizability check
  /// failed: the file fails whatever its expected output says.
  std::string failure;
};

/// Parses a scenario file; every command must be well formed (a known name, known
/// keys, the right number of words: sim/scenario/commands.hpp). Errors read
/// "<path>:<line>: <reason>". With `allow_missing_separator` (rewriting), a command
/// without `----` is accepted.
InputResult<ScenarioFile> parse_scenario(std::string_view path, std::string_view text,
                                         bool allow_missing_separator = false);

/// The file's text with every expected output replaced by the actual output.
std::string rewrite_scenario(const ScenarioFile& file, const ScenarioRun& run);

/// A unified-style diff of expected vs actual per mismatching block ("<path>:<line>:
/// output differs for `command`"); empty when everything matches.
std::string diff_scenario(const ScenarioFile& file, const ScenarioRun& run);

}  // namespace vsr::sim
