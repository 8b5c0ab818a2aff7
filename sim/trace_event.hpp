// Every event of the simulator's trace, as a struct (README, "Reading a trace"). Each
// lists its fields once, in line order, in `fields(f)`; Trace::emit (sim/trace.hpp)
// hashes them and writes them, so the hash and the JSON line cannot disagree. Field
// types that are neither numbers nor text (an endpoint, a message, a lazily built
// description) are small wrappers below with their own trace_word and put_json.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "sim/trace.hpp"
#include "vsr/codec.hpp"
#include "vsr/json_writer.hpp"
#include "vsr/message.hpp"
#include "vsr/state_machine.hpp"
#include "vsr/telemetry.hpp"
#include "vsr/types.hpp"

namespace vsr::sim {

// ---------------------------------------------------------------- field types

/// An endpoint: hashed as one word, written as "r1" or "c7".
struct EndpointField {
  const Endpoint& e;
};
inline std::uint64_t trace_word(EndpointField f) {
  return std::holds_alternative<ReplicaIndex>(f.e) ? std::get<ReplicaIndex>(f.e).value
                                                   : (1ULL << 40) + std::get<ClientId>(f.e).value;
}
inline void put_json(JsonObject& o, std::string_view key, EndpointField f) { o.str(key, fmt::format("{}", f.e)); }

/// A digest of what a message says that names it: its view, op, commit, request and
/// client (the fields it has).
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
inline std::uint64_t message_digest(const Message& m) {
  return std::visit([](const auto& x) { return message_digest(x); }, m);
}

/// A message's type: hashed by its index, written by name.
struct MessageTypeField {
  const Message& m;
};
inline std::uint64_t trace_word(MessageTypeField f) { return f.m.index(); }
inline void put_json(JsonObject& o, std::string_view key, MessageTypeField f) { o.str(key, message_name(f.m)); }

/// A message's content: hashed by message_digest, written in full.
struct MessageField {
  const Message& m;
};
inline std::uint64_t trace_word(MessageField f) { return message_digest(f.m); }
inline void put_json(JsonObject& o, std::string_view key, MessageField f) { o.str(key, fmt::format("{}", f.m)); }

/// Text derived from fields already hashed (an op's description): written, built only
/// when lines are wanted, and never hashed.
template <typename Make>
struct Derived {
  Make make;
};
template <typename Make>
std::uint64_t trace_word(const Derived<Make>&) {
  return 0;
}
template <typename Make>
void put_json(JsonObject& o, std::string_view key, const Derived<Make>& d) {
  o.str(key, d.make());
}

/// Text that describes rather than decides (how a partition was drawn): written, not
/// hashed, so a replay that draws nothing still hashes like the run it replays.
struct Note {
  std::string_view text;
};
inline std::uint64_t trace_word(Note) { return 0; }
inline void put_json(JsonObject& o, std::string_view key, Note n) { o.str(key, n.text); }

/// A partition's cut links (from, to): hashed link by link, written as ["0->1",...].
struct CutsField {
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& cuts;
};
inline std::uint64_t trace_word(CutsField f) {
  std::uint64_t h = f.cuts.size();
  for (const auto& [a, b] : f.cuts) h = hash_combine(h, (static_cast<std::uint64_t>(a) << 32) | b);
  return h;
}
inline void put_json(JsonObject& o, std::string_view key, CutsField f) {
  std::string list = "[";
  for (const auto& [a, b] : f.cuts) {
    if (list.size() > 1) list += ',';
    append_json_string(list, fmt::format("{}->{}", a, b));
  }
  list += ']';
  o.raw(key, list);
}

// ---------------------------------------------------------------- events

namespace trace {

/// A message sent, delivered or dropped; `reason` says why a drop happened.
struct MessageEvent {
  std::string_view kind;  // "send", "deliver" or "drop"
  const Endpoint& from;
  const Endpoint& to;
  const Message& message;
  std::string_view reason = {};
  [[nodiscard]] std::string_view ev() const { return kind; }
  template <typename F>
  void fields(F&& f) const {
    f("from", EndpointField{from});
    f("to", EndpointField{to});
    f("type", MessageTypeField{message});
    f("msg", MessageField{message});
    if (!reason.empty()) f("reason", reason);
  }
};

/// A replica's telemetry event (vsr/telemetry.hpp), field for field.
struct Telemetry {
  const TelemetryEvent& event;
  [[nodiscard]] static std::string_view ev() { return "telemetry"; }
  template <typename F>
  void fields(F&& f) const {
    for_each_field(event, f);
  }
};

/// An event of one replica with no other field: "tick", "pause".
struct ReplicaEvent {
  std::string_view kind;
  std::uint32_t replica;
  [[nodiscard]] std::string_view ev() const { return kind; }
  template <typename F>
  void fields(F&& f) const {
    f("replica", replica);
  }
};

/// A cluster-wide event with no field: "heal", "liveness_phase".
struct Mark {
  std::string_view kind;
  [[nodiscard]] std::string_view ev() const { return kind; }
  template <typename F>
  void fields(F&&) const {}
};

struct Crash {
  std::uint32_t replica;
  bool wipe;
  [[nodiscard]] static std::string_view ev() { return "crash"; }
  template <typename F>
  void fields(F&& f) const {
    f("replica", replica);
    f("wipe", wipe);
  }
};

struct Restart {
  std::uint32_t replica;
  bool recovering;
  [[nodiscard]] static std::string_view ev() { return "restart"; }
  template <typename F>
  void fields(F&& f) const {
    f("replica", replica);
    f("recovering", recovering);
  }
};

/// A replica resumes and handles the `burst` of messages that waited.
struct Resume {
  std::uint32_t replica;
  std::uint64_t burst;
  [[nodiscard]] static std::string_view ev() { return "resume"; }
  template <typename F>
  void fields(F&& f) const {
    f("replica", replica);
    f("burst", burst);
  }
};

struct Partition {
  std::string_view style;
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& cuts;
  [[nodiscard]] static std::string_view ev() { return "partition"; }
  template <typename F>
  void fields(F&& f) const {
    f("style", Note{style});
    f("cut", CutsField{cuts});
  }
};

/// The directed link from -> to (network nodes) stalls until `until_us`.
struct Clog {
  std::uint32_t from;
  std::uint32_t to;
  std::uint64_t until_us;
  [[nodiscard]] static std::string_view ev() { return "clog"; }
  template <typename F>
  void fields(F&& f) const {
    f("from", from);
    f("to", to);
    f("until_us", until_us);
  }
};

/// A client process invokes an operation; `op` describes it (with its key).
template <typename Describe>
struct Invoke {
  std::int64_t process;
  std::uint64_t client;
  Describe op;
  [[nodiscard]] static std::string_view ev() { return "invoke"; }
  template <typename F>
  void fields(F&& f) const {
    f("process", process);
    f("client", client);
    f("op", Derived<const Describe&>{op});
  }
};

template <typename Describe>
struct Complete {
  std::int64_t process;
  Describe op;
  [[nodiscard]] static std::string_view ev() { return "complete"; }
  template <typename F>
  void fields(F&& f) const {
    f("process", process);
    f("op", Derived<const Describe&>{op});
  }
};

/// A client abandons its request: the op is indeterminate.
struct GiveUp {
  std::int64_t process;
  [[nodiscard]] static std::string_view ev() { return "give_up"; }
  template <typename F>
  void fields(F&& f) const {
    f("process", process);
  }
};

/// A check failed; `detail` may span several lines.
struct Violation {
  std::string_view check;
  std::string_view detail;
  [[nodiscard]] static std::string_view ev() { return "violation"; }
  template <typename F>
  void fields(F&& f) const {
    f("check", check);
    f("detail", detail);
  }
};

}  // namespace trace
}  // namespace vsr::sim
