#include "sim/scenario.hpp"

#include <algorithm>
#include <charconv>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "sim/invariants.hpp"
#include "sim/kv_call.hpp"
#include "sim/limits.hpp"
#include "sim/linearizability.hpp"
#include "sim/prng.hpp"
#include "sim/schedule.hpp"
#include "sim/sim_host.hpp"
#include "sim/simulator.hpp"
#include "vsr/assert.hpp"
#include "vsr/client.hpp"
#include "vsr/config.hpp"
#include "vsr/kv.hpp"
#include "vsr/output.hpp"
#include "vsr/replica.hpp"

namespace vsr::sim {

namespace {

// ================================================================ commands

/// A script error at run time: the command cannot run as written.
struct ScriptError {
  std::string message;
};

/// A failed check or a protocol assertion: the run stops, the file fails.
struct Fatal {
  std::string message;
};

/// One command line split into words: the name, positional words, key=value pairs.
struct Command {
  std::string name;
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::string>> args;

  [[nodiscard]] const std::string* arg(std::string_view key) const {
    for (const auto& [k, v] : args) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

struct CommandSpec {
  std::string_view name;
  std::size_t min_words;
  std::size_t max_words;
  std::vector<std::string_view> keys;
  std::string_view usage;
};

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs = {
      {"seed", 1, 1, {}, "seed N  (before cluster: the seed for run and recovery nonces)"},
      {"cluster", 0, 0, {"replicas", "clients"}, "cluster replicas=N clients=M"},
      {"request", 1, 1, {"client", "key", "value", "from", "to"},
       "request client=K read|write|cas|delete key=K [value=V] [from=A to=B]"},
      {"deliver", 0, 0, {"type", "from", "to", "drop", "count"},
       "deliver [type=T] [from=E] [to=E] [count=N] [drop=true]"},
      {"pending", 0, 0, {"type", "from", "to"}, "pending [type=T] [from=E] [to=E]"},
      {"tick", 0, 0, {"replica", "client", "n"}, "tick [replica=N | client=K] [n=COUNT]"},
      {"partition", 1, 32, {"from", "to"}, "partition (0) (1,2)  |  partition oneway from=A to=B"},
      {"heal", 0, 0, {}, "heal"},
      {"crash", 1, 2, {}, "crash N [wipe]"},
      {"restart", 1, 1, {}, "restart N"},
      {"hold-persist", 1, 1, {}, "hold-persist N"},
      {"flush-persist", 1, 1, {}, "flush-persist N"},
      {"run", 0, 0, {"for", "drop", "load"}, "run for=DURATION [drop=P] [load=true]"},
      {"stabilize", 0, 0, {"max", "ticks"}, "stabilize [max=TICKS | ticks=N]"},
      {"status", 0, 0, {}, "status"},
      {"log", 1, 1, {}, "log N"},
      {"history", 0, 0, {}, "history"},
      {"check", 0, 0, {}, "check"},
      // A simulator schedule (sim/schedule.hpp), as `vsr-sim shrink` writes it.
      {"sim", 0, 0, {"seed", "replicas", "clients", "for", "liveness", "keys", "tick", "drift-ppm",
                     "delay-min", "delay-mean", "tail-p", "tail-mean", "drop", "dup", "client-drop",
                     "disk-mean", "disk-slow-p", "disk-slow-mean", "give-up", "pipeline"},
       "sim seed=N replicas=N clients=M for=TIME [network, disk and clock keys...]"},
      {"at", 2, 4, {"cut", "from", "to", "until"},
       "at TIME crash N [wipe] | restart N | pause N | resume N | partition cut=A>B,... | heal | "
       "clog from=A to=B until=TIME"},
      {"op", 1, 1, {"client", "think", "key", "value", "from", "to"},
       "op client=K think=TIME read|write|cas|delete key=K [value=V] [from=A to=B]"},
      {"simulate", 0, 0, {}, "simulate"},
  };
  return specs;
}

const CommandSpec* find_spec(std::string_view name) {
  for (const auto& s : command_specs()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

/// Splits and validates the shape of a command (name, word count, known keys).
std::optional<Command> parse_command(std::string_view line, std::string* error) {
  Command c;
  std::istringstream in{std::string(line)};
  std::string word;
  bool first = true;
  while (in >> word) {
    if (first) {
      c.name = word;
      first = false;
      continue;
    }
    auto eq = word.find('=');
    if (eq == std::string::npos) {
      c.words.push_back(word);
      continue;
    }
    std::string key = word.substr(0, eq);
    std::string value = word.substr(eq + 1);
    if (key.empty() || value.empty()) {
      *error = fmt::format("bad argument '{}': expected key=value", word);
      return std::nullopt;
    }
    if (c.arg(key) != nullptr) {
      *error = fmt::format("argument '{}' given twice", key);
      return std::nullopt;
    }
    c.args.emplace_back(std::move(key), std::move(value));
  }
  const CommandSpec* spec = find_spec(c.name);
  if (spec == nullptr) {
    *error = fmt::format("unknown command '{}'", c.name);
    return std::nullopt;
  }
  for (const auto& [k, v] : c.args) {
    if (std::find(spec->keys.begin(), spec->keys.end(), k) == spec->keys.end()) {
      *error = fmt::format("{}: unknown argument '{}' (usage: {})", c.name, k, spec->usage);
      return std::nullopt;
    }
  }
  if (c.words.size() < spec->min_words || c.words.size() > spec->max_words) {
    *error = fmt::format("{}: wrong number of arguments (usage: {})", c.name, spec->usage);
    return std::nullopt;
  }
  return c;
}

// ================================================================ value parsing

std::uint64_t parse_uint(std::string_view text, std::string_view what, std::uint64_t max) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end) {
    throw ScriptError{fmt::format("{}: '{}' is not a non-negative integer", what, text)};
  }
  if (v > max) throw ScriptError{fmt::format("{}: {} is larger than {}", what, v, max)};
  return v;
}

std::int64_t parse_int(std::string_view text, std::string_view what) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end) {
    throw ScriptError{fmt::format("{}: '{}' is not an integer (values are integers, so the "
                                  "linearizability checker can model them)",
                                  what, text)};
  }
  return v;
}

bool parse_bool(std::string_view text, std::string_view what) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw ScriptError{fmt::format("{}: '{}' is not true or false", what, text)};
}

/// The value of a shared parser (sim/limits.hpp), or its error as a ScriptError.
template <class T>
T or_throw(InputResult<T> r) {
  if (!r) throw ScriptError{r.error().message};
  return std::move(r).value();
}

/// A probability in sim/limits.hpp's one syntax (`0.25`, `1e-05`).
double script_probability(std::string_view text, std::string_view what) {
  return or_throw(parse_probability(text, what));
}

/// A bounded count (sim/limits.hpp): `what: N exceeds the maximum M`.
std::uint64_t parse_count(std::string_view text, std::string_view what, std::uint64_t min, std::uint64_t max) {
  return or_throw(parse_bounded_uint(text, what, min, max));
}

/// `run for=`: a duration (sim/limits.hpp's syntax, at most max_sim_duration_us), or
/// "50ticks", in ticks of 10 ms (the simulator's default tick); at least one tick.
std::uint64_t parse_duration_ticks(std::string_view text) {
  constexpr std::string_view ticks_unit = "ticks";
  if (text.size() > ticks_unit.size() && text.ends_with(ticks_unit)) {
    return parse_count(text.substr(0, text.size() - ticks_unit.size()), "for", 1, max_scenario_ticks);
  }
  std::uint64_t ticks = or_throw(parse_duration_us(text, "for", 1, max_sim_duration_us)) / scenario_tick_us;
  if (ticks == 0) {
    throw ScriptError{fmt::format("for: '{}' is shorter than one tick ({})", text, format_duration(scenario_tick_us))};
  }
  return ticks;
}

// ================================================================ formatting

std::string op_text(const Bytes& b) {
  auto op = decode_kv_op(b);
  return op ? fmt::format("{}", op.value()) : format_bytes(b);
}

std::string result_text(const Bytes& b) {
  auto r = decode_kv_result(b);
  return r ? fmt::format("{}", r.value()) : format_bytes(b);
}

std::string entry_text(const LogEntry& e) {
  return fmt::format("{{v={} c={} req={} op={}}}", e.view, e.client, e.request, op_text(e.operation));
}

/// The vsr fmt format of a message, with KV operations and results decoded.
std::string message_text(const Message& message) {
  if (const auto* m = std::get_if<Request>(&message)) {
    return fmt::format("request{{client={} req={} op={}}}", m->client, m->request, op_text(m->operation));
  }
  if (const auto* m = std::get_if<Prepare>(&message)) {
    return fmt::format("prepare{{from={} view={} op={} commit={} entry={}}}", m->replica, m->view,
                       m->op, m->commit, entry_text(m->entry));
  }
  if (const auto* m = std::get_if<Reply>(&message)) {
    return fmt::format("reply{{from={} view={} client={} req={} result={}}}", m->replica, m->view,
                       m->client, m->request, result_text(m->result));
  }
  return fmt::format("{}", message);
}

std::string endpoint_text(const Endpoint& e) { return fmt::format("{}", e); }

// ================================================================ the driver

struct Envelope {
  Endpoint from;
  Endpoint to;
  Message message;
};

struct MessageFilter {
  std::optional<std::size_t> type;
  std::optional<Endpoint> from;
  std::optional<Endpoint> to;

  [[nodiscard]] bool matches(const Envelope& e) const {
    return (!type || e.message.index() == *type) && (!from || e.from == *from) && (!to || e.to == *to);
  }
};

std::optional<std::size_t> message_type(std::string_view name) {
  for (std::size_t i = 0; i < message_type_count; ++i) {
    if (message_name(i) == name) return i;
  }
  return std::nullopt;
}

std::string all_message_names() {
  std::string s;
  for (std::size_t i = 0; i < message_type_count; ++i) {
    if (i > 0) s += ", ";
    s += message_name(i);
  }
  return s;
}

constexpr std::uint32_t client_timeout_ticks = 30;
constexpr std::uint64_t default_stabilize_ticks = 1000;
constexpr std::size_t max_deliveries_per_round = 200'000;

/// A deterministic cluster driven one command at a time (see scenario.hpp).
class Cluster {
 public:
  Cluster(std::uint32_t replicas, std::uint32_t clients, std::uint64_t seed)
      : checker_(replicas),
        schedule_rng_(Prng::stream(seed, Stream::network)),
        workload_rng_(Prng::stream(seed, Stream::workload)),
        nonce_rng_(Prng::stream(seed, Stream::nonces)),
        blocked_(replicas, std::vector<bool>(replicas, false)) {
    for (std::uint32_t r = 0; r < replicas; ++r) {
      nodes_.emplace_back(SimHost(config(r), checker_));
      nodes_.back().host.boot();
    }
    ClientConfig cc = ClientConfig::make(replicas, client_timeout_ticks).value();
    for (std::uint32_t c = 1; c <= clients; ++c) clients_.push_back(ClientNode{Client(ClientId(c), cc), {}, {}});
    for (std::uint32_t r = 0; r < replicas; ++r) absorb(r);
  }
  Cluster(const Cluster&) = delete;  // the hosts point at checker_
  Cluster& operator=(const Cluster&) = delete;

  // ------------------------------------------------------------ output

  /// Lines go to `lines` (or nowhere when null), each prefixed with `indent`.
  void set_output(std::vector<std::string>* lines) { out_ = lines; }

  // ------------------------------------------------------------ commands

  void request(std::uint32_t c, OpCall call) {
    ClientNode& node = client(c);
    if (node.client.busy()) {
      throw ScriptError{fmt::format("client {} already waits for request #{} (one request at a time)",
                                    c, node.client.last_request())};
    }
    submit(node, c, std::move(call));
    for (auto it = queue_.end() - static_cast<std::ptrdiff_t>(last_sent_); it != queue_.end(); ++it) {
      print("{}->{} {}", endpoint_text(it->from), endpoint_text(it->to), message_text(it->message));
    }
  }

  /// Delivers (or drops) the messages queued now that match; `count` bounds how many.
  void deliver(const MessageFilter& f, bool drop, std::optional<std::uint64_t> count) {
    std::vector<Envelope> batch;
    std::deque<Envelope> rest;
    while (!queue_.empty()) {
      Envelope e = std::move(queue_.front());
      queue_.pop_front();
      if (f.matches(e) && (!count || batch.size() < *count)) {
        batch.push_back(std::move(e));
      } else {
        rest.push_back(std::move(e));
      }
    }
    queue_ = std::move(rest);
    if (batch.empty()) {
      print("no matching messages");
      return;
    }
    for (auto& e : batch) {
      std::string line = fmt::format("{}->{} {}", endpoint_text(e.from), endpoint_text(e.to), message_text(e.message));
      if (drop) {
        print("{} [dropped]", line);
        continue;
      }
      deliver_one(std::move(e), line, "  ");
    }
  }

  void pending(const MessageFilter& f) const {
    std::size_t n = 0;
    for (const auto& e : queue_) {
      if (!f.matches(e)) continue;
      print("{}->{} {}", endpoint_text(e.from), endpoint_text(e.to), message_text(e.message));
      ++n;
    }
    if (n == 0) print("no pending messages");
  }

  void tick_replica(std::uint32_t r, std::uint64_t n) {
    Node& node = up_node(r);
    (void)node;
    for (std::uint64_t k = 0; k < n; ++k) {
      nodes_[r].host.replica().tick();
      absorb(r);
    }
  }

  void tick_client(std::uint32_t c, std::uint64_t n) {
    ClientNode& node = client(c);
    for (std::uint64_t k = 0; k < n; ++k) {
      node.client.tick();
      pump_client(c);
    }
  }

  void tick_all(std::uint64_t n) {
    for (std::uint64_t k = 0; k < n; ++k) tick_round();
  }

  [[nodiscard]] std::size_t queued() const { return queue_.size(); }

  /// "queued 2 messages: commit x2" for the messages after the first `before`.
  void print_queued_since(std::size_t before) const {
    if (queue_.size() <= before) return;
    std::map<std::string_view, std::size_t> by_type;
    for (std::size_t i = before; i < queue_.size(); ++i) ++by_type[message_name(queue_[i].message)];
    std::string what;
    for (const auto& [name, n] : by_type) what += fmt::format("{}{} x{}", what.empty() ? "" : ", ", name, n);
    print("queued {} message(s): {}", queue_.size() - before, what);
  }

  void partition(const std::vector<std::vector<std::uint32_t>>& groups) {
    std::vector<int> group(size(), -1);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      for (auto r : groups[g]) {
        check_replica(r);
        if (group[r] >= 0) throw ScriptError{fmt::format("partition: replica {} is in two groups", r)};
        group[r] = static_cast<int>(g);
      }
    }
    for (std::uint32_t r = 0; r < size(); ++r) {
      if (group[r] < 0) group[r] = static_cast<int>(groups.size() + r);  // alone
    }
    for (std::uint32_t a = 0; a < size(); ++a) {
      for (std::uint32_t b = 0; b < size(); ++b) blocked_[a][b] = group[a] != group[b];
    }
    print_links();
  }

  void cut_one_way(std::uint32_t from, std::uint32_t to) {
    check_replica(from);
    check_replica(to);
    if (from == to) throw ScriptError{"partition oneway: from and to are the same replica"};
    blocked_[from][to] = true;
    print_links();
  }

  void heal() {
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    print("every link is up");
  }

  void crash(std::uint32_t r, bool wipe) {
    Node& node = up_node(r);
    std::size_t lost = node.host.host().unpersisted_writes();
    std::size_t lost_messages = node.host.host().waiting_messages();
    // A script may wipe more than f replicas (no wipe budget): it shows what happens.
    node.host.crash(wipe);
    node.hold = false;
    std::string what = fmt::format("r{} crashed", r);
    if (lost > 0 || lost_messages > 0) {
      what += fmt::format(", losing {} unpersisted write(s) and {} message(s) waiting on them", lost,
                          lost_messages);
    }
    const PersistedState& disk = node.host.disk();
    if (wipe) {
      what += "; its disk is wiped";
    } else {
      what += fmt::format("; disk keeps view={} last_normal={} op={} commit={}", disk.state.view,
                          disk.state.last_normal_view, disk.log.size(), disk.state.commit);
    }
    print("{}", what);
  }

  void restart(std::uint32_t r) {
    check_replica(r);
    Node& node = nodes_[r];
    if (node.host.up()) throw ScriptError{fmt::format("restart: replica {} is up (crash it first)", r)};
    bool recover = node.host.needs_recovery();
    std::optional<CheckFailure> broken = node.host.restart([&] { return nonce_rng_.next(); });
    const Replica& x = node.host.replica();
    if (recover) {
      print("r{} restarts with an empty disk and runs recovery", r);
    } else {
      print("r{} restarts from its disk: view={} status={} op={} commit={}", r, x.view(),
            status_name(x.status()), x.op(), x.commit());
    }
    if (broken) fatal(*broken);
    absorb(r);
  }

  void hold_persist(std::uint32_t r) {
    up_node(r).hold = true;
    print("r{} holds its persists: writes stay in flight until flush-persist or a crash", r);
  }

  void flush_persist(std::uint32_t r) {
    Node& node = up_node(r);
    std::size_t n = node.host.host().unpersisted_writes();
    std::size_t m = node.host.host().waiting_messages();
    node.hold = false;
    release(r);
    print("r{} completes {} write(s) and releases {} message(s)", r, n, m);
  }

  /// The random schedule: `rounds` rounds of 10 ms; see scenario_help().
  void run(std::uint64_t rounds, double drop, bool load) {
    std::vector<std::string>* saved = out_;
    out_ = nullptr;
    std::uint64_t delivered_before = delivered_;
    std::uint64_t dropped_before = dropped_;
    std::uint64_t completed_before = completed_;
    std::uint64_t view_changes_before = view_changes_;
    for (std::uint64_t t = 0; t < rounds; ++t) {
      tick_round();
      if (load) {
        for (std::uint32_t c = 1; c <= clients_.size(); ++c) {
          if (!client(c).client.busy() && workload_rng_.chance(0.3)) submit(client(c), c, random_call());
        }
      }
      random_deliveries(drop);
    }
    out_ = saved;
    print("ran {} rounds ({} ms): {} messages delivered, {} dropped, {} requests completed, {} "
          "view-change completions (summed over replicas)",
          rounds, rounds * 10, delivered_ - delivered_before, dropped_ - dropped_before,
          completed_ - completed_before, view_changes_ - view_changes_before);
  }

  /// Exactly `ticks` rounds of: deliver everything, tick everyone. Then says whether
  /// the cluster is quiet.
  void settle(std::uint64_t ticks) {
    for (std::uint64_t t = 0; t < ticks; ++t) {
      deliver_until_empty();
      tick_round();
    }
    deliver_until_empty();
    print("{} after {} tick(s)", quiet() ? "quiet" : "not quiet", ticks);
  }

  void stabilize(std::uint64_t max_ticks) {
    for (std::uint64_t t = 0;; ++t) {
      deliver_until_empty();
      if (quiet()) {
        print("quiet after {} tick(s)", t);
        return;
      }
      if (t == max_ticks) break;
      tick_round();
    }
    print("not quiet after {} ticks", max_ticks);
  }

  void status() const {
    for (std::uint32_t r = 0; r < size(); ++r) {
      const Node& n = nodes_[r];
      if (!n.host.up()) {
        const PersistedState& disk = n.host.disk();
        if (n.host.needs_recovery()) {
          print("r{}: down, disk wiped", r);
        } else {
          print("r{}: down (disk: view={} op={} commit={})", r, disk.state.view, disk.log.size(),
                disk.state.commit);
        }
        continue;
      }
      const Replica& x = n.host.replica();
      std::string role;
      if (x.status() == StatusKind::normal) {
        role = x.is_primary() ? " primary" : " backup";
      } else {
        role = fmt::format(" last_normal={}", x.last_normal_view());
      }
      std::size_t unpersisted = n.host.host().unpersisted_writes();
      std::string held = unpersisted == 0 ? "" : fmt::format(" unpersisted={}", unpersisted);
      print("r{}: view={} {}{} op={} commit={}{}", r, x.view(), status_name(x.status()), role, x.op(),
            x.commit(), held);
    }
    for (std::uint32_t c = 1; c <= clients_.size(); ++c) {
      const Client& cl = clients_[c - 1].client;
      if (cl.busy()) {
        print("c{}: waiting for #{} (believes view {})", c, cl.last_request(), cl.view());
      } else {
        print("c{}: idle after #{} (believes view {})", c, cl.last_request(), cl.view());
      }
    }
    std::string cut;
    for (std::uint32_t a = 0; a < size(); ++a) {
      for (std::uint32_t b = 0; b < size(); ++b) {
        if (blocked_[a][b]) cut += fmt::format(" r{}->r{}", a, b);
      }
    }
    if (!cut.empty()) print("links cut:{}", cut);
    print("pending messages: {}", queue_.size());
  }

  void log(std::uint32_t r) const {
    check_replica(r);
    const Node& n = nodes_[r];
    bool up = n.host.up();
    const std::vector<LogEntry>& entries = up ? n.host.replica().log() : n.host.disk().log;
    std::uint64_t commit = up ? n.host.replica().commit().value : n.host.disk().state.commit.value;
    if (!up) print("r{} is down; its disk holds:", r);
    if (entries.empty()) print("(empty log)");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const LogEntry& e = entries[i];
      print("{} v{} c{}#{} {}{}", i + 1, e.view, e.client, e.request, op_text(e.operation),
            i + 1 <= commit ? " [committed]" : "");
    }
  }

  void history() const {
    const History& h = recorder_.history();
    if (h.ops.empty()) print("(no operations)");
    for (const Op& op : h.ops) print("{}: {}", op.call.key, describe(op));
  }

  /// Returns false when the history is not linearizable.
  bool check() const {
    print("safety: ok (every check passed after every step)");
    CheckResult r = vsr::sim::check(recorder_.history());
    std::size_t pending = 0;
    for (const Op& op : recorder_.history().ops) pending += op.outcome == Outcome::pending ? 1 : 0;
    if (r.verdict == Verdict::linearizable) {
      print("linearizable: yes ({} ops, {} still pending)", r.op_count, pending);
      return true;
    }
    print("linearizable: {} ({} ops)", to_string(r.verdict), r.op_count);
    for (const KeyResult& k : r.keys) {
      if (k.verdict == Verdict::linearizable) continue;
      std::istringstream lines(explain(recorder_.history(), k));
      std::string line;
      while (std::getline(lines, line)) {
        if (!line.empty()) print("  {}", line);
      }
    }
    return r.verdict != Verdict::not_linearizable;
  }

  [[nodiscard]] std::uint32_t size() const { return static_cast<std::uint32_t>(nodes_.size()); }
  [[nodiscard]] std::uint32_t client_count() const { return static_cast<std::uint32_t>(clients_.size()); }

  void check_replica(std::uint32_t r) const {
    if (r >= size()) {
      throw ScriptError{fmt::format("replica {} is out of range (replicas are 0..{})", r, size() - 1)};
    }
  }

 private:
  struct Node {
    explicit Node(SimHost h) : host(std::move(h)) {}
    SimHost host;       // replica, disk, writes in flight and the messages waiting on them
    bool hold = false;  // hold-persist: writes stay in flight until flush-persist
  };
  struct ClientNode {
    Client client;
    std::optional<HistoryRecorder::OpIndex> op;
    OpCall call;
  };

  [[nodiscard]] Config config(std::uint32_t r) const {
    auto c = Config::make(static_cast<std::uint32_t>(blocked_.size()), ReplicaIndex(static_cast<std::uint8_t>(r)));
    return c.value();
  }

  Node& up_node(std::uint32_t r) {
    check_replica(r);
    if (!nodes_[r].host.up()) throw ScriptError{fmt::format("replica {} is down", r)};
    return nodes_[r];
  }

  ClientNode& client(std::uint32_t c) {
    if (c < 1 || c > clients_.size()) {
      throw ScriptError{fmt::format("client {} is out of range (clients are 1..{})", c, clients_.size())};
    }
    return clients_[c - 1];
  }

  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) const {
    if (out_ != nullptr) out_->push_back(indent_ + fmt::format(format, std::forward<Args>(args)...));
  }

  [[noreturn]] void fatal(const CheckFailure& f) {
    throw Fatal{fmt::format("safety violation [{}]: {}", f.check, f.detail)};
  }

  void print_links() const {
    std::string cut;
    for (std::uint32_t a = 0; a < size(); ++a) {
      for (std::uint32_t b = 0; b < size(); ++b) {
        if (blocked_[a][b]) cut += fmt::format(" r{}->r{}", a, b);
      }
    }
    print("links cut:{}", cut.empty() ? " none" : cut);
  }

  void submit(ClientNode& node, std::uint32_t c, OpCall call) {
    auto index = recorder_.invoke(c, call, static_cast<std::int64_t>(now_));
    if (!index) throw ScriptError{index.error().message};
    node.op = index.value();
    node.call = std::move(call);
    node.client.submit(encode_kv_op(to_kv(node.call)));
    pump_client(c);
  }

  OpCall random_call() {
    static constexpr std::array<const char*, 2> keys = {"x", "y"};
    std::string key = keys[workload_rng_.below(keys.size())];
    std::uint64_t pick = workload_rng_.below(10);
    if (pick < 3) return OpCall::read(key);
    std::int64_t v = next_value_++;
    if (pick < 8) return OpCall::write(key, v);
    auto last = last_written_.find(key);
    std::int64_t from = last == last_written_.end() ? 0 : last->second;
    return OpCall::cas(key, from, v);
  }

  /// One round of time: every live replica ticks once (in index order), then every client.
  void tick_round() {
    ++now_;
    for (std::uint32_t r = 0; r < size(); ++r) {
      if (!nodes_[r].host.up()) continue;
      nodes_[r].host.replica().tick();
      absorb(r);
    }
    for (std::uint32_t c = 1; c <= clients_.size(); ++c) {
      clients_[c - 1].client.tick();
      pump_client(c);
    }
  }

  /// Nothing pending, no client waiting, no write in flight, and every live replica
  /// normal, in the same view, with everything in its log committed.
  [[nodiscard]] bool quiet() const {
    if (!queue_.empty()) return false;
    for (const auto& c : clients_) {
      if (c.client.busy()) return false;
    }
    std::optional<ViewNumber> view;
    for (const auto& n : nodes_) {
      if (!n.host.up()) continue;
      const Replica& x = n.host.replica();
      if (n.host.host().unpersisted_writes() > 0 || x.status() != StatusKind::normal || x.commit() != to_commit(x.op())) return false;
      if (view && *view != x.view()) return false;
      view = x.view();
    }
    return true;
  }

  void deliver_until_empty() {
    std::size_t n = 0;
    while (!queue_.empty()) {
      if (++n > max_deliveries_per_round) {
        throw Fatal{"stabilize: messages keep coming without time passing (more than 200000 deliveries)"};
      }
      Envelope e = std::move(queue_.front());
      queue_.pop_front();
      deliver_one(std::move(e), "", "");
    }
  }

  void random_deliveries(double drop) {
    std::vector<Envelope> now;
    std::vector<Envelope> later;
    std::size_t n = queue_.size();
    for (std::size_t i = 0; i < n; ++i) {
      Envelope e = std::move(queue_.front());
      queue_.pop_front();
      bool local = e.from == e.to;
      if (!local && schedule_rng_.chance(0.2)) {
        later.push_back(std::move(e));  // delayed to a later round: reordering
      } else if (!local && schedule_rng_.chance(drop)) {
        ++dropped_;
      } else {
        now.push_back(std::move(e));
      }
    }
    for (auto it = later.rbegin(); it != later.rend(); ++it) queue_.push_front(std::move(*it));
    for (std::size_t i = now.size(); i > 1; --i) std::swap(now[i - 1], now[schedule_rng_.below(i)]);
    for (auto& e : now) deliver_one(std::move(e), "", "");
  }

  /// Delivers one message. When `line` is non-empty it is printed first, with the
  /// reason if the message is lost; the consequences are printed with `indent`.
  void deliver_one(Envelope e, const std::string& line, const std::string& indent) {
    auto say = [&](std::string_view suffix) {
      if (!line.empty()) print("{}{}", line, suffix);
    };
    if (const auto* c = std::get_if<ClientId>(&e.to)) {
      const auto* reply = std::get_if<Reply>(&e.message);
      if (reply == nullptr || c->value < 1 || c->value > clients_.size()) {
        say(" [dropped: no such client]");
        ++dropped_;
        return;
      }
      say("");
      ++delivered_;
      std::string saved = std::exchange(indent_, indent);
      clients_[c->value - 1].client.step(*reply);
      pump_client(static_cast<std::uint32_t>(c->value));
      indent_ = saved;
      return;
    }
    std::uint32_t r = std::get<ReplicaIndex>(e.to).value;
    if (!nodes_[r].host.up()) {
      say(fmt::format(" [lost: r{} is down]", r));
      ++dropped_;
      return;
    }
    if (const auto* s = std::get_if<ReplicaIndex>(&e.from); s != nullptr && blocked_[s->value][r]) {
      say(" [dropped: partition]");
      ++dropped_;
      return;
    }
    say("");
    ++delivered_;
    std::string saved = std::exchange(indent_, indent);
    nodes_[r].host.replica().step(e.message);
    absorb(r);
    indent_ = saved;
  }

  void pump_client(std::uint32_t c) {
    ClientNode& node = clients_[c - 1];
    ClientOutput o = node.client.take_output();
    last_sent_ = o.send.size();
    for (auto& s : o.send) queue_.push_back({node.client.id(), s.to, std::move(s.message)});
    for (const auto& ev : o.events) {
      if (ev.kind == EventKind::client_request_resend) {
        print("c{} resends #{} to every replica", c, ev.detail);
      }
    }
    if (o.completed) complete(c, *o.completed);
  }

  void complete(std::uint32_t c, const ClientCompletion& done) {
    ClientNode& node = clients_[c - 1];
    if (!node.op) return;
    auto decoded = decode_kv_result(done.result);
    if (!decoded) throw Fatal{"a replica sent a result that does not decode"};
    const KvResult& r = decoded.value();
    Outcome outcome = r.status == KvStatus::ok ? Outcome::ok : Outcome::fail;
    Value value;
    if (node.call.kind == OpKind::read) {
      outcome = Outcome::ok;
      if (r.value) {
        std::int64_t v = 0;
        auto [p, ec] = std::from_chars(r.value->data(), r.value->data() + r.value->size(), v);
        if (ec == std::errc{} && p == r.value->data() + r.value->size()) value = v;
      }
    }
    CasError cas_error = r.status == KvStatus::not_found             ? CasError::not_found
                         : r.status == KvStatus::precondition_failed ? CasError::precondition_failed
                                                                     : CasError::unspecified;
    auto ok = recorder_.complete(*node.op, outcome, value, static_cast<std::int64_t>(now_), cas_error);
    if (!ok) throw Fatal{ok.error().message};
    if (node.call.kind == OpKind::write && outcome == Outcome::ok) last_written_[node.call.key] = node.call.value;
    if (node.call.kind == OpKind::cas && outcome == Outcome::ok) last_written_[node.call.key] = node.call.to;
    checker_.on_client_ack(node.client.id(), done.request, done.view);
    ++completed_;
    print("c{} completes #{} {} -> {} (view {})", c, done.request, fmt::format("{}", to_kv(node.call)),
          fmt::format("{}", r), done.view);
    node.op.reset();
  }

  /// Where replica r's messages go: the queue, in the order they leave.
  auto queue_from(std::uint32_t r) {
    return [this, r](Outgoing&& o) {
      queue_.push_back({ReplicaIndex(static_cast<std::uint8_t>(r)), o.to, std::move(o.message)});
    };
  }

  /// Carries out replica r's output like a driver, prints what is notable, and runs
  /// every check.
  void absorb(std::uint32_t r) {
    Node& node = nodes_[r];
    Replica& x = node.host.replica();
    x.take_output(scratch_);
    Output& o = scratch_;
    std::size_t next_committed = 0;
    if (auto f = node.host.check_committed(o)) fatal(*f);
    for (const Fact& f : o.facts) view_changes_ += std::holds_alternative<ViewChangeCompleted>(f);
    for (const TelemetryEvent& ev : o.events) {
      if (ev.kind == EventKind::apply_start && next_committed < o.committed.size()) {
        const Committed& c = o.committed[next_committed++];
        print("r{} executes op {}: c{}#{} {} -> {}", r, c.op, c.client, c.request,
              op_text(x.entry(c.op).operation), result_text(c.result));
        continue;
      }
      print_event(r, ev);
    }
    for (; next_committed < o.committed.size(); ++next_committed) {
      const Committed& c = o.committed[next_committed];
      print("r{} executes op {}: c{}#{} -> {}", r, c.op, c.client, c.request, result_text(c.result));
    }
    node.host.carry_out(o, queue_from(r));
    if (!node.hold) release(r);
    if (auto f = node.host.check_after_input()) fatal(*f);
  }

  /// The writes in flight of r become durable, in order; the messages waiting on them leave.
  void release(std::uint32_t r) { nodes_[r].host.complete_all_writes(queue_from(r)); }

  void print_event(std::uint32_t r, const TelemetryEvent& ev) {
    switch (ev.kind) {
      case EventKind::view_change_start:
        print("r{} starts a view change to view {}", r, ev.view);
        break;
      case EventKind::status_change: {
        const StatusKind s = ev.status;  // the status the replica changed to
        if (s == StatusKind::normal) {
          print("r{} is normal in view {} (op={} commit={})", r, ev.view, ev.op, ev.commit);
        } else if (s == StatusKind::state_transfer) {
          print("r{} starts state transfer in view {}", r, ev.view);
        } else if (s == StatusKind::recovering) {
          print("r{} is recovering", r);
        }
        break;
      }
      case EventKind::leadership_start: print("r{} becomes primary of view {}", r, ev.view); break;
      case EventKind::leadership_stop: print("r{} stops acting as primary", r); break;
      case EventKind::log_truncate: print("r{} truncates its log after op {}", r, ev.detail); break;
      case EventKind::state_transfer_requested:
        print("r{} asks r{} for the log after op {}", r, ev.peer, ev.detail);
        break;
      case EventKind::state_transfer_received:
        print("r{} receives {} log entries from r{}", r, ev.detail, ev.peer);
        break;
      case EventKind::request_duplicate: print("r{} sees a duplicate of request #{}", r, ev.detail); break;
      case EventKind::recovery_complete:
        print("r{} recovered (view {}, op={}, commit={})", r, ev.view, ev.op, ev.commit);
        break;
      default: break;
    }
  }

  InvariantChecker checker_;
  HistoryRecorder recorder_;
  Prng schedule_rng_;
  Prng workload_rng_;
  Prng nonce_rng_;
  std::vector<Node> nodes_;
  std::vector<ClientNode> clients_;
  std::vector<std::vector<bool>> blocked_;  // [from][to]
  std::deque<Envelope> queue_;
  Output scratch_;
  std::vector<std::string>* out_ = nullptr;
  std::string indent_;
  std::size_t last_sent_ = 0;  // messages the last client pump queued
  std::uint64_t now_ = 0;      // tick rounds so far (history times)
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t view_changes_ = 0;
  std::int64_t next_value_ = 100;
  std::map<std::string, std::int64_t> last_written_;
};

// ================================================================ the interpreter

std::uint32_t replica_word(const Cluster& c, std::string_view word) {
  std::string_view w = word;
  if (!w.empty() && w.front() == 'r') w.remove_prefix(1);
  auto r = static_cast<std::uint32_t>(parse_uint(w, "replica", 255));
  c.check_replica(r);
  return r;
}

Endpoint endpoint_arg(const Cluster& c, std::string_view text, std::string_view what) {
  if (!text.empty() && text.front() == 'c') {
    auto id = parse_uint(text.substr(1), what, 1'000'000);
    if (id < 1 || id > c.client_count()) {
      throw ScriptError{fmt::format("{}: client {} is out of range (clients are c1..c{})", what, id, c.client_count())};
    }
    return ClientId(id);
  }
  return ReplicaIndex(static_cast<std::uint8_t>(replica_word(c, text)));
}

MessageFilter filter_args(const Cluster& c, const Command& cmd) {
  MessageFilter f;
  if (const auto* t = cmd.arg("type")) {
    f.type = message_type(*t);
    if (!f.type) throw ScriptError{fmt::format("type: unknown message type '{}' (one of: {})", *t, all_message_names())};
  }
  if (const auto* t = cmd.arg("from")) f.from = endpoint_arg(c, *t, "from");
  if (const auto* t = cmd.arg("to")) f.to = endpoint_arg(c, *t, "to");
  return f;
}

std::vector<std::vector<std::uint32_t>> parse_groups(const Cluster& c, const std::vector<std::string>& words) {
  std::vector<std::vector<std::uint32_t>> groups;
  for (const auto& w : words) {
    if (w.size() < 2 || w.front() != '(' || w.back() != ')') {
      throw ScriptError{fmt::format("partition: '{}' is not a group like (0,1)", w)};
    }
    std::vector<std::uint32_t> g;
    std::string_view inner(w.data() + 1, w.size() - 2);
    while (!inner.empty()) {
      auto comma = inner.find(',');
      std::string_view item = inner.substr(0, comma);
      g.push_back(replica_word(c, item));
      if (comma == std::string_view::npos) break;
      inner.remove_prefix(comma + 1);
      if (inner.empty()) throw ScriptError{fmt::format("partition: '{}' ends with a comma", w)};
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

OpCall request_call(const Command& cmd) {
  const std::string& kind = cmd.words.at(0);
  const std::string* key = cmd.arg("key");
  if (key == nullptr) throw ScriptError{"request: key=K is required"};
  auto need = [&](std::string_view k) -> const std::string& {
    const std::string* v = cmd.arg(k);
    if (v == nullptr) throw ScriptError{fmt::format("request {}: {}=... is required", kind, k)};
    return *v;
  };
  auto forbid = [&](std::initializer_list<std::string_view> keys) {
    for (auto k : keys) {
      if (cmd.arg(k) != nullptr) throw ScriptError{fmt::format("request {}: {}= does not apply", kind, k)};
    }
  };
  if (kind == "read") {
    forbid({"value", "from", "to"});
    return OpCall::read(*key);
  }
  if (kind == "write") {
    forbid({"from", "to"});
    return OpCall::write(*key, parse_int(need("value"), "value"));
  }
  if (kind == "cas") {
    forbid({"value"});
    return OpCall::cas(*key, parse_int(need("from"), "from"), parse_int(need("to"), "to"));
  }
  if (kind == "delete") {
    forbid({"value", "from", "to"});
    return OpCall::del(*key);
  }
  throw ScriptError{fmt::format("request: unknown operation '{}' (read, write, cas or delete)", kind)};
}

// ================================================================ simulator schedules

/// A time in a schedule ("250us", "5ms", "2s"; sim/limits.hpp's syntax) -> microseconds,
/// 0..max_sim_duration_us.
std::uint64_t parse_us(std::string_view text, std::string_view what) {
  return or_throw(parse_duration_us(text, what, 0, max_sim_duration_us));
}

/// Builds a Schedule from `sim`, `at` and `op` commands; `simulate` replays it.
class PlanBuilder {
 public:
  bool active() const { return plan_.has_value(); }

  void sim(const Command& cmd) {
    if (plan_) throw ScriptError{"sim: one schedule per file"};
    Schedule s;
    SwarmParams& p = s.params;
    p.faults = FaultLevel::none;
    auto u = [&](std::string_view key, std::uint64_t fallback, std::uint64_t max = UINT64_MAX) {
      const std::string* v = cmd.arg(key);
      return v ? parse_uint(*v, key, max) : fallback;
    };
    auto t = [&](std::string_view key, std::uint64_t fallback) {
      const std::string* v = cmd.arg(key);
      return v ? parse_us(*v, key) : fallback;
    };
    auto prob = [&](std::string_view key) {
      const std::string* v = cmd.arg(key);
      return v ? script_probability(*v, key) : 0.0;
    };
    p.seed = u("seed", 1);
    auto count = [&](std::string_view key, std::uint64_t fallback, std::uint64_t min, std::uint64_t max) {
      const std::string* v = cmd.arg(key);
      return static_cast<std::uint32_t>(v ? parse_count(*v, key, min, max) : fallback);
    };
    auto positive_time = [&](std::string_view key, std::uint64_t fallback) {
      const std::string* v = cmd.arg(key);
      return v ? or_throw(parse_duration_us(*v, key, 1, max_sim_duration_us)) : fallback;
    };
    p.replica_count = count("replicas", 3, min_replicas, max_replicas);
    if (!Config::make(p.replica_count, ReplicaIndex(0)).has_value()) throw ScriptError{"replicas: not a valid cluster size"};
    p.client_count = count("clients", 1, 0, max_clients);
    s.duration_us = positive_time("for", 1'000'000);
    s.liveness_us = positive_time("liveness", 20'000'000);
    p.key_count = static_cast<std::uint32_t>(u("keys", 3, 1000));
    p.tick_us = positive_time("tick", p.tick_us);
    p.drift_ppm = static_cast<std::uint32_t>(u("drift-ppm", 0, 100'000));
    p.delay_min_us = t("delay-min", p.delay_min_us);
    p.delay_mean_us = t("delay-mean", p.delay_mean_us);
    p.tail_probability = prob("tail-p");
    p.tail_mean_us = t("tail-mean", 0);
    p.drop_probability = prob("drop");
    p.duplicate_probability = prob("dup");
    p.client_drop_probability = prob("client-drop");
    p.disk_latency_mean_us = t("disk-mean", p.disk_latency_mean_us);
    p.disk_slow_probability = prob("disk-slow-p");
    p.disk_slow_mean_us = t("disk-slow-mean", 0);
    p.give_up_us = t("give-up", p.give_up_us);
    p.pipeline_ops = static_cast<std::uint32_t>(u("pipeline", p.pipeline_ops, 1'000'000));
    if (p.pipeline_ops == 0) throw ScriptError{"pipeline: at least 1"};
    s.clients.resize(p.client_count);
    plan_ = std::move(s);
  }

  void at(const Command& cmd) {
    Schedule& s = need("at");
    FaultStep f;
    f.at_us = parse_us(cmd.words[0], "at");
    if (!s.faults.empty() && f.at_us < s.faults.back().at_us) throw ScriptError{"at: faults must be in time order"};
    const std::string& kind = cmd.words[1];
    static const std::map<std::string, FaultStep::Kind, std::less<>> kinds = {
        {"crash", FaultStep::Kind::crash}, {"restart", FaultStep::Kind::restart},
        {"partition", FaultStep::Kind::partition}, {"heal", FaultStep::Kind::heal},
        {"pause", FaultStep::Kind::pause}, {"resume", FaultStep::Kind::resume}, {"clog", FaultStep::Kind::clog}};
    auto it = kinds.find(kind);
    if (it == kinds.end()) throw ScriptError{fmt::format("at: unknown fault '{}'", kind)};
    f.kind = it->second;
    std::size_t words = 2;
    if (f.kind == FaultStep::Kind::crash || f.kind == FaultStep::Kind::restart || f.kind == FaultStep::Kind::pause ||
        f.kind == FaultStep::Kind::resume) {
      if (cmd.words.size() < 3) throw ScriptError{fmt::format("at {}: which replica?", kind)};
      f.replica = replica(s, cmd.words[2]);
      words = 3;
      if (f.kind == FaultStep::Kind::crash && cmd.words.size() == 4) {
        if (cmd.words[3] != "wipe") throw ScriptError{fmt::format("at crash: '{}' is not 'wipe'", cmd.words[3])};
        f.wipe = true;
        words = 4;
      }
    } else if (f.kind == FaultStep::Kind::partition) {
      f.cuts = cuts(s, cmd.arg("cut"));
    } else if (f.kind == FaultStep::Kind::clog) {
      std::uint32_t nodes = s.params.replica_count + s.params.client_count;
      f.from = static_cast<std::uint32_t>(parse_uint(required(cmd, "from"), "from", nodes - 1));
      f.to = static_cast<std::uint32_t>(parse_uint(required(cmd, "to"), "to", nodes - 1));
      f.until_us = parse_us(required(cmd, "until"), "until");
    }
    if (cmd.words.size() != words) throw ScriptError{fmt::format("at {}: too many words", kind)};
    s.faults.push_back(std::move(f));
  }

  void op(const Command& cmd) {
    Schedule& s = need("op");
    auto k = parse_uint(required(cmd, "client"), "client", s.params.client_count);
    if (k == 0) throw ScriptError{"op: clients are numbered from 1"};
    const std::string* think = cmd.arg("think");
    s.clients[k - 1].push_back(ClientStep{think ? parse_us(*think, "think") : 0, request_call(cmd)});
  }

  /// Replays the schedule: "passed", or a Fatal naming the failure class and detail.
  void simulate(std::vector<std::string>& out) {
    Schedule& s = need("simulate");
    RunOptions o;
    o.schedule = &s;
    RunResult r = run_simulation(o);
    if (r.verdict != RunVerdict::passed) {
      throw Fatal{fmt::format("{} ({}) at {} us: {}", to_string(r.verdict), r.check, r.failed_at_us, r.detail)};
    }
    out.push_back("passed");
  }

 private:
  Schedule& need(std::string_view command) {
    if (!plan_) throw ScriptError{fmt::format("{}: no schedule yet (start with: sim seed=N ...)", command)};
    return *plan_;
  }

  static const std::string& required(const Command& cmd, std::string_view key) {
    const std::string* v = cmd.arg(key);
    if (v == nullptr) throw ScriptError{fmt::format("{}: {}=... is required", cmd.name, key)};
    return *v;
  }

  static std::uint32_t replica(const Schedule& s, std::string_view word) {
    return static_cast<std::uint32_t>(parse_uint(word, "replica", s.params.replica_count - 1));
  }

  /// "0>1,1>0" (directed links) or "none".
  static std::vector<std::pair<std::uint32_t, std::uint32_t>> cuts(const Schedule& s, const std::string* text) {
    if (text == nullptr) throw ScriptError{"at partition: cut=A>B,... is required"};
    std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
    if (*text == "none") return out;
    std::string_view rest = *text;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      std::string_view link = rest.substr(0, comma);
      auto gt = link.find('>');
      if (gt == std::string_view::npos) throw ScriptError{fmt::format("cut: '{}' is not a link like 0>1", link)};
      std::uint32_t a = replica(s, link.substr(0, gt));
      std::uint32_t b = replica(s, link.substr(gt + 1));
      if (a == b) throw ScriptError{fmt::format("cut: '{}' links a replica to itself", link)};
      out.emplace_back(a, b);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return out;
  }

  std::optional<Schedule> plan_;
};

/// Runs of 4 or more lines "rN executes op K: ..." by one replica with consecutive op
/// numbers (same indent) become one line "rN executes ops A..B".
void compact_executions(std::vector<std::string>& lines) {
  struct Parsed {
    std::string prefix;  // indent + "rN executes op"
    std::uint64_t op = 0;
  };
  auto parse = [](const std::string& line) -> std::optional<Parsed> {
    auto at = line.find(" executes op ");
    if (at == std::string::npos) return std::nullopt;
    std::size_t start = at + std::string_view(" executes op ").size();
    auto colon = line.find(':', start);
    if (colon == std::string::npos) return std::nullopt;
    std::uint64_t op = 0;
    auto [p, ec] = std::from_chars(line.data() + start, line.data() + colon, op);
    if (ec != std::errc{} || p != line.data() + colon) return std::nullopt;
    return Parsed{line.substr(0, start), op};
  };
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines.size();) {
    auto first = parse(lines[i]);
    std::size_t j = i + 1;
    if (first) {
      while (j < lines.size()) {
        auto next = parse(lines[j]);
        if (!next || next->prefix != first->prefix || next->op != first->op + (j - i)) break;
        ++j;
      }
    }
    if (first && j - i >= 4) {
      std::string head = first->prefix.substr(0, first->prefix.size() - 3);  // drop "op "
      out.push_back(fmt::format("{}ops {}..{}", head, first->op, first->op + (j - i) - 1));
      i = j;
    } else {
      out.push_back(std::move(lines[i]));
      ++i;
    }
  }
  lines = std::move(out);
}

class Interpreter {
 public:
  explicit Interpreter(const ScenarioFile& file) : file_(file) {}

  InputResult<ScenarioRun> run() {
    ScenarioRun result;
    result.actual.resize(file_.blocks.size());
    for (std::size_t i = 0; i < file_.blocks.size(); ++i) {
      const ScenarioBlock& b = file_.blocks[i];
      std::vector<std::string>& out = result.actual[i];
      if (!result.failure.empty()) {
        out.push_back("skipped: the scenario failed earlier");
        continue;
      }
      std::string error;
      auto cmd = parse_command(b.command, &error);
      if (!cmd) return InputError{fmt::format("{}:{}: {}", file_.path, b.line, error)};
      try {
        execute(*cmd, out, result);
        compact_executions(out);
      } catch (const ScriptError& e) {
        return InputError{fmt::format("{}:{}: {}", file_.path, b.line, e.message)};
      } catch (const Fatal& e) {
        out.push_back("FAILED: " + e.message);
        result.failure = fmt::format("{}:{}: {}", file_.path, b.line, e.message);
      } catch (const AssertionError& e) {
        out.push_back(fmt::format("FAILED: protocol assertion: {}", e.what()));
        result.failure = fmt::format("{}:{}: protocol assertion: {}", file_.path, b.line, e.what());
      } catch (const std::exception& e) {
        out.push_back(fmt::format("FAILED: exception: {}", e.what()));
        result.failure = fmt::format("{}:{}: exception: {}", file_.path, b.line, e.what());
      }
    }
    return result;
  }

 private:
  void execute(const Command& cmd, std::vector<std::string>& out, ScenarioRun& result) {
    if (cmd.name == "seed") {
      if (cluster_) throw ScriptError{"seed: must come before cluster"};
      seed_ = parse_uint(cmd.words[0], "seed", UINT64_MAX);
      out.push_back(fmt::format("seed {}", seed_));
      return;
    }
    if (cmd.name == "cluster") {
      if (cluster_) throw ScriptError{"cluster: the cluster already exists (one per file)"};
      const std::string* r = cmd.arg("replicas");
      const std::string* c = cmd.arg("clients");
      auto replicas = static_cast<std::uint32_t>(r ? parse_count(*r, "replicas", min_replicas, max_replicas) : 3);
      auto clients = static_cast<std::uint32_t>(c ? parse_count(*c, "clients", 0, max_clients) : 1);
      cluster_ = std::make_unique<Cluster>(replicas, clients, seed_);
      out.push_back(fmt::format("{} replica{}, {} client{}; r0 is primary of view 0", replicas,
                                replicas == 1 ? "" : "s", clients, clients == 1 ? "" : "s"));
      return;
    }
    if (cmd.name == "sim") return plan_.sim(cmd);
    if (cmd.name == "at") return plan_.at(cmd);
    if (cmd.name == "op") return plan_.op(cmd);
    if (cmd.name == "simulate") return plan_.simulate(out);
    if (!cluster_) throw ScriptError{fmt::format("{}: no cluster yet (start with: cluster replicas=N clients=M)", cmd.name)};
    Cluster& c = *cluster_;
    c.set_output(&out);
    if (cmd.name == "request") {
      const std::string* client = cmd.arg("client");
      auto k = static_cast<std::uint32_t>(client ? parse_uint(*client, "client", 1'000'000) : 1);
      c.request(k, request_call(cmd));
    } else if (cmd.name == "deliver") {
      bool drop = cmd.arg("drop") ? parse_bool(*cmd.arg("drop"), "drop") : false;
      std::optional<std::uint64_t> count;
      if (const auto* n = cmd.arg("count")) count = parse_uint(*n, "count", 1'000'000);
      c.deliver(filter_args(c, cmd), drop, count);
    } else if (cmd.name == "pending") {
      c.pending(filter_args(c, cmd));
    } else if (cmd.name == "tick") {
      std::uint64_t n = cmd.arg("n") ? parse_uint(*cmd.arg("n"), "n", 100'000) : 1;
      if (cmd.arg("replica") && cmd.arg("client")) throw ScriptError{"tick: replica= or client=, not both"};
      std::size_t before = c.queued();
      if (const auto* r = cmd.arg("replica")) {
        c.tick_replica(replica_word(c, *r), n);
      } else if (const auto* k = cmd.arg("client")) {
        c.tick_client(static_cast<std::uint32_t>(parse_uint(*k, "client", 1'000'000)), n);
      } else {
        c.tick_all(n);
      }
      c.print_queued_since(before);
    } else if (cmd.name == "partition") {
      if (cmd.words[0] == "oneway") {
        if (cmd.words.size() != 1 || !cmd.arg("from") || !cmd.arg("to")) {
          throw ScriptError{"partition oneway: needs from=A to=B and nothing else"};
        }
        c.cut_one_way(replica_word(c, *cmd.arg("from")), replica_word(c, *cmd.arg("to")));
      } else {
        if (!cmd.args.empty()) throw ScriptError{"partition: from= and to= apply only to 'partition oneway'"};
        c.partition(parse_groups(c, cmd.words));
      }
    } else if (cmd.name == "heal") {
      c.heal();
    } else if (cmd.name == "crash") {
      bool wipe = false;
      if (cmd.words.size() == 2) {
        if (cmd.words[1] != "wipe") throw ScriptError{fmt::format("crash: '{}' is not 'wipe'", cmd.words[1])};
        wipe = true;
      }
      c.crash(replica_word(c, cmd.words[0]), wipe);
    } else if (cmd.name == "restart") {
      c.restart(replica_word(c, cmd.words[0]));
    } else if (cmd.name == "hold-persist") {
      c.hold_persist(replica_word(c, cmd.words[0]));
    } else if (cmd.name == "flush-persist") {
      c.flush_persist(replica_word(c, cmd.words[0]));
    } else if (cmd.name == "run") {
      const std::string* f = cmd.arg("for");
      if (f == nullptr) throw ScriptError{"run: for=DURATION is required (e.g. for=2s)"};
      double drop = cmd.arg("drop") ? script_probability(*cmd.arg("drop"), "drop") : 0.0;
      bool load = cmd.arg("load") ? parse_bool(*cmd.arg("load"), "load") : false;
      c.run(parse_duration_ticks(*f), drop, load);
    } else if (cmd.name == "stabilize") {
      if (cmd.arg("max") && cmd.arg("ticks")) throw ScriptError{"stabilize: max= or ticks=, not both"};
      if (const auto* t = cmd.arg("ticks")) {
        c.settle(parse_uint(*t, "ticks", max_scenario_ticks));
      } else {
        std::uint64_t max = cmd.arg("max") ? parse_uint(*cmd.arg("max"), "max", max_scenario_ticks) : default_stabilize_ticks;
        c.stabilize(max);
      }
    } else if (cmd.name == "status") {
      c.status();
    } else if (cmd.name == "log") {
      c.log(replica_word(c, cmd.words[0]));
    } else if (cmd.name == "history") {
      c.history();
    } else if (cmd.name == "check") {
      if (!c.check() && result.failure.empty()) {
        throw Fatal{"the client history is not linearizable"};
      }
    }
    c.set_output(nullptr);
  }

  const ScenarioFile& file_;
  std::uint64_t seed_ = 1;
  std::unique_ptr<Cluster> cluster_;
  PlanBuilder plan_;
};

// ================================================================ diff

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

// ================================================================ public API

InputResult<ScenarioFile> parse_scenario(std::string_view path, std::string_view text,
                                         bool allow_missing_separator) {
  ScenarioFile file;
  file.path = std::string(path);
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
  auto blank = [](const std::string& s) { return s.find_first_not_of(" \t") == std::string::npos; };
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
    std::string parse_error;
    if (!parse_command(line, &parse_error)) return error(i, parse_error);
    ScenarioBlock block;
    block.line = static_cast<std::uint32_t>(i + 1);
    block.command = line.substr(first);
    while (!block.command.empty() && (block.command.back() == ' ' || block.command.back() == '\t')) {
      block.command.pop_back();
    }
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

InputResult<ScenarioRun> run_scenario(const ScenarioFile& file) {
  Interpreter interpreter(file);
  return interpreter.run();
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
    bool next_blank = k + 1 < file.items.size() && !file.items[k + 1].is_block &&
                      file.items[k + 1].text.find_first_not_of(" \t") == std::string::npos;
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

int run_scenario_files(const std::vector<std::string>& paths, bool rewrite, std::ostream& out,
                       std::ostream& err) {
  int code = 0;
  std::size_t passed = 0;
  for (const auto& path : paths) {
    auto read = read_input_file(path, "scenario", max_scenario_file_bytes);
    if (!read) {
      err << read.error().message << "\n";
      code = 2;
      continue;
    }
    const std::string& text = read.value();
    auto file = parse_scenario(path, text, rewrite);
    if (!file) {
      err << file.error().message << "\n";
      code = 2;
      continue;
    }
    auto run = run_scenario(file.value());
    if (!run) {
      err << run.error().message << "\n";
      code = 2;
      continue;
    }
    if (rewrite) {
      std::string updated = rewrite_scenario(file.value(), run.value());
      if (updated != text) {
        std::ofstream o(path, std::ios::binary | std::ios::trunc);
        o << updated;
        o.close();
        if (o.fail()) {
          err << path << ": cannot write the file\n";
          code = 2;
          continue;
        }
        out << path << ": rewritten\n";
      }
    } else {
      std::string diff = diff_scenario(file.value(), run.value());
      if (!diff.empty()) {
        out << diff;
        code = std::max(code, 1);
      }
    }
    if (!run.value().failure.empty()) {
      out << "FAILED " << run.value().failure << "\n";
      code = std::max(code, 1);
      continue;
    }
    if (rewrite || diff_scenario(file.value(), run.value()).empty()) ++passed;
  }
  out << fmt::format("{} of {} scenario file(s) passed\n", passed, paths.size());
  return code;
}

std::string_view scenario_help() {
  static const std::string text = [] {
    std::string s;
    for (const auto& spec : command_specs()) s += std::string(spec.usage) + "\n";
    return s;
  }();
  return text;
}

}  // namespace vsr::sim
