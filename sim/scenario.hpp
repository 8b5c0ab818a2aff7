// Scenario scripts: a small text language, in the spirit of etcd-raft's datadriven
// tests, that drives a cluster of real replicas and clients step by step and compares
// what happened with the expected output written in the file.
//
// The file format. Each command is one line; after it comes a `----` line and the
// expected output; a blank line (or the end of the file) ends the block. Outside a
// block, `#` starts a comment line and blank lines are ignored. Inside an expected
// output block every line is output (the interpreter never prints blank lines).
//
//   # The normal case: one write commits with a quorum.
//   cluster replicas=3 clients=1
//   ----
//   cluster: 3 replicas, 1 client; r0 is primary of view 0
//
//   request client=1 write key=x value=1
//   ----
//   c1->r0 request{client=1 req=1 op=write x=1}
//
// The commands are listed in scenario_help() (and README.md, "Scenarios").
//
// The driver. Replicas are r0..r(N-1), clients c1..cM. Messages wait in one queue, in
// send order, until a command delivers or drops them; messages a replica sends to
// itself wait in the queue like any other. Persists complete at the end of the input
// that produced them (the disk is applied, then the messages waiting on it are queued),
// unless `hold-persist N` holds them back; so `crash N` loses nothing already made
// durable and, with hold-persist, exactly the held writes and the messages that waited
// on them. Partitions are checked when a message is delivered: a message whose link is
// cut is dropped then (and shown as dropped). Clients are never partitioned. After every
// input the simulator's safety checks run (sim/invariants.hpp); a client history is
// recorded so `check` can run the linearizability checker.
#pragma once

#include <cstdint>
#include <ostream>
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

/// Parses a scenario file. Errors read "<path>:<line>: <reason>". With
/// `allow_missing_separator` (rewriting), a command without `----` is accepted.
InputResult<ScenarioFile> parse_scenario(std::string_view path, std::string_view text,
                                         bool allow_missing_separator = false);

/// What running a file produced: the actual output of every block, in order.
struct ScenarioRun {
  std::vector<std::vector<std::string>> actual;  // [block]
  /// Set when a safety check, a protocol assertion, or the linearizability check
  /// failed: the file fails whatever its expected output says.
  std::string failure;
};

/// Runs every block. A script error (a command that cannot run: replica out of range,
/// restarting a replica that is up, a busy client...) is an error "<path>:<line>: <reason>".
InputResult<ScenarioRun> run_scenario(const ScenarioFile& file);

/// The file's text with every expected output replaced by the actual output.
std::string rewrite_scenario(const ScenarioFile& file, const ScenarioRun& run);

/// A unified-style diff of expected vs actual per mismatching block ("<path>:<line>:
/// output differs for `command`"); empty when everything matches.
std::string diff_scenario(const ScenarioFile& file, const ScenarioRun& run);

/// `vsr-sim scenario FILE... [--rewrite]`: runs the files, prints diffs and failures to
/// `out`, errors to `err`. Returns 0 when every file matches, 1 on a mismatch or failed
/// check, 2 when a file cannot be read or is malformed.
int run_scenario_files(const std::vector<std::string>& paths, bool rewrite, std::ostream& out,
                       std::ostream& err);

/// The command reference, one command per line.
std::string_view scenario_help();

}  // namespace vsr::sim
