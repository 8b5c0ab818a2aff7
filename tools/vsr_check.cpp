// vsr-check: checks key-value histories (JSON lines or Jepsen EDN) for linearizability.
// Exit codes: 0 all linearizable; 1 some not linearizable; 2 bad input or usage;
// 3 unknown (a timeout or memory bound was reached). With several files the worst
// wins, in the order 2, 1, 3, 0.
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "sim/history_edn.hpp"
#include "sim/history_json.hpp"
#include "sim/lin_html.hpp"
#include "sim/limits.hpp"
#include "sim/linearizability.hpp"

namespace {

using namespace vsr::sim;

enum class Format { automatic, json, edn };

struct Options {
  std::vector<std::string> files;
  Format format = Format::automatic;
  unsigned jobs = 0;
  std::string timeout = "60s";  // --timeout as written (sim/limits.hpp syntax)
  std::uint64_t timeout_us = 60 * vsr::sim::us_per_s;
  std::uint64_t max_memory_mb = 1024;
  std::string html;
};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// By extension, else by the first meaningful characters: EDN starts with ';', '[',
/// '#' or "{:"; JSON lines with "{\"".
Format detect(const std::string& path, std::string_view text) {
  if (ends_with(path, ".edn")) return Format::edn;
  if (ends_with(path, ".jsonl") || ends_with(path, ".json") || ends_with(path, ".ndjson")) return Format::json;
  const auto p = text.find_first_not_of(" \t\r\n,");
  if (p == std::string_view::npos) return Format::json;
  const char c = text[p];
  if (c == ';' || c == '[' || c == '#') return Format::edn;
  const auto q = text.find_first_not_of(" \t\r\n", p + 1);
  return q != std::string_view::npos && (text[q] == ':' || text[q] == '#') ? Format::edn : Format::json;
}

InputResult<History> load(const std::string& path, Format format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InputError{fmt::format("{}: cannot open the file", path)};
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return InputError{fmt::format("{}: read error", path)};
  const std::string text = std::move(buf).str();
  if (format == Format::automatic) format = detect(path, text);
  return format == Format::edn ? parse_history_edn(text, path) : parse_history_json(text, path);
}

int exit_code_for(Verdict v) {
  switch (v) {
    case Verdict::linearizable: return 0;
    case Verdict::not_linearizable: return 1;
    case Verdict::unknown: return 3;
  }
  return 3;
}

int worse(int a, int b) {
  const auto rank = [](int c) { return c == 2 ? 3 : c == 1 ? 2 : c == 3 ? 1 : 0; };
  return rank(a) >= rank(b) ? a : b;
}

void print_result(const std::string& path, const History& h, const CheckResult& r, double ms) {
  fmt::print("{}: {} ({} ops, {} keys, {:.1f} ms)\n", path, to_string(r.verdict), h.ops.size(), r.keys.size(), ms);
  for (const KeyResult& k : r.keys) {
    if (k.verdict == Verdict::linearizable) continue;
    std::string text = explain(h, k);
    for (std::size_t p = 0; (p = text.find('\n', p)) != std::string::npos; p += 3) text.replace(p, 1, "\n  ");
    fmt::print("  {}\n", text);
  }
}

int check_file(const std::string& path, const Options& o, bool& html_written) {
  auto loaded = load(path, o.format);
  if (!loaded) {
    fmt::print(stderr, "vsr-check: {}\n", loaded.error().message);
    return 2;
  }
  const History& h = loaded.value();
  CheckOptions co;
  co.jobs = o.jobs != 0 ? o.jobs : std::max(1U, std::thread::hardware_concurrency());
  if (o.timeout_us > 0) co.timeout = std::chrono::ceil<std::chrono::milliseconds>(std::chrono::microseconds{o.timeout_us});
  co.max_memory_bytes = o.max_memory_mb << 20;
  const auto t0 = std::chrono::steady_clock::now();
  const CheckResult r = check(h, co);
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  print_result(path, h, r, ms);
  if (!o.html.empty() && !html_written) {
    for (const KeyResult& k : r.keys) {
      if (!k.violation) continue;
      std::ofstream out(o.html, std::ios::binary);
      out << violation_html(h, k, path);
      if (!out) {
        fmt::print(stderr, "vsr-check: cannot write {}\n", o.html);
        return 2;
      }
      fmt::print("  report: {} (key {:?})\n", o.html, k.key);
      html_written = true;
      break;
    }
  }
  return exit_code_for(r.verdict);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"vsr-check: checks key-value histories for linearizability (read/write/cas/delete).\n"
               "Formats: JSON lines or Jepsen/Knossos EDN (docs/HISTORY_FORMAT.md).\n"
               "Exit: 0 linearizable, 1 not linearizable, 2 bad input or usage, 3 unknown."};
  app.add_option("files", o.files, "History files")->required()->check(CLI::ExistingFile);
  app.add_option("--format", o.format, "Input format: auto (default; by extension, then content), json, edn")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Format>{{"auto", Format::automatic}, {"json", Format::json}, {"edn", Format::edn}},
          CLI::ignore_case));
  app.add_option("-j,--jobs", o.jobs, "Keys checked in parallel (default: hardware threads)")
      ->check(CLI::Range(0U, 1024U));
  app.add_option("--timeout", o.timeout,
                 fmt::format("Time per file before unfinished keys are unknown, e.g. 60s, 500ms, 5m (a bare "
                             "number: seconds; 0: none; at most {})",
                             format_duration(max_check_timeout_us)))
      ->capture_default_str();
  app.add_option("--max-memory", o.max_memory_mb, "MiB for the search's memo tables, all jobs together")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 30));
  app.add_option("--html", o.html, "Write an HTML report of the first violation found to this file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  auto timeout_us = parse_duration_us(o.timeout, "--timeout", 0, max_check_timeout_us);
  if (!timeout_us) {
    fmt::print(stderr, "vsr-check: {}\n", timeout_us.error().message);
    return 2;
  }
  o.timeout_us = timeout_us.value();
  int code = 0;
  bool html_written = false;
  for (const std::string& f : o.files) code = worse(code, check_file(f, o, html_written));
  if (!o.html.empty() && !html_written) fmt::print("no violation: {} not written\n", o.html);
  return code;
}
