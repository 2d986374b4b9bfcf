// control/rpc_server.h — the JSON-RPC transport: a Unix stream socket served with Boost.Asio.
//
// Framing: one JSON text per '\n'-terminated line in both directions (docs/rpc.md). Each client
// is a Session run by three coroutines on the control thread's io_context:
//   reader   — reads up to 16 KiB at a time, cuts lines, hands each to Dispatcher::handle() and
//              queues the reply; blank lines are ignored; a final line without '\n' at EOF is
//              still handled (so `echo ... | socat - UNIX-CONNECT:...` works);
//   writer   — drains the reply queue; after the client half-closes, closes once it is empty;
//   watchdog — closes the session after `idle_timeout` without a byte read or written.
// Limits (RpcLimits), each confined to the offending client:
//   * a line longer than max_line_bytes: a -32700 reply, then the connection is closed; the
//     server never buffers more than max_line_bytes + one read chunk for a client;
//   * more than max_pending_reply_bytes of unread replies: the client is dropped (it does not
//     read); nothing waits for it;
//   * max_clients connections: the operator always gets in. A new client evicts the longest-idle
//     session of the user (SO_PEERCRED uid) holding the most sessions — so one user flooding the
//     socket only ever evicts its own connections — which gets one -32006 error line saying why
//     and is closed. Only with max_clients == 0 is a new client refused (same error line);
//   * idle or half-open clients: dropped by the watchdog.
// Nothing blocks: all socket I/O is asynchronous, and the dataplane never waits for control.
//
// Socket file: start() creates the parent directory if missing, refuses a path that is not a
// socket, refuses to steal a socket another live process is serving, unlinks a stale one, binds,
// sets mode 0660 and listens. stop() closes everything and unlinks the socket.
//
// Threads: all methods on the thread running `io` (the control thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <sys/types.h>
#include <memory>
#include <optional>
#include <set>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/result.h"
#include "control/dispatcher.h"

namespace vsw::control {

struct RpcLimits {
  size_t max_line_bytes = 1 << 20;
  size_t max_clients = 64;
  size_t max_pending_reply_bytes = 4 << 20;
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
};

// Counters for observability and tests.
struct RpcServerStats {
  uint64_t accepted = 0;
  uint64_t refused = 0;   // over max_clients with nobody to evict (max_clients == 0)
  uint64_t evicted = 0;   // longest-idle sessions closed to admit a new client
  uint64_t oversize = 0;  // closed for a line over max_line_bytes
  uint64_t slow = 0;      // dropped for too many unread reply bytes
  uint64_t idle = 0;      // dropped by the idle watchdog
  uint64_t requests = 0;  // lines handed to the dispatcher
};

class RpcServer {
 public:
  RpcServer(boost::asio::io_context& io, std::filesystem::path socket_path, Dispatcher& dispatcher,
            RpcLimits limits = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Prepares the socket file, binds, chmod 0660 (and chown to `group` when given, so its
  // members may connect), listens and starts accepting (the accept loop runs once the
  // io_context runs). Unavailable if another process serves the path; Io or InvalidArgument for
  // other failures.
  Status start(std::optional<gid_t> group = std::nullopt);
  // Closes the listener and every client, unlinks the socket file. Idempotent.
  void stop();

  size_t client_count() const noexcept { return sessions_.size(); }
  const RpcServerStats& stats() const noexcept { return stats_; }
  const std::filesystem::path& socket_path() const noexcept { return path_; }

 private:
  class Session;
  friend class Session;

  boost::asio::awaitable<void> accept_loop(std::shared_ptr<bool> alive);
  void refuse(boost::asio::local::stream_protocol::socket& sock);
  // The session to close so that a client of `uid` gets in; nullptr when there is none.
  std::shared_ptr<Session> eviction_victim() const;
  Status prepare_socket_path();
  void forget(const std::shared_ptr<Session>& s) { sessions_.erase(s); }

  boost::asio::io_context& io_;
  std::filesystem::path path_;
  Dispatcher& dispatcher_;
  RpcLimits limits_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::set<std::shared_ptr<Session>> sessions_;
  RpcServerStats stats_;
  bool listening_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed
};

}  // namespace vsw::control
