#include "sim/history_edn.hpp"

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace vsr::sim {
namespace {

constexpr int max_depth = 64;

/// A parsed EDN form; only what Jepsen histories need is kept precisely.
struct Edn {
  enum class Kind : std::uint8_t { nil, boolean, integer, number, string, keyword, symbol, character, vector, list, map, set };
  Kind kind = Kind::nil;
  std::int64_t i = 0;
  std::string s;  // string contents, keyword/symbol name (keywords without ':')
  std::vector<Edn> items;  // collections; maps alternate key, value
  std::uint32_t line = 0;
};

std::string_view kind_name(Edn::Kind k) {
  switch (k) {
    case Edn::Kind::nil: return "nil";
    case Edn::Kind::boolean: return "a boolean";
    case Edn::Kind::integer: return "an integer";
    case Edn::Kind::number: return "a non-integer number";
    case Edn::Kind::string: return "a string";
    case Edn::Kind::keyword: return "a keyword";
    case Edn::Kind::symbol: return "a symbol";
    case Edn::Kind::character: return "a character";
    case Edn::Kind::vector: return "a vector";
    case Edn::Kind::list: return "a list";
    case Edn::Kind::map: return "a map";
    case Edn::Kind::set: return "a set";
  }
  return "?";
}

bool is_delimiter(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ',' || c == ';' ||
         c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"';
}

class Reader {
 public:
  explicit Reader(std::string_view text) : t_(text) {}

  /// The next top-level form, or nullopt at the end of input.
  InputResult<std::optional<Edn>> next() {
    skip_space();
    while (at_discard()) {  // discarded forms, possibly the last ones of the file
      p_ += 2;
      VSR_SIM_TRYV(read(1));
      skip_space();
    }
    if (p_ >= t_.size()) return std::optional<Edn>{};
    VSR_SIM_TRY(auto form, read(0));
    return std::optional<Edn>{std::move(form)};
  }
  [[nodiscard]] std::uint32_t line() const { return line_; }

 private:
  InputError error(const std::string& what) const { return InputError{fmt::format("{}:{}", line_, what)}; }

  void skip_space() {
    while (p_ < t_.size()) {
      const char c = t_[p_];
      if (c == '\n') ++line_;
      if (c == ';') {
        while (p_ < t_.size() && t_[p_] != '\n') ++p_;
        continue;
      }
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != ',') return;
      ++p_;
    }
  }

  [[nodiscard]] bool at_discard() const { return p_ + 1 < t_.size() && t_[p_] == '#' && t_[p_ + 1] == '_'; }

  std::string_view token() {
    const std::size_t start = p_;
    while (p_ < t_.size() && !is_delimiter(t_[p_])) ++p_;
    return t_.substr(start, p_ - start);
  }

  /// One form, after any number of `#_` discards. Recursion is bounded by max_depth
  /// (a discard chain `#_ 1 #_ 1 ...` is a loop, not a recursion).
  InputResult<Edn> read(int depth) {
    if (depth > max_depth) return error("nested deeper than 64 levels");
    skip_space();
    while (at_discard()) {
      p_ += 2;
      VSR_SIM_TRYV(read(depth + 1));
      skip_space();
    }
    if (p_ >= t_.size()) return error("unexpected end of input");
    Edn e;
    e.line = line_;
    const char c = t_[p_];
    switch (c) {
      case '(': return read_seq(depth, Edn::Kind::list, ')', e);
      case '[': return read_seq(depth, Edn::Kind::vector, ']', e);
      case '{': return read_seq(depth, Edn::Kind::map, '}', e);
      case ')': case ']': case '}': return error(fmt::format("unexpected '{}'", c));
      case '"': return read_string(e);
      case '#': return read_dispatch(depth, e);
      case '\\':
        ++p_;
        e.kind = Edn::Kind::character;
        e.s = std::string{token()};
        if (e.s.empty() && p_ < t_.size()) e.s = std::string(1, t_[p_++]);
        return e;
      default: return read_atom(e);
    }
  }

  InputResult<Edn> read_seq(int depth, Edn::Kind kind, char close, Edn& e) {
    e.kind = kind;
    ++p_;
    while (true) {
      skip_space();
      if (p_ >= t_.size()) return error(fmt::format("unterminated collection opened on line {} (missing '{}')", e.line, close));
      if (t_[p_] == close) {
        ++p_;
        break;
      }
      if (at_discard()) {
        p_ += 2;
        VSR_SIM_TRYV(read(depth + 1));
        continue;
      }
      VSR_SIM_TRY(auto item, read(depth + 1));
      e.items.push_back(std::move(item));
    }
    if (kind == Edn::Kind::map && e.items.size() % 2 != 0) {
      return InputError{fmt::format("{}:a map needs an even number of forms (key value pairs)", e.line)};
    }
    return std::move(e);
  }

  InputResult<Edn> read_string(Edn& e) {
    e.kind = Edn::Kind::string;
    ++p_;
    while (p_ < t_.size() && t_[p_] != '"') {
      char c = t_[p_++];
      if (c == '\n') ++line_;
      if (c == '\\' && p_ < t_.size()) {
        const char n = t_[p_++];
        c = n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n;
      }
      e.s += c;
    }
    if (p_ >= t_.size()) return InputError{fmt::format("{}:unterminated string", e.line)};
    ++p_;
    return std::move(e);
  }

  InputResult<Edn> read_dispatch(int depth, Edn& e) {
    ++p_;
    if (p_ >= t_.size()) return error("unexpected end of input after '#'");
    if (t_[p_] == '{') return read_seq(depth, Edn::Kind::set, '}', e);
    const std::string_view tag = token();  // #inst "...", #jepsen.history.Op{...}: keep the value
    if (tag.empty()) return error("'#' must be followed by a tag, '{' or '_'");
    return read(depth + 1);
  }

  InputResult<Edn> read_atom(Edn& e) {
    const std::string_view tok = token();
    if (tok.empty()) return error(fmt::format("unexpected character {:?}", t_[p_]));
    if (tok == "nil") return std::move(e);
    if (tok == "true" || tok == "false") {
      e.kind = Edn::Kind::boolean;
      e.i = tok == "true";
      return std::move(e);
    }
    if (tok[0] == ':') {
      e.kind = Edn::Kind::keyword;
      e.s = std::string{tok.substr(1)};
      return std::move(e);
    }
    const bool sign = tok[0] == '+' || tok[0] == '-';
    if ((tok[0] >= '0' && tok[0] <= '9') || (sign && tok.size() > 1 && tok[1] >= '0' && tok[1] <= '9')) {
      return read_number(tok, e);
    }
    e.kind = Edn::Kind::symbol;
    e.s = std::string{tok};
    return std::move(e);
  }

  InputResult<Edn> read_number(std::string_view tok, Edn& e) {
    std::string_view digits = tok;
    if (!digits.empty() && digits.back() == 'N') digits.remove_suffix(1);
    if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (ec == std::errc{} && ptr == digits.data() + digits.size()) {
      e.kind = Edn::Kind::integer;
      e.i = v;
      return std::move(e);
    }
    if (ec == std::errc::result_out_of_range) {
      return error(fmt::format("integer {} does not fit in 64 bits", abbreviate(tok)));
    }
    if (tok.find_first_of(".eEM/") == std::string_view::npos) {
      return error(fmt::format("malformed number '{}'", abbreviate(tok)));
    }
    e.kind = Edn::Kind::number;
    e.s = std::string{tok};
    return std::move(e);
  }

  std::string_view t_;
  std::size_t p_ = 0;
  std::uint32_t line_ = 1;
};

const Edn* get(const Edn& map, std::string_view keyword) {
  for (std::size_t k = 0; k + 1 < map.items.size(); k += 2) {
    const Edn& key = map.items[k];
    if (key.kind == Edn::Kind::keyword && key.s == keyword) return &map.items[k + 1];
  }
  return nullptr;
}

InputResult<std::int64_t> int_of(const Edn* v, std::string_view what) {
  if (v && v->kind == Edn::Kind::integer) return v->i;
  return InputError{fmt::format("{} must be an integer, not {}", what, v ? kind_name(v->kind) : "missing")};
}

InputResult<OpKind> f_of(const Edn& m) {
  const Edn* f = get(m, "f");
  if (!f || (f->kind != Edn::Kind::keyword && f->kind != Edn::Kind::string)) {
    return InputError{"missing :f (:read, :write, :cas or :delete)"};
  }
  if (f->s == "read") return OpKind::read;
  if (f->s == "write") return OpKind::write;
  if (f->s == "cas") return OpKind::cas;
  if (f->s == "delete") return OpKind::del;
  return InputError{fmt::format("unsupported :f :{} for a client op (expected :read, :write, :cas or :delete)",
                                abbreviate(f->s))};
}

InputResult<Outcome> type_of(const Edn& m, bool& is_invoke) {
  const Edn* t = get(m, "type");
  if (!t || t->kind != Edn::Kind::keyword) return InputError{"missing :type (:invoke, :ok, :fail or :info)"};
  is_invoke = t->s == "invoke";
  if (is_invoke) return Outcome::pending;
  if (t->s == "ok") return Outcome::ok;
  if (t->s == "fail") return Outcome::fail;
  if (t->s == "info") return Outcome::info;
  return InputError{fmt::format("unknown :type :{} (expected :invoke, :ok, :fail or :info)", abbreviate(t->s))};
}

InputResult<std::optional<std::string>> key_of(const Edn& m) {
  const Edn* k = get(m, "key");
  if (!k) return std::optional<std::string>{};
  switch (k->kind) {
    case Edn::Kind::integer: return std::optional<std::string>{std::to_string(k->i)};
    case Edn::Kind::string:
    case Edn::Kind::keyword:
    case Edn::Kind::symbol: return std::optional<std::string>{k->s};
    default: return InputError{fmt::format(":key must be an integer, string or keyword, not {}", kind_name(k->kind))};
  }
}

InputResult<OpCall> call_of(const Edn& m, OpKind kind, std::string key) {
  const Edn* v = get(m, "value");
  switch (kind) {
    case OpKind::read:
    case OpKind::del: return OpCall{kind, std::move(key), 0, 0};  // an invoke's value is ignored
    case OpKind::write: {
      VSR_SIM_TRY(auto x, int_of(v, "a write's :value"));
      return OpCall::write(std::move(key), x);
    }
    case OpKind::cas: {
      if (!v || (v->kind != Edn::Kind::vector && v->kind != Edn::Kind::list) || v->items.size() != 2) {
        return InputError{"a cas needs :value [from to]"};
      }
      VSR_SIM_TRY(auto from, int_of(&v->items[0], "cas from"));
      VSR_SIM_TRY(auto to, int_of(&v->items[1], "cas to"));
      return OpCall::cas(std::move(key), from, to);
    }
  }
  return InputError{"unreachable"};
}

class OpBuilder {
 public:
  InputResult<void> add(const Edn& m) {
    if (m.kind != Edn::Kind::map) {
      return InputError{fmt::format("expected an op map, found {}", kind_name(m.kind))};
    }
    const Edn* p = get(m, "process");
    if (!p) return InputError{"op without :process"};
    if (p->kind != Edn::Kind::integer) return outcome::success();  // :nemesis and other non-clients
    bool is_invoke = false;
    VSR_SIM_TRY(auto outcome, type_of(m, is_invoke));
    VSR_SIM_TRY(auto kind, f_of(m));
    VSR_SIM_TRY(auto key, key_of(m));
    if (keyed_ && *keyed_ != key.has_value()) {
      return InputError{"ops with and without :key are mixed: a history is either one register or keyed"};
    }
    keyed_ = key.has_value();
    std::string k = key ? *key : std::string{single_register_key};
    if (is_invoke) {
      VSR_SIM_TRY(auto call, call_of(m, kind, std::move(k)));
      VSR_SIM_TRYV(rec_.invoke(p->i, std::move(call), 0, m.line));
      return outcome::success();
    }
    return complete(m, p->i, outcome, kind, k);
  }
  History finish() && { return std::move(rec_).finish(); }

 private:
  InputResult<void> complete(const Edn& m, std::int64_t process, Outcome outcome, OpKind kind,
                             const std::string& key) {
    const auto index = rec_.in_flight(process);
    if (!index) return InputError{fmt::format("completion for process {}, which has no op in flight", process)};
    const Op& op = rec_.history().ops[*index];
    if (op.call.kind != kind || op.call.key != key) {
      return InputError{fmt::format("completion :{} on key {:?} does not match process {}'s invoke (:{} on key {:?})",
                                    to_string(kind), abbreviate(key), process, to_string(op.call.kind),
                                    abbreviate(op.call.key))};
    }
    Value result;
    if (kind == OpKind::read && outcome == Outcome::ok) {
      const Edn* v = get(m, "value");
      if (v && v->kind != Edn::Kind::nil) {
        VSR_SIM_TRY(auto x, int_of(v, "an ok read's :value"));
        result = x;
      }
    }
    VSR_SIM_TRYV(rec_.complete(*index, outcome, result, 0, CasError::unspecified, m.line));
    return outcome::success();
  }

  HistoryRecorder rec_;
  std::optional<bool> keyed_;
};

/// Reader errors carry "line:what"; turn them into "file:line: what".
InputError located(std::string_view file, const InputError& e) {
  const auto colon = e.message.find(':');
  return InputError{fmt::format("{}:{}: {}", file, e.message.substr(0, colon), e.message.substr(colon + 1))};
}

}  // namespace

InputResult<History> parse_history_edn(std::string_view text, std::string_view file) {
  Reader reader{text};
  OpBuilder ops;
  bool first = true;
  while (true) {
    auto form = reader.next();
    if (!form) return located(file, form.error());
    if (!form.value()) break;
    const Edn& f = *form.value();
    if (first && (f.kind == Edn::Kind::vector || f.kind == Edn::Kind::list)) {  // wrapped in [...] or (...)
      for (const Edn& m : f.items) {
        if (auto r = ops.add(m); !r) return InputError{fmt::format("{}:{}: {}", file, m.line, r.error().message)};
      }
    } else if (auto r = ops.add(f); !r) {
      return InputError{fmt::format("{}:{}: {}", file, f.line, r.error().message)};
    }
    first = false;
  }
  return std::move(ops).finish();
}

}  // namespace vsr::sim
