// One handler per scenario command, etcd-raft style: each reads its command's words
// and arguments (already checked against its spec, sim/scenario/commands.hpp), acts
// on the session, and prints into the session's output. The command table maps each
// command name to its handler; its usage line says what the command does.
//
// Handlers throw ScriptError when the command cannot run as written and
// ScriptFailure when a check fails (sim/scenario/values.hpp).
#pragma once

#include "sim/scenario/command.hpp"
#include "sim/scenario/session.hpp"

namespace vsr::sim {

// The setup (sim/scenario/cluster_handlers.cpp).
void on_seed(ScenarioSession& s, const ScriptCommand& c);
void on_cluster(ScenarioSession& s, const ScriptCommand& c);

// The hand-delivered cluster; each needs `cluster` first (sim/scenario/cluster_handlers.cpp).
void on_request(ScenarioSession& s, const ScriptCommand& c);
void on_deliver(ScenarioSession& s, const ScriptCommand& c);
void on_pending(ScenarioSession& s, const ScriptCommand& c);
void on_tick(ScenarioSession& s, const ScriptCommand& c);
void on_partition(ScenarioSession& s, const ScriptCommand& c);
void on_heal(ScenarioSession& s, const ScriptCommand& c);
void on_crash(ScenarioSession& s, const ScriptCommand& c);
void on_restart(ScenarioSession& s, const ScriptCommand& c);
void on_hold_persist(ScenarioSession& s, const ScriptCommand& c);
void on_storage(ScenarioSession& s, const ScriptCommand& c);
void on_flush_persist(ScenarioSession& s, const ScriptCommand& c);
void on_run(ScenarioSession& s, const ScriptCommand& c);
void on_stabilize(ScenarioSession& s, const ScriptCommand& c);
void on_status(ScenarioSession& s, const ScriptCommand& c);
void on_log(ScenarioSession& s, const ScriptCommand& c);
void on_history(ScenarioSession& s, const ScriptCommand& c);
void on_check(ScenarioSession& s, const ScriptCommand& c);

// A simulator schedule (sim/scenario/schedule_text.hpp) and its replay
// (sim/scenario/schedule_handlers.cpp).
void on_sim(ScenarioSession& s, const ScriptCommand& c);
void on_at(ScenarioSession& s, const ScriptCommand& c);
void on_op(ScenarioSession& s, const ScriptCommand& c);
void on_simulate(ScenarioSession& s, const ScriptCommand& c);

}  // namespace vsr::sim
