#include "tools/scenario_files.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <fmt/format.h>

#include "sim/limits.hpp"
#include "sim/scenario/scenario.hpp"

namespace vsr::sim {

namespace {

constexpr int exit_match = 0;
constexpr int exit_mismatch = 1;
constexpr int exit_malformed = 2;

/// Writes `text` over `path`; false when it cannot.
bool write_file(const std::string& path, const std::string& text) {
  std::ofstream o(path, std::ios::binary | std::ios::trunc);
  o << text;
  o.close();
  return !o.fail();
}

/// Runs one file; returns its exit code and whether it passed.
std::pair<int, bool> run_one(const std::string& path, bool rewrite, std::ostream& out, std::ostream& err) {
  auto read = read_input_file(path, "scenario", max_scenario_file_bytes);
  if (!read) {
    err << read.error().message << "\n";
    return {exit_malformed, false};
  }
  const std::string& text = read.value();
  auto file = parse_scenario(path, text, rewrite);
  auto run = file ? run_scenario(file.value()) : InputResult<ScenarioRun>(file.error());
  if (!run) {
    err << run.error().message << "\n";
    return {exit_malformed, false};
  }
  int code = exit_match;
  bool matches = true;
  if (rewrite) {
    std::string updated = rewrite_scenario(file.value(), run.value());
    if (updated != text) {
      if (!write_file(path, updated)) {
        err << path << ": cannot write the file\n";
        return {exit_malformed, false};
      }
      out << path << ": rewritten\n";
    }
  } else if (std::string diff = diff_scenario(file.value(), run.value()); !diff.empty()) {
    out << diff;
    code = exit_mismatch;
    matches = false;
  }
  if (!run.value().failure.empty()) {
    out << "FAILED " << run.value().failure << "\n";
    return {exit_mismatch, false};
  }
  return {code, matches};
}

}  // namespace

std::optional<std::vector<std::string>> scenario_paths(const std::vector<std::string>& args, std::string* error) {
  std::vector<std::string> paths;
  for (const auto& arg : args) {
    std::error_code ec;
    if (!std::filesystem::is_directory(arg, ec)) {
      paths.push_back(arg);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
      if (entry.path().extension() == ".txt" && !entry.is_directory()) found.push_back(entry.path().string());
    }
    if (ec || found.empty()) {
      *error = fmt::format("scenario: '{}' is a directory with no *.txt scenario files{}", arg,
                           ec ? fmt::format(" ({})", ec.message()) : "");
      return std::nullopt;
    }
    std::sort(found.begin(), found.end());
    paths.insert(paths.end(), found.begin(), found.end());
  }
  return paths;
}

int run_scenario_files(const std::vector<std::string>& paths, bool rewrite, std::ostream& out, std::ostream& err) {
  int code = exit_match;
  std::size_t passed = 0;
  for (const auto& path : paths) {
    auto [file_code, ok] = run_one(path, rewrite, out, err);
    code = std::max(code, file_code);
    passed += ok ? 1 : 0;
  }
  out << fmt::format("{} of {} scenario file(s) passed\n", passed, paths.size());
  return code;
}

}  // namespace vsr::sim
