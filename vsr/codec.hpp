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

/// encode(m).size(), computed without encoding (for byte counts in drivers).
std::size_t encoded_size(const Message& m);

/// The bytes one log entry takes inside any frame that carries it (a Prepare's entry,
/// a whole log's item, a NewState's entry).
std::size_t encoded_entry_size(const LogEntry& e);

/// The most bytes of a frame, beyond its entries, that a message carrying log entries
/// (DoViewChange, StartView, RecoveryResponse, NewState, Entries, Prepare) takes:
/// header, fixed fields and the entry count (RecoveryResponse's 62 bytes, rounded up).
inline constexpr std::size_t whole_log_overhead_bytes = 64;

/// The largest log a replica holds, as the sum of encoded_entry_size over its entries
/// (vsr/replica.hpp). Messages no longer carry whole logs (issue 15: suffixes and
/// fetched runs, each within Config::max_message_bytes). Kept as a memory bound: with
/// checkpoints on, compaction keeps a log to about checkpoint_interval_ops +
/// log_retention_ops + max_pipeline_ops entries and this never binds for small
/// entries; but checkpoints are optional (interval 0 keeps every entry), and a replica
/// behind on executing may hold many uncommitted-to-it entries, so the byte check still
/// decides when a log is full instead of memory running out.
inline constexpr std::size_t max_log_bytes = max_frame_bytes - whole_log_overhead_bytes;

/// Decodes exactly one frame. Errors name the problem: truncated, oversize, unknown
/// type, bad checksum, trailing bytes, or an inconsistent field. Never reads out of
/// bounds; never allocates more than the input's size justifies.
Result<Message> decode(std::span<const std::uint8_t> frame);

/// Frame layout (all integers little-endian):
///   [0]  u8  magic 'V'      [1] u8 magic 'S'    [2] u8 version (1)   [3] u8 type
///   [4]  u32 body length    [8] u64 checksum of bytes [0, 8) then the body:
///        hash_bytes(body, seed = hash_bytes(bytes [0, 8))), see state_machine.hpp
///   [16] body: the message's fields in declaration order, except that a log suffix's
///        `parent` comes just before `replica`, which is always last; byte strings
///        and lists are a u32 count then the items; bools are one byte, exactly 0 or 1.
inline constexpr std::size_t frame_header_bytes = 16;
inline constexpr std::uint8_t frame_version = 1;

/// Wraps an arbitrary body in a frame with a correct header and checksum, without
/// looking at the body. For tests and fuzzers that need to reach decode()'s body checks.
/// Precondition: the frame fits max_frame_bytes.
Bytes seal_frame(std::uint8_t type, std::span<const std::uint8_t> body);

/// Checks a message's internal consistency, as decode() does after parsing and as
/// encode() asserts: e.g. "do_view_change: log has 3 entries but op is 5".
Result<void> check_message(const Message& m);

}  // namespace vsr
