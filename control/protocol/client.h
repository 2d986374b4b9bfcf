// control/protocol/client.h — a small synchronous JSON-RPC 2.0 client over a Unix stream socket.
//
// vswctl's only way to talk to vswitchd. Plain POSIX sockets (no Asio, no dataplane), one request
// in flight at a time, newline framing as docs/rpc.md specifies: each request and each reply is
// one JSON object on one '\n'-terminated line. The connection is opened on first use and kept for
// later calls, so a verb that needs several methods (vswctl show) uses one connection.
//
// Failures are sorted by where they happened (FailureKind), because vswctl's exit code depends on
// it: could not connect, the exchange broke, the daemon answered garbage, or the daemon answered
// with a JSON-RPC error. The Error returned by call() is always written for the user.
//
// Threading: a Client is used by one thread at a time. It never raises SIGPIPE (MSG_NOSIGNAL).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "control/protocol/error_codes.h"

namespace vsw::protocol {

// Where vswitchd listens unless told otherwise (vswitchd --socket, vswctl --socket/VSW_SOCKET).
inline constexpr std::string_view kDefaultSocketPath = "/run/vsw/vswitchd.sock";

// A reply line longer than this is treated as a protocol error rather than buffered forever.
inline constexpr size_t kMaxReplyBytes = size_t{64} << 20;

enum class FailureKind : uint8_t {
  None,       // the last call succeeded (or none was made)
  Local,      // the request could not be built (params not an object, not UTF-8); nothing sent
  Connect,    // no connection: socket absent, refused, permission denied, path too long
  Transport,  // connected, but the exchange broke: timeout, connection closed, I/O error
  Protocol,   // the daemon sent something that is not a JSON-RPC reply to our request
  Remote,     // the daemon answered with a JSON-RPC error object
};

// Details of the last failed call, beyond the Error returned by call().
struct Failure {
  FailureKind kind = FailureKind::None;
  int rpc_code = 0;     // error.code; Remote only
  nlohmann::json data;  // error.data (null if absent); Remote only
};

class Client {
 public:
  // Does not connect yet. `timeout` bounds connect() and each call() as a whole.
  Client(std::string socket_path, std::chrono::milliseconds timeout);
  ~Client();
  Client(Client&& other) noexcept;
  Client& operator=(Client&& other) noexcept;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Opens the connection if it is not open. Idempotent. Fails with FailureKind::Connect; the
  // message names the socket path, the reason, and what to do about it (start vswitchd, fix
  // --socket, or permissions).
  Status connect();

  // Sends {"jsonrpc":"2.0","id":N,"method":method,"params":params} and waits for the reply with
  // id N. Returns its "result". Connects first if needed. On failure, last_failure() tells where
  // it failed; for a JSON-RPC error reply the Error carries the daemon's message and the Errc
  // from error.data.errc (or from the code when data is absent). After a Transport or Protocol
  // failure the connection is closed; the next call reconnects.
  // `params` must be a JSON object (docs/rpc.md: params are always named).
  Result<nlohmann::json> call(std::string_view method,
                              const nlohmann::json& params = nlohmann::json::object());

  // The failure of the last call() or connect(); kind None after a success.
  const Failure& last_failure() const noexcept { return failure_; }

  // Hands the open connection over to the caller (after a call whose reply is followed by a
  // stream, e.g. capture.start): returns the fd (non-blocking; the caller closes it; -1 when
  // not connected) and moves into `buffered` the bytes already received after the reply line.
  // The Client is then disconnected.
  int release_connection(std::string& buffered) noexcept;

  const std::string& socket_path() const noexcept { return path_; }
  bool is_connected() const noexcept { return fd_ >= 0; }
  void close() noexcept;

 private:
  Error fail(FailureKind kind, Error e);
  Status send_all(std::string_view bytes, std::chrono::steady_clock::time_point deadline);
  Result<std::string> read_line(std::chrono::steady_clock::time_point deadline,
                                std::string_view method);
  Result<nlohmann::json> parse_reply(const std::string& line, uint64_t id, std::string_view method);

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  uint64_t next_id_ = 1;
  std::string rx_;  // bytes received after the last complete line
  Failure failure_;
};

}  // namespace vsw::protocol
