#include "sim/kv_call.hpp"

#include <string>

namespace vsr::sim {

KvOp to_kv(const OpCall& call) {
  switch (call.kind) {
    case OpKind::read: return {KvOpKind::read, call.key, "", ""};
    case OpKind::write: return {KvOpKind::write, call.key, std::to_string(call.value), ""};
    case OpKind::cas:
      return {KvOpKind::cas, call.key, std::to_string(call.to), std::to_string(call.value)};
    case OpKind::del: return {KvOpKind::del, call.key, "", ""};
  }
  return {};
}

}  // namespace vsr::sim
