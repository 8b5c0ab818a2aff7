// The wire format of every Message: a compact binary frame with a length and a checksum.
// decode() is total: any byte string yields a Message or an Error naming the problem.
#pragma once

#include <cstddef>
#include <span>

#include "vsr/config.hpp"
#include "vsr/message.hpp"

namespace vsr {

/// The largest frame decode() accepts; larger inputs are rejected before any allocation.
inline constexpr std::size_t max_frame_bytes = 64u << 20;

/// Encodes one message as a frame. Precondition: the message is internally consistent
/// (e.g. DoViewChange::log.size() == op); it fits max_frame_bytes.
Bytes encode(const Message& m);

/// Decodes exactly one frame. Errors name the problem: truncated, oversize, unknown
/// type, bad checksum, trailing bytes, or an inconsistent field. Never reads out of
/// bounds; never allocates more than the input's size justifies.
Result<Message> decode(std::span<const std::uint8_t> frame);

}  // namespace vsr
