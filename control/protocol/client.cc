// control/protocol/client.cc — blocking JSON-RPC client over AF_UNIX (see client.h).
//
// connect() is a blocking connect bounded by SO_SNDTIMEO (Linux applies it to AF_UNIX stream
// connects). After that the socket is non-blocking and every send/recv waits in poll() against a
// single per-call deadline, so a daemon that stops reading or never answers cannot hang vswctl.
#include "control/protocol/client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace vsw::protocol {

namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr std::string_view kStartHint =
    "is vswitchd running? Start it (systemctl start vswitchd), or point --socket or VSW_SOCKET "
    "at its socket";

Error connect_error(const std::string& path, int err) {
  std::string why;
  switch (err) {
    case ENOENT: why = fmt::format("the socket does not exist; {}", kStartHint); break;
    case ECONNREFUSED:
      why = fmt::format("connection refused (nothing listens there; a stale socket?); {}",
                        kStartHint);
      break;
    case EACCES:
    case EPERM:
      why = "permission denied; run vswctl as root or as a member of the socket's group";
      break;
    case EAGAIN:
      why = "the daemon is not accepting connections (backlog full or timed out); try again";
      break;
    default: why = std::strerror(err); break;
  }
  Error e = make_error(Errc::Unavailable, "cannot connect to vswitchd at '{}': {}", path, why);
  e.sys_errno = err;
  return e;
}

// Milliseconds left until `deadline`, rounded up so that poll() never spins on 0 early.
int remaining_ms(Clock::time_point deadline) {
  auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(ms);
}

std::string seconds_text(std::chrono::milliseconds ms) {
  return fmt::format("{:g} s", static_cast<double>(ms.count()) / 1000.0);
}

// Errc for a JSON-RPC error: data.errc wins, then the fixed domain code, then the standard codes.
Errc errc_of_reply(int code, const json& data) {
  if (data.is_object()) {
    auto it = data.find("errc");
    if (it != data.end() && it->is_string()) {
      if (auto c = errc_from_name(it->get<std::string>())) return *c;
    }
  }
  if (auto c = rpc_code_to_errc(code)) return *c;
  switch (code) {
    case kParseError:
    case kInvalidRequest:
    case kInvalidParams: return Errc::InvalidArgument;
    case kMethodNotFound: return Errc::Unsupported;
    default: return Errc::Internal;
  }
}

}  // namespace

Client::Client(std::string socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

Client::~Client() { close(); }

Client::Client(Client&& other) noexcept
    : path_(std::move(other.path_)),
      timeout_(other.timeout_),
      fd_(std::exchange(other.fd_, -1)),
      next_id_(other.next_id_),
      rx_(std::move(other.rx_)),
      failure_(std::move(other.failure_)) {}

Client& Client::operator=(Client&& other) noexcept {
  if (this != &other) {
    close();
    path_ = std::move(other.path_);
    timeout_ = other.timeout_;
    fd_ = std::exchange(other.fd_, -1);
    next_id_ = other.next_id_;
    rx_ = std::move(other.rx_);
    failure_ = std::move(other.failure_);
  }
  return *this;
}

void Client::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  rx_.clear();
}

Error Client::fail(FailureKind kind, Error e) {
  failure_ = Failure{kind, 0, nullptr};
  if (kind == FailureKind::Transport || kind == FailureKind::Protocol) close();
  return e;
}

Status Client::connect() {
  if (fd_ >= 0) return ok();
  failure_ = Failure{};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.empty()) {
    return fail(FailureKind::Connect,
                make_error(Errc::InvalidArgument, "cannot connect to vswitchd: empty socket path"));
  }
  if (path_.size() >= sizeof(addr.sun_path)) {
    return fail(FailureKind::Connect,
                make_error(Errc::InvalidArgument,
                           "cannot connect to vswitchd at '{}': socket path is {} bytes long, "
                           "the limit is {}",
                           path_, path_.size(), sizeof(addr.sun_path) - 1));
  }
  std::memcpy(addr.sun_path, path_.data(), path_.size());

  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return fail(FailureKind::Connect,
                make_sys_error(Errc::Io, errno, "cannot create a Unix socket"));
  }
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    int err = errno;
    ::close(fd);
    return fail(FailureKind::Connect, connect_error(path_, err));
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    int err = errno;
    ::close(fd);
    return fail(FailureKind::Connect, make_sys_error(Errc::Io, err, "cannot configure socket"));
  }
  fd_ = fd;
  rx_.clear();
  return ok();
}

Status Client::send_all(std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int ms = remaining_ms(deadline);
      int r = ms > 0 ? ::poll(&p, 1, ms) : 0;
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) {
        return make_error(Errc::Unavailable,
                          "vswitchd at '{}' did not accept the request within {}; use --timeout "
                          "to wait longer",
                          path_, seconds_text(timeout_));
      }
      continue;  // writable, or an error that the next send() reports
    }
    int err = n < 0 ? errno : EPIPE;
    if (err == EPIPE || err == ECONNRESET) {
      return make_error(Errc::Io, "vswitchd at '{}' closed the connection", path_);
    }
    return make_sys_error(Errc::Io, err, fmt::format("cannot send to vswitchd at '{}'", path_));
  }
  return ok();
}

Result<std::string> Client::read_line(Clock::time_point deadline, std::string_view method) {
  size_t scanned = 0;
  char buf[64 * 1024];
  for (;;) {
    size_t nl = rx_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = rx_.substr(0, nl);
      rx_.erase(0, nl + 1);
      return line;
    }
    scanned = rx_.size();
    if (rx_.size() > kMaxReplyBytes) {
      return make_error(Errc::Internal, "reply from vswitchd to '{}' exceeds {} bytes", method,
                        kMaxReplyBytes);
    }
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      rx_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      return make_error(Errc::Io, "vswitchd at '{}' closed the connection before replying to '{}'",
                        path_, method);
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return make_sys_error(Errc::Io, errno,
                            fmt::format("cannot read from vswitchd at '{}'", path_));
    }
    pollfd p{fd_, POLLIN, 0};
    int ms = remaining_ms(deadline);
    int r = ms > 0 ? ::poll(&p, 1, ms) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      return make_error(Errc::Unavailable,
                        "no reply from vswitchd at '{}' to '{}' within {}; use --timeout to wait "
                        "longer",
                        path_, method, seconds_text(timeout_));
    }
  }
}

Result<json> Client::parse_reply(const std::string& line, uint64_t id, std::string_view method) {
  json reply = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object()) {
    return fail(FailureKind::Protocol,
                make_error(Errc::Internal,
                           "malformed reply from vswitchd to '{}': not a JSON object", method));
  }
  auto id_it = reply.find("id");
  bool id_matches = id_it != reply.end() && id_it->is_number_integer() && *id_it == id;
  auto err_it = reply.find("error");
  if (err_it != reply.end()) {
    // A reply to a request the daemon could not read (parse error) carries "id": null.
    bool id_ok = id_matches || id_it == reply.end() || id_it->is_null();
    if (!id_ok || !err_it->is_object()) {
      return fail(
          FailureKind::Protocol,
          make_error(Errc::Internal, "malformed error reply from vswitchd to '{}'", method));
    }
    const json& e = *err_it;
    int code = 0;
    if (auto c = e.find("code"); c != e.end() && c->is_number_integer()) code = c->get<int>();
    std::string message = "unspecified error";
    if (auto m = e.find("message"); m != e.end() && m->is_string()) message = m->get<std::string>();
    json data = e.contains("data") ? e["data"] : json(nullptr);
    Errc errc = errc_of_reply(code, data);
    failure_ = Failure{FailureKind::Remote, code, std::move(data)};
    return Error{errc, std::move(message), 0};
  }
  auto res_it = reply.find("result");
  if (res_it == reply.end() || !id_matches) {
    return fail(FailureKind::Protocol,
                make_error(Errc::Internal,
                           "malformed reply from vswitchd to '{}': expected a result for id {}",
                           method, id));
  }
  failure_ = Failure{};
  return std::move(*res_it);
}

Result<json> Client::call(std::string_view method, const json& params) {
  failure_ = Failure{};
  if (!params.is_object()) {
    return fail(FailureKind::Local,
                make_error(Errc::InvalidArgument, "params of '{}' must be a JSON object", method));
  }
  std::string line;
  uint64_t id = next_id_++;
  try {
    json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
    line = request.dump();
  } catch (const json::exception&) {
    return fail(FailureKind::Local, make_error(Errc::InvalidArgument,
                                               "parameters of '{}' are not valid UTF-8", method));
  }
  line.push_back('\n');

  if (Status s = connect(); !s) return s.error();
  auto deadline = Clock::now() + timeout_;
  if (Status s = send_all(line, deadline); !s) return fail(FailureKind::Transport, s.error());
  Result<std::string> reply = read_line(deadline, method);
  if (!reply) {
    bool too_long = rx_.size() > kMaxReplyBytes;
    return fail(too_long ? FailureKind::Protocol : FailureKind::Transport, reply.error());
  }
  return parse_reply(*reply, id, method);
}

int Client::release_connection(std::string& buffered) noexcept {
  const int fd = fd_;
  fd_ = -1;
  buffered.swap(rx_);
  rx_.clear();
  return fd;
}

}  // namespace vsw::protocol
