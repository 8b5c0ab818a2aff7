#include "sim/scenario/commands.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "sim/scenario/handlers.hpp"
#include "sim/scenario/schedule_text.hpp"

namespace vsr::sim {

namespace {

const std::vector<CommandEntry>& command_table() {
  static const std::vector<CommandEntry> table = {
      {{"seed", 1, 1, {}, "seed N  (before cluster: the seed for run and recovery nonces)"}, on_seed},
      {{"cluster", 0, 0, {"replicas", "clients", "checkpoint", "retention", "sessions"},
        "cluster replicas=N clients=M [checkpoint=OPS retention=OPS] [sessions=S]"},
       on_cluster},
      {{"request", 1, 1, {"client", "key", "value", "from", "to"},
        "request client=K read|write|cas|delete key=K [value=V] [from=A to=B]"},
       on_request, true},
      {{"deliver", 0, 0, {"type", "from", "to", "drop", "count"},
        "deliver [type=T] [from=E] [to=E] [count=N] [drop=true]"},
       on_deliver, true},
      {{"pending", 0, 0, {"type", "from", "to"}, "pending [type=T] [from=E] [to=E]"}, on_pending, true},
      {{"tick", 0, 0, {"replica", "client", "n"}, "tick [replica=N | client=K] [n=COUNT]"}, on_tick, true},
      {{"partition", 1, 32, {"from", "to"}, "partition (0) (1,2)  |  partition oneway from=A to=B"},
       on_partition, true},
      {{"heal", 0, 0, {}, "heal"}, on_heal, true},
      {{"crash", 1, 2, {}, "crash N [wipe]"}, on_crash, true},
      {{"restart", 1, 1, {}, "restart N"}, on_restart, true},
      {{"hold-persist", 1, 1, {}, "hold-persist N"}, on_hold_persist, true},
      {{"storage", 2, 2, {"op"}, "storage N corrupt|latent op=K  |  storage N torn-crash  |  storage N misdirect"},
       on_storage, true},
      {{"flush-persist", 1, 1, {}, "flush-persist N"}, on_flush_persist, true},
      {{"run", 0, 0, {"for", "drop", "load"}, "run for=DURATION [drop=P] [load=true]"}, on_run, true},
      {{"stabilize", 0, 0, {"max", "ticks"}, "stabilize [max=TICKS | ticks=N]"}, on_stabilize, true},
      {{"status", 0, 0, {}, "status"}, on_status, true},
      {{"log", 1, 1, {}, "log N"}, on_log, true},
      {{"history", 0, 0, {}, "history"}, on_history, true},
      {{"check", 0, 0, {}, "check"}, on_check, true},
      // A simulator schedule (sim/scenario/schedule_text.hpp), as `vsr-sim shrink` writes it.
      {sim_spec(), on_sim},
      {at_spec(), on_at},
      {op_spec(), on_op},
      {{"simulate", 0, 0, {}, "simulate"}, on_simulate},
  };
  return table;
}

}  // namespace

const CommandEntry* find_command(std::string_view name) {
  for (const auto& e : command_table()) {
    if (e.spec.name == name) return &e;
  }
  return nullptr;
}

InputResult<ParsedCommand> parse_command(std::string_view line) {
  VSR_SIM_TRY(ScriptCommand command, split_command(line));
  const CommandEntry* entry = find_command(command.name);
  if (entry == nullptr) return InputError{fmt::format("unknown command '{}'", command.name)};
  VSR_SIM_TRYV(check_shape(command, entry->spec));
  return ParsedCommand{entry, std::move(command)};
}

std::string_view scenario_help() {
  static const std::string text = [] {
    std::string s;
    for (const auto& e : command_table()) s += std::string(e.spec.usage) + "\n";
    return s;
  }();
  return text;
}

}  // namespace vsr::sim
