// Your own state machine, replicated over TCP: one replica of a 3-replica cluster on
// this machine, or a client that adds to the counter.
//   counter-node 0 /tmp/counter0.vsr --format   (once per replica, for a new cluster)
//   counter-node 0 /tmp/counter0.vsr            (serve; also 1 and 2, each its own file)
//   counter-node add 5                          (prints the new total)
#include <cstdint>
#include <iostream>
#include <random>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "vsr/io/cluster_client.hpp"
#include "vsr/io/node.hpp"

namespace {

const std::vector<std::string> addresses = {"127.0.0.1:7100", "127.0.0.1:7101", "127.0.0.1:7102"};
constexpr vsr::ClusterId cluster{20261207};

vsr::Bytes to_bytes(std::uint64_t v) {
  vsr::Bytes b(8);
  for (std::size_t i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
  return b;
}

std::uint64_t from_bytes(const vsr::Bytes& b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < b.size() && i < 8; ++i) v |= std::uint64_t{b[i]} << (8 * i);
  return v;
}

/// The replicated state: a total. An operation adds its first byte; the result is the
/// new total. Deterministic, as every StateMachine must be.
class Counter final : public vsr::StateMachine {
 public:
  vsr::Bytes apply(const vsr::Bytes& op) override {
    total_ += op.empty() ? 0 : op[0];
    return to_bytes(total_);
  }
  [[nodiscard]] vsr::Bytes snapshot() const override { return to_bytes(total_); }
  vsr::Result<void> restore(const vsr::Bytes& s) override {
    if (s.size() != 8) return vsr::Error{"counter snapshot: expected 8 bytes"};
    total_ = from_bytes(s);
    return vsr::outcome::success();
  }
  [[nodiscard]] std::uint64_t state_hash() const override { return vsr::hash_mix(total_); }

 private:
  std::uint64_t total_ = 0;
};

int serve(std::uint32_t self, const std::string& file, bool format) {
  vsr::io::NodeOptions o;
  o.cluster = cluster;
  o.config = vsr::Config::make(3, vsr::ReplicaIndex(self), vsr::lan_timeouts()).value();
  o.addresses = addresses;
  o.data_file = file;
  o.data_bytes = std::uint64_t{64} << 20;
  o.make_machine = [] { return std::make_unique<Counter>(); };
  o.log = [](std::string_view line) { std::cerr << line << '\n'; };
  o.incarnation = std::random_device{}();
  if (format) {
    auto formatted = vsr::io::format_data_file(o);
    if (!formatted) return std::cerr << formatted.error().message << '\n', 1;
    return 0;
  }
  boost::asio::io_context io;
  vsr::io::Node node(io, o);
  if (auto started = node.start(); !started) return std::cerr << started.error().message << '\n', 1;
  io.run();
  return 0;
}

int add(std::uint8_t amount) {
  boost::asio::io_context io;
  vsr::io::ClusterClientOptions o;
  o.cluster = cluster;
  o.replicas = addresses;
  o.open_sessions = false;  // the cluster above keeps every client (max_client_sessions 0)
  o.id_seed = std::random_device{}();
  auto client = vsr::io::ClusterClient::make(io, o);
  if (!client) return std::cerr << client.error().message << '\n', 2;
  int status = 1;
  client.value()->submit(vsr::Bytes{amount}, [&](vsr::io::ClientResult r) {
    if (r.outcome == vsr::io::ClientOutcome::ok) {
      std::cout << from_bytes(r.result) << '\n';
      status = 0;
    } else {
      std::cerr << vsr::io::outcome_name(r.outcome) << ": " << r.why << '\n';
    }
    client.value()->close();
  });
  io.run();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  unsigned amount = 0;
  const bool number = args.size() == 2 && !args[1].empty() && args[1].size() <= 3 &&
                      args[1].find_first_not_of("0123456789") == std::string_view::npos;
  if (number) amount = static_cast<unsigned>(std::stoul(std::string(args[1])));
  if (number && args[0] == "add" && amount < 256) return add(static_cast<std::uint8_t>(amount));
  if ((args.size() == 2 || (args.size() == 3 && args[2] == "--format")) && args[0].size() == 1 &&
      args[0][0] >= '0' && args[0][0] <= '2') {
    return serve(static_cast<std::uint32_t>(args[0][0] - '0'), std::string(args[1]), args.size() == 3);
  }
  std::cerr << "usage: counter-node 0|1|2 FILE [--format] | counter-node add N (0..255)\n";
  return 2;
}
