// ports/memif/memif_socket.cc — the shared listening socket, its registry, dynamic-port hooks
// (memif.md §2: one socket serves many interface ids).
#include "ports/memif/memif_socket.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <new>
#include <vector>

#include <boost/asio/post.hpp>

#include "common/log.h"
#include "ports/memif/memif_channel.h"
#include "ports/memif/memif_session.h"

namespace vsw::ports::memif {

namespace {
// path -> socket; the control thread only.
std::map<std::string, std::weak_ptr<MemifSocket>>& registry() {
  static std::map<std::string, std::weak_ptr<MemifSocket>> r;
  return r;
}
}  // namespace

Result<std::shared_ptr<MemifSocket>> MemifSocket::acquire(boost::asio::io_context& io,
                                                          const std::string& path) {
  auto& reg = registry();
  if (auto it = reg.find(path); it != reg.end()) {
    if (auto s = it->second.lock()) return s;
  }
  auto fd = listen_seqpacket(path);
  if (!fd) return std::move(fd).error();
  std::shared_ptr<MemifSocket> s(new MemifSocket(io, path, fd->release()));
  reg[path] = s;
  s->wait_accept();
  log::port().info("memif socket listening path={}", path);
  return s;
}

MemifSocket::MemifSocket(boost::asio::io_context& io, std::string path, int fd)
    : io_(io), path_(std::move(path)), listener_(io, fd) {}

MemifSocket::~MemifSocket() {
  std::vector<std::shared_ptr<Session>> left(sessions_.begin(), sessions_.end());
  for (auto& s : left) s->close("socket closed", true);
  boost::system::error_code ec;
  listener_.close(ec);
  if (!path_.empty() && path_[0] != '@') ::unlink(path_.c_str());
  auto& reg = registry();
  if (auto it = reg.find(path_); it != reg.end() && it->second.expired()) reg.erase(it);
  log::port().info("memif socket closed path={}", path_);
}

void MemifSocket::wait_accept() {
  listener_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                       [weak = weak_from_this()](const boost::system::error_code& ec) {
                         if (ec) return;
                         if (auto self = weak.lock()) self->on_acceptable();
                       });
}

void MemifSocket::on_acceptable() {
  for (;;) {
    const int fd = ::accept4(listener_.native_handle(), nullptr, nullptr,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        VSW_LOG_RL(log::port(), spdlog::level::warn, 1000,
                   "memif accept failed path={} errno={}", path_, errno);
      }
      break;
    }
    UniqueFd client(fd);
    if (sessions_.size() >= kMaxSessions) {
      VSW_LOG_RL(log::port(), spdlog::level::warn, 1000,
                 "memif client refused path={} reason=too-many-sessions", path_);
      continue;  // closed by UniqueFd
    }
    try {
      auto s = std::make_shared<Session>(*this, std::move(client), next_serial_++);
      sessions_.insert(s);
      s->start();
    } catch (const std::bad_alloc&) {  // the control loop outlives a failed accept
      VSW_LOG_RL(log::port(), spdlog::level::warn, 1000,
                 "memif client refused path={} reason=out-of-memory", path_);
    }
  }
  wait_accept();
}

Status MemifSocket::add_endpoint(uint32_t id, Endpoint& ep) {
  if (endpoints_.count(id) != 0) {
    return make_error(Errc::AlreadyExists, "memif id {} is already used on socket '{}'", id,
                      path_);
  }
  Entry e{&ep, {}};
  // A port created from inside create_dynamic() for the id being created is dynamic.
  if (creating_ && creating_id_ == id && dynamic_ != nullptr) e.remove = dynamic_->remove;
  endpoints_.emplace(id, std::move(e));
  return ok();
}

void MemifSocket::remove_endpoint(uint32_t id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end()) return;
  Endpoint* ep = it->second.ep;
  it->second.remove = nullptr;  // being deleted already: nothing to schedule
  if (Session* s = ep->session()) s->close("interface deleted", true);
  endpoints_.erase(id);
}

Endpoint* MemifSocket::find(uint32_t id) const noexcept {
  auto it = endpoints_.find(id);
  return it == endpoints_.end() ? nullptr : it->second.ep;
}

Status MemifSocket::set_dynamic(const DynamicHooks* hooks) {
  if (hooks != nullptr && dynamic_ != nullptr) {
    return make_error(Errc::AlreadyExists, "memif socket '{}' already creates dynamic ports",
                      path_);
  }
  dynamic_ = hooks;
  return ok();
}

Endpoint* MemifSocket::create_dynamic(uint32_t id, const std::string& if_name) {
  if (dynamic_ == nullptr || !dynamic_->create) return nullptr;
  creating_ = true;
  creating_id_ = id;
  bool made = false;
  try {  // the hook belongs to the control plane: keep its exceptions out of the session
    made = dynamic_->create(path_, id, if_name);
  } catch (const std::exception& e) {
    log::port().warn("memif dynamic port creation failed socket={} id={} error={}", path_, id,
                     e.what());
  }
  creating_ = false;
  if (!made) return nullptr;
  return find(id);
}

void MemifSocket::client_gone(uint32_t id) {
  auto it = endpoints_.find(id);
  if (it == endpoints_.end() || !it->second.remove) return;
  const std::string name = it->second.ep->endpoint_config().name;
  auto remove = std::exchange(it->second.remove, nullptr);
  log::port().info("memif dynamic port scheduled for removal port={} socket={} id={}", name,
                   path_, id);
  // Posted: the port must not be deleted from inside its own session callbacks.
  boost::asio::post(io_, [remove = std::move(remove), name] { remove(name); });
}

HelloMsg MemifSocket::hello() const {
  HelloMsg h;
  h.name = "vsw";
  uint16_t rings = 1;
  uint8_t log2 = 1;
  auto widen = [&](const EndpointConfig& c) {
    rings = std::max(rings, c.rings);
    log2 = std::max(log2, c.max_log2_ring_size);
  };
  for (const auto& [id, e] : endpoints_) widen(e.ep->endpoint_config());
  if (dynamic_ != nullptr) widen(dynamic_->limits);
  // memif.md §5: HELLO's "max" fields are highest indices (count - 1).
  h.max_region = static_cast<uint16_t>(kMaxRegions - 1);
  h.max_c2s_ring = static_cast<uint16_t>(rings - 1);
  h.max_s2c_ring = static_cast<uint16_t>(rings - 1);
  h.max_log2_ring_size = log2;
  return h;
}

void MemifSocket::forget(const Session* s) {
  auto it = std::find_if(sessions_.begin(), sessions_.end(),
                         [s](const std::shared_ptr<Session>& p) { return p.get() == s; });
  if (it != sessions_.end()) sessions_.erase(it);
}

DynamicSocket::DynamicSocket(std::shared_ptr<MemifSocket> s, DynamicHooks h)
    : socket_(std::move(s)), hooks_(std::make_unique<DynamicHooks>(std::move(h))) {}

DynamicSocket::~DynamicSocket() {
  if (socket_ && hooks_ && socket_->dynamic() == hooks_.get()) (void)socket_->set_dynamic(nullptr);
}

Result<std::unique_ptr<DynamicSocket>> open_dynamic_socket(boost::asio::io_context& io,
                                                           const std::string& path,
                                                           DynamicHooks hooks) {
  auto s = MemifSocket::acquire(io, path);
  if (!s) return std::move(s).error();
  std::unique_ptr<DynamicSocket> d(new DynamicSocket(*s, std::move(hooks)));
  if (auto st = (*s)->set_dynamic(d->hooks_.get()); !st) {
    d->hooks_.reset();
    d->socket_.reset();
    return std::move(st).error();
  }
  return d;
}

}  // namespace vsw::ports::memif
