// control/metrics/metrics_server.cc — Beast HTTP/1.1 sessions as Asio coroutines, one listener
// (TCP or Unix) per server.
#include "control/metrics/metrics_server.h"

#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"
#include "ports/shm/unix_socket.h"

namespace vsw::control::metrics {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;

constexpr size_t kMaxHeaderBytes = 8192;
constexpr auto kRequestTimeout = std::chrono::seconds(10);

struct MetricsServer::Shared {
  Renderer render;
  MetricsServerStats stats;
  bool running = false;
  std::optional<tcp::acceptor> tcp_acceptor;
  std::optional<local::acceptor> unix_acceptor;
  uint64_t next_id = 0;
  std::map<uint64_t, std::function<void()>> closers;  // one per open connection
};

namespace {

http::response<http::string_body> reply_to(const http::request<http::empty_body>& req,
                                           MetricsServer::Shared& shared) {
  http::response<http::string_body> res;
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "vswitchd");
  const bool get = req.method() == http::verb::get, head = req.method() == http::verb::head;
  if (!get && !head) {
    res.result(http::status::method_not_allowed);
    res.set(http::field::allow, "GET, HEAD");
    res.body() = "only GET and HEAD\n";
  } else if (req.target() != "/metrics") {
    res.result(http::status::not_found);
    res.body() = "metrics are at /metrics\n";
  } else {
    res.result(http::status::ok);
    // Prometheus "Exposition formats": the text format's content type.
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.body() = shared.render();
  }
  if (res.result() != http::status::ok) res.set(http::field::content_type, "text/plain");
  res.prepare_payload();  // Content-Length of the full body, also for HEAD
  if (head) res.body().clear();
  return res;
}

// One connection: its socket and the deadline that closes it when no request completes in
// time. Shared with the deadline's handler and the server's closer, so neither outlives it.
template <class Socket>
struct Connection {
  explicit Connection(Socket s) : sock(std::move(s)), deadline(sock.get_executor()) {}
  Socket sock;
  asio::steady_timer deadline;

  static void arm(const std::shared_ptr<Connection>& c) {
    c->deadline.expires_after(kRequestTimeout);
    c->deadline.async_wait([c](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed or cancelled
      boost::system::error_code ignored;
      c->sock.close(ignored);
    });
  }
  void close() {
    boost::system::error_code ec;
    sock.shutdown(Socket::shutdown_both, ec);
    sock.close(ec);
    deadline.cancel();
  }
};

template <class Socket>
asio::awaitable<void> serve(std::shared_ptr<MetricsServer::Shared> shared, Socket sock) {
  auto conn = std::make_shared<Connection<Socket>>(std::move(sock));
  const uint64_t id = shared->next_id++;
  shared->closers[id] = [weak = std::weak_ptr(conn)] {
    if (auto c = weak.lock()) c->close();
  };
  Connection<Socket>::arm(conn);
  boost::beast::flat_buffer buffer(kMaxHeaderBytes);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    boost::system::error_code ec;
    co_await http::async_read(conn->sock, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;  // closed, timed out, oversized or malformed: nothing more to say
    auto res = reply_to(parser.get(), *shared);
    ++shared->stats.requests;
    co_await http::async_write(conn->sock, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
    Connection<Socket>::arm(conn);
  }
  conn->close();
  shared->closers.erase(id);
}

template <class Acceptor>
asio::awaitable<void> accept_loop(std::shared_ptr<MetricsServer::Shared> shared, Acceptor& acc) {
  while (shared->running) {
    boost::system::error_code ec;
    auto sock = co_await acc.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!shared->running) co_return;
    if (ec) {
      // e.g. EMFILE: back off instead of spinning.
      VSW_LOG_RL(log::ctl(), spdlog::level::warn, 1000, "metrics accept failed: {}", ec.message());
      asio::steady_timer backoff(acc.get_executor());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    if (shared->closers.size() >= MetricsServer::kMaxConnections) {
      ++shared->stats.refused;
      sock.close(ec);
      continue;
    }
    asio::co_spawn(acc.get_executor(), serve(shared, std::move(sock)), asio::detached);
  }
}

}  // namespace

MetricsServer::MetricsServer(asio::io_context& io, ListenAddress where, Renderer render)
    : io_(io), where_(std::move(where)), shared_(std::make_shared<Shared>()) {
  shared_->render = std::move(render);
}

MetricsServer::~MetricsServer() { stop(); }

const MetricsServerStats& MetricsServer::stats() const noexcept { return shared_->stats; }

Status MetricsServer::start() {
  if (shared_->running) return ok();
  boost::system::error_code ec;
  if (where_.unix_socket) {
    auto fd = ports::shm::listen_unix(where_.path, SOCK_STREAM);
    if (!fd) return std::move(fd).error();
    shared_->unix_acceptor.emplace(io_);
    shared_->unix_acceptor->assign(local(), fd->release(), ec);
  } else {
    const auto ip = asio::ip::make_address(where_.ip, ec);
    if (!ec) {
      shared_->tcp_acceptor.emplace(io_);
      tcp::acceptor& acc = *shared_->tcp_acceptor;
      const tcp::endpoint ep(ip, where_.port);
      acc.open(ep.protocol(), ec);
      if (!ec) acc.set_option(tcp::acceptor::reuse_address(true), ec);
      if (!ec) acc.bind(ep, ec);
      if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
      if (!ec) bound_port_ = acc.local_endpoint(ec).port();
    }
  }
  if (ec) {
    shared_->tcp_acceptor.reset();
    shared_->unix_acceptor.reset();
    return make_error(Errc::Io, "cannot serve metrics on {}: {}", where_.str(), ec.message());
  }
  shared_->running = true;
  if (shared_->tcp_acceptor) {
    asio::co_spawn(io_, accept_loop(shared_, *shared_->tcp_acceptor), asio::detached);
  } else {
    asio::co_spawn(io_, accept_loop(shared_, *shared_->unix_acceptor), asio::detached);
  }
  log::ctl().info("metrics served at http://{}/metrics", where_.str());
  return ok();
}

void MetricsServer::stop() {
  if (!shared_->running) return;
  shared_->running = false;
  boost::system::error_code ec;
  if (shared_->tcp_acceptor) shared_->tcp_acceptor->close(ec);
  if (shared_->unix_acceptor) {
    shared_->unix_acceptor->close(ec);
    ::unlink(where_.path.c_str());
  }
  auto closers = shared_->closers;
  for (auto& [id, close] : closers) close();
}

}  // namespace vsw::control::metrics
