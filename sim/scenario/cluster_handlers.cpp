// The handlers of the setup commands and of the hand-delivered cluster's commands
// (sim/scenario/handlers.hpp).
#include <fmt/format.h>

#include "sim/limits.hpp"
#include "sim/scenario/handlers.hpp"
#include "sim/scenario/values.hpp"

namespace vsr::sim {

namespace {

constexpr std::uint64_t default_stabilize_ticks = 1000;
constexpr std::uint64_t max_client_id = 1'000'000;

/// "2" or "r2": a replica of the cluster.
std::uint32_t replica_word(const ScenarioDriver& d, std::string_view word) {
  if (!word.empty() && word.front() == 'r') word.remove_prefix(1);
  auto r = static_cast<std::uint32_t>(count_value(word, "replica", 0, 255));
  d.check_replica(r);
  return r;
}

/// "c1" (a client) or a replica.
Endpoint endpoint_arg(const ScenarioDriver& d, std::string_view text, std::string_view what) {
  if (!text.empty() && text.front() == 'c') {
    auto id = count_value(text.substr(1), what, 0, max_client_id);
    if (id < 1 || id > d.client_count()) {
      throw ScriptError{
          fmt::format("{}: client {} is out of range (clients are c1..c{})", what, id, d.client_count())};
    }
    return ClientId(id);
  }
  return ReplicaIndex(static_cast<std::uint8_t>(replica_word(d, text)));
}

std::string all_message_names() {
  std::string s;
  for (std::size_t i = 0; i < message_type_count; ++i) s += fmt::format("{}{}", i > 0 ? ", " : "", message_name(i));
  return s;
}

/// type=T from=E to=E.
QueueFilter filter_args(const ScenarioDriver& d, const ScriptCommand& c) {
  QueueFilter f;
  if (const auto* t = c.arg("type")) {
    for (std::size_t i = 0; i < message_type_count; ++i) {
      if (message_name(i) == *t) f.type = i;
    }
    if (!f.type) throw ScriptError{fmt::format("type: unknown message type '{}' (one of: {})", *t, all_message_names())};
  }
  if (const auto* t = c.arg("from")) f.from = endpoint_arg(d, *t, "from");
  if (const auto* t = c.arg("to")) f.to = endpoint_arg(d, *t, "to");
  return f;
}

/// "(0) (1,2)": groups of replicas.
std::vector<std::vector<std::uint32_t>> parse_groups(const ScenarioDriver& d, const std::vector<std::string>& words) {
  std::vector<std::vector<std::uint32_t>> groups;
  for (const auto& w : words) {
    if (w.size() < 2 || w.front() != '(' || w.back() != ')') {
      throw ScriptError{fmt::format("partition: '{}' is not a group like (0,1)", w)};
    }
    std::vector<std::uint32_t> g;
    std::string_view inner(w.data() + 1, w.size() - 2);
    while (!inner.empty()) {
      auto comma = inner.find(',');
      g.push_back(replica_word(d, inner.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      inner.remove_prefix(comma + 1);
      if (inner.empty()) throw ScriptError{fmt::format("partition: '{}' ends with a comma", w)};
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

std::uint32_t client_arg(const ScriptCommand& c) {
  return static_cast<std::uint32_t>(count_arg(c, "client", 1, 0, max_client_id));
}

}  // namespace

// ---------------------------------------------------------------- setup

void on_seed(ScenarioSession& s, const ScriptCommand& c) {
  if (s.driver) throw ScriptError{"seed: must come before cluster"};
  s.seed = or_throw(parse_seed(c.words[0], "seed"));
  s.print(fmt::format("seed {}", s.seed));
}

void on_cluster(ScenarioSession& s, const ScriptCommand& c) {
  if (s.driver) throw ScriptError{"cluster: the cluster already exists (one per file)"};
  auto replicas = static_cast<std::uint32_t>(count_arg(c, "replicas", 3, min_replicas, max_replicas));
  auto clients = static_cast<std::uint32_t>(count_arg(c, "clients", 1, 0, max_clients));
  ScenarioBounds bounds;
  bounds.checkpoint_interval_ops = static_cast<std::uint32_t>(count_arg(c, "checkpoint", 0, 0, 1'000'000));
  bounds.log_retention_ops =
      static_cast<std::uint32_t>(count_arg(c, "retention", bounds.log_retention_ops, 0, 1u << 30));
  // Config::max_client_sessions (0: unbounded); clients open sessions when it is bounded.
  bounds.max_client_sessions = static_cast<std::uint32_t>(count_arg(c, "sessions", 0, 0, 1'000'000));
  s.driver = std::make_unique<ScenarioDriver>(replicas, clients, s.seed, bounds);
  std::string compaction;
  if (bounds.checkpoint_interval_ops > 0) {
    compaction = fmt::format("; a checkpoint every {} ops, {} entr{} kept below it",
                             bounds.checkpoint_interval_ops, bounds.log_retention_ops,
                             bounds.log_retention_ops == 1 ? "y" : "ies");
  }
  if (bounds.max_client_sessions > 0) {
    compaction += fmt::format("; at most {} client sessions", bounds.max_client_sessions);
  }
  s.print(fmt::format("{} replica{}, {} client{}; r0 is primary of view 0{}", replicas, replicas == 1 ? "" : "s",
                      clients, clients == 1 ? "" : "s", compaction));
}

// ---------------------------------------------------------------- messages

void on_request(ScenarioSession& s, const ScriptCommand& c) {
  std::uint32_t client = client_arg(c);
  s.driver->request(client, or_throw(read_call(c)));
}

void on_deliver(ScenarioSession& s, const ScriptCommand& c) {
  bool drop = bool_arg(c, "drop");
  std::optional<std::uint64_t> count;
  if (const auto* n = c.arg("count")) count = count_value(*n, "count", 0, 1'000'000);
  s.driver->deliver(filter_args(*s.driver, c), drop, count);
}

void on_pending(ScenarioSession& s, const ScriptCommand& c) { s.driver->pending(filter_args(*s.driver, c)); }

// ---------------------------------------------------------------- time

void on_tick(ScenarioSession& s, const ScriptCommand& c) {
  ScenarioDriver& d = *s.driver;
  std::uint64_t n = count_arg(c, "n", 1, 0, 100'000);
  if (c.arg("replica") && c.arg("client")) throw ScriptError{"tick: replica= or client=, not both"};
  std::size_t before = d.queued();
  if (const auto* r = c.arg("replica")) {
    d.tick_replica(replica_word(d, *r), n);
  } else if (c.arg("client")) {
    d.tick_client(client_arg(c), n);
  } else {
    d.tick_all(n);
  }
  d.print_queued_since(before);
}

void on_run(ScenarioSession& s, const ScriptCommand& c) {
  const std::string* f = c.arg("for");
  if (f == nullptr) throw ScriptError{"run: for=DURATION is required (e.g. for=2s)"};
  double drop = probability_arg(c, "drop");
  bool load = bool_arg(c, "load");
  s.driver->run(ticks_value(*f, "for"), drop, load);
}

void on_stabilize(ScenarioSession& s, const ScriptCommand& c) {
  if (c.arg("max") && c.arg("ticks")) throw ScriptError{"stabilize: max= or ticks=, not both"};
  if (const auto* t = c.arg("ticks")) return s.driver->settle(count_value(*t, "ticks", 0, max_scenario_ticks));
  s.driver->stabilize(count_arg(c, "max", default_stabilize_ticks, 0, max_scenario_ticks));
}

// ---------------------------------------------------------------- faults

void on_partition(ScenarioSession& s, const ScriptCommand& c) {
  ScenarioDriver& d = *s.driver;
  if (c.words[0] != "oneway") {
    if (!c.args.empty()) throw ScriptError{"partition: from= and to= apply only to 'partition oneway'"};
    return d.partition(parse_groups(d, c.words));
  }
  if (c.words.size() != 1 || !c.arg("from") || !c.arg("to")) {
    throw ScriptError{"partition oneway: needs from=A to=B and nothing else"};
  }
  d.cut_one_way(replica_word(d, *c.arg("from")), replica_word(d, *c.arg("to")));
}

void on_heal(ScenarioSession& s, const ScriptCommand&) { s.driver->heal(); }

void on_crash(ScenarioSession& s, const ScriptCommand& c) {
  bool wipe = c.words.size() == 2;
  if (wipe && c.words[1] != "wipe") throw ScriptError{fmt::format("crash: '{}' is not 'wipe'", c.words[1])};
  s.driver->crash(replica_word(*s.driver, c.words[0]), wipe);
}

void on_restart(ScenarioSession& s, const ScriptCommand& c) {
  s.driver->restart(replica_word(*s.driver, c.words[0]));
}

void on_hold_persist(ScenarioSession& s, const ScriptCommand& c) {
  s.driver->hold_persist(replica_word(*s.driver, c.words[0]));
}

void on_storage(ScenarioSession& s, const ScriptCommand& c) {
  ScenarioDriver& d = *s.driver;
  const std::uint32_t r = replica_word(d, c.words[0]);
  const std::string& how = c.words[1];
  const auto* op = c.arg("op");
  if (how == "corrupt" || how == "latent") {
    if (op == nullptr) throw ScriptError{fmt::format("storage {}: needs op=K (the op whose record to damage)", how)};
    d.damage(r, how, OpNumber(count_value(*op, "op", 1, UINT64_MAX)));
    return;
  }
  if (op != nullptr) throw ScriptError{fmt::format("storage {}: takes no op=", how)};
  if (how == "torn-crash") {
    d.crash_torn(r);
  } else if (how == "misdirect") {
    d.misdirect_next_write(r);
  } else {
    throw ScriptError{fmt::format("storage: '{}' is not corrupt, latent, torn-crash or misdirect", how)};
  }
}

void on_flush_persist(ScenarioSession& s, const ScriptCommand& c) {
  s.driver->flush_persist(replica_word(*s.driver, c.words[0]));
}

// ---------------------------------------------------------------- views

void on_status(ScenarioSession& s, const ScriptCommand&) { s.driver->status(); }

void on_log(ScenarioSession& s, const ScriptCommand& c) { s.driver->log(replica_word(*s.driver, c.words[0])); }

void on_history(ScenarioSession& s, const ScriptCommand&) { s.driver->history(); }

void on_check(ScenarioSession& s, const ScriptCommand&) {
  if (!s.driver->check()) throw ScriptFailure{"the client history is not linearizable"};
}

}  // namespace vsr::sim
