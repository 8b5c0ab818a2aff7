// The simulator's event loop and the wiring of its parts. Each part has one job and
// its own header: the cluster of replica hosts (cluster.hpp), the network
// (network.hpp), the client workload (workload.hpp), the fault scheduler (faults.hpp),
// the metrics (metrics.hpp), the liveness goal (liveness.hpp) and the typed trace
// (trace_event.hpp). The loop pops the next event and hands it to its part.
#include "sim/simulator.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "sim/cluster.hpp"
#include "sim/event_queue.hpp"
#include "sim/faults.hpp"
#include "sim/kv_system.hpp"
#include "sim/systems.hpp"
#include "sim/liveness.hpp"
#include "sim/metrics.hpp"
#include "sim/network.hpp"
#include "sim/prng.hpp"
#include "sim/trace.hpp"
#include "sim/trace_event.hpp"
#include "sim/workload.hpp"
#include "vsr/assert.hpp"
#include "vsr/client.hpp"

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

/// The snapshot-corruption fault: flips the chunk's first data byte (the receiver's
/// data checksum catches it) or its claimed state hash (the whole-state check does).
void corrupt_snapshot_chunk(SnapshotChunk& c, bool state_hash) {
  if (state_hash || c.data.empty()) {
    c.state_hash ^= 0x5a5a;
  } else {
    c.data[0] ^= 0x5a;
  }
}

constexpr std::uint64_t client_tick_us = 10'000;
constexpr std::uint64_t convergence_check_us = 50'000;
constexpr std::uint32_t client_timeout_ticks = 30;

/// What the event loop adds to a replica's host (in the Cluster): its clock and pauses.
struct ReplicaNode {
  std::uint64_t tick_period_us = 10'000;
  bool paused = false;
  std::vector<std::uint32_t> inbox;  // parcels that arrived while paused
  std::uint64_t last_base_seen = 0;  // the newest base record of its storage seen pending
};

struct ClientNode {
  std::optional<Client> client;
  std::int64_t process = 0;
  std::uint64_t op_id = 0;  // the op in flight (SystemRun's id), while the client is busy
  std::uint64_t invoked_us = 0;
  bool ticking = false;      // a client_tick is queued (only while the client is busy)
  std::uint64_t planned_us = 0;  // when its pending client_issue was queued
};

std::vector<Config> cluster_configs(const SwarmParams& params) {
  std::vector<Config> configs;
  for (std::uint32_t r = 0; r < params.replica_count; ++r) {
    auto c = Config::make(params.replica_count, ReplicaIndex(static_cast<std::uint8_t>(r)));
    VSR_ASSERT(c.has_value(), "the swarm drew an invalid cluster");
    configs.push_back(c.value());
    configs.back().max_pipeline_ops = params.pipeline_ops;
    configs.back().checkpoint_interval_ops = params.checkpoint_interval_ops;
    configs.back().log_retention_ops = params.log_retention_ops;
    configs.back().snapshot_chunk_bytes = params.snapshot_chunk_bytes;
    configs.back().max_client_sessions = params.max_client_sessions;
    configs.back().journal_ring_slots = params.journal_ring_slots;
    configs.back().max_message_bytes = params.max_message_bytes;
    VSR_ASSERT(configs.back().validate().has_value(), "the swarm drew invalid protocol bounds");
  }
  return configs;
}

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

/// The run's system: the one given, else a replayed schedule's (by name), else KV.
const System* system_of(const RunOptions& o) {
  if (o.system != nullptr) return o.system;
  if (o.schedule == nullptr) return &kv_system();
  auto found = find_system(o.schedule->system);
  if (!found) throw std::invalid_argument(fmt::format("the schedule's system: {}", found.error().message));
  return found.value();
}

/// The system's side of one run. A replayed schedule must be for this system.
std::unique_ptr<SystemRun> start_system(const System& system, const SwarmParams& params, const RunOptions& o) {
  if (o.schedule != nullptr && o.schedule->system != system.name) {
    throw std::invalid_argument(fmt::format("the schedule is for system '{}', but the run is given system '{}'",
                                            o.schedule->system, system.name));
  }
  SystemRunOptions so;
  so.clients = params.client_count;
  so.key_count = params.key_count;
  so.check = o.check_linearizability;
  so.keep_history = o.keep_history;
  auto run = system.start(so);
  VSR_ASSERT(run != nullptr, "System::start returned no run");
  return run;
}

/// Every random stream of a run (prng.hpp, Stream), attached to the tape in tape mode.
struct Streams {
  Streams(std::uint64_t seed, Tape* tape)
      : network(Prng::stream(seed, Stream::network)),
        faults(Prng::stream(seed, Stream::faults)),
        partitions(Prng::stream(seed, Stream::partitions)),
        workload(Prng::stream(seed, Stream::workload)),
        clocks(Prng::stream(seed, Stream::clocks)),
        disk(Prng::stream(seed, Stream::disk)),
        nonces(Prng::stream(seed, Stream::nonces)),
        buggify(Prng::stream(seed, Stream::buggify)),
        storage(Prng::stream(seed, Stream::storage)) {
    if (tape == nullptr) return;
    for (Prng* rng : {&network, &faults, &partitions, &workload, &clocks, &disk, &nonces, &buggify, &storage}) {
      rng->attach(tape);
    }
  }
  Prng network, faults, partitions, workload, clocks, disk, nonces, buggify, storage;
};

class Simulation final : private ClusterDriver, private FaultTarget {
 public:
  explicit Simulation(const RunOptions& o);
  Simulation(const Simulation&) = delete;  // the parts point at each other
  Simulation& operator=(const Simulation&) = delete;
  RunResult run();

 private:
  // --- event loop ---
  void dispatch(const Event& e);
  void fail(RunVerdict v, std::string check, std::string detail);
  [[nodiscard]] bool failed() const { return result_.verdict != RunVerdict::passed; }
  void finish();
  void check_history();
  template <TraceEvent E>
  void emit(const E& e) {
    trace_.emit(now_us_, e);
  }

  // --- replicas (ClusterDriver) ---
  void boot();
  void replica_tick(std::uint32_t r, std::uint64_t incarnation);
  void deliver_to_replica(std::uint32_t r, std::uint32_t parcel);
  void disk_done(std::uint32_t r, std::uint64_t incarnation);
  void observe(std::uint32_t r, const Output& out) override;
  void restarted(std::uint32_t r, const RestartReport& report) override;
  void send(std::uint32_t r, Outgoing&& o) override { send(Endpoint(ReplicaIndex(static_cast<std::uint8_t>(r))), std::move(o)); }
  void write_queued(std::uint32_t r) override;
  void check_failed(const CheckFailure& f) override { fail(RunVerdict::safety, f.check, f.detail); }

  // --- network ---
  void send(const Endpoint& from, Outgoing&& o);
  void deliver(std::uint32_t parcel);
  void drop(std::uint32_t parcel, std::string_view reason);
  [[nodiscard]] std::uint32_t node_of(const Endpoint& e) const;

  // --- clients ---
  void new_client(std::uint32_t c);
  void plan_issue(std::uint32_t c, std::uint64_t base_us, bool think);
  void client_issue(std::uint32_t c);
  void client_tick(std::uint32_t c);
  void resume_ticks(std::uint32_t c);
  void handle_client_output(std::uint32_t c);
  void complete_op(std::uint32_t c, const ClientCompletion& done);
  void give_up(std::uint32_t c);
  void check_history_so_far();

  // --- faults (FaultTarget) ---
  [[nodiscard]] bool up(std::uint32_t r) const override { return cluster_.host(r).up(); }
  [[nodiscard]] bool paused(std::uint32_t r) const override { return replicas_[r].paused; }
  [[nodiscard]] std::uint64_t incarnation(std::uint32_t r) const override { return cluster_.host(r).incarnation(); }
  [[nodiscard]] bool needs_recovery(std::uint32_t r) const override { return cluster_.host(r).needs_recovery(); }
  [[nodiscard]] std::optional<std::uint32_t> acting_primary() const override;
  void crash(std::uint32_t r, bool& wipe) override;
  bool restart(std::uint32_t r) override;
  std::vector<Link> partition(const std::vector<Link>& cuts, std::string_view style) override;
  bool heal() override;
  void pause(std::uint32_t r) override;
  bool resume(std::uint32_t r) override;
  void clog(std::uint32_t a, std::uint32_t b, std::uint64_t until_us) override;

  // --- liveness ---
  void enter_liveness_phase();
  [[nodiscard]] std::optional<std::string> divergence() const;
  [[nodiscard]] bool primary_present();
  /// Replica `r` (< cluster size) is up, unpaused, normal and primary of its view.
  [[nodiscard]] bool acting_primary_now(std::uint32_t r) const {
    const SimHost& host = cluster_.host(r);
    return host.up() && !replicas_[r].paused && host.replica().is_acting_primary();
  }

  RunOptions options_;
  const System* system_;
  const Schedule* plan_;  // replaying this schedule, or null
  Tape tape_;             // over options_.input (tape mode); empty otherwise
  SwarmParams params_;
  std::unique_ptr<SystemRun> run_;  // the system's workload and history check
  Streams rng_;
  Trace trace_;
  RunResult result_;
  EventQueue events_;
  std::uint64_t now_us_ = 0;
  Cluster cluster_;
  Network network_;
  Workload workload_;
  FaultScheduler faults_;
  Metrics metrics_;
  std::vector<ReplicaNode> replicas_;
  std::vector<ClientNode> clients_;
  std::map<std::uint64_t, std::uint32_t> slot_of_client_;
  std::uint64_t next_client_id_ = 1;
  std::int64_t next_process_ = 0;
  std::uint64_t next_op_id_ = 0;
  bool liveness_ = false;
  std::uint32_t last_primary_ = 0;  // the replica primary_present() found last
};

Simulation::Simulation(const RunOptions& o)
    : options_(planned(o)),
      system_(system_of(o)),
      plan_(o.schedule),
      tape_(options_.input ? Tape(*options_.input) : Tape()),
      params_(plan_ ? plan_->params
                    : draw_swarm(o.seed, o.faults, o.replicas, o.clients, options_.input ? &tape_ : nullptr)),
      run_(start_system(*system_, params_, options_)),
      rng_(options_.seed, options_.input ? &tape_ : nullptr),
      trace_(o.trace, o.context_lines),
      cluster_(cluster_configs(params_), *this, *system_),
      network_(params_, Prng::stream(options_.seed, Stream::network).next(), options_.input ? &tape_ : nullptr,
               rng_.network),
      workload_(params_, rng_.workload, *run_, plan_, options_.record_schedule ? &result_.schedule : nullptr),
      faults_(params_, FaultStreams{rng_.faults, rng_.partitions, rng_.buggify}, events_, *this, plan_,
              options_.record_schedule ? &result_.schedule : nullptr),
      metrics_(result_.stats, params_.tick_us) {
  result_.params = params_;
  // Storage faults strike in the fault phase only, within the wipe budget (rule A2).
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    cluster_.host(r).set_storage_faults(params_, rng_.storage,
                                        [this, r] { return !liveness_ && cluster_.wipe_allowed(r); });
  }
  if (options_.record_schedule) {
    result_.schedule.system = system_->name;
    result_.schedule.params = params_;
    result_.schedule.duration_us = options_.duration_us;
    result_.schedule.liveness_us = options_.liveness_us;
  }
}

// ---------------------------------------------------------------- event loop

RunResult Simulation::run() {
  boot();
  std::uint64_t deadline_us = options_.duration_us + options_.liveness_us;
  while (!events_.empty() && !failed()) {
    Event e = events_.pop();
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
    metrics_.primary_present(primary_present(), now_us_);
    if (e.action == Action::convergence_check && !failed() && !divergence()) break;
  }
  finish();
  return std::move(result_);
}

void Simulation::dispatch(const Event& e) {
  switch (e.action) {
    case Action::deliver: deliver(static_cast<std::uint32_t>(e.arg)); break;
    case Action::replica_tick: replica_tick(e.node, e.arg); break;
    case Action::client_tick: client_tick(e.node); break;
    case Action::client_issue: client_issue(e.node); break;
    case Action::disk_done: disk_done(e.node, e.arg); break;
    case Action::liveness_phase: enter_liveness_phase(); break;
    case Action::convergence_check: events_.schedule(now_us_ + convergence_check_us, Action::convergence_check); break;
    default: faults_.on(e, now_us_); break;  // crash, restart, partition, heal, pause, resume, clog
  }
}

void Simulation::fail(RunVerdict v, std::string check, std::string detail) {
  if (failed()) return;
  result_.verdict = v;
  result_.check = std::move(check);
  result_.detail = std::move(detail);
  result_.failed_at_us = now_us_;
  result_.context = trace_.recent();
  emit(trace::Violation{result_.check, result_.detail});
}

/// The run is over: the liveness verdict, the final figures, the history check.
void Simulation::finish() {
  metrics_.primary_present(true, now_us_);  // an open window without a primary closes
  if (!failed()) {
    if (auto why = divergence()) {
      fail(RunVerdict::liveness, "liveness",
           fmt::format("not converged {} s into the liveness phase: {}", options_.liveness_us / 1'000'000, *why));
    }
  }
  result_.stats.simulated_us = now_us_;
  result_.stats.input_bytes_used = tape_.used();
  result_.stats.final_view = cluster_.checker().max_view();
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    const SimHost& host = cluster_.host(r);
    if (host.up()) result_.stats.final_commit = std::max(result_.stats.final_commit, host.replica().commit().value);
    const StorageFaultCounts& faults = host.storage_faults();
    result_.stats.storage_torn += faults.torn;
    result_.stats.storage_corrupted += faults.corrupted;
    result_.stats.storage_latent += faults.latent;
    result_.stats.storage_misdirected += faults.misdirected;
    result_.stats.storage_sync_cut += faults.sync_cut;
    result_.stats.storage_batches_durable += host.host().writes_completed();
    result_.stats.storage_syncs += host.host().syncs();
  }
  check_history();
  result_.history = run_->take_history();
  result_.trace_hash = trace_.hash();
}

/// The last segments of the history (ops still in flight are indeterminate), and the
/// streaming check's figures.
void Simulation::check_history() {
  if (!options_.check_linearizability) return;
  run_->finish();
  check_history_so_far();
  const lin::StreamStats st = run_->check_stats();
  result_.stats.lin_segments = st.segments;
  result_.stats.lin_largest_segment = st.largest_segment;
  result_.stats.lin_most_carried = st.most_carried;
  result_.stats.lin_unknown = run_->unknown();
}

/// A segment that cannot be linearized fails the run now, at the op that shows it.
void Simulation::check_history_so_far() {
  if (failed() || !options_.check_linearizability) return;
  if (std::string why = run_->violation(); !why.empty()) fail(RunVerdict::not_linearizable, "linearizability", why);
}

// ---------------------------------------------------------------- replicas

void Simulation::boot() {
  std::uint32_t n = params_.replica_count;
  replicas_.resize(n);
  for (std::uint32_t r = 0; r < n; ++r) {
    ReplicaNode& node = replicas_[r];
    double drift = (rng_.clocks.real() * 2 - 1) * params_.drift_ppm / 1e6;
    node.tick_period_us = static_cast<std::uint64_t>(static_cast<double>(params_.tick_us) * (1 + drift));
    cluster_.boot(r);
    events_.schedule(rng_.clocks.below(node.tick_period_us) + 1, Action::replica_tick, r, 0);
  }
  clients_.resize(params_.client_count);
  for (std::uint32_t c = 0; c < params_.client_count; ++c) {
    new_client(c);
    plan_issue(c, 0, true);
  }
  faults_.start(options_.duration_us);
  events_.schedule(options_.duration_us, Action::liveness_phase);
}

void Simulation::replica_tick(std::uint32_t r, std::uint64_t incarnation) {
  const SimHost& host = cluster_.host(r);
  if (!host.up() || incarnation != host.incarnation()) return;
  events_.schedule(now_us_ + replicas_[r].tick_period_us, Action::replica_tick, r, incarnation);
  if (replicas_[r].paused) return;
  emit(trace::ReplicaEvent{trace::tick, r});
  cluster_.tick(r);
}

void Simulation::restarted(std::uint32_t /*r*/, const RestartReport& report) {
  metrics_.observe_restart(report);
}

void Simulation::observe(std::uint32_t r, const Output& out) {
  metrics_.observe(out);
  metrics_.log_held(cluster_.host(r).replica().log().size());
  for (const Fact& f : out.facts) faults_.after_fact(r, f, now_us_);
  for (const TelemetryEvent& e : out.events) emit(trace::Telemetry{e});
}

/// The write just queued by `r` completes after the simulated disk's latency.
void Simulation::write_queued(std::uint32_t r) {
  SimHost& host = cluster_.host(r);
  std::uint64_t done = host.write_done_us(now_us_, draw_disk_latency_us(params_, rng_.disk));
  events_.schedule(done, Action::disk_done, r, host.incarnation());
  if (auto base = host.host().storage().pending_base_seq(); base && *base != replicas_[r].last_base_seen) {
    replicas_[r].last_base_seen = *base;
    faults_.after_base_record(r, now_us_);
  }
}

/// The oldest pending write of `r` completes: it becomes durable, then the messages
/// that waited on it leave.
void Simulation::disk_done(std::uint32_t r, std::uint64_t incarnation) {
  const SimHost& host = cluster_.host(r);
  if (!host.up() || incarnation != host.incarnation() || !host.has_writes()) return;
  cluster_.complete_oldest_write(r);
}

void Simulation::deliver_to_replica(std::uint32_t r, std::uint32_t parcel) {
  if (!cluster_.host(r).up()) {
    drop(parcel, "down");
    return;
  }
  if (replicas_[r].paused) {
    replicas_[r].inbox.push_back(parcel);
    return;
  }
  Parcel& p = network_.parcel(parcel);
  emit(trace::MessageEvent{trace::deliver, p.from, p.to, p.message});
  metrics_.delivered();
  Message m = std::move(p.message);
  network_.release(parcel);
  cluster_.step(r, m);
}

// ---------------------------------------------------------------- network

std::uint32_t Simulation::node_of(const Endpoint& e) const {
  if (const auto* r = std::get_if<ReplicaIndex>(&e)) return r->value;
  auto it = slot_of_client_.find(std::get<ClientId>(e).value);
  return params_.replica_count + (it == slot_of_client_.end() ? 0 : it->second);
}

void Simulation::send(const Endpoint& from, Outgoing&& o) {
  metrics_.sent(o.message);
  Route rt;
  if (from == o.to) {
    rt.copies = 1;
    rt.deliver_us[0] = now_us_;  // local: never lost
  } else {
    bool client_link = std::holds_alternative<ClientId>(from) || std::holds_alternative<ClientId>(o.to);
    rt = network_.route(node_of(from), node_of(o.to), client_link, o.message, now_us_, !liveness_);
  }
  if (rt.corrupt) corrupt_snapshot_chunk(std::get<SnapshotChunk>(o.message), rt.corrupt_state_hash);
  if (rt.dropped) {
    emit(trace::MessageEvent{trace::drop, from, o.to, o.message, rt.reason});
    metrics_.dropped();
    return;
  }
  emit(trace::MessageEvent{trace::send, from, o.to, o.message});
  for (int i = 0; i < rt.copies; ++i) {
    std::uint32_t parcel = i + 1 < rt.copies ? network_.hold(from, o.to, Message(o.message))
                                             : network_.hold(from, o.to, std::move(o.message));
    events_.schedule(rt.deliver_us[i], Action::deliver, 0, parcel);
  }
}

void Simulation::deliver(std::uint32_t parcel) {
  Parcel& p = network_.parcel(parcel);
  if (const auto* r = std::get_if<ReplicaIndex>(&p.to)) {
    deliver_to_replica(r->value, parcel);
    return;
  }
  auto it = slot_of_client_.find(std::get<ClientId>(p.to).value);
  if (it == slot_of_client_.end()) {
    drop(parcel, "client-gone");
    return;
  }
  emit(trace::MessageEvent{trace::deliver, p.from, p.to, p.message});
  metrics_.delivered();
  if (const auto* reply = std::get_if<Reply>(&p.message)) {
    clients_[it->second].client->step(*reply);
    handle_client_output(it->second);
  }
  network_.release(parcel);
}

/// A parcel that arrived where nobody takes it.
void Simulation::drop(std::uint32_t parcel, std::string_view reason) {
  const Parcel& p = network_.parcel(parcel);
  emit(trace::MessageEvent{trace::drop, p.from, p.to, p.message, reason});
  metrics_.dropped();
  network_.release(parcel);
}

// ---------------------------------------------------------------- clients

void Simulation::new_client(std::uint32_t c) {
  ClientNode& node = clients_[c];
  if (node.client) slot_of_client_.erase(node.client->id().value);
  ClientId id(next_client_id_++);
  ClientConfig config{params_.replica_count, client_timeout_ticks};
  config.open_sessions = params_.max_client_sessions != 0;
  node.client.emplace(id, config);
  node.process = next_process_++;
  slot_of_client_[id.value] = c;
}

/// Schedules slot `c`'s next issue 1 us plus a think time after `base_us` (workload.hpp).
void Simulation::plan_issue(std::uint32_t c, std::uint64_t base_us, bool think) {
  if (auto think_us = workload_.next_think_us(c, think)) {
    clients_[c].planned_us = now_us_;
    events_.schedule(base_us + 1 + *think_us, Action::client_issue, c);
  }
}

void Simulation::client_issue(std::uint32_t c) {
  ClientNode& node = clients_[c];
  if (liveness_ || options_.idle || node.client->busy()) return;
  auto operation = workload_.next_operation(c);
  if (!operation) return;
  node.op_id = next_op_id_++;
  auto invoked = run_->invoke(node.op_id, c, node.process, *operation, now_us_);
  if (!invoked) {
    fail(RunVerdict::crash, "workload", fmt::format("client {}'s operation: {}", c, invoked.error().message));
    return;
  }
  node.invoked_us = now_us_;
  node.client->submit(std::move(*operation));
  resume_ticks(c);
  auto describe = [&] { return run_->describe(node.op_id); };
  emit(trace::Invoke<decltype(describe)>{node.process, node.client->id().value, describe});
  handle_client_output(c);
}

/// A client's ticks fall on its grid, client_tick_us + c + k * client_tick_us, but only
/// while it is busy: an idle client's tick does nothing (vsr::Client counts ticks only
/// to measure a request), so an idle slot costs no events. Resumes at the next grid
/// point; one at this very microsecond runs after this issue exactly when a tick that
/// had kept going would have (it would have been queued one period ago, after an issue
/// planned earlier than that).
void Simulation::resume_ticks(std::uint32_t c) {
  ClientNode& node = clients_[c];
  if (node.ticking) return;
  node.ticking = true;
  std::uint64_t first = client_tick_us + c;
  if (now_us_ < first) {
    events_.schedule(first, Action::client_tick, c);
    return;
  }
  std::uint64_t since = (now_us_ - first) % client_tick_us;
  bool on_grid_after_issue = since == 0 && now_us_ > first && node.planned_us < now_us_ - client_tick_us;
  std::uint64_t next = on_grid_after_issue ? now_us_ : now_us_ - since + client_tick_us;
  events_.schedule(next, Action::client_tick, c);
}

void Simulation::client_tick(std::uint32_t c) {
  ClientNode& node = clients_[c];
  if (!node.client->busy()) {
    node.ticking = false;
    return;
  }
  events_.schedule(now_us_ + client_tick_us, Action::client_tick, c);
  if (!liveness_ && node.client->busy() && now_us_ - node.invoked_us >= params_.give_up_us) {
    give_up(c);
    return;
  }
  node.client->tick();
  handle_client_output(c);
}

void Simulation::handle_client_output(std::uint32_t c) {
  ClientOutput out = clients_[c].client->take_output();
  for (const TelemetryEvent& e : out.events) metrics_.observe_client(e);
  Endpoint self = clients_[c].client->id();
  for (Outgoing& o : out.send) send(self, std::move(o));
  if (out.completed) complete_op(c, *out.completed);
}

void Simulation::complete_op(std::uint32_t c, const ClientCompletion& done) {
  ClientNode& node = clients_[c];
  if (done.evicted) return give_up(c);  // indeterminate, as a timeout is
  auto answer = run_->complete(node.op_id, done.result, now_us_);
  VSR_ASSERT(answer.has_value(), answer ? "" : answer.error().message);
  check_history_so_far();
  cluster_.checker().on_client_ack(node.client->id(), done.request, done.view);
  result_.stats.latency_us.add(now_us_ - node.invoked_us);
  ++(answer.value() == Answer::ok ? result_.stats.ops_ok : result_.stats.ops_failed);
  auto describe = [&] { return run_->describe(node.op_id); };
  emit(trace::Complete<decltype(describe)>{node.process, describe});
  plan_issue(c, now_us_, true);
}

/// The client abandons its request: the op is indeterminate, and the process is done
/// (history rule). A fresh client with a fresh id takes the slot.
void Simulation::give_up(std::uint32_t c) {
  ClientNode& node = clients_[c];
  run_->abandon(node.op_id, now_us_);
  check_history_so_far();
  ++result_.stats.ops_info;
  emit(trace::GiveUp{node.process});
  new_client(c);
  plan_issue(c, now_us_, false);
}

// ---------------------------------------------------------------- faults

std::optional<std::uint32_t> Simulation::acting_primary() const {
  std::optional<std::uint32_t> best;
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    const SimHost& host = cluster_.host(r);
    if (!host.up() || !host.replica().is_acting_primary()) continue;
    if (!best || host.replica().view() > cluster_.host(*best).replica().view()) best = r;
  }
  return best;
}

/// Crashes `r` now; `wipe` holds only within the wipe budget (never more than f
/// replicas without a trustworthy disk). Messages waiting in its inbox are lost.
void Simulation::crash(std::uint32_t r, bool& wipe) {
  ReplicaNode& node = replicas_[r];
  wipe = wipe && cluster_.wipe_allowed(r);
  cluster_.crash(r, wipe);  // writes in flight are lost, with the messages waiting on them
  node.paused = false;
  for (std::uint32_t p : node.inbox) network_.release(p);
  node.inbox.clear();
  if (wipe) ++result_.stats.wipes;
  ++result_.stats.crashes;
  emit(trace::Crash{r, wipe});
}

bool Simulation::restart(std::uint32_t r) {
  SimHost& host = cluster_.host(r);
  if (host.up()) return false;
  host.reset_disk_clock(now_us_);
  emit(trace::Restart{r, host.needs_recovery()});
  // Recovery (§4.3) starts from an empty disk (ReplicaHost::start_recovery says why).
  cluster_.restart(r, [&] { return rng_.nonces.next(); });
  if (failed()) return true;
  events_.schedule(now_us_ + 1 + rng_.clocks.below(replicas_[r].tick_period_us), Action::replica_tick, r,
                   host.incarnation());
  return true;
}

std::vector<Link> Simulation::partition(const std::vector<Link>& cuts, std::string_view style) {
  network_.cut(cuts);
  std::vector<Link> cut = network_.cuts();
  ++result_.stats.partitions;
  emit(trace::Partition{style, cut});
  return cut;
}

bool Simulation::heal() {
  if (!network_.partitioned()) return false;
  network_.heal();
  emit(trace::Mark{trace::heal});
  return true;
}

/// Pauses `r`: it stops ticking and its arrivals wait in its inbox.
void Simulation::pause(std::uint32_t r) {
  replicas_[r].paused = true;
  ++result_.stats.pauses;
  emit(trace::ReplicaEvent{trace::pause, r});
}

/// Resumes `r`, which handles the burst of messages that waited, in arrival order.
bool Simulation::resume(std::uint32_t r) {
  ReplicaNode& node = replicas_[r];
  const SimHost& host = cluster_.host(r);
  if (!host.up() || !node.paused) return false;
  node.paused = false;
  emit(trace::Resume{r, node.inbox.size()});
  std::vector<std::uint32_t> burst = std::move(node.inbox);
  node.inbox.clear();
  for (std::uint32_t p : burst) {
    if (failed() || !host.up() || node.paused) {
      network_.release(p);
      continue;
    }
    deliver_to_replica(r, p);
  }
  return true;
}

void Simulation::clog(std::uint32_t a, std::uint32_t b, std::uint64_t until_us) {
  network_.clog(a, b, until_us);
  ++result_.stats.clogs;
  emit(trace::Clog{a, b, until_us});
}

// ---------------------------------------------------------------- liveness

/// Faults stop: links heal and unclog, every replica is restarted and resumed; then the
/// cluster must converge within the liveness bound.
void Simulation::enter_liveness_phase() {
  liveness_ = true;
  faults_.stop();
  heal();
  network_.clear_clogs();
  emit(trace::Mark{trace::liveness_phase});
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    if (!cluster_.host(r).up()) restart(r);
    if (failed()) return;
    if (replicas_[r].paused) resume(r);
  }
  events_.schedule(now_us_ + convergence_check_us, Action::convergence_check);
}

/// Why the run has not converged, or nullopt once it has: the liveness phase is on,
/// every client finished, and the replicas agree (liveness.hpp).
std::optional<std::string> Simulation::divergence() const {
  if (!liveness_) return "the fault phase never ended";
  for (const ClientNode& node : clients_) {
    if (node.client->busy()) {
      return fmt::format("client {} still waits for request {}", node.client->id(), node.client->last_request());
    }
  }
  return replicas_diverge(cluster_);
}

/// An up, unpaused replica is primary of its view and normal. The one found last time
/// is asked first (it usually still is): the answer does not depend on the order.
bool Simulation::primary_present() {
  if (acting_primary_now(last_primary_)) return true;
  for (std::uint32_t r = 0; r < cluster_.size(); ++r) {
    if (acting_primary_now(r)) {
      last_primary_ = r;
      return true;
    }
  }
  return false;
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
