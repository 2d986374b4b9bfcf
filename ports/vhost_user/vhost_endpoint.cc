// ports/vhost_user/vhost_endpoint.cc — connecting (client mode, retried) and listening (server
// mode) for a vhost-user port; sessions' lifetimes.
#include "ports/vhost_user/vhost_endpoint.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>

#include "common/log.h"
#include "ports/shm/unix_socket.h"

namespace vsw::ports::vhost_user {

Result<std::unique_ptr<Endpoint>> Endpoint::create(boost::asio::io_context& io,
                                                   const EndpointOptions& opts,
                                                   const DeviceConfig& dev, PlanPublisher& pub) {
  std::unique_ptr<Endpoint> ep(new Endpoint(io, opts, dev, pub));
  if (opts.mode == SocketMode::Server) {
    auto fd = shm::listen_unix(opts.path, SOCK_STREAM);
    if (!fd) return std::move(fd).error();
    if (::chmod(opts.path.c_str(), opts.perm) != 0) {
      const int err = errno;
      ::unlink(opts.path.c_str());
      return make_sys_error(Errc::Io, err, fmt::format("chmod('{}')", opts.path));
    }
    if ((opts.owner || opts.group) &&
        ::chown(opts.path.c_str(), opts.owner.value_or(static_cast<uid_t>(-1)),
                opts.group.value_or(static_cast<gid_t>(-1))) != 0) {
      const int err = errno;
      ::unlink(opts.path.c_str());
      return make_sys_error(Errc::Io, err, fmt::format("chown('{}')", opts.path));
    }
    ep->listener_.emplace(io, fd->release());
    ep->wait_accept();
  } else {
    ep->try_connect();
  }
  return ep;
}

Endpoint::Endpoint(boost::asio::io_context& io, const EndpointOptions& opts,
                   const DeviceConfig& dev, PlanPublisher& pub)
    : io_(io), opts_(opts), dev_(dev), pub_(pub), retry_(io) {}

Endpoint::~Endpoint() {
  *alive_ = false;
  retry_.cancel();
  if (session_) {
    auto s = std::move(session_);
    s->close("port deleted", false);
  }
  if (listener_) {
    boost::system::error_code ec;
    listener_->close(ec);
    ::unlink(opts_.path.c_str());
  }
}

std::string Endpoint::state() const {
  if (const Device* d = device()) return d->running() ? "running" : "negotiating";
  return opts_.mode == SocketMode::Server ? "listening" : "connecting";
}

void Endpoint::housekeeping() {
  const Device* d = device();
  if (d == nullptr) return;
  if (const Violation v = d->violation(); v != Violation::None) {
    session_->close(fmt::format("guest broke the virtio rules on vring {}: {}",
                                d->violation_vring(), violation_text(v)),
                    true);
  }
}

// --- client mode -----------------------------------------------------------------------------

void Endpoint::try_connect() {
  auto fd = shm::connect_unix(opts_.path, SOCK_STREAM, true);
  if (!fd) {
    if (!connect_failure_logged_) {
      log::port().info("vhost-user waiting for the front-end path={}: {} (retrying every {} s)",
                       opts_.path, fd.error().message, kRetryInterval.count());
      connect_failure_logged_ = true;
    }
    schedule_connect();
    return;
  }
  connect_failure_logged_ = false;
  start_session(std::move(*fd));
}

void Endpoint::schedule_connect() {
  retry_.expires_after(kRetryInterval);
  retry_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    if (!session_) try_connect();
  });
}

// --- server mode -----------------------------------------------------------------------------

void Endpoint::wait_accept() {
  listener_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                        [this, alive = alive_](const boost::system::error_code& ec) {
                          if (ec || !*alive) return;
                          on_acceptable();
                        });
}

void Endpoint::on_acceptable() {
  for (;;) {
    UniqueFd fd(::accept4(listener_->native_handle(), nullptr, nullptr,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR) continue;
      // EAGAIN: drained. EMFILE/ENFILE and the like: wait for the next readiness event rather
      // than spin; the pending connection stays in the backlog.
      break;
    }
    if (session_ && session_->open()) {
      log::port().warn("vhost-user path={}: a second front-end connected; closed", opts_.path);
      continue;  // fd closes here
    }
    start_session(std::move(fd));
  }
  wait_accept();
}

// --- sessions --------------------------------------------------------------------------------

void Endpoint::start_session(UniqueFd fd) {
  ++connects_;
  log::port().info("vhost-user front-end connected path={} mode={}", opts_.path,
                   opts_.mode == SocketMode::Server ? "server" : "client");
  session_ = std::make_shared<Session>(
      io_, std::move(fd), dev_, pub_,
      [this, alive = alive_](const std::string& reason, bool violation) {
        if (!*alive) return;
        on_session_end(reason, violation);
      });
  session_->start();
}

void Endpoint::on_session_end(const std::string& reason, bool violation) {
  ++disconnects_;
  if (violation) {
    ++violations_;
    log::port().warn("vhost-user front-end disconnected path={} reason={}", opts_.path, reason);
  } else {
    log::port().info("vhost-user front-end gone path={} reason={}", opts_.path, reason);
  }
  last_error_ = reason;
  // The session object is released once its own handler has returned.
  boost::asio::post(io_, [this, alive = alive_] {
    if (!*alive) return;
    if (session_ && !session_->open()) session_.reset();
    if (opts_.mode == SocketMode::Client && !session_) schedule_connect();
  });
}

}  // namespace vsw::ports::vhost_user
