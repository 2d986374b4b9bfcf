// control/metrics/metrics_server.h — serves GET /metrics over HTTP/1.1 (Boost.Beast) on a
// loopback TCP address or a Unix socket, for Prometheus and curl.
//
// Requests: GET or HEAD /metrics → 200 text/plain; version=0.0.4 (the exposition text, rendered
// afresh for each request); any other path → 404; any other method → 405. Keep-alive as
// HTTP/1.1 says. Limits, each confined to the offending client: at most 16 connections (more are
// closed at once), request headers at most 8 KiB and no request body, 10 s per connection to
// send a request after the last reply (then closed).
//
// Threads: everything on the control thread's io_context, like the JSON-RPC server; rendering
// reads counter snapshots only (metrics_text.h), so a scrape never blocks a worker.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include "common/result.h"
#include "control/metrics/listen_address.h"

namespace vsw::control::metrics {

struct MetricsServerStats {
  uint64_t requests = 0;  // replies sent (any status)
  uint64_t refused = 0;   // connections over the limit
};

class MetricsServer {
 public:
  using Renderer = std::function<std::string()>;
  static constexpr size_t kMaxConnections = 16;

  MetricsServer(boost::asio::io_context& io, ListenAddress where, Renderer render);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds and listens (a stale Unix socket file is replaced; a live one or a file that is not a
  // socket is refused; a busy TCP port is an error naming it). The accept loop runs with `io`.
  Status start();
  // Closes the listener and every connection; removes the Unix socket file. Idempotent.
  void stop();

  // The TCP port bound (useful with port 0 in tests); 0 for a Unix socket.
  uint16_t port() const noexcept { return bound_port_; }
  const MetricsServerStats& stats() const noexcept;

  struct Shared;  // the state sessions and the accept loop keep alive (metrics_server.cc)

 private:
  boost::asio::io_context& io_;
  ListenAddress where_;
  std::shared_ptr<Shared> shared_;
  uint16_t bound_port_ = 0;
};

}  // namespace vsw::control::metrics
