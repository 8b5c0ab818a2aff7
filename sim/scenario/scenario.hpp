// Scenario scripts: a small text language, in the spirit of etcd-raft's datadriven
// tests, that drives a cluster of real replicas and clients step by step and compares
// what happened with the expected output written in the file.
//
//   # The normal case: one write commits with a quorum.
//   cluster replicas=3 clients=1
//   ----
//   3 replicas, 1 client; r0 is primary of view 0
//
//   request client=1 write key=x value=1
//   ----
//   c1->r0 request{client=1 req=1 op=write x=1}
//
// The parts, one concept per file in sim/scenario/:
//   scenario_file.hpp   the file format: parse, rewrite, diff
//   command.hpp         the command grammar: a line -> name, words, key=value
//   commands.hpp        the command table: name -> spec (usage) and handler
//   handlers.hpp        one handler per command
//   interpreter.hpp     runs a file's commands through the table
//   driver.hpp          the hand-delivered cluster the commands drive (on sim/cluster.hpp)
//   narration.hpp       the lines it prints
//   schedule_text.hpp   the simulator schedule's text format (`sim`, `at`, `op`), read and written
//   values.hpp          argument values (sim/limits.hpp's parsers) and script errors
// Reading files and picking exit codes is tools/scenario_files.hpp's job.
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
// cut is dropped then (and shown as dropped). Clients are never partitioned. The
// replicas live in the simulator's cluster (sim/cluster.hpp), so after every input the
// simulator's safety checks run, the same ones as in a random run; a client history is
// recorded so `check` can run the linearizability checker.
#pragma once

#include "sim/scenario/commands.hpp"
#include "sim/scenario/interpreter.hpp"
#include "sim/scenario/scenario_file.hpp"
#include "sim/scenario/schedule_text.hpp"
