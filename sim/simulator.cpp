#include "sim/simulator.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <queue>
#include <tuple>

#include <fmt/format.h>

#include "sim/cluster.hpp"
#include "sim/invariants.hpp"
#include "sim/kv_call.hpp"
#include "sim/linearizability.hpp"
#include "sim/prng.hpp"
#include "sim/sim_host.hpp"
#include "sim/trace.hpp"
#include "vsr/assert.hpp"
#include "vsr/client.hpp"
#include "vsr/codec.hpp"
#include "vsr/kv.hpp"
#include "vsr/replica.hpp"

namespace vsr::sim {

std::string_view to_string(RunVerdict v) {
  switch (v) {
    case RunVerdict::passed: return "passed";
    case RunVerdict::safety: return "safety";
    case RunVerdict::not_linearizable: return "not-linearizable";
    case RunVerdict::liveness: return "liveness";
    case RunVerdict::crash: return "crash";
  }
  return "?";
}

namespace {

constexpr std::uint64_t client_tick_us = 10'000;
constexpr std::uint64_t convergence_check_us = 50'000;
constexpr std::uint32_t client_timeout_ticks = 30;

enum class EventKind : std::uint8_t {
  deliver,
  replica_tick,
  client_tick,
  client_issue,
  disk_done,
  crash,
  crash_replica,
  restart,
  partition,
  heal,
  pause,
  resume,
  clog,
  planned_fault,  // replay: arg = index into the schedule's faults
  liveness_phase,
  convergence_check,
};

/// Faults run after every other event of the same microsecond, so a replayed schedule
/// (whose faults are queued first) meets ties exactly as the recorded run did.
constexpr bool is_fault(EventKind k) {
  return k >= EventKind::crash && k <= EventKind::planned_fault;
}

struct Event {
  std::uint64_t at_us;
  bool fault;  // is_fault(kind)
  std::uint64_t seq;
  EventKind kind;
  std::uint32_t node;  // replica index or client slot
  std::uint64_t arg;   // parcel index, incarnation, ...
  bool operator>(const Event& o) const { return std::tie(at_us, fault, seq) > std::tie(o.at_us, o.fault, o.seq); }
};

/// A message in flight.
struct Parcel {
  Endpoint from;
  Endpoint to;
  Message message;
};

/// What the event loop adds to a replica's host (in the Cluster): its clock and pauses.
struct ReplicaNode {
  std::uint64_t tick_period_us = 10'000;
  bool paused = false;
  std::vector<std::uint32_t> inbox;  // parcels that arrived while paused
};

struct ClientNode {
  std::optional<Client> client;
  std::int64_t process = 0;
  std::optional<HistoryRecorder::OpIndex> op;
  OpCall call;
  std::uint64_t invoked_us = 0;
};

/// One message's fate on the network.
struct Route {
  bool dropped = false;
  const char* reason = "";
  std::uint64_t deliver_us[2] = {0, 0};
  int copies = 0;
};

template <typename M>
std::uint64_t message_digest(const M& m) {
  std::uint64_t h = 0;
  if constexpr (requires { m.view; }) h = hash_combine(h, m.view.value);
  if constexpr (requires { m.op; }) h = hash_combine(h, m.op.value);
  if constexpr (requires { m.commit; }) h = hash_combine(h, m.commit.value);
  if constexpr (requires { m.request; }) h = hash_combine(h, m.request.value);
  if constexpr (requires { m.client; }) h = hash_combine(h, m.client.value);
  return h;
}

std::uint64_t endpoint_word(const Endpoint& e) {
  return std::holds_alternative<ReplicaIndex>(e) ? std::get<ReplicaIndex>(e).value
                                                 : (1ULL << 40) + std::get<ClientId>(e).value;
}

std::vector<Config> cluster_configs(const SwarmParams& params) {
  std::vector<Config> configs;
  for (std::uint32_t r = 0; r < params.replica_count; ++r) {
    auto c = Config::make(params.replica_count, ReplicaIndex(static_cast<std::uint8_t>(r)));
    VSR_ASSERT(c.has_value(), "the swarm drew an invalid cluster");
    configs.push_back(c.value());
    configs.back().max_pipeline_ops = params.pipeline_ops;
  }
  return configs;
}

class Simulation final : private ClusterDriver {
 public:
  explicit Simulation(const RunOptions& o);
  Simulation(const Simulation&) = delete;  // the cluster points at this driver
  Simulation& operator=(const Simulation&) = delete;
  RunResult run();

 private:
  // --- the cluster's driver ---
  void observe(std::uint32_t r, const Output& out) override;
  void send(std::uint32_t r, Outgoing o) override { send(Endpoint(ReplicaIndex(static_cast<std::uint8_t>(r))), std::move(o)); }
  void write_queued(std::uint32_t r) override;
  void check_failed(const CheckFailure& f) override { fail(RunVerdict::safety, f.check, f.detail); }

  // --- event loop ---
  void schedule(std::uint64_t at_us, EventKind kind, std::uint32_t node, std::uint64_t arg = 0);
  void dispatch(const Event& e);
  void fail(RunVerdict v, std::string check, std::string detail);
  [[nodiscard]] bool failed() const { return result_.verdict != RunVerdict::passed; }

  // --- replicas ---
  void boot();
  void replica_tick(std::uint32_t r, std::uint64_t incarnation);
  void deliver_to_replica(std::uint32_t r, std::uint32_t parcel);
  void disk_done(std::uint32_t r, std::uint64_t incarnation);

  // --- network ---
  void send(Endpoint from, Outgoing o);
  Route route(const Endpoint& from, const Endpoint& to);
  std::uint64_t delay_us();
  [[nodiscard]] std::uint32_t node_of(const Endpoint& e) const;
  void deliver(std::uint32_t parcel);

  // --- clients and workload ---
  void client_tick(std::uint32_t c);
  void client_issue(std::uint32_t c);
  void handle_client_output(std::uint32_t c);
  void complete_op(std::uint32_t c, const ClientCompletion& done);
  void give_up(std::uint32_t c);
  void new_client(std::uint32_t c);
  OpCall next_call();

  // --- faults ---
  void schedule_faults();
  void apply_planned_fault(std::size_t index);
  void crash_random();
  void crash_replica(std::uint32_t r, Prng& rng);
  void crash_now(std::uint32_t r, bool wipe);
  void maybe_aim_crash(std::uint32_t r, vsr::EventKind kind);
  void restart(std::uint32_t r, bool wiped);
  void partition();
  void cut_links(const std::string& style);
  void heal();
  void pause_replica();
  void pause_now(std::uint32_t r);
  void resume(std::uint32_t r);
  void clog();
  void clog_now(std::uint32_t a, std::uint32_t b, std::uint64_t until_us);
  void record(FaultStep step);
  void plan_issue(std::uint32_t c, std::uint64_t base_us, bool think);
  std::uint64_t exp_interval_us(double rate_per_s);
  [[nodiscard]] std::optional<std::uint32_t> acting_primary() const;

  // --- liveness ---
  void track_primary(bool closing = false);
  void enter_liveness_phase();
  bool converged(std::string* why) const;

  // --- trace ---
  void trace_event(std::string_view kind, std::uint32_t replica);
  void trace_message(std::string_view kind, const Parcel& p, const char* reason = "");

  RunOptions options_;
  const Schedule* plan_;  // replaying this schedule, or null
  Tape tape_;  // over options_.input (tape mode); empty otherwise
  SwarmParams params_;
  Prng net_rng_, fault_rng_, partition_rng_, workload_rng_, clock_rng_, disk_rng_, nonce_rng_,
      buggify_rng_;
  Trace trace_;
  Cluster cluster_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint64_t seq_ = 0;
  std::uint64_t now_us_ = 0;
  std::vector<Parcel> parcels_;
  std::vector<std::uint32_t> free_parcels_;
  std::vector<ReplicaNode> replicas_;
  std::vector<ClientNode> clients_;
  std::map<std::uint64_t, std::uint32_t> slot_of_client_;
  std::uint64_t next_client_id_ = 1;
  std::int64_t next_process_ = 0;
  HistoryRecorder history_;
  std::vector<std::vector<bool>> blocked_;          // [from][to], replicas only
  std::vector<std::uint64_t> clogged_until_us_;     // [from * nodes + to]
  bool partitioned_ = false;
  bool primary_present_ = false;           // metrics: an up, unpaused, normal primary exists
  std::uint64_t no_primary_since_us_ = 0;
  bool liveness_ = false;
  std::int64_t next_value_ = 1;
  std::map<std::string, std::int64_t> last_value_;  // workload's guess for cas
  RunResult result_;
  std::vector<std::size_t> next_step_;   // replay: [slot] the next planned operation
  std::vector<std::uint64_t> think_us_;  // recording: [slot] the think time before the next issue
};

/// The options a schedule replay runs with: the schedule's seed and phases, no tape.
RunOptions planned(const RunOptions& o) {
  if (o.schedule == nullptr) return o;
  RunOptions p = o;
  p.seed = o.schedule->params.seed;
  p.duration_us = o.schedule->duration_us;
  p.liveness_us = o.schedule->liveness_us;
  p.input.reset();
  return p;
}

Simulation::Simulation(const RunOptions& o)
    : options_(planned(o)),
      plan_(o.schedule),
      tape_(options_.input ? Tape(*options_.input) : Tape()),
      params_(plan_ ? plan_->params
                    : draw_swarm(o.seed, o.faults, o.replicas, o.clients, options_.input ? &tape_ : nullptr)),
      net_rng_(Prng::stream(options_.seed, Stream::network)),
      fault_rng_(Prng::stream(options_.seed, Stream::faults)),
      partition_rng_(Prng::stream(options_.seed, Stream::partitions)),
      workload_rng_(Prng::stream(options_.seed, Stream::workload)),
      clock_rng_(Prng::stream(options_.seed, Stream::clocks)),
      disk_rng_(Prng::stream(options_.seed, Stream::disk)),
      nonce_rng_(Prng::stream(options_.seed, Stream::nonces)),
      buggify_rng_(Prng::stream(options_.seed, Stream::buggify)),
      trace_(o.trace, o.context_lines),
      cluster_(cluster_configs(params_), *this) {
  result_.params = params_;
  if (options_.record_schedule) {
    result_.schedule.params = params_;
    result_.schedule.duration_us = options_.duration_us;
    result_.schedule.liveness_us = options_.liveness_us;
    result_.schedule.clients.resize(params_.client_count);
  }
  if (options_.input) {
    for (Prng* rng : {&net_rng_, &fault_rng_, &partition_rng_, &workload_rng_, &clock_rng_,
                      &disk_rng_, &nonce_rng_, &buggify_rng_}) {
      rng->attach(&tape_);
    }
  }
}

// ---------------------------------------------------------------- event loop

void Simulation::schedule(std::uint64_t at_us, EventKind kind, std::uint32_t node,
                          std::uint64_t arg) {
  events_.push(Event{at_us, is_fault(kind), seq_++, kind, node, arg});
}

RunResult Simulation::run() {
  boot();
  std::uint64_t deadline_us = options_.duration_us + options_.liveness_us;
  while (!events_.empty() && !failed()) {
    Event e = events_.top();
    events_.pop();
    if (e.at_us > deadline_us) break;
    now_us_ = e.at_us;
    ++result_.stats.events;
    try {
      dispatch(e);
    } catch (const AssertionError& err) {
      fail(RunVerdict::crash, "assertion", err.what());
    } catch (const std::exception& err) {
      fail(RunVerdict::crash, "exception", err.what());
    }
    track_primary();
    if (e.kind == EventKind::convergence_check && !failed() && converged(nullptr)) break;
  }
  track_primary(/*closing=*/true);
  if (!failed() && !converged(nullptr)) {
    std::string why;
    converged(&why);
    fail(RunVerdict::liveness, "liveness",
         fmt::format("not converged {} s into the liveness phase: {}",
                     options_.liveness_us / 1'000'000, why));
  }
  result_.stats.simulated_us = now_us_;
  result_.stats.input_bytes_used = tape_.used();
  result_.stats.final_view = cluster_.checker().max_view();
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    const SimHost& host = cluster_.host(r);
    if (host.up()) result_.stats.final_commit = std::max(result_.stats.final_commit, host.replica().commit().value);
  }
  result_.history = std::move(history_).finish();
  if (!failed() && options_.check_linearizability) {
    CheckResult lin = check(result_.history);
    if (lin.verdict == Verdict::not_linearizable) {
      for (const auto& k : lin.keys) {
        if (k.verdict == Verdict::not_linearizable) {
          fail(RunVerdict::not_linearizable, "linearizability", explain(result_.history, k));
          break;
        }
      }
    }
  }
  result_.trace_hash = trace_.hash();
  return std::move(result_);
}

void Simulation::fail(RunVerdict v, std::string check, std::string detail) {
  if (failed()) return;
  result_.verdict = v;
  result_.check = std::move(check);
  result_.detail = std::move(detail);
  result_.failed_at_us = now_us_;
  result_.context = trace_.recent();
  trace_.mix(0xfa11);
  if (trace_.detailed()) {
    trace_.line(violation_line(now_us_, result_.check, result_.detail));
  }
}

void Simulation::dispatch(const Event& e) {
  switch (e.kind) {
    case EventKind::deliver: deliver(static_cast<std::uint32_t>(e.arg)); break;
    case EventKind::replica_tick: replica_tick(e.node, e.arg); break;
    case EventKind::client_tick: client_tick(e.node); break;
    case EventKind::client_issue: client_issue(e.node); break;
    case EventKind::disk_done: disk_done(e.node, e.arg); break;
    case EventKind::crash: crash_random(); break;
    case EventKind::crash_replica:
      if (!liveness_ && cluster_.host(e.node).up() && cluster_.host(e.node).incarnation() == e.arg) {
        crash_replica(e.node, buggify_rng_);
      }
      break;
    case EventKind::restart: restart(e.node, e.arg != 0); break;
    case EventKind::partition: partition(); break;
    case EventKind::heal: heal(); break;
    case EventKind::pause: pause_replica(); break;
    case EventKind::resume:
      if (e.arg == cluster_.host(e.node).incarnation()) resume(e.node);
      break;
    case EventKind::clog: clog(); break;
    case EventKind::planned_fault: apply_planned_fault(e.arg); break;
    case EventKind::liveness_phase: enter_liveness_phase(); break;
    case EventKind::convergence_check:
      schedule(now_us_ + convergence_check_us, EventKind::convergence_check, 0);
      break;
  }
}

// ---------------------------------------------------------------- replicas

void Simulation::boot() {
  std::uint32_t n = params_.replica_count;
  replicas_.resize(n);
  blocked_.assign(n, std::vector<bool>(n, false));
  clogged_until_us_.assign(static_cast<std::size_t>(n + params_.client_count) * (n + params_.client_count), 0);
  for (std::uint32_t r = 0; r < n; ++r) {
    ReplicaNode& node = replicas_[r];
    double drift = (clock_rng_.real() * 2 - 1) * params_.drift_ppm / 1e6;
    node.tick_period_us = static_cast<std::uint64_t>(static_cast<double>(params_.tick_us) * (1 + drift));
    cluster_.boot(r);
    schedule(clock_rng_.below(node.tick_period_us) + 1, EventKind::replica_tick, r, 0);
  }
  clients_.resize(params_.client_count);
  next_step_.assign(params_.client_count, 0);
  think_us_.assign(params_.client_count, 0);
  for (std::uint32_t c = 0; c < params_.client_count; ++c) {
    new_client(c);
    schedule(client_tick_us + c, EventKind::client_tick, c);
    plan_issue(c, 0, true);
  }
  schedule_faults();
  schedule(options_.duration_us, EventKind::liveness_phase, 0);
}

void Simulation::replica_tick(std::uint32_t r, std::uint64_t incarnation) {
  const SimHost& host = cluster_.host(r);
  if (!host.up() || incarnation != host.incarnation()) return;
  schedule(now_us_ + replicas_[r].tick_period_us, EventKind::replica_tick, r, incarnation);
  if (replicas_[r].paused) return;
  trace_.mix(0x71c);
  trace_.mix(r);
  if (trace_.detailed()) trace_event("tick", r);
  cluster_.tick(r);
}

void Simulation::observe(std::uint32_t r, const Output& out) {
  RunStats& st = result_.stats;
  for (std::size_t p = 0; p < vsr::probe_count; ++p) st.probes[p] += out.probes[p];
  for (const TelemetryEvent& e : out.events) {
    ++st.telemetry[static_cast<std::size_t>(e.kind)];
    if (e.kind == vsr::EventKind::view_change_complete) {
      ++st.view_changes;
      std::uint64_t us = e.detail * params_.tick_us;
      st.view_change_us_total += us;
      st.view_change_us_max = std::max(st.view_change_us_max, us);
    }
    if (e.kind == vsr::EventKind::state_transfer_requested) ++st.repairs;
    if (e.kind == vsr::EventKind::state_transfer_start) ++st.state_transfers;
    if (!liveness_ && params_.crash_after_event_probability > 0) maybe_aim_crash(r, e.kind);
    trace_.mix(static_cast<std::uint64_t>(e.kind));
    trace_.mix(e.detail);
    if (trace_.detailed()) trace_.line(vsr::telemetry_json(e, now_us_));
  }
}

/// The write just queued by `r` completes after the simulated disk's latency.
void Simulation::write_queued(std::uint32_t r) {
  SimHost& host = cluster_.host(r);
  std::uint64_t done = host.write_done_us(now_us_, draw_disk_latency_us(params_, disk_rng_));
  schedule(done, EventKind::disk_done, r, host.incarnation());
}

/// The oldest pending write of `r` completes: it becomes durable, then the messages
/// that waited on it leave.
void Simulation::disk_done(std::uint32_t r, std::uint64_t incarnation) {
  const SimHost& host = cluster_.host(r);
  if (!host.up() || incarnation != host.incarnation() || !host.has_writes()) return;
  cluster_.complete_oldest_write(r);
}

void Simulation::deliver_to_replica(std::uint32_t r, std::uint32_t parcel) {
  ReplicaNode& node = replicas_[r];
  if (!cluster_.host(r).up()) {
    trace_message("drop", parcels_[parcel], "down");
    ++result_.stats.messages_dropped;
    free_parcels_.push_back(parcel);
    return;
  }
  if (node.paused) {
    node.inbox.push_back(parcel);
    return;
  }
  trace_message("deliver", parcels_[parcel]);
  ++result_.stats.messages_delivered;
  Message m = std::move(parcels_[parcel].message);
  free_parcels_.push_back(parcel);
  cluster_.step(r, m);
}

// ---------------------------------------------------------------- network

std::uint32_t Simulation::node_of(const Endpoint& e) const {
  if (const auto* r = std::get_if<ReplicaIndex>(&e)) return r->value;
  auto it = slot_of_client_.find(std::get<ClientId>(e).value);
  return params_.replica_count + (it == slot_of_client_.end() ? 0 : it->second);
}

std::uint64_t Simulation::delay_us() {
  auto d = params_.delay_min_us +
           static_cast<std::uint64_t>(net_rng_.exponential(static_cast<double>(params_.delay_mean_us)));
  if (net_rng_.chance(params_.tail_probability)) {
    d += static_cast<std::uint64_t>(net_rng_.exponential(static_cast<double>(params_.tail_mean_us)));
  }
  return d;
}

Route Simulation::route(const Endpoint& from, const Endpoint& to) {
  Route route;
  bool client_link = std::holds_alternative<ClientId>(from) || std::holds_alternative<ClientId>(to);
  std::uint32_t a = node_of(from);
  std::uint32_t b = node_of(to);
  if (!liveness_) {
    if (!client_link && blocked_[a][b]) {
      route.dropped = true;
      route.reason = "partition";
      return route;
    }
    double p = client_link ? params_.client_drop_probability : params_.drop_probability;
    if (net_rng_.chance(p)) {
      route.dropped = true;
      route.reason = "drop";
      return route;
    }
  }
  std::size_t nodes = params_.replica_count + params_.client_count;
  std::uint64_t clogged = liveness_ ? 0 : clogged_until_us_[a * nodes + b];
  route.copies = net_rng_.chance(params_.duplicate_probability) ? 2 : 1;
  for (int i = 0; i < route.copies; ++i) {
    route.deliver_us[i] = std::max(now_us_, clogged) + delay_us();
  }
  return route;
}

void Simulation::send(Endpoint from, Outgoing o) {
  ++result_.stats.messages_sent;
  ++result_.stats.messages_by_type[o.message.index()];
  result_.stats.bytes_sent += encoded_size(o.message);
  Route rt;
  if (from == o.to) {
    rt.copies = 1;
    rt.deliver_us[0] = now_us_;  // local: never lost
  } else {
    rt = route(from, o.to);
  }
  Parcel p{from, o.to, std::move(o.message)};
  if (rt.dropped) {
    trace_message("drop", p, rt.reason);
    ++result_.stats.messages_dropped;
    return;
  }
  trace_message("send", p);
  for (int i = 0; i < rt.copies; ++i) {
    std::uint32_t index;
    if (free_parcels_.empty()) {
      index = static_cast<std::uint32_t>(parcels_.size());
      parcels_.push_back(i + 1 < rt.copies ? p : std::move(p));
    } else {
      index = free_parcels_.back();
      free_parcels_.pop_back();
      parcels_[index] = i + 1 < rt.copies ? p : std::move(p);
    }
    schedule(rt.deliver_us[i], EventKind::deliver, 0, index);
  }
}

void Simulation::deliver(std::uint32_t parcel) {
  const Parcel& p = parcels_[parcel];
  if (const auto* r = std::get_if<ReplicaIndex>(&p.to)) {
    deliver_to_replica(r->value, parcel);
    return;
  }
  auto it = slot_of_client_.find(std::get<ClientId>(p.to).value);
  bool live = it != slot_of_client_.end();
  trace_message(live ? "deliver" : "drop", p, live ? "" : "client-gone");
  if (live) {
    ++result_.stats.messages_delivered;
    if (const auto* reply = std::get_if<Reply>(&p.message)) {
      clients_[it->second].client->step(*reply);
      handle_client_output(it->second);
    }
  }
  free_parcels_.push_back(parcel);
}

// ---------------------------------------------------------------- clients and workload

void Simulation::new_client(std::uint32_t c) {
  ClientNode& node = clients_[c];
  if (node.client) slot_of_client_.erase(node.client->id().value);
  ClientId id(next_client_id_++);
  node.client.emplace(id, ClientConfig{params_.replica_count, client_timeout_ticks});
  node.process = next_process_++;
  node.op.reset();
  slot_of_client_[id.value] = c;
}

OpCall Simulation::next_call() {
  std::string key = fmt::format("k{}", workload_rng_.below(params_.key_count));
  constexpr std::array<std::uint32_t, 4> weights = {40, 35, 20, 5};
  switch (workload_rng_.weighted(weights)) {
    case 0: return OpCall::read(key);
    case 1: {
      std::int64_t v = next_value_++;
      last_value_[key] = v;
      return OpCall::write(key, v);
    }
    case 2: {
      auto it = last_value_.find(key);
      std::int64_t from = it == last_value_.end() || workload_rng_.chance(0.2) ? 0 : it->second;
      std::int64_t to = next_value_++;
      last_value_[key] = to;
      return OpCall::cas(key, from, to);
    }
    default: return OpCall::del(key);
  }
}

/// Schedules slot `c`'s next issue 1 us plus a think time after `base_us`: drawn (or
/// none, without `think`) and recorded; or, in a replay, the planned one, if any is left.
void Simulation::plan_issue(std::uint32_t c, std::uint64_t base_us, bool think) {
  std::uint64_t think_us = 0;
  if (plan_) {
    const auto& steps = plan_->clients[c];
    if (next_step_[c] >= steps.size()) return;
    think_us = steps[next_step_[c]].think_us;
  } else if (think) {
    think_us = static_cast<std::uint64_t>(workload_rng_.exponential(static_cast<double>(params_.think_mean_us)));
  }
  think_us_[c] = think_us;
  schedule(base_us + 1 + think_us, EventKind::client_issue, c);
}

void Simulation::client_issue(std::uint32_t c) {
  ClientNode& node = clients_[c];
  if (liveness_ || options_.idle || node.client->busy()) return;
  if (plan_) {
    if (next_step_[c] >= plan_->clients[c].size()) return;
    node.call = plan_->clients[c][next_step_[c]++].call;
  } else {
    node.call = next_call();
  }
  if (options_.record_schedule) result_.schedule.clients[c].push_back(ClientStep{think_us_[c], node.call});
  auto index = history_.invoke(node.process, node.call, static_cast<std::int64_t>(now_us_));
  VSR_ASSERT(index.has_value(), "the workload broke a history rule");
  node.op = index.value();
  node.invoked_us = now_us_;
  node.client->submit(encode_kv_op(to_kv(node.call)));
  trace_.mix(0x155);
  trace_.mix(node.process);
  if (trace_.detailed()) {
    trace_.line(trace_line(now_us_, "invoke")
                    .num("process", node.process)
                    .num("client", node.client->id().value)
                    .str("op", describe_with_key(history_.history().ops[*node.op]))
                    .take());
  }
  handle_client_output(c);
}

void Simulation::client_tick(std::uint32_t c) {
  schedule(now_us_ + client_tick_us, EventKind::client_tick, c);
  ClientNode& node = clients_[c];
  if (!liveness_ && node.client->busy() && now_us_ - node.invoked_us >= params_.give_up_us) {
    give_up(c);
    return;
  }
  node.client->tick();
  handle_client_output(c);
}

void Simulation::handle_client_output(std::uint32_t c) {
  ClientOutput out = clients_[c].client->take_output();
  for (const TelemetryEvent& e : out.events) ++result_.stats.telemetry[static_cast<std::size_t>(e.kind)];
  Endpoint self = clients_[c].client->id();
  for (Outgoing& o : out.send) send(self, std::move(o));
  if (out.completed) complete_op(c, *out.completed);
}

void Simulation::complete_op(std::uint32_t c, const ClientCompletion& done) {
  ClientNode& node = clients_[c];
  auto decoded = decode_kv_result(done.result);
  VSR_ASSERT(decoded.has_value(), "a replica sent an undecodable result");
  const KvResult& r = decoded.value();
  Outcome outcome = r.status == KvStatus::ok ? Outcome::ok : Outcome::fail;
  VSR_ASSERT(r.status != KvStatus::bad_operation, "the workload sent a bad operation");
  Value value;
  if (node.call.kind == OpKind::read) {
    outcome = Outcome::ok;
    if (r.value) value = std::stoll(*r.value);
  }
  CasError cas_error = r.status == KvStatus::not_found             ? CasError::not_found
                       : r.status == KvStatus::precondition_failed ? CasError::precondition_failed
                                                                   : CasError::unspecified;
  auto ok = history_.complete(*node.op, outcome, value, static_cast<std::int64_t>(now_us_), cas_error);
  VSR_ASSERT(ok.has_value(), "the simulator broke a history rule");
  cluster_.checker().on_client_ack(node.client->id(), done.request, done.view);
  result_.stats.latencies_us.push_back(now_us_ - node.invoked_us);
  ++(outcome == Outcome::ok ? result_.stats.ops_ok : result_.stats.ops_failed);
  trace_.mix(0xc0);
  trace_.mix(node.process);
  if (trace_.detailed()) {
    trace_.line(trace_line(now_us_, "complete")
                    .num("process", node.process)
                    .str("op", describe_with_key(history_.history().ops[*node.op]))
                    .take());
  }
  node.op.reset();
  plan_issue(c, now_us_, true);
}

/// The client abandons its request: the op is indeterminate, and the process is done
/// (history rule). A fresh client with a fresh id takes the slot.
void Simulation::give_up(std::uint32_t c) {
  ClientNode& node = clients_[c];
  auto ok = history_.complete(*node.op, Outcome::info, std::nullopt, static_cast<std::int64_t>(now_us_));
  VSR_ASSERT(ok.has_value(), "the simulator broke a history rule");
  ++result_.stats.ops_info;
  trace_.mix(0x1f0);
  trace_.mix(node.process);
  if (trace_.detailed()) {
    trace_.line(trace_line(now_us_, "give_up").num("process", node.process).take());
  }
  new_client(c);
  plan_issue(c, now_us_, false);
}

// ---------------------------------------------------------------- faults

std::uint64_t Simulation::exp_interval_us(double rate_per_s) {
  return 1 + static_cast<std::uint64_t>(fault_rng_.exponential(1e6 / rate_per_s));
}

/// Appends `step`, at the current time, to the recorded schedule (when recording).
void Simulation::record(FaultStep step) {
  if (!options_.record_schedule || liveness_) return;
  step.at_us = now_us_;
  result_.schedule.faults.push_back(std::move(step));
}

void Simulation::schedule_faults() {
  if (plan_) {
    for (std::size_t i = 0; i < plan_->faults.size(); ++i) {
      if (plan_->faults[i].at_us < options_.duration_us) schedule(plan_->faults[i].at_us, EventKind::planned_fault, 0, i);
    }
    return;
  }
  if (params_.crash_rate_per_s > 0) schedule(exp_interval_us(params_.crash_rate_per_s), EventKind::crash, 0);
  if (params_.partition_rate_per_s > 0) {
    schedule(exp_interval_us(params_.partition_rate_per_s), EventKind::partition, 0);
  }
  if (params_.pause_rate_per_s > 0) schedule(exp_interval_us(params_.pause_rate_per_s), EventKind::pause, 0);
  if (params_.clog_rate_per_s > 0) schedule(exp_interval_us(params_.clog_rate_per_s), EventKind::clog, 0);
}

/// Replay: carries out planned fault `index`. Steps naming replicas or nodes the
/// cluster does not have (a shrunk schedule) are ignored; so is a crash that would
/// exceed the wipe budget's disk loss (it crashes without the wipe).
void Simulation::apply_planned_fault(std::size_t index) {
  const FaultStep& f = plan_->faults[index];
  std::uint32_t n = params_.replica_count;
  bool replica_ok = f.replica < n;
  switch (f.kind) {
    case FaultStep::Kind::crash:
      if (replica_ok && cluster_.host(f.replica).up()) crash_now(f.replica, f.wipe);
      break;
    case FaultStep::Kind::restart:
      if (replica_ok) restart(f.replica, false);
      break;
    case FaultStep::Kind::partition:
      for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
      for (const auto& [a, b] : f.cuts) {
        if (a < n && b < n && a != b) blocked_[a][b] = true;
      }
      cut_links("planned");
      break;
    case FaultStep::Kind::heal: heal(); break;
    case FaultStep::Kind::pause:
      if (replica_ok && cluster_.host(f.replica).up() && !replicas_[f.replica].paused) pause_now(f.replica);
      break;
    case FaultStep::Kind::resume:
      if (replica_ok) resume(f.replica);
      break;
    case FaultStep::Kind::clog: {
      std::uint32_t nodes = n + params_.client_count;
      if (f.from < nodes && f.to < nodes && f.from != f.to) clog_now(f.from, f.to, f.until_us);
      break;
    }
  }
}

void Simulation::crash_random() {
  if (liveness_) return;
  schedule(now_us_ + exp_interval_us(params_.crash_rate_per_s), EventKind::crash, 0);
  std::vector<std::uint32_t> up;
  for (std::uint32_t r = 0; r < replicas_.size(); ++r) {
    if (cluster_.host(r).up()) up.push_back(r);
  }
  if (up.empty()) return;
  crash_replica(up[fault_rng_.below(up.size())], fault_rng_);
}

/// Schedules a crash of `r` within the next disk latency, with the seed's probability,
/// after events that open a window where only durability keeps promises.
void Simulation::maybe_aim_crash(std::uint32_t r, vsr::EventKind kind) {
  if (plan_) return;
  switch (kind) {
    case vsr::EventKind::leadership_start:
    case vsr::EventKind::view_change_start:
    case vsr::EventKind::do_view_change_sent:
    case vsr::EventKind::recovery_complete:
    case vsr::EventKind::state_transfer_received:
      break;
    default: return;
  }
  if (!buggify_rng_.chance(params_.crash_after_event_probability)) return;
  std::uint64_t within = 1 + buggify_rng_.below(2 * params_.disk_latency_mean_us + 1);
  schedule(now_us_ + within, EventKind::crash_replica, r, cluster_.host(r).incarnation());
}

/// Crashes `r`: its writes in flight are lost; with the seed's wipe probability (and
/// within the wipe budget) its disk too.
void Simulation::crash_replica(std::uint32_t r, Prng& rng) {
  bool wipe = rng.chance(params_.wipe_probability);
  crash_now(r, wipe);
  std::uint64_t back = now_us_ + 1 + static_cast<std::uint64_t>(rng.exponential(static_cast<double>(params_.restart_mean_us)));
  schedule(back, EventKind::restart, r, cluster_.host(r).needs_recovery() ? 1 : 0);
}

/// Crashes `r` now; with `wipe`, and within the wipe budget (never more than f replicas
/// without a trustworthy disk), its disk is lost too.
void Simulation::crash_now(std::uint32_t r, bool wipe) {
  ReplicaNode& node = replicas_[r];
  wipe = wipe && cluster_.wipe_allowed(r);
  record(FaultStep::of(FaultStep::Kind::crash, r, wipe));
  cluster_.crash(r, wipe);  // writes in flight are lost, with the messages waiting on them
  node.paused = false;
  for (std::uint32_t p : node.inbox) free_parcels_.push_back(p);
  node.inbox.clear();
  if (wipe) ++result_.stats.wipes;
  ++result_.stats.crashes;
  trace_.mix(0xc7a5);
  trace_.mix(r);
  if (trace_.detailed()) {
    trace_.line(trace_line(now_us_, "crash").num("replica", r).boolean("wipe", wipe).take());
  }
}

void Simulation::restart(std::uint32_t r, bool) {
  SimHost& host = cluster_.host(r);
  if (host.up()) return;
  record(FaultStep::of(FaultStep::Kind::restart, r));
  host.reset_disk_clock(now_us_);
  trace_.mix(0x4e57);
  trace_.mix(r);
  if (trace_.detailed()) {
    trace_.line(trace_line(now_us_, "restart").num("replica", r).boolean("recovering", host.needs_recovery()).take());
  }
  // Recovery (§4.3) starts from an empty disk (ReplicaHost::start_recovery says why).
  cluster_.restart(r, [&] { return nonce_rng_.next(); });
  if (failed()) return;
  schedule(now_us_ + 1 + clock_rng_.below(replicas_[r].tick_period_us), EventKind::replica_tick, r, host.incarnation());
}

std::optional<std::uint32_t> Simulation::acting_primary() const {
  std::optional<std::uint32_t> best;
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    const SimHost& host = cluster_.host(r);
    if (!host.up() || !host.replica().is_acting_primary()) continue;
    if (!best || host.replica().view() > cluster_.host(*best).replica().view()) best = r;
  }
  return best;
}

void Simulation::partition() {
  if (liveness_) return;
  schedule(now_us_ + exp_interval_us(params_.partition_rate_per_s), EventKind::partition, 0);
  std::uint32_t n = params_.replica_count;
  if (n < 2) return;
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  PartitionStyle style = params_.partition_style;
  if (style == PartitionStyle::mixed) style = static_cast<PartitionStyle>(1 + partition_rng_.below(4));
  std::vector<bool> side(n, false);
  switch (style) {
    case PartitionStyle::random_split:
      for (std::uint32_t r = 0; r < n; ++r) side[r] = partition_rng_.chance(0.5);
      break;
    case PartitionStyle::isolate_primary: side[acting_primary().value_or(partition_rng_.below(n))] = true; break;
    case PartitionStyle::isolate_one: side[partition_rng_.below(n)] = true; break;
    case PartitionStyle::asymmetric:
      for (std::uint32_t a = 0; a < n; ++a) {
        for (std::uint32_t b = 0; b < n; ++b) blocked_[a][b] = a != b && partition_rng_.chance(0.3);
      }
      break;
    default: break;
  }
  if (style != PartitionStyle::asymmetric) {
    for (std::uint32_t a = 0; a < n; ++a) {
      for (std::uint32_t b = 0; b < n; ++b) blocked_[a][b] = side[a] != side[b];
    }
  }
  cut_links(std::string(to_string(style)));
  schedule(now_us_ + 1 + static_cast<std::uint64_t>(partition_rng_.exponential(static_cast<double>(params_.partition_mean_us))),
           EventKind::heal, 0);
}

/// The links in blocked_ are cut from now on: recorded, counted and traced.
void Simulation::cut_links(const std::string& style) {
  std::uint32_t n = params_.replica_count;
  FaultStep step = FaultStep::of(FaultStep::Kind::partition);
  for (std::uint32_t a = 0; a < n; ++a) {
    for (std::uint32_t b = 0; b < n; ++b) {
      if (blocked_[a][b]) step.cuts.emplace_back(a, b);
    }
  }
  record(step);
  partitioned_ = true;
  ++result_.stats.partitions;
  trace_.mix(0x9a27);
  for (std::uint32_t a = 0; a < n; ++a) {
    for (std::uint32_t b = 0; b < n; ++b) trace_.mix(blocked_[a][b]);
  }
  if (trace_.detailed()) {
    std::string cuts = "[";
    for (const auto& [a, b] : step.cuts) {
      if (cuts.size() > 1) cuts += ',';
      vsr::append_json_string(cuts, fmt::format("{}->{}", a, b));
    }
    cuts += ']';
    trace_.line(trace_line(now_us_, "partition").str("style", style).raw("cut", cuts).take());
  }
}

void Simulation::heal() {
  if (!partitioned_) return;
  record(FaultStep::of(FaultStep::Kind::heal));
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  partitioned_ = false;
  trace_.mix(0x4ea1);
  if (trace_.detailed()) trace_.line(trace_line(now_us_, "heal").take());
}

void Simulation::pause_replica() {
  if (liveness_) return;
  schedule(now_us_ + exp_interval_us(params_.pause_rate_per_s), EventKind::pause, 0);
  std::uint32_t r = static_cast<std::uint32_t>(fault_rng_.below(replicas_.size()));
  if (!cluster_.host(r).up() || replicas_[r].paused) return;
  pause_now(r);
  std::uint64_t until = now_us_ + 1 + static_cast<std::uint64_t>(fault_rng_.exponential(static_cast<double>(params_.pause_mean_us)));
  schedule(until, EventKind::resume, r, cluster_.host(r).incarnation());
}

/// Pauses `r` (up, not paused): it stops ticking and its arrivals wait in its inbox.
void Simulation::pause_now(std::uint32_t r) {
  record(FaultStep::of(FaultStep::Kind::pause, r));
  replicas_[r].paused = true;
  ++result_.stats.pauses;
  trace_.mix(0xba5e);
  trace_.mix(r);
  if (trace_.detailed()) trace_.line(trace_line(now_us_, "pause").num("replica", r).take());
}

void Simulation::resume(std::uint32_t r) {
  ReplicaNode& node = replicas_[r];
  const SimHost& host = cluster_.host(r);
  if (!host.up() || !node.paused) return;
  record(FaultStep::of(FaultStep::Kind::resume, r));
  node.paused = false;
  trace_.mix(0x4e5);
  trace_.mix(r);
  if (trace_.detailed()) trace_.line(trace_line(now_us_, "resume").num("replica", r).num("burst", node.inbox.size()).take());
  std::vector<std::uint32_t> burst = std::move(node.inbox);
  node.inbox.clear();
  for (std::uint32_t p : burst) {
    if (failed() || !host.up() || node.paused) {
      free_parcels_.push_back(p);
      continue;
    }
    deliver_to_replica(r, p);
  }
}

void Simulation::clog() {
  if (liveness_) return;
  schedule(now_us_ + exp_interval_us(params_.clog_rate_per_s), EventKind::clog, 0);
  std::uint32_t nodes = params_.replica_count + params_.client_count;
  auto a = static_cast<std::uint32_t>(fault_rng_.below(nodes));
  auto b = static_cast<std::uint32_t>(fault_rng_.below(nodes));
  if (a == b) return;
  std::uint64_t until = now_us_ + 1 + static_cast<std::uint64_t>(fault_rng_.exponential(static_cast<double>(params_.clog_mean_us)));
  clog_now(a, b, until);
}

/// The directed link a -> b (network nodes) stalls until `until_us`.
void Simulation::clog_now(std::uint32_t a, std::uint32_t b, std::uint64_t until_us) {
  std::size_t nodes = params_.replica_count + params_.client_count;
  record(FaultStep::clog_link(a, b, until_us));
  std::uint64_t until = until_us;
  clogged_until_us_[a * nodes + b] = until;
  ++result_.stats.clogs;
  trace_.mix(0xc109);
  trace_.mix(a * nodes + b);
  if (trace_.detailed()) {
    trace_.line(trace_line(now_us_, "clog").num("from", a).num("to", b).num("until_us", until).take());
  }
}

// ---------------------------------------------------------------- liveness

/// Metrics: opens or closes a window without a primary (no replica that is up,
/// unpaused, normal and primary of its view).
/// With `closing` (the run ended), an open window closes now.
void Simulation::track_primary(bool closing) {
  bool present = closing;
  for (std::size_t r = 0; r < replicas_.size() && !present; ++r) {
    const SimHost& host = cluster_.host(static_cast<std::uint32_t>(r));
    present = host.up() && !replicas_[r].paused && host.replica().is_acting_primary();
  }
  if (present == primary_present_) return;
  primary_present_ = present;
  RunStats& st = result_.stats;
  if (!present) {
    no_primary_since_us_ = now_us_;
    return;
  }
  std::uint64_t window = now_us_ - no_primary_since_us_;
  if (window == 0) return;
  st.no_primary_us += window;
  ++st.no_primary_windows;
  st.no_primary_longest_us = std::max(st.no_primary_longest_us, window);
}

void Simulation::enter_liveness_phase() {
  liveness_ = true;
  heal();
  std::fill(clogged_until_us_.begin(), clogged_until_us_.end(), 0);
  trace_.mix(0x11fe);
  if (trace_.detailed()) trace_.line(trace_line(now_us_, "liveness_phase").take());
  for (std::uint32_t r = 0; r < replicas_.size(); ++r) {
    if (!cluster_.host(r).up()) restart(r, cluster_.host(r).needs_recovery());
    if (failed()) return;
    if (replicas_[r].paused) resume(r);
  }
  schedule(now_us_ + convergence_check_us, EventKind::convergence_check, 0);
}

/// Liveness done: every client finished, every replica up, normal, in one view, with
/// the primary's whole log committed everywhere and one state hash.
bool Simulation::converged(std::string* why) const {
  if (!liveness_) {
    if (why) *why = "the fault phase never ended";
    return false;
  }
  for (std::uint32_t c = 0; c < clients_.size(); ++c) {
    if (clients_[c].client->busy()) {
      if (why) *why = fmt::format("client {} still waits for request {}", clients_[c].client->id(), clients_[c].client->last_request());
      return false;
    }
  }
  const Replica* first = nullptr;
  for (std::uint32_t i = 0; i < cluster_.size(); ++i) {
    const SimHost& host = cluster_.host(i);
    if (!host.up()) {
      if (why) *why = "a replica is down";
      return false;
    }
    const Replica& r = host.replica();
    if (r.status() != StatusKind::normal || r.commit() != to_commit(r.op())) {
      if (why) *why = fmt::format("replica {} is {} in view {} with op {} commit {}", r.index(), status_name(r.status()), r.view(), r.op(), r.commit());
      return false;
    }
    if (first == nullptr) first = &r;
    if (r.view() != first->view() || r.commit() != first->commit() || r.state_hash() != first->state_hash()) {
      if (why) {
        *why = fmt::format("replicas {} and {} differ: view {}/{} commit {}/{}", first->index(), r.index(),
                           first->view(), r.view(), first->commit(), r.commit());
      }
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- trace

void Simulation::trace_event(std::string_view kind, std::uint32_t replica) {
  trace_.line(trace_line(now_us_, kind).num("replica", replica).take());
}

void Simulation::trace_message(std::string_view kind, const Parcel& p, const char* reason) {
  trace_.mix(kind.size() + (static_cast<std::uint64_t>(kind[0]) << 8));
  trace_.mix(endpoint_word(p.from) * 131 + endpoint_word(p.to));
  trace_.mix(std::visit([](const auto& m) { return message_digest(m); }, p.message) + p.message.index());
  if (!trace_.detailed()) return;
  auto line = trace_line(now_us_, kind);
  line.str("from", fmt::format("{}", p.from))
      .str("to", fmt::format("{}", p.to))
      .str("type", message_name(p.message))
      .str("msg", fmt::format("{}", p.message));
  if (*reason) line.str("reason", reason);
  trace_.line(line.take());
}

}  // namespace

RunResult run_simulation(const RunOptions& options) {
  try {
    Simulation sim(options);
    return sim.run();
  } catch (const std::exception& e) {
    RunResult r;
    r.verdict = RunVerdict::crash;
    r.check = "exception";
    r.detail = e.what();
    return r;
  }
}

}  // namespace vsr::sim
