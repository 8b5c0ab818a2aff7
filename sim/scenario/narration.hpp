// What a scenario prints: messages with their KV operations and results decoded, the
// telemetry events worth a line, and the folding of long runs of executions. The
// driver (sim/scenario/driver.hpp) writes these lines; the expected outputs in
// scenarios/*.txt are made of them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vsr/message.hpp"
#include "vsr/telemetry.hpp"

namespace vsr::sim {

/// A KV operation ("write x=1"), or the raw bytes when they do not decode.
std::string op_text(const Bytes& operation);
/// A KV result ("ok", "x=1"), or the raw bytes when they do not decode.
std::string result_text(const Bytes& result);

/// vsr's format of a message, with the KV operations and results in it decoded.
std::string message_text(const Message& message);

/// "r0->c1 reply{...}": a message on its way.
std::string envelope_text(const Endpoint& from, const Endpoint& to, const Message& message);

/// The line for replica r's telemetry event, when it is one a reader follows (view
/// changes, status and leadership changes, truncation, state transfer, duplicates,
/// recovery); nothing for the others.
std::optional<std::string> event_text(std::uint32_t r, const TelemetryEvent& event);

/// Folds runs of 4 or more lines "rN executes op K: ..." by one replica with
/// consecutive op numbers (same indent) into one line "rN executes ops A..B".
void compact_executions(std::vector<std::string>& lines);

}  // namespace vsr::sim
