// The Maelstrom lin-kv workload's JSON bodies <-> the KV machine's operations and
// results (vsr/kv.hpp), and Maelstrom's error codes. Pure functions: no IO, no state.
//
// Keys and values are arbitrary JSON scalars (string, number, boolean, null). They are
// stored as their canonical JSON text (nlohmann's dump(): `1`, `"a"`, `true`, `1.5`),
// so a value read back decodes to the very scalar written. Equality (cas `from`, key
// identity) is equality of that text: `1` and `1.0` are different values. A number the
// parser cannot hold exactly (123456789012345678901234567890 becomes a double) would
// read back as another number: check_numbers_exact refuses it first, with error 12.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/outcome.hpp>
#include <nlohmann/json.hpp>

#include "vsr/kv.hpp"

namespace vsr::maelstrom {

using nlohmann::json;

/// Maelstrom's error codes (Maelstrom doc/protocol.md, "Errors"). Definite codes say
/// the operation did not happen; indefinite ones (timeout, crash) say it may have.
enum class ErrorCode : int {
  timeout = 0,                   // indefinite
  node_not_found = 1,            // definite
  not_supported = 10,            // definite
  temporarily_unavailable = 11,  // definite
  malformed_request = 12,        // definite
  crash = 13,                    // indefinite
  abort = 14,                    // definite
  key_does_not_exist = 20,       // definite
  key_already_exists = 21,       // definite
  precondition_failed = 22,      // definite
  txn_conflict = 30,             // definite
};

/// Whether a reply with this code promises that the operation did not take effect.
/// Unknown codes are indefinite (the safe reading).
bool is_definite(int code);

/// An error reply to be sent: its code and a human-readable text.
struct ErrorReply {
  ErrorCode code = ErrorCode::crash;
  std::string text;
};

template <typename T>
using Reply = BOOST_OUTCOME_V2_NAMESPACE::result<T, ErrorReply,
                                                 BOOST_OUTCOME_V2_NAMESPACE::policy::terminate>;

/// A JSON scalar as stored bytes: its canonical JSON text. Error 12 (naming `field`)
/// for objects, arrays and discarded values.
Reply<std::string> scalar_to_text(const json& value, std::string_view field);

/// The stored text back as JSON. Error 13 (crash) when the text is not JSON: the store
/// holds only what scalar_to_text produced, so this means a bug, not bad input.
Reply<json> text_to_scalar(std::string_view text);

/// Whether `type` names a lin-kv client operation (read, write, cas).
bool is_kv_type(std::string_view type);

/// A lin-kv request body -> the KV operation. Precondition: body is an object whose
/// "type" is a string. Errors: 10 for a type that is not read/write/cas, 12 for a
/// missing or ill-typed field (key, value, from, to).
Reply<KvOp> parse_kv_request(const json& body);

/// The reply body for a KV result (no msg_id / in_reply_to): read_ok {value},
/// write_ok, cas_ok, or an error (20 key does not exist, 22 precondition failed,
/// 12 for an operation the machine could not decode, 13 for a result that is not JSON).
json kv_reply_body(KvOpKind kind, const KvResult& result);

/// {"type":"error","code":…,"text":…}.
json error_body(ErrorCode code, std::string_view text);

/// Whether the JSON number `token`, as written, denotes exactly the number its stored
/// text (scalar_to_text of the parsed value) denotes: `1e2` and `100.0` are the same
/// number, `123456789012345678901234567890` and `1.2345678901234568e+29` are not. Also
/// false for a token that is not a JSON number, or whose exponent exceeds 10^6.
bool number_is_exact(std::string_view token);

/// Error 12 naming the first number in `text`, a JSON document, (outside strings) that
/// number_is_exact refuses, with what it would read back as; success when there is none.
Reply<void> check_numbers_exact(std::string_view text);

/// The deepest nesting of [ and { in `text`, outside strings, stopping early once it
/// exceeds `limit`. Lets a caller refuse absurdly nested input before parsing it.
std::size_t json_depth(std::string_view text, std::size_t limit);

}  // namespace vsr::maelstrom
