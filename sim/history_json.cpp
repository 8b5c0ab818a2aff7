#include "sim/history_json.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace vsr::sim {
namespace {

using nlohmann::json;

constexpr std::size_t max_line_bytes = std::size_t{1} << 20;
/// Deepest nesting of arrays and objects a line may have (a history line needs 2).
constexpr int max_nesting = 64;

/// A JSON value for an error message: compact, cut to max_echo_bytes. Safe on any
/// parsed value: parse_line never builds one nested deeper than max_nesting.
std::string brief(const json& v) { return abbreviate(v.dump()); }

/// A string for an error message: quoted and escaped, cut to max_echo_bytes.
std::string quote_brief(std::string_view s) { return fmt::format("{:?}", abbreviate(s)); }

/// Errors inside one line; the caller adds file and line.
using LineResult = InputResult<void>;

InputResult<std::int64_t> as_int(const json& v, std::string_view what) {
  if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(u);
    }
    return InputError{fmt::format("{} {} does not fit in a signed 64-bit integer", what, u)};
  }
  return InputError{fmt::format("{} must be an integer, not {}", what, brief(v))};
}

InputResult<OpKind> parse_f(const json& obj) {
  auto it = obj.find("f");
  if (it == obj.end() || !it->is_string()) return InputError{"missing \"f\" (read, write, cas or delete)"};
  const auto& f = it->get_ref<const std::string&>();
  if (f == "read") return OpKind::read;
  if (f == "write") return OpKind::write;
  if (f == "cas") return OpKind::cas;
  if (f == "delete") return OpKind::del;
  return InputError{fmt::format("unknown \"f\": {} (expected read, write, cas or delete)", quote_brief(f))};
}

InputResult<Outcome> parse_type(const json& obj, bool& is_invoke) {
  auto it = obj.find("type");
  if (it == obj.end() || !it->is_string()) return InputError{"missing \"type\" (invoke, ok, fail or info)"};
  const auto& t = it->get_ref<const std::string&>();
  is_invoke = t == "invoke";
  if (is_invoke) return Outcome::pending;
  if (t == "ok") return Outcome::ok;
  if (t == "fail") return Outcome::fail;
  if (t == "info") return Outcome::info;
  return InputError{fmt::format("unknown \"type\": {} (expected invoke, ok, fail or info)", quote_brief(t))};
}

InputResult<std::string> parse_key(const json& obj) {
  auto it = obj.find("key");
  if (it == obj.end()) return InputError{"missing \"key\""};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return it->dump();
  return InputError{fmt::format("\"key\" must be a string or an integer, not {}", brief(*it))};
}

const json* field(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

/// The call an invoke line describes.
InputResult<OpCall> parse_call(const json& obj, OpKind kind, std::string key) {
  const json* v = field(obj, "value");
  switch (kind) {
    case OpKind::read:
    case OpKind::del:
      if (v) return InputError{fmt::format("a {} invoke takes no value (got {})", to_string(kind), brief(*v))};
      return OpCall{kind, std::move(key), 0, 0};
    case OpKind::write: {
      if (!v) return InputError{"a write invoke needs an integer \"value\""};
      VSR_SIM_TRY(auto x, as_int(*v, "write value"));
      return OpCall::write(std::move(key), x);
    }
    case OpKind::cas: {
      if (!v || !v->is_array() || v->size() != 2) return InputError{"a cas needs \"value\": [from, to]"};
      VSR_SIM_TRY(auto from, as_int((*v)[0], "cas from"));
      VSR_SIM_TRY(auto to, as_int((*v)[1], "cas to"));
      return OpCall::cas(std::move(key), from, to);
    }
  }
  return InputError{"unreachable"};
}

InputResult<CasError> parse_cas_error(const json& obj) {
  const json* e = field(obj, "error");
  if (!e) return CasError::unspecified;
  if (e->is_string() && e->get_ref<const std::string&>() == "not_found") return CasError::not_found;
  if (e->is_string() && e->get_ref<const std::string&>() == "precondition_failed") {
    return CasError::precondition_failed;
  }
  return InputError{fmt::format("\"error\" must be \"not_found\" or \"precondition_failed\", not {}", brief(*e))};
}

class Parser {
 public:
  LineResult line(const json& obj, std::uint32_t line_no) {
    if (!obj.is_object()) return InputError{"each line must be a JSON object"};
    auto pit = obj.find("process");
    if (pit == obj.end()) return InputError{"missing \"process\""};
    VSR_SIM_TRY(auto process, as_int(*pit, "\"process\""));
    bool is_invoke = false;
    VSR_SIM_TRY(auto outcome, parse_type(obj, is_invoke));
    VSR_SIM_TRY(auto kind, parse_f(obj));
    VSR_SIM_TRY(auto key, parse_key(obj));
    VSR_SIM_TRY(auto time, parse_time(obj));
    if (is_invoke) {
      VSR_SIM_TRY(auto call, parse_call(obj, kind, std::move(key)));
      VSR_SIM_TRYV(rec_.invoke(process, std::move(call), time, line_no));
      return outcome::success();
    }
    return complete(obj, process, outcome, kind, key, time, line_no);
  }
  History finish() && { return std::move(rec_).finish(); }

 private:
  InputResult<std::int64_t> parse_time(const json& obj) {
    const json* t = field(obj, "time");
    if (!t) return last_time_;
    VSR_SIM_TRY(auto time, as_int(*t, "\"time\""));
    if (time < last_time_) {
      return InputError{fmt::format("\"time\" {} goes backwards (previous line had {}); lines must be "
                                    "in the order the events happened",
                                    time, last_time_)};
    }
    last_time_ = time;
    return time;
  }

  LineResult complete(const json& obj, std::int64_t process, Outcome outcome, OpKind kind,
                      const std::string& key, std::int64_t time, std::uint32_t line_no) {
    const auto index = rec_.in_flight(process);
    if (!index) return InputError{fmt::format("completion for process {}, which has no op in flight", process)};
    const Op& op = rec_.history().ops[*index];
    if (op.call.kind != kind || op.call.key != key) {
      return InputError{fmt::format("completion {} on key {} does not match process {}'s invoke ({} on key {})",
                                    to_string(kind), quote_brief(key), process, to_string(op.call.kind),
                                    quote_brief(op.call.key))};
    }
    Value result;
    const json* v = field(obj, "value");
    if (kind == OpKind::read && outcome == Outcome::ok) {
      if (!obj.contains("value")) return InputError{"an ok read needs \"value\" (null when the key is absent)"};
      if (v) {
        VSR_SIM_TRY(auto x, as_int(*v, "read value"));
        result = x;
      }
    } else if (v && kind != OpKind::read) {
      VSR_SIM_TRY(auto echoed, parse_call(obj, kind, key));
      if (echoed != op.call) return InputError{"completion \"value\" differs from its invoke's"};
    }
    CasError err = CasError::unspecified;
    if (kind == OpKind::cas && outcome == Outcome::fail) {
      VSR_SIM_TRY(err, parse_cas_error(obj));
    }
    VSR_SIM_TRYV(rec_.complete(*index, outcome, result, time, err, line_no));
    return outcome::success();
  }

  HistoryRecorder rec_;
  std::int64_t last_time_ = 0;
};

InputError at(std::string_view file, std::uint32_t line, const std::string& what) {
  return InputError{fmt::format("{}:{}: {}", file, line, what)};
}

/// A SAX handler building the line's JSON value (nlohmann's own DOM builder, minus
/// what a history does not need), refusing nesting deeper than max_nesting while it
/// parses: a deeper array or object is skipped (scanned for syntax, never stored), so
/// nothing deep is ever built, and the line is then rejected.
class BoundedDom {
 public:
  explicit BoundedDom(json& root) : root_(root) {}

  [[nodiscard]] bool too_deep() const { return too_deep_; }

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(json(v)); }
  bool string(json::string_t& v) { return put(json(std::move(v))); }
  bool binary(json::binary_t& v) { return put(json(std::move(v))); }
  bool start_object(std::size_t /*elements*/) { return open(json::value_t::object); }
  bool start_array(std::size_t /*elements*/) { return open(json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    if (skipped_ == 0) key_ = std::move(k);
    return true;
  }
  template <typename Exception>
  bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const Exception& /*e*/) {
    return false;
  }

 private:
  /// Stores `v` where the next value goes; returns where it landed (null if skipped).
  json* place(json&& v) {
    if (skipped_ > 0) return nullptr;
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *open_.back();
    if (parent.is_array()) {
      auto& items = parent.get_ref<json::array_t&>();
      items.push_back(std::move(v));
      return &items.back();
    }
    // A repeated key keeps the last value, as json::parse does.
    auto& fields = parent.get_ref<json::object_t&>();
    return &fields.insert_or_assign(std::move(key_), std::move(v)).first->second;
  }
  bool put(json&& v) {
    (void)place(std::move(v));
    return true;
  }
  bool open(json::value_t kind) {
    if (skipped_ > 0 || open_.size() >= static_cast<std::size_t>(max_nesting)) {
      too_deep_ = true;
      ++skipped_;
      return true;
    }
    // Pointers into the open containers stay valid: a container only grows after its
    // open child has closed.
    open_.push_back(place(json(kind)));
    return true;
  }
  bool close() {
    if (skipped_ > 0) --skipped_;
    else open_.pop_back();
    return true;
  }

  json& root_;
  std::vector<json*> open_;  // the containers being filled, outermost first
  json::string_t key_;
  std::size_t skipped_ = 0;  // depth inside a skipped (too deep) container
  bool too_deep_ = false;
};

/// Parses one line, refusing arrays and objects nested deeper than max_nesting during
/// the parse (BoundedDom). Never throws.
InputResult<json> parse_line(std::string_view line) {
  json obj;
  BoundedDom dom{obj};
  if (!json::sax_parse(line, &dom)) return InputError{"not valid JSON"};
  if (dom.too_deep()) return InputError{fmt::format("nesting deeper than {} levels", max_nesting)};
  return obj;
}

}  // namespace

InputResult<History> parse_history_json(std::string_view text, std::string_view file) {
  Parser p;
  std::uint32_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank line
    if (line.size() > max_line_bytes) return at(file, line_no, "line longer than 1 MiB");
    auto obj = parse_line(line);
    if (!obj) return at(file, line_no, obj.error().message);
    if (auto r = p.line(obj.value(), line_no); !r) return at(file, line_no, r.error().message);
  }
  return std::move(p).finish();
}

std::string to_json_lines(const History& history) {
  struct Ev {
    std::uint64_t seq;
    std::size_t op;
    bool invoke;
  };
  std::vector<Ev> events;
  for (std::size_t i = 0; i < history.ops.size(); ++i) {
    const Op& op = history.ops[i];
    events.push_back({op.invoke_seq, i, true});
    if (op.outcome != Outcome::pending) events.push_back({op.complete_seq, i, false});
  }
  std::sort(events.begin(), events.end(), [](const Ev& a, const Ev& b) { return a.seq < b.seq; });
  std::string out;
  for (const Ev& e : events) {
    const Op& op = history.ops[e.op];
    json j = json::object();
    j["process"] = op.process;
    j["type"] = e.invoke ? "invoke" : std::string{to_string(op.outcome)};
    j["f"] = std::string{to_string(op.call.kind)};
    j["key"] = op.call.key;
    if (op.call.kind == OpKind::write) j["value"] = op.call.value;
    if (op.call.kind == OpKind::cas) j["value"] = json::array({op.call.value, op.call.to});
    if (op.call.kind == OpKind::read && !e.invoke && op.outcome == Outcome::ok) {
      j["value"] = op.result ? json(*op.result) : json(nullptr);
    }
    if (!e.invoke && op.call.kind == OpKind::cas && op.outcome == Outcome::fail &&
        op.cas_error != CasError::unspecified) {
      j["error"] = std::string{to_string(op.cas_error)};
    }
    j["time"] = e.invoke ? op.invoke_time : op.complete_time;
    out += j.dump();
    out += '\n';
  }
  return out;
}

}  // namespace vsr::sim
