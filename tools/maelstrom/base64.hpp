// Standard base64 (RFC 4648, with '=' padding): how node-to-node Maelstrom messages
// carry the protocol's binary frames (vsr/codec.hpp) inside a JSON string.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "vsr/types.hpp"

namespace vsr::maelstrom {

std::string base64_encode(const Bytes& bytes);

/// The bytes, or nullopt when `text` is not canonical padded base64 (bad length, a
/// character outside the alphabet, misplaced padding, non-zero padding bits).
std::optional<Bytes> base64_decode(std::string_view text);

}  // namespace vsr::maelstrom
