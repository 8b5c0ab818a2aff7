#include "sim/scenario/scenario_file.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "sim/scenario/commands.hpp"

namespace vsr::sim {

namespace {

/// The lines of `text`, without their line ends ("\n" or "\r\n").
std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

/// `line` without the blanks around it.
std::string trimmed(std::string_view line) {
  std::size_t first = line.find_first_not_of(" \t");
  std::size_t last = line.find_last_not_of(" \t");
  return std::string(line.substr(first, last + 1 - first));
}

/// A line diff (longest common subsequence): ' ' kept, '-' expected only, '+' actual only.
std::vector<std::string> line_diff(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::size_t n = a.size();
  std::size_t m = b.size();
  std::vector<std::vector<std::uint32_t>> lcs(n + 1, std::vector<std::uint32_t>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<std::string> out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      out.push_back(" " + a[i++]);
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push_back("-" + a[i++]);
    } else {
      out.push_back("+" + b[j++]);
    }
  }
  return out;
}

}  // namespace

InputResult<ScenarioFile> parse_scenario(std::string_view path, std::string_view text,
                                         bool allow_missing_separator) {
  ScenarioFile file;
  file.path = std::string(path);
  std::vector<std::string> lines = split_lines(text);
  auto error = [&](std::size_t i, const std::string& why) {
    return InputError{fmt::format("{}:{}: {}", path, i + 1, why)};
  };
  for (std::size_t i = 0; i < lines.size();) {
    const std::string& line = lines[i];
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') {
      file.items.push_back({false, line, 0});
      ++i;
      continue;
    }
    if (line.substr(first) == "----") return error(i, "'----' without a command before it");
    ScenarioBlock block;
    block.line = static_cast<std::uint32_t>(i + 1);
    block.command = trimmed(line);
    if (auto parsed = parse_command(line); !parsed) return error(i, parsed.error().message);
    ++i;
    if (i < lines.size() && lines[i] == "----") {
      block.has_separator = true;
      ++i;
      while (i < lines.size() && !blank(lines[i])) block.expected.push_back(lines[i++]);
    } else if (!allow_missing_separator) {
      return error(block.line - 1, fmt::format("missing '----' after the command '{}' (run with "
                                               "--rewrite to fill in the expected output)",
                                               block.command));
    }
    file.items.push_back({true, "", file.blocks.size()});
    file.blocks.push_back(std::move(block));
  }
  return file;
}

std::string rewrite_scenario(const ScenarioFile& file, const ScenarioRun& run) {
  std::string text;
  for (std::size_t k = 0; k < file.items.size(); ++k) {
    const auto& item = file.items[k];
    if (!item.is_block) {
      text += item.text + "\n";
      continue;
    }
    const ScenarioBlock& b = file.blocks[item.block];
    text += b.command + "\n----\n";
    for (const auto& line : run.actual.at(item.block)) text += line + "\n";
    // A block needs a blank line after it unless the file ends here or one follows.
    bool next_blank = k + 1 < file.items.size() && !file.items[k + 1].is_block && blank(file.items[k + 1].text);
    if (k + 1 < file.items.size() && !next_blank) text += "\n";
  }
  return text;
}

std::string diff_scenario(const ScenarioFile& file, const ScenarioRun& run) {
  std::string out;
  for (std::size_t i = 0; i < file.blocks.size(); ++i) {
    const ScenarioBlock& b = file.blocks[i];
    const auto& actual = run.actual.at(i);
    if (b.has_separator && b.expected == actual) continue;
    out += fmt::format("{}:{}: output differs for `{}`\n--- expected\n+++ actual\n", file.path, b.line, b.command);
    for (const auto& line : line_diff(b.expected, actual)) out += line + "\n";
  }
  return out;
}

}  // namespace vsr::sim
