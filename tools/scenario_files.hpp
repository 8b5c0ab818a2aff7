// `vsr-sim scenario FILE|DIR... [--rewrite]`: the file side of scenario scripts. It
// reads the files, has sim/scenario/ parse and run their text, prints the diffs and
// failures, rewrites expected outputs, and picks the exit code: 0 when every file
// matches, 1 on a mismatch or a failed check, 2 when a file cannot be read or is
// malformed.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace vsr::sim {

/// The files the arguments name: a file as given, a directory as every `*.txt` in it,
/// sorted by name. A directory without one is an error (set in `error`).
std::optional<std::vector<std::string>> scenario_paths(const std::vector<std::string>& args, std::string* error);

/// Runs the files, prints diffs and failures to `out`, errors to `err`; returns the
/// exit code. With `rewrite`, every expected output becomes the actual one instead.
int run_scenario_files(const std::vector<std::string>& paths, bool rewrite, std::ostream& out, std::ostream& err);

}  // namespace vsr::sim
