#include "sim/scenario/schedule_text.hpp"

#include <array>
#include <charconv>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "sim/kv_call.hpp"
#include "sim/limits.hpp"
#include "sim/systems.hpp"
#include "vsr/codec.hpp"
#include "vsr/config.hpp"

namespace vsr::sim {

namespace {

// ---------------------------------------------------------------- the `sim` keys

/// One `sim` key: the Schedule field it holds, how its value is written and read, and
/// its range. The writer, the reader and the command spec all use this one table.
struct SimKey {
  enum class Kind : std::uint8_t { seed, count, time, probability };
  using Field = std::variant<std::uint64_t Schedule::*, std::uint64_t SwarmParams::*, std::uint32_t SwarmParams::*,
                             double SwarmParams::*>;
  std::string_view key;
  Kind kind;
  Field field;
  std::uint64_t min = 0;  // count and time
  std::uint64_t max = 0;
};

using K = SimKey::Kind;
using P = SwarmParams;
constexpr std::uint64_t max_t = max_sim_duration_us;

const std::array<SimKey, 31> sim_keys = {{
    {"seed", K::seed, &P::seed},
    {"replicas", K::count, &P::replica_count, min_replicas, max_replicas},
    {"clients", K::count, &P::client_count, 0, max_clients},
    {"for", K::time, &Schedule::duration_us, 1, max_t},
    {"liveness", K::time, &Schedule::liveness_us, 1, max_t},
    {"keys", K::count, &P::key_count, 0, 1000},
    {"tick", K::time, &P::tick_us, 1, max_t},
    {"drift-ppm", K::count, &P::drift_ppm, 0, 100'000},
    {"delay-min", K::time, &P::delay_min_us, 0, max_t},
    {"delay-mean", K::time, &P::delay_mean_us, 0, max_t},
    {"tail-p", K::probability, &P::tail_probability},
    {"tail-mean", K::time, &P::tail_mean_us, 0, max_t},
    {"drop", K::probability, &P::drop_probability},
    {"dup", K::probability, &P::duplicate_probability},
    {"client-drop", K::probability, &P::client_drop_probability},
    {"disk-mean", K::time, &P::disk_latency_mean_us, 0, max_t},
    {"disk-slow-p", K::probability, &P::disk_slow_probability},
    {"disk-slow-mean", K::time, &P::disk_slow_mean_us, 0, max_t},
    {"give-up", K::time, &P::give_up_us, 0, max_t},
    {"pipeline", K::count, &P::pipeline_ops, 1, 1'000'000},
    {"checkpoint", K::count, &P::checkpoint_interval_ops, 0, 1'000'000},
    {"retention", K::count, &P::log_retention_ops, 0, 1u << 30},
    {"snapshot-chunk", K::count, &P::snapshot_chunk_bytes, 0, 1u << 30},
    {"snapshot-corrupt", K::probability, &P::snapshot_corrupt_probability},
    {"sessions", K::count, &P::max_client_sessions, 0, 1'000'000},
    {"message-bytes", K::count, &P::max_message_bytes, min_message_bytes, max_frame_bytes},
    {"storage-torn", K::probability, &P::torn_write_probability},
    {"storage-corrupt", K::probability, &P::corruption_probability},
    {"storage-latent", K::probability, &P::latent_error_probability},
    {"storage-misdirect", K::probability, &P::misdirect_probability},
    {"ring-slots", K::count, &P::journal_ring_slots, 4, 1u << 20},
}};

/// Calls `f` with a reference to the field `k` names in `s` (const if `s` is).
template <class S, class F>
void with_field(S& s, const SimKey& k, F&& f) {
  std::visit(
      [&](auto member) {
        if constexpr (std::is_same_v<decltype(member), std::uint64_t Schedule::*>) {
          f(s.*member);
        } else {
          f(s.params.*member);
        }
      },
      k.field);
}

std::string key_value_text(const Schedule& s, const SimKey& k) {
  std::string out;
  with_field(s, k, [&](const auto& v) { out = fmt::format("{}={}{}", k.key, v, k.kind == K::time ? "us" : ""); });
  return out;
}

InputResult<void> read_key(Schedule& s, const SimKey& k, std::string_view text) {
  if (k.kind == K::probability) {
    VSR_SIM_TRY(double p, parse_probability(text, k.key));
    with_field(s, k, [&](auto& v) { v = static_cast<std::remove_reference_t<decltype(v)>>(p); });
    return outcome::success();
  }
  InputResult<std::uint64_t> n = k.kind == K::seed   ? parse_seed(text, k.key)
                                 : k.kind == K::time ? parse_duration_us(text, k.key, k.min, k.max)
                                                     : parse_bounded_uint(text, k.key, k.min, k.max);
  if (!n) return n.error();
  with_field(s, k, [&](auto& v) { v = static_cast<std::remove_reference_t<decltype(v)>>(n.value()); });
  return outcome::success();
}

/// What a `sim` line leaves out: a quiet run of 3 replicas and 1 client for 1 s.
Schedule quiet_schedule() {
  Schedule s;
  s.params.faults = FaultLevel::none;
  s.params.seed = 1;
  s.params.client_count = 1;
  s.duration_us = 1'000'000;
  return s;
}

std::string sim_line(const Schedule& s) {
  std::string out = "sim";
  if (s.system != "kv") out += " system=" + s.system;
  for (const SimKey& k : sim_keys) out += " " + key_value_text(s, k);
  return out;
}

// ---------------------------------------------------------------- `at` lines

/// What follows `at TIME KIND` for each kind of fault.
enum class FaultShape : std::uint8_t { replica, cuts, nothing, link };

FaultShape shape_of(FaultStep::Kind k) {
  switch (k) {
    case FaultStep::Kind::crash:
    case FaultStep::Kind::restart:
    case FaultStep::Kind::pause:
    case FaultStep::Kind::resume: return FaultShape::replica;
    case FaultStep::Kind::partition: return FaultShape::cuts;
    case FaultStep::Kind::heal: return FaultShape::nothing;
    case FaultStep::Kind::clog: return FaultShape::link;
  }
  return FaultShape::nothing;
}

/// The kind named `name` (to_string's names), if any.
std::optional<FaultStep::Kind> fault_kind(std::string_view name) {
  for (auto i = 0; i <= static_cast<int>(FaultStep::Kind::clog); ++i) {
    auto k = static_cast<FaultStep::Kind>(i);
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

std::string cuts_text(const FaultStep& f) {
  if (f.cuts.empty()) return "none";
  std::string out;
  for (const auto& [a, b] : f.cuts) out += fmt::format("{}{}>{}", out.empty() ? "" : ",", a, b);
  return out;
}

std::string fault_line(const FaultStep& f) {
  std::string head = fmt::format("at {}us {}", f.at_us, to_string(f.kind));
  switch (shape_of(f.kind)) {
    case FaultShape::replica: return fmt::format("{} {}{}", head, f.replica, f.wipe ? " wipe" : "");
    case FaultShape::cuts: return fmt::format("{} cut={}", head, cuts_text(f));
    case FaultShape::nothing: return head;
    case FaultShape::link: return fmt::format("{} from={} to={} until={}us", head, f.from, f.to, f.until_us);
  }
  return head;
}

InputResult<std::uint32_t> read_replica(const Schedule& s, std::string_view word) {
  VSR_SIM_TRY(auto r, parse_bounded_uint(word, "replica", 0, s.params.replica_count - 1));
  return static_cast<std::uint32_t>(r);
}

/// "0>1,1>0" (directed links between replicas) or "none".
InputResult<std::vector<std::pair<std::uint32_t, std::uint32_t>>> read_cuts(const Schedule& s,
                                                                             std::string_view text) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  if (text == "none") return out;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view link = text.substr(0, comma);
    auto gt = link.find('>');
    if (gt == std::string_view::npos) return InputError{fmt::format("cut: '{}' is not a link like 0>1", link)};
    VSR_SIM_TRY(std::uint32_t a, read_replica(s, link.substr(0, gt)));
    VSR_SIM_TRY(std::uint32_t b, read_replica(s, link.substr(gt + 1)));
    if (a == b) return InputError{fmt::format("cut: '{}' links a replica to itself", link)};
    out.emplace_back(a, b);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
  }
  return out;
}

InputResult<std::string_view> required(const ScriptCommand& c, std::string_view key) {
  const std::string* v = c.arg(key);
  if (v == nullptr) return InputError{fmt::format("{}: {}=... is required", c.name, key)};
  return std::string_view(*v);
}

/// The words after `at TIME KIND` and the arguments, by the kind's shape.
InputResult<void> read_fault_body(const ScriptCommand& c, const Schedule& s, FaultStep& f) {
  std::string_view kind = c.words[1];
  std::size_t words = 2;
  switch (shape_of(f.kind)) {
    case FaultShape::replica: {
      if (c.words.size() < 3) return InputError{fmt::format("at {}: which replica?", kind)};
      VSR_SIM_TRY(f.replica, read_replica(s, c.words[2]));
      words = 3;
      if (f.kind == FaultStep::Kind::crash && c.words.size() == 4) {
        if (c.words[3] != "wipe") return InputError{fmt::format("at crash: '{}' is not 'wipe'", c.words[3])};
        f.wipe = true;
        words = 4;
      }
      break;
    }
    case FaultShape::cuts: {
      const std::string* cut = c.arg("cut");
      if (cut == nullptr) return InputError{"at partition: cut=A>B,... is required"};
      VSR_SIM_TRY(f.cuts, read_cuts(s, *cut));
      break;
    }
    case FaultShape::nothing: break;
    case FaultShape::link: {
      std::uint32_t last_node = s.params.replica_count + s.params.client_count - 1;
      VSR_SIM_TRY(auto from, required(c, "from"));
      VSR_SIM_TRY(auto to, required(c, "to"));
      VSR_SIM_TRY(auto until, required(c, "until"));
      VSR_SIM_TRY(auto a, parse_bounded_uint(from, "from", 0, last_node));
      VSR_SIM_TRY(auto b, parse_bounded_uint(to, "to", 0, last_node));
      VSR_SIM_TRY(f.until_us, parse_duration_us(until, "until", 0, max_t));
      f.from = static_cast<std::uint32_t>(a);
      f.to = static_cast<std::uint32_t>(b);
      break;
    }
  }
  if (c.words.size() != words) return InputError{fmt::format("at {}: too many words", kind)};
  return outcome::success();
}

// ---------------------------------------------------------------- `op` lines

/// A KV value: any signed 64-bit integer.
InputResult<std::int64_t> kv_value(std::string_view text, std::string_view what) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc{} || p != end) {
    return InputError{fmt::format("{}: '{}' is not an integer (values are integers, so the "
                                  "linearizability checker can model them)",
                                  what, text)};
  }
  return v;
}

/// A KV system's operation as a call (`read key=k1`); any other system's, or bytes
/// that are no KV operation, as `bytes=HEX` (`bytes=none` when empty).
std::string operation_text(std::string_view system, const Bytes& operation) {
  if (system == "kv") {
    if (auto call = call_of(operation)) return call_text(call.value());
  }
  if (operation.empty()) return "bytes=none";
  std::string hex = "bytes=";
  for (std::uint8_t b : operation) hex += fmt::format("{:02x}", b);
  return hex;
}

InputResult<Bytes> read_hex(std::string_view text) {
  if (text == "none") return Bytes{};
  if (text.size() % 2 != 0) return InputError{"op: bytes= needs an even number of hex digits"};
  Bytes out;
  for (std::size_t i = 0; i < text.size(); i += 2) {
    std::uint8_t b = 0;
    auto [p, ec] = std::from_chars(text.data() + i, text.data() + i + 2, b, 16);
    if (ec != std::errc{} || p != text.data() + i + 2) {
      return InputError{fmt::format("op: bytes=: '{}' is not hex", text.substr(i, 2))};
    }
    out.push_back(b);
  }
  return out;
}

std::string op_line(std::string_view system, std::size_t slot, const ClientStep& s) {
  return fmt::format("op client={} think={}us {}", slot + 1, s.think_us, operation_text(system, s.operation));
}

void block(std::string& out, const std::string& command, std::string_view expected = {}) {
  out += command;
  out += "\n----\n";
  if (!expected.empty()) {
    out += expected;
    out += '\n';
  }
  out += '\n';
}

std::vector<std::string_view> sim_key_names() {
  std::vector<std::string_view> names{"system"};
  for (const SimKey& k : sim_keys) names.push_back(k.key);
  return names;
}

}  // namespace

// ---------------------------------------------------------------- writer

std::string schedule_to_scenario(const Schedule& s, std::string_view header) {
  std::string out;
  std::size_t start = 0;
  while (start < header.size()) {
    auto nl = header.find('\n', start);
    auto line = header.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += line.empty() ? "#\n" : fmt::format("# {}\n", line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (!header.empty()) out += '\n';
  block(out, sim_line(s));
  for (const FaultStep& f : s.faults) block(out, fault_line(f));
  for (std::size_t slot = 0; slot < s.clients.size(); ++slot) {
    for (const ClientStep& step : s.clients[slot]) block(out, op_line(s.system, slot, step));
  }
  block(out, "simulate", "passed");
  return out;
}

std::vector<std::string> describe_schedule(const Schedule& s) {
  std::vector<std::string> lines;
  lines.push_back(fmt::format("{} replicas, {} client slots, fault phase {} ms, seed {}", s.params.replica_count,
                              s.params.client_count, s.duration_us / 1000, s.params.seed));
  lines.push_back(fmt::format("network: delay {}+~{} us, drop {}, dup {}, tail {}", s.params.delay_min_us,
                              s.params.delay_mean_us, s.params.drop_probability, s.params.duplicate_probability,
                              s.params.tail_probability));
  for (const FaultStep& f : s.faults) lines.push_back(fault_line(f));
  for (std::size_t slot = 0; slot < s.clients.size(); ++slot) {
    for (const ClientStep& step : s.clients[slot]) lines.push_back(op_line(s.system, slot, step));
  }
  return lines;
}

const CommandSpec& sim_spec() {
  static const CommandSpec spec{"sim", 0, 0, sim_key_names(),
                                "sim [system=NAME] seed=N replicas=N clients=M for=TIME [network, disk and clock keys...]"};
  return spec;
}

const CommandSpec& at_spec() {
  static const CommandSpec spec{"at", 2, 4, {"cut", "from", "to", "until"},
                                "at TIME crash N [wipe] | restart N | pause N | resume N | partition cut=A>B,... | "
                                "heal | clog from=A to=B until=TIME"};
  return spec;
}

const CommandSpec& op_spec() {
  static const CommandSpec spec{"op", 0, 1, {"client", "think", "key", "value", "from", "to", "bytes"},
                                "op client=K think=TIME read|write|cas|delete key=K [value=V] [from=A to=B] | "
                                "op client=K think=TIME bytes=HEX"};
  return spec;
}

std::string call_text(const OpCall& c) {
  switch (c.kind) {
    case OpKind::read: return fmt::format("read key={}", c.key);
    case OpKind::write: return fmt::format("write key={} value={}", c.key, c.value);
    case OpKind::cas: return fmt::format("cas key={} from={} to={}", c.key, c.value, c.to);
    case OpKind::del: return fmt::format("delete key={}", c.key);
  }
  return "?";
}

// ---------------------------------------------------------------- reader

InputResult<void> ScheduleReader::read_sim(const ScriptCommand& c) {
  if (schedule_) return InputError{"sim: one schedule per file"};
  Schedule s = quiet_schedule();
  if (const std::string* system = c.arg("system")) {
    if (!is_system_name(*system)) return InputError{fmt::format("system: '{}' is not a system name", *system)};
    s.system = *system;
  }
  for (const SimKey& k : sim_keys) {
    if (const std::string* v = c.arg(k.key)) {
      VSR_SIM_TRYV(read_key(s, k, *v));
    }
  }
  if (!Config::make(s.params.replica_count, ReplicaIndex(0)).has_value()) {
    return InputError{"replicas: not a valid cluster size"};
  }
  s.clients.resize(s.params.client_count);
  schedule_ = std::move(s);
  return outcome::success();
}

InputResult<void> ScheduleReader::read_at(const ScriptCommand& c) {
  VSR_SIM_TRY(const Schedule* s, schedule("at"));
  FaultStep f;
  VSR_SIM_TRY(f.at_us, parse_duration_us(c.words[0], "at", 0, max_t));
  if (!s->faults.empty() && f.at_us < s->faults.back().at_us) return InputError{"at: faults must be in time order"};
  auto kind = fault_kind(c.words[1]);
  if (!kind) return InputError{fmt::format("at: unknown fault '{}'", c.words[1])};
  f.kind = *kind;
  VSR_SIM_TRYV(read_fault_body(c, *s, f));
  schedule_->faults.push_back(std::move(f));
  return outcome::success();
}

InputResult<void> ScheduleReader::read_op(const ScriptCommand& c) {
  VSR_SIM_TRY(const Schedule* s, schedule("op"));
  VSR_SIM_TRY(auto client, required(c, "client"));
  VSR_SIM_TRY(auto k, parse_bounded_uint(client, "client", 1, s->params.client_count));
  ClientStep step;
  if (const std::string* think = c.arg("think")) {
    VSR_SIM_TRY(step.think_us, parse_duration_us(*think, "think", 0, max_t));
  }
  if (const std::string* hex = c.arg("bytes")) {
    if (!c.words.empty()) return InputError{"op: bytes=HEX stands alone (no read, write, cas or delete)"};
    VSR_SIM_TRY(step.operation, read_hex(*hex));
  } else {
    if (c.words.empty()) return InputError{"op: read, write, cas or delete (or bytes=HEX) is required"};
    if (s->system != "kv") return InputError{fmt::format("op: system '{}' takes its operations as bytes=HEX", s->system)};
    VSR_SIM_TRY(OpCall call, read_call(c));
    step.operation = encode_kv_op(to_kv(call));
  }
  schedule_->clients[k - 1].push_back(std::move(step));
  return outcome::success();
}

InputResult<const Schedule*> ScheduleReader::schedule(std::string_view command) const {
  if (!schedule_) return InputError{fmt::format("{}: no schedule yet (start with: sim seed=N ...)", command)};
  return &*schedule_;
}

InputResult<OpCall> read_call(const ScriptCommand& c) {
  const std::string& kind = c.words.at(0);
  const std::string* key = c.arg("key");
  if (key == nullptr) return InputError{fmt::format("{}: key=K is required", c.name)};
  auto forbid = [&](std::initializer_list<std::string_view> keys) -> InputResult<void> {
    for (auto k : keys) {
      if (c.arg(k) != nullptr) return InputError{fmt::format("{} {}: {}= does not apply", c.name, kind, k)};
    }
    return outcome::success();
  };
  auto need = [&](std::string_view k) -> InputResult<std::int64_t> {
    const std::string* v = c.arg(k);
    if (v == nullptr) return InputError{fmt::format("{} {}: {}=... is required", c.name, kind, k)};
    return kv_value(*v, k);
  };
  if (kind == "read" || kind == "delete") {
    VSR_SIM_TRYV(forbid({"value", "from", "to"}));
    return kind == "read" ? OpCall::read(*key) : OpCall::del(*key);
  }
  if (kind == "write") {
    VSR_SIM_TRYV(forbid({"from", "to"}));
    VSR_SIM_TRY(auto v, need("value"));
    return OpCall::write(*key, v);
  }
  if (kind == "cas") {
    VSR_SIM_TRYV(forbid({"value"}));
    VSR_SIM_TRY(auto from, need("from"));
    VSR_SIM_TRY(auto to, need("to"));
    return OpCall::cas(*key, from, to);
  }
  return InputError{fmt::format("{}: unknown operation '{}' (read, write, cas or delete)", c.name, kind)};
}

}  // namespace vsr::sim
