#include "tools/maelstrom/node.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "vsr/codec.hpp"
#include "vsr/kv.hpp"
#include "vsr/memory_device.hpp"
#include "vsr/telemetry.hpp"
#include "tools/maelstrom/base64.hpp"

namespace vsr::maelstrom {

namespace {

/// Deeper JSON than this is refused before parsing (Maelstrom messages nest 3 deep).
constexpr std::size_t max_json_depth = 32;
/// Log lines quote at most this much of an offending input.
constexpr std::size_t max_quote_chars = 160;

std::string quote(std::string_view text) {
  if (text.size() <= max_quote_chars) return std::string(text);
  return fmt::format("{}... ({} bytes)", text.substr(0, max_quote_chars), text.size());
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

/// Every node of a Maelstrom cluster is of this one cluster (Maelstrom names no other).
constexpr ClusterId maelstrom_cluster{0};

/// `line` with each "replica <index>" of a node in `names` read "<its name>" ("the
/// replica rejected a message from replica 2" -> "... from n3"): the core names
/// replicas by index, Maelstrom logs by node name.
std::string name_replicas(std::string_view line, const std::vector<std::string>& names) {
  constexpr std::string_view word = "replica ";
  std::string named;
  for (std::size_t hit = line.find(word); hit != std::string_view::npos; hit = line.find(word)) {
    const char* digits = line.data() + hit + word.size();
    std::size_t index = 0;
    const auto [end, error] = std::from_chars(digits, line.data() + line.size(), index);
    const bool of_node = error == std::errc{} && index < names.size();
    named.append(line.substr(0, hit));
    named.append(of_node ? std::string_view(names[index]) : word);
    line.remove_prefix(static_cast<std::size_t>((of_node ? end : digits) - line.data()));
  }
  named.append(line);
  return named;
}

}  // namespace

Node::Node(NodeOptions options) : options_(options) {}

std::optional<std::uint32_t> Node::owner_of(ClientId id) {
  const std::uint64_t high = id.value >> 56;
  if (high == 0 || high > max_replica_count || (id.value & max_session_sequence) == 0) return std::nullopt;
  return static_cast<std::uint32_t>(high - 1);
}

ClientId Node::session_id(std::uint32_t owner, std::uint64_t incarnation, std::uint32_t sequence) {
  return ClientId((std::uint64_t{owner} + 1) << 56 | (incarnation & 0xffffffffu) << 24 |
                  (sequence & max_session_sequence));
}

// ---------------------------------------------------------------- inputs

void Node::on_line(std::string_view line, std::uint64_t now_ms) {
  if (failure_) return;  // stopped for good: answers nothing
  advance(now_ms);
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;  // blank
  if (json_depth(line, max_json_depth) > max_json_depth) {
    return bad_input(fmt::format("JSON nested deeper than {}: {}", max_json_depth, quote(line)));
  }
  const json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return bad_input(fmt::format("not JSON: {}", quote(line)));
  line_ = line;
  try {
    on_message(message);
  } catch (const json::exception& e) {
    // Every field is validated before use; this is a last line of defence.
    bad_input(fmt::format("{} in {}", e.what(), quote(line)));
  }
  line_ = {};
  dispatch_held();
}

void Node::on_message(const json& m) {
  if (!m.is_object()) return bad_input(fmt::format("not a JSON object: {}", quote(dump(m))));
  const auto src = m.find("src");
  const auto body = m.find("body");
  if (src == m.end() || !src->is_string()) return bad_input("message without a string 'src'");
  const std::string& from = src->get_ref<const std::string&>();
  if (body == m.end() || !body->is_object()) {
    return bad_input(fmt::format("message from {} without an object 'body'", from));
  }
  const auto dest = m.find("dest");
  if (!initialized() && dest != m.end() && dest->is_string()) node_id_ = dest->get<std::string>();
  const auto id = body->find("msg_id");
  json msg_id;  // null: cannot be answered
  if (id != body->end() && id->is_number_integer()) msg_id = *id;
  const auto type = body->find("type");
  if (type == body->end() || !type->is_string()) {
    return refuse(from, msg_id, ErrorCode::malformed_request, "body without a string 'type'");
  }
  const std::string& t = type->get_ref<const std::string&>();
  if (t == "vsr") return on_peer(from, *body);
  if (body->contains("in_reply_to")) {  // a reply (error, *_ok) this node never asked for
    return log(fmt::format("ignored unsolicited '{}' from {}", t, from));
  }
  if (msg_id.is_null()) {
    return bad_input(fmt::format("'{}' from {} without an integer msg_id: cannot answer", t, from));
  }
  if (t == "init") return on_init(from, *body, msg_id);
  if (is_kv_type(t)) return on_client_request(from, *body, msg_id);
  refuse(from, msg_id, ErrorCode::not_supported, fmt::format("unsupported message type '{}'", t));
}

void Node::on_init(const std::string& src, const json& body, const json& msg_id) {
  const auto id = body.find("node_id");
  const auto ids = body.find("node_ids");
  if (id == body.end() || !id->is_string() || ids == body.end() || !ids->is_array() ||
      !std::all_of(ids->begin(), ids->end(), [](const json& x) { return x.is_string(); })) {
    return refuse(src, msg_id, ErrorCode::malformed_request,
                  "init needs a string node_id and an array of strings node_ids");
  }
  const auto names = ids->get<std::vector<std::string>>();
  const auto self = std::find(names.begin(), names.end(), id->get<std::string>());
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  if (self == names.end() || names.size() > max_replica_count ||
      std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return refuse(src, msg_id, ErrorCode::malformed_request,
                  fmt::format("init: node_ids must be 1..{} distinct names including node_id",
                              max_replica_count));
  }
  if (initialized()) {
    if (names == node_ids_ && *id == node_id_) return reply(src, msg_id, json{{"type", "init_ok"}});
    return refuse(src, msg_id, ErrorCode::malformed_request, "already initialized differently");
  }
  const auto index = static_cast<std::uint32_t>(self - names.begin());
  auto config = Config::make(static_cast<std::uint32_t>(names.size()),
                             ReplicaIndex(static_cast<std::uint8_t>(index)), options_.timeouts);
  auto client_config = ClientConfig::make(static_cast<std::uint32_t>(names.size()),
                                          options_.client_resend_ticks);
  if (!config || !client_config) {
    return refuse(src, msg_id, ErrorCode::malformed_request,
                  config ? client_config.error().message : config.error().message);
  }
  config.value().checkpoint_interval_ops = options_.checkpoint_interval_ops;
  node_id_ = id->get<std::string>();
  node_ids_ = names;
  self_ = index;
  if (!start_core(config.value())) {
    // Indefinite (13): the node stops; its driver exits (node_main.cpp).
    return reply(src, msg_id, error_body(ErrorCode::crash, failure_->message));
  }
  next_tick_ms_ = now_ms_ + options_.tick_ms;
  pump();
  if (failure_) return reply(src, msg_id, error_body(ErrorCode::crash, failure_->message));
  log(fmt::format("init: {} is replica {} of {}", node_id_, self_, names.size()));
  reply(src, msg_id, json{{"type", "init_ok"}});
}

bool Node::start_core(const Config& config) {
  NodeDevice opened;
  if (options_.open_device) {
    auto d = options_.open_device(node_id_);
    if (!d) {
      stop(d.error());
      return false;
    }
    opened = std::move(d.value());
    if (!opened.device) {
      stop(Error{fmt::format("no device for {}", node_id_)});
      return false;
    }
  } else {
    opened = NodeDevice{std::make_shared<MemoryDevice>(default_memory_device_bytes), true};
  }
  device_ = std::move(opened.device);
  core_ = std::make_unique<NodeCore>(maelstrom_cluster, config, *device_);
  auto started = core_->start(std::make_unique<KvMachine>(), opened.fresh, options_.incarnation);
  if (!started) {
    stop(started.error());
    return false;
  }
  const char* booted = options_.open_device ? "booted as a new member (formatted a new device)"
                                            : "booted as a new member (in memory: nothing survives "
                                              "this process)";
  log(fmt::format("start: {}", started.value().booted ? booted : started.value().summary));
  return true;
}

void Node::stop(Error why) {
  if (!failure_) {
    log(fmt::format("stopped for good: {}", why.message));
    failure_ = std::move(why);
  }
}

void Node::on_client_request(const std::string& src, const json& body, const json& msg_id) {
  if (!serving()) {
    ++stats_.refused;
    return reply(src, msg_id, error_body(ErrorCode::temporarily_unavailable, "not initialized yet"));
  }
  auto op = parse_kv_request(body);
  if (!op) return refuse(src, msg_id, op.error().code, op.error().text);
  if (auto exact = check_numbers_exact(line_); !exact) {
    return refuse(src, msg_id, exact.error().code, exact.error().text);
  }
  Bytes operation = encode_kv_op(op.value());
  if (operation.size() > options_.max_op_bytes) {
    return refuse(src, msg_id, ErrorCode::malformed_request,
                  fmt::format("too large to replicate: the operation takes {} bytes, the limit "
                              "is {} (--max-op-bytes)",
                              operation.size(), options_.max_op_bytes));
  }
  if (in_flight() >= options_.max_sessions ||
      (idle_.empty() && next_session_ > max_session_sequence)) {
    ++stats_.refused;
    return reply(src, msg_id,
                 error_body(ErrorCode::temporarily_unavailable, "too many requests in flight"));
  }
  const std::size_t entry_bytes = encoded_entry_size(LogEntry{{}, {}, {}, operation});
  if (core_->replica().log_bytes() + entry_bytes > max_log_bytes) {
    ++stats_.refused;
    return reply(src, msg_id,
                 error_body(ErrorCode::temporarily_unavailable,
                            fmt::format("the replicated log is full ({} of {} bytes; checkpoints "
                                        "off or too rare)",
                                        core_->replica().log_bytes(), max_log_bytes)));
  }
  ++stats_.requests;
  held_.push_back(Waiting{src, msg_id, op.value().kind, std::move(operation), now_ms_});
}

/// A protocol message from another node: {"type":"vsr","msg":"<base64 frame>"}.
void Node::on_peer(const std::string& src, const json& body) {
  if (!initialized()) return log(fmt::format("dropped a vsr message from {} before init", src));
  const auto from = std::find(node_ids_.begin(), node_ids_.end(), src);
  const auto text = body.find("msg");
  if (from == node_ids_.end()) return bad_input(fmt::format("vsr message from unknown node {}", src));
  if (text == body.end() || !text->is_string()) {
    return bad_input(fmt::format("vsr message from {} without a string 'msg'", src));
  }
  const auto bytes = base64_decode(text->get_ref<const std::string&>());
  if (!bytes) return bad_input(fmt::format("vsr message from {}: 'msg' is not base64", src));
  auto decoded = decode(*bytes);
  if (!decoded) return bad_input(fmt::format("vsr message from {}: {}", src, decoded.error().message));
  const Message& m = decoded.value();
  const auto from_index = static_cast<std::uint32_t>(from - node_ids_.begin());
  const auto sender = vsr::claimed_sender(m);
  const auto* request = std::get_if<Request>(&m);
  if ((sender && sender->value != from_index) ||
      (request && owner_of(request->client) != std::optional<std::uint32_t>(from_index))) {
    return bad_input(fmt::format("vsr message from {} claims another sender: {}", src, m));
  }
  ++stats_.peer_messages_in;
  if (const auto* r = std::get_if<vsr::Reply>(&m)) {
    on_reply(*r);  // for a session of this node: never the core's
  } else if (request != nullptr) {
    receive(Hello{maelstrom_cluster, PeerRole::client, request->client.value}, m);
  } else {
    receive(Hello{maelstrom_cluster, PeerRole::replica, from_index}, m);
  }
  pump();
}

// ---------------------------------------------------------------- time

void Node::advance(std::uint64_t now_ms) {
  now_ms_ = std::max(now_ms_, now_ms);
  if (!serving()) return;
  // After a long stall (the process was descheduled) skip the missed ticks rather than
  // fire them in a burst, which would look like a silent primary to every timer.
  if (now_ms_ > next_tick_ms_ + 5 * std::uint64_t{options_.tick_ms}) next_tick_ms_ = now_ms_;
  while (next_tick_ms_ <= now_ms_ && serving()) {
    tick_all();
    next_tick_ms_ += options_.tick_ms;
  }
  expire(now_ms_);
  dispatch_held();
}

std::uint64_t Node::next_wakeup_ms() const {
  return initialized() ? next_tick_ms_ : now_ms_ + 1000;
}

void Node::tick_all() {
  core_->tick();
  if (!serving()) return pump();  // the device failed: stop, and no session sends
  std::vector<Outgoing> sends;  // collected first: delivering may complete sessions
  for (auto& [id, session] : sessions_) {
    if (!session.waiting) continue;
    session.client.tick();
    for (auto& o : session.client.take_output().send) sends.push_back(std::move(o));
  }
  for (auto& o : sends) deliver(o.to, std::move(o.message));
  pump();
}

void Node::expire(std::uint64_t now_ms) {
  while (!held_.empty() && held_.front().arrived_ms + options_.hold_timeout_ms <= now_ms) {
    ++stats_.refused;
    reply(held_.front().client, held_.front().msg_id,
          error_body(ErrorCode::temporarily_unavailable,
                     "no primary known (view change in progress); the request was not sent"));
    held_.pop_front();
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (!it->second.waiting || it->second.waiting->arrived_ms + options_.request_timeout_ms > now_ms) {
      ++it;
      continue;
    }
    ++stats_.timed_out;
    const Waiting& w = *it->second.waiting;
    reply(w.client, w.msg_id,
          error_body(ErrorCode::timeout, "no reply from the primary in time; the request may "
                                         "still take effect"));
    it = sessions_.erase(it);  // abandoned: its id is never reused
  }
}

// ---------------------------------------------------------------- requests and sessions

/// Sends every held request, once the local replica is normal (it then knows a primary).
void Node::dispatch_held() {
  if (!serving() || core_->replica().status() != StatusKind::normal || held_.empty()) return;
  while (!held_.empty() && serving()) {
    Waiting w = std::move(held_.front());
    held_.pop_front();
    submit(std::move(w));
  }
  pump();  // one flush for them all (group commit)
}

void Node::submit(Waiting w) {
  ClientId id;
  if (idle_.empty()) {
    id = session_id(self_, options_.incarnation, next_session_++);
    auto config = ClientConfig::make(static_cast<std::uint32_t>(node_ids_.size()),
                                     options_.client_resend_ticks);
    sessions_.try_emplace(id, id, config.value());
  } else {
    id = idle_.back();
    idle_.pop_back();
  }
  Session& session = sessions_.at(id);
  session.client.submit(w.operation);
  session.waiting = std::move(w);
  ClientOutput out = session.client.take_output();
  // The first send goes to the primary of the local replica's view, which is normal here.
  const Replica& replica = core_->replica();
  for (auto& o : out.send) o.to = replica.config().primary_of(replica.view());
  route_client_output(std::move(out));
}

/// Sends what a session sends; the caller pumps the core.
void Node::route_client_output(ClientOutput out) {
  for (auto& o : out.send) deliver(o.to, std::move(o.message));
}

/// A Reply for one of this node's sessions: relays the result to the Maelstrom client
/// and frees the session. Stale replies (abandoned sessions, duplicates) are ignored.
/// The caller pumps the core (the session may have sent the local replica a request).
void Node::on_reply(const vsr::Reply& r) {
  const auto it = sessions_.find(r.client);
  if (it == sessions_.end() || !it->second.waiting) return;
  Session& session = it->second;
  session.client.step(r);
  ClientOutput out = session.client.take_output();
  if (!out.completed) return route_client_output(std::move(out));  // a session opened
  const auto result = decode_kv_result(out.completed->result);
  const Waiting& w = *session.waiting;
  json body = out.completed->evicted ? error_body(ErrorCode::crash, "the client's session was evicted")
              : result               ? kv_reply_body(w.kind, result.value())
                                     : error_body(ErrorCode::crash, "the result could not be decoded");
  ++stats_.replied_ok;
  reply(w.client, w.msg_id, std::move(body));
  session.waiting.reset();
  idle_.push_back(r.client);
}

// ---------------------------------------------------------------- the core

void Node::receive(const Hello& hello, const Message& m) {
  if (!serving()) return;
  if (auto r = core_->receive(hello, m); !r) bad_input(r.error().message);
}

void Node::pump() {
  if (!core_) return;
  std::vector<Outgoing> out;
  do {
    out.clear();
    core_->flush(out);  // sends nothing once the core is down
    publish_core_output();
    for (Outgoing& o : out) deliver(o.to, std::move(o.message));
  } while (!out.empty() && serving());
  if (core_->failure()) stop(*core_->failure());
}

void Node::publish_core_output() {
  for (const TelemetryEvent& e : core_->take_events()) {
    // Bare JSON lines (no "node:" prefix), so stderr can be read as JSON lines.
    if (options_.telemetry) logs_.push_back(vsr::telemetry_json(e, now_ms_ * 1000));
  }
  for (const std::string& line : core_->take_logs()) log(name_replicas(line, node_ids_));
  stats_.rejected = core_->counters().messages_rejected;
}

void Node::deliver(const Endpoint& to, Message m) {
  if (const auto* r = std::get_if<ReplicaIndex>(&to)) {
    if (r->value == self_) {
      // Only this node's sessions send the local replica anything (the core delivers
      // what the replica sends itself): requests, as from a client.
      const auto* request = std::get_if<Request>(&m);
      if (request == nullptr) {
        return log(fmt::format("dropped a {} to the local replica", message_name(m)));
      }
      receive(Hello{maelstrom_cluster, PeerRole::client, request->client.value}, m);
    } else if (r->value < node_ids_.size()) {
      send_peer(r->value, m);
    } else {
      log(fmt::format("dropped a message to unknown replica {}", r->value));
    }
    return;
  }
  const auto owner = owner_of(std::get<ClientId>(to));
  if (owner == std::optional<std::uint32_t>(self_)) {
    if (const auto* reply = std::get_if<vsr::Reply>(&m)) on_reply(*reply);
    return;
  }
  if (owner && *owner < node_ids_.size()) return send_peer(*owner, m);
  log(fmt::format("dropped a reply to client {} of no node", std::get<ClientId>(to)));
}

// ---------------------------------------------------------------- output

void Node::send_peer(std::uint32_t to, const Message& m) {
  // The replica bounds its log by vsr::max_log_bytes, so every message fits a frame;
  // this guard keeps a bug there from becoming an abort in encode().
  if (encoded_size(m) > max_frame_bytes) {
    ++stats_.oversize_dropped;
    return log(fmt::format("dropped a {} to {}: {} bytes exceed a frame", message_name(m),
                           node_ids_[to], encoded_size(m)));
  }
  ++stats_.peer_messages_out;
  send_line(node_ids_[to], json{{"type", "vsr"}, {"msg", base64_encode(encode(m))}});
}

void Node::reply(const std::string& dest, const json& in_reply_to, json body) {
  body["msg_id"] = next_msg_id_++;
  body["in_reply_to"] = in_reply_to;
  send_line(dest, std::move(body));
}

/// Answers with an error when the request can be answered (it has an integer msg_id),
/// logs it otherwise. Counts as bad input.
void Node::refuse(const std::string& dest, const json& in_reply_to, ErrorCode code,
                  std::string_view text) {
  ++stats_.bad_input;
  log(fmt::format("refused a request from {} (code {}): {}", dest, static_cast<int>(code), text));
  if (!in_reply_to.is_null()) reply(dest, in_reply_to, error_body(code, text));
}

void Node::send_line(const std::string& dest, json body) {
  lines_.push_back(dump(json{{"src", node_id_}, {"dest", dest}, {"body", std::move(body)}}));
}

void Node::bad_input(std::string_view what) {
  ++stats_.bad_input;
  log(fmt::format("bad input: {}", what));
}

void Node::log(std::string line) {
  logs_.push_back(initialized() ? fmt::format("{}: {}", node_id_, line) : std::move(line));
}

std::vector<std::string> Node::take_lines() { return std::exchange(lines_, {}); }
std::vector<std::string> Node::take_logs() { return std::exchange(logs_, {}); }

}  // namespace vsr::maelstrom
