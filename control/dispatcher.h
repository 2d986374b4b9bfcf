// control/dispatcher.h — JSON-RPC 2.0 semantics, independent of any transport.
//
// The server (control/rpc_server.h) hands every received line to handle() and writes back what it
// returns; unit tests do the same with plain strings. The dispatcher owns the protocol rules of
// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) and docs/rpc.md:
//   * a line is one request object or a batch (array) of them (§6); an empty batch is an invalid
//     request; a batch made only of notifications gets no reply at all;
//   * a request without an "id" member is a notification (§4.1): it runs, and gets no reply;
//   * "params" is a named object (absent = {}); it is checked against the method's ParamSpec
//     before the handler runs, so handlers see only known fields of the right JSON type;
//   * errors: -32700 parse error, -32600 invalid request, -32601 unknown method, -32602 invalid
//     params, -32603 internal error; a handler's vsw::Error maps to the fixed code of its Errc
//     (control/protocol/error_codes.h) with data.errc.
//
// Robustness: every exception from nlohmann or from a handler is caught here and becomes an
// error reply; JSON nested deeper than kMaxDepth is refused before parsing (deep nesting would
// otherwise recurse through copies and dumps); replies replace invalid UTF-8 instead of throwing.
//
// Threads: add() before serving; handle() on the control thread only (handlers touch the Switch).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "control/reply_stream.h"

namespace vsw::control {

// The JSON type a params field must have. Unsigned accepts non-negative integers only;
// StringMap is an object whose values are all strings (port options).
enum class FieldType : uint8_t { String, Bool, Unsigned, Object, StringMap, StringList, UnsignedList };

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::String;
  bool required = false;
};
using ParamSpec = std::vector<FieldSpec>;

// What a handler receives and may add to. `params` has passed the method's ParamSpec.
struct Call {
  const nlohmann::json& params;
  // Members merged into error.data when the handler fails (e.g. {"done": [...]}).
  nlohmann::json error_data = nlohmann::json::object();
  // True when the transport can carry a stream after the reply: a single request (not in a
  // batch, not a notification) from a transport that asked for streams (handle() with a
  // stream pointer). A streaming method refuses to run otherwise.
  bool stream_allowed = false;
  // Set by a streaming method on success: its bytes follow the reply (control/reply_stream.h).
  std::unique_ptr<ReplyStream> stream;
};

class Dispatcher {
 public:
  using Handler = std::function<Result<nlohmann::json>(Call& call)>;
  static constexpr int kMaxDepth = 64;

  // Registers `method` (noun.verb). `usage` is one line for daemon.methods. Fails with
  // InvalidArgument for names starting with "rpc." (reserved by JSON-RPC §4.1) and with
  // AlreadyExists for a duplicate.
  Status add(std::string method, std::string usage, ParamSpec params, Handler handler);

  // Processes one received line (without its '\n'). Returns the reply line (without '\n'), or
  // nullopt when nothing must be sent (a notification or an all-notification batch). Never
  // throws.
  std::optional<std::string> handle(std::string_view line) noexcept;
  // The same for a transport that can stream: when the line was one request whose method
  // succeeded with a stream, *stream receives it (the reply line goes first, then the stream).
  std::optional<std::string> handle(std::string_view line,
                                    std::unique_ptr<ReplyStream>* stream) noexcept;

  // The standard reply a transport sends for a line it refused to read (e.g. over the size
  // limit): a -32700 error with a null id.
  static std::string parse_error_reply(std::string_view message);

  // (method, usage) pairs sorted by method name; backs "daemon.methods".
  std::vector<std::pair<std::string, std::string>> methods() const;

 private:
  struct Method {
    std::string usage;
    ParamSpec params;
    Handler handler;
  };

  // Handles one element: a request object or anything that should have been one. Returns the
  // reply object, or nullopt for a notification.
  std::optional<nlohmann::json> handle_one(const nlohmann::json& request,
                                           std::unique_ptr<ReplyStream>* stream);
  std::optional<nlohmann::json> invoke(const Method& m, const nlohmann::json& request,
                                       const nlohmann::json* id,
                                       std::unique_ptr<ReplyStream>* stream);

  std::map<std::string, Method, std::less<>> methods_;
};

// Checks `params` (an object) against `spec`: unknown fields, missing required fields and wrong
// JSON types give an InvalidArgument error naming the field. Exposed for tests.
Status check_params(const nlohmann::json& params, const ParamSpec& spec);

// True when `text` nests arrays/objects deeper than `max_depth` (brackets inside strings do not
// count). Linear, allocation-free; used before parsing untrusted input.
bool nesting_exceeds(std::string_view text, int max_depth) noexcept;

}  // namespace vsw::control
