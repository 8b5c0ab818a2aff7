#include "sim/schedule.hpp"

namespace vsr::sim {

std::string_view to_string(FaultStep::Kind k) {
  switch (k) {
    case FaultStep::Kind::crash: return "crash";
    case FaultStep::Kind::restart: return "restart";
    case FaultStep::Kind::partition: return "partition";
    case FaultStep::Kind::heal: return "heal";
    case FaultStep::Kind::pause: return "pause";
    case FaultStep::Kind::resume: return "resume";
    case FaultStep::Kind::clog: return "clog";
  }
  return "?";
}

std::size_t Schedule::op_count() const {
  std::size_t n = 0;
  for (const auto& c : clients) n += c.size();
  return n;
}

}  // namespace vsr::sim
