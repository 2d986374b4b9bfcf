// control/rpc_server.cc — accept loop, per-client sessions, line framing and client limits.
#include "control/rpc_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <deque>
#include <map>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"
#include "control/protocol/error_codes.h"

namespace vsw::control {

namespace asio = boost::asio;
using asio::local::stream_protocol;
using Clock = std::chrono::steady_clock;

namespace {

// co_spawn completion: coroutine bodies catch what they can; this only reports the rest.
void report_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    VSW_LOG_RL(log::ctl(), spdlog::level::err, 1000, "rpc coroutine failed: {}", ex.what());
  } catch (...) {
    VSW_LOG_RL(log::ctl(), spdlog::level::err, 1000, "rpc coroutine failed");
  }
}

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// The connecting process's uid (socket(7) SO_PEERCRED); -1 when unknown.
int64_t peer_uid(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
  return cred.uid;
}

// One best-effort, non-blocking JSON-RPC error line (id null) on `fd`: the client learns why it
// is closed. Never waits for a client that does not read.
void send_unavailable(int fd, const std::string& message) {
  const nlohmann::json reply = {
      {"jsonrpc", "2.0"},
      {"id", nullptr},
      {"error",
       {{"code", protocol::errc_to_rpc_code(Errc::Unavailable)},
        {"message", message},
        {"data", {{"errc", errc_name(Errc::Unavailable)}}}}}};
  const std::string line = reply.dump() + "\n";
  [[maybe_unused]] ssize_t n = ::send(fd, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

// --- Session ------------------------------------------------------------------------------------

class RpcServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(RpcServer& server, stream_protocol::socket sock)
      : server_(server),
        socket_(std::move(sock)),
        wake_(socket_.get_executor()),
        idle_timer_(socket_.get_executor()),
        last_activity_(Clock::now()),
        uid_(peer_uid(socket_.native_handle())) {}

  int64_t uid() const noexcept { return uid_; }
  Clock::time_point last_activity() const noexcept { return last_activity_; }

  // Closed to admit a new client: tells the client why first (best effort).
  void evict(size_t limit) {
    if (closed_) return;
    send_unavailable(socket_.native_handle(),
                     fmt::format("connection closed: the client limit ({}) was reached and this "
                                 "was the longest-idle connection of its user", limit));
    close();
  }

  void start() {
    // Each coroutine holds a reference from its creation on, so close() before they first run
    // cannot free the Session under them.
    asio::co_spawn(socket_.get_executor(), read_loop(shared_from_this()), report_exception);
    asio::co_spawn(socket_.get_executor(), write_loop(shared_from_this()), report_exception);
    asio::co_spawn(socket_.get_executor(), watchdog(shared_from_this()), report_exception);
  }

  // Idempotent. Cancels every pending operation; the coroutines see the error and end, dropping
  // their references, and the Session is freed after the last one.
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(stream_protocol::socket::shutdown_both, ec);
    socket_.close(ec);
    wake_.cancel();
    idle_timer_.cancel();
    stream_.reset();  // a capture stops here when its client goes away
    server_.forget(shared_from_this());
  }

 private:
  void touch() { last_activity_ = Clock::now(); }

  void enqueue(std::string reply) {
    reply.push_back('\n');
    pending_bytes_ += reply.size();
    pending_.push_back(std::move(reply));
    wake_.cancel();
  }

  // Handles one complete line; false when the session must stop reading.
  bool on_line(std::string_view line) {
    if (is_blank(line) || streaming_) return true;  // a streaming connection takes no requests
    ++server_.stats_.requests;
    std::unique_ptr<ReplyStream> stream;
    if (auto reply = server_.dispatcher_.handle(line, &stream)) enqueue(std::move(*reply));
    if (stream) {
      stream_ = std::move(stream);
      streaming_ = true;
    }
    if (pending_bytes_ > server_.limits_.max_pending_reply_bytes) {
      ++server_.stats_.slow;
      VSW_LOG_RL(log::ctl(), spdlog::level::warn, 1000,
                 "rpc client dropped reason=unread-replies pending_bytes={}", pending_bytes_);
      close();
      return false;
    }
    return !closed_;
  }

  void on_oversize() {
    ++server_.stats_.oversize;
    VSW_LOG_RL(log::ctl(), spdlog::level::warn, 1000,
               "rpc client dropped reason=line-too-long limit_bytes={}",
               server_.limits_.max_line_bytes);
    enqueue(Dispatcher::parse_error_reply(
        fmt::format("request line exceeds {} bytes", server_.limits_.max_line_bytes)));
    close_after_flush();
  }

  void close_after_flush() {
    flush_then_close_ = true;
    wake_.cancel();
  }

  // Cuts `data` into lines; returns false when the session must stop reading.
  bool consume(std::string_view data) {
    const size_t limit = server_.limits_.max_line_bytes;
    while (!data.empty()) {
      const size_t nl = data.find('\n');
      const std::string_view piece = data.substr(0, nl);
      if (partial_.size() + piece.size() > limit) {
        on_oversize();
        return false;
      }
      if (nl == std::string_view::npos) {
        partial_.append(piece);
        return true;
      }
      bool more;
      if (partial_.empty()) {
        more = on_line(piece);
      } else {
        partial_.append(piece);
        more = on_line(partial_);
        partial_.clear();
        partial_.shrink_to_fit();
      }
      if (!more) return false;
      data.remove_prefix(nl + 1);
    }
    return true;
  }

  // After close() the coroutines only look at closed_ (Session members), never at server_.
  asio::awaitable<void> read_loop(std::shared_ptr<Session> /*self*/) {
    try {
      while (!closed_) {
        boost::system::error_code ec;
        const size_t n = co_await socket_.async_read_some(
            asio::buffer(chunk_), asio::redirect_error(asio::use_awaitable, ec));
        if (closed_) co_return;
        if (ec) {
          // EOF (the client half-closed): handle an unterminated last line, send what is
          // queued, then close. Any other error: close now.
          if (ec == asio::error::eof && streaming_) {
            close();  // the client of a stream closed: it wants no more
          } else if (ec == asio::error::eof) {
            if (!partial_.empty()) {
              std::string last = std::move(partial_);
              partial_.clear();
              if (!on_line(last)) co_return;
            }
            close_after_flush();
          } else {
            close();
          }
          co_return;
        }
        touch();
        if (!consume(std::string_view(chunk_.data(), n))) co_return;
      }
    } catch (const std::exception& e) {
      VSW_LOG_RL(log::ctl(), spdlog::level::err, 1000, "rpc reader failed: {}", e.what());
      close();
    }
  }

  asio::awaitable<void> write_loop(std::shared_ptr<Session> /*self*/) {
    try {
      while (!closed_) {
        while (!pending_.empty() && !closed_) {
          boost::system::error_code ec;
          co_await asio::async_write(socket_, asio::buffer(pending_.front()),
                                     asio::redirect_error(asio::use_awaitable, ec));
          if (closed_) co_return;
          if (ec) {
            close();
            co_return;
          }
          pending_bytes_ -= pending_.front().size();
          pending_.pop_front();
          touch();
        }
        if (flush_then_close_) {
          close();
          co_return;
        }
        boost::system::error_code ec;
        if (stream_) {
          // Streaming (reply_stream.h): write what the stream has, or look again shortly.
          stream_chunk_.clear();
          const bool more = stream_->pull(stream_chunk_, kStreamChunkBytes);
          if (!more) stream_.reset();
          if (!stream_chunk_.empty()) {
            co_await asio::async_write(socket_, asio::buffer(stream_chunk_),
                                       asio::redirect_error(asio::use_awaitable, ec));
            if (closed_) co_return;
            if (ec) {
              close();
              co_return;
            }
            touch();
          }
          if (!more) {
            close();
            co_return;
          }
          if (!stream_chunk_.empty()) continue;
          wake_.expires_after(kStreamPollInterval);
          co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
          continue;
        }
        // Sleep until enqueue(), close_after_flush() or close() cancels the timer.
        wake_.expires_at(Clock::time_point::max());
        co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
    } catch (const std::exception& e) {
      VSW_LOG_RL(log::ctl(), spdlog::level::err, 1000, "rpc writer failed: {}", e.what());
      close();
    }
  }

  asio::awaitable<void> watchdog(std::shared_ptr<Session> /*self*/) {
    const auto timeout = server_.limits_.idle_timeout;
    while (!closed_) {
      boost::system::error_code ec;
      idle_timer_.expires_at(last_activity_ + timeout);
      co_await idle_timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (closed_) co_return;
      if (streaming_) {
        touch();  // a stream may be quiet for long (a capture with no matching traffic)
        continue;
      }
      if (Clock::now() >= last_activity_ + timeout) {
        ++server_.stats_.idle;
        log::ctl().info("rpc client dropped reason=idle timeout_ms={}", timeout.count());
        close();
        co_return;
      }
    }
  }

  RpcServer& server_;
  stream_protocol::socket socket_;
  asio::steady_timer wake_;
  asio::steady_timer idle_timer_;
  Clock::time_point last_activity_;
  int64_t uid_;
  std::array<char, 16384> chunk_{};
  std::string partial_;              // the current line so far, at most max_line_bytes
  std::deque<std::string> pending_;  // replies not yet written, each ending in '\n'
  size_t pending_bytes_ = 0;
  bool flush_then_close_ = false;
  bool closed_ = false;
  // A streaming reply (reply_stream.h): pulled every kStreamPollInterval while it has nothing.
  static constexpr size_t kStreamChunkBytes = 256 * 1024;
  static constexpr std::chrono::milliseconds kStreamPollInterval{2};
  std::unique_ptr<ReplyStream> stream_;
  std::string stream_chunk_;
  bool streaming_ = false;
};

// --- RpcServer ----------------------------------------------------------------------------------

RpcServer::RpcServer(asio::io_context& io, std::filesystem::path socket_path,
                     Dispatcher& dispatcher, RpcLimits limits)
    : io_(io),
      path_(std::move(socket_path)),
      dispatcher_(dispatcher),
      limits_(limits),
      acceptor_(io) {}

RpcServer::~RpcServer() {
  stop();
  *alive_ = false;
}

Status RpcServer::prepare_socket_path() {
  const std::string p = path_.string();
  if (p.empty() || p.size() >= sizeof(sockaddr_un::sun_path)) {
    return make_error(Errc::InvalidArgument, "socket path '{}' must be 1..{} bytes long", p,
                      sizeof(sockaddr_un::sun_path) - 1);
  }
  if (path_.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) {
      return make_sys_error(
          Errc::Io, ec.value(),
          fmt::format("cannot create directory '{}'", path_.parent_path().string()));
    }
  }
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) {
    if (errno == ENOENT) return ok();
    return make_sys_error(Errc::Io, errno, fmt::format("cannot stat '{}'", p));
  }
  if (!S_ISSOCK(st.st_mode)) {
    return make_error(Errc::InvalidArgument, "'{}' exists and is not a socket; not removing it", p);
  }
  // A socket file exists: is someone serving it?
  // Non-blocking, so a live but stuck server with a full backlog cannot hang our start-up.
  stream_protocol::socket probe(io_);
  boost::system::error_code ec;
  probe.open(stream_protocol(), ec);
  if (!ec) probe.non_blocking(true, ec);
  if (!ec) probe.connect(stream_protocol::endpoint(p), ec);
  if (!ec || ec == asio::error::would_block || ec == asio::error::try_again) {
    return make_error(Errc::Unavailable, "another process is serving '{}' (is vswitchd running?)",
                      p);
  }
  if (ec != asio::error::connection_refused) {
    return make_error(Errc::Io, "cannot probe socket '{}': {}", p, ec.message());
  }
  log::ctl().info("removing stale control socket path={}", p);
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
    return make_sys_error(Errc::Io, errno, fmt::format("cannot remove stale socket '{}'", p));
  }
  return ok();
}

Status RpcServer::start(std::optional<gid_t> group) {
  if (listening_) return ok();
  if (Status st = prepare_socket_path(); !st) return st;
  const std::string p = path_.string();
  boost::system::error_code ec;
  acceptor_.open(stream_protocol(), ec);
  if (!ec) {
    // Never let the socket exist, even briefly, with wider permissions than 0660.
    const mode_t old_mask = ::umask(0117);
    acceptor_.bind(stream_protocol::endpoint(p), ec);
    ::umask(old_mask);
  }
  if (ec) {
    acceptor_.close();
    return make_error(Errc::Io, "cannot bind control socket '{}': {}", p, ec.message());
  }
  listening_ = true;
  if (::chmod(p.c_str(), 0660) != 0) {
    const int err = errno;
    stop();
    return make_sys_error(Errc::Io, err, fmt::format("cannot chmod 0660 '{}'", p));
  }
  if (group && ::chown(p.c_str(), static_cast<uid_t>(-1), *group) != 0) {
    const int err = errno;
    stop();
    return make_sys_error(Errc::Io, err, fmt::format("cannot give '{}' to group {}", p, *group));
  }
  acceptor_.listen(static_cast<int>(limits_.max_clients), ec);
  if (ec) {
    stop();
    return make_error(Errc::Io, "cannot listen on '{}': {}", p, ec.message());
  }
  asio::co_spawn(io_, accept_loop(alive_), report_exception);
  log::ctl().info("control socket listening path={}", p);
  return ok();
}

void RpcServer::stop() {
  if (!listening_) return;
  listening_ = false;
  boost::system::error_code ec;
  acceptor_.close(ec);
  auto sessions = sessions_;  // close() erases from sessions_
  for (const auto& s : sessions) s->close();
  sessions_.clear();
  ::unlink(path_.c_str());
  log::ctl().info("control socket closed path={}", path_.string());
}

void RpcServer::refuse(stream_protocol::socket& sock) {
  ++stats_.refused;
  VSW_LOG_RL(log::ctl(), spdlog::level::warn, 1000,
             "rpc client refused reason=too-many-clients limit={}", limits_.max_clients);
  send_unavailable(sock.native_handle(),
                   fmt::format("too many clients (limit {})", limits_.max_clients));
  boost::system::error_code ec;
  sock.close(ec);
}

std::shared_ptr<RpcServer::Session> RpcServer::eviction_victim() const {
  // The user with the most sessions pays, with its longest-idle one: a user flooding the socket
  // evicts only itself, and an operator's new connection always gets in.
  std::map<int64_t, size_t> per_uid;
  for (const auto& s : sessions_) ++per_uid[s->uid()];
  int64_t heaviest = -2;
  size_t most = 0;
  for (const auto& [uid, n] : per_uid) {
    if (n > most) most = n, heaviest = uid;
  }
  std::shared_ptr<Session> victim;
  for (const auto& s : sessions_) {
    if (s->uid() != heaviest) continue;
    if (!victim || s->last_activity() < victim->last_activity()) victim = s;
  }
  return victim;
}

asio::awaitable<void> RpcServer::accept_loop(std::shared_ptr<bool> alive) {
  // `this` may be gone when a cancelled accept completes: look at `alive` first.
  if (!*alive) co_return;
  asio::steady_timer backoff(io_);
  while (listening_) {
    boost::system::error_code ec;
    stream_protocol::socket sock =
        co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (!*alive || !listening_ || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      // e.g. EMFILE: back off briefly instead of spinning; existing clients are unaffected.
      VSW_LOG_RL(log::ctl(), spdlog::level::warn, 1000, "rpc accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!*alive) co_return;
      continue;
    }
    if (sessions_.size() >= limits_.max_clients) {
      std::shared_ptr<Session> victim = eviction_victim();
      if (!victim) {
        refuse(sock);
        continue;
      }
      ++stats_.evicted;
      VSW_LOG_RL(log::ctl(), spdlog::level::warn, 1000,
                 "rpc client evicted reason=client-limit limit={} uid={}", limits_.max_clients,
                 victim->uid());
      victim->evict(limits_.max_clients);
    }
    ++stats_.accepted;
    auto session = std::make_shared<Session>(*this, std::move(sock));
    sessions_.insert(session);
    session->start();
    log::ctl().debug("rpc client connected clients={}", sessions_.size());
  }
}

}  // namespace vsw::control
