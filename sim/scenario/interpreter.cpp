#include "sim/scenario/interpreter.hpp"

#include <exception>

#include <fmt/format.h>

#include "sim/scenario/commands.hpp"
#include "sim/scenario/narration.hpp"
#include "sim/scenario/session.hpp"
#include "sim/scenario/values.hpp"
#include "vsr/assert.hpp"

namespace vsr::sim {

namespace {

/// Runs one command with its output going to `out`.
void run_command(ScenarioSession& session, const ParsedCommand& parsed, std::vector<std::string>& out) {
  const ScriptCommand& command = parsed.command;
  if (parsed.entry->needs_cluster && !session.driver) {
    throw ScriptError{fmt::format("{}: no cluster yet (start with: cluster replicas=N clients=M)", command.name)};
  }
  session.out = &out;
  if (session.driver) session.driver->set_output(&out);
  parsed.entry->handler(session, command);
  if (session.driver) session.driver->set_output(nullptr);
  session.out = nullptr;
  compact_executions(out);
}

}  // namespace

InputResult<ScenarioRun> run_scenario(const ScenarioFile& file) {
  ScenarioSession session;
  ScenarioRun result;
  result.actual.resize(file.blocks.size());
  for (std::size_t i = 0; i < file.blocks.size(); ++i) {
    const ScenarioBlock& b = file.blocks[i];
    std::vector<std::string>& out = result.actual[i];
    if (!result.failure.empty()) {
      out.push_back("skipped: the scenario failed earlier");
      continue;
    }
    auto where = [&](const std::string& what) { return fmt::format("{}:{}: {}", file.path, b.line, what); };
    auto failed = [&](const std::string& what) {
      out.push_back("FAILED: " + what);
      result.failure = where(what);
    };
    auto parsed = parse_command(b.command);
    if (!parsed) return InputError{where(parsed.error().message)};
    try {
      run_command(session, parsed.value(), out);
    } catch (const ScriptError& e) {
      return InputError{where(e.message)};
    } catch (const ScriptFailure& e) {
      failed(e.message);
    } catch (const AssertionError& e) {
      failed(fmt::format("protocol assertion: {}", e.what()));
    } catch (const std::exception& e) {
      failed(fmt::format("exception: {}", e.what()));
    }
  }
  return result;
}

}  // namespace vsr::sim
