// ports/memif/memif_channel.cc — SOCK_SEQPACKET helpers for the memif control channel
// (memif.md §2).
#include "ports/memif/memif_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace vsw::ports::memif {

Result<SocketAddress> make_socket_address(const std::string& path) {
  SocketAddress a;
  a.addr.sun_family = AF_UNIX;
  if (path.empty() || path == "@") {
    return make_error(Errc::InvalidArgument, "memif socket path must not be empty");
  }
  if (path[0] == '@') {
    // Abstract: NUL then the name bytes, no trailing NUL; the length covers exactly those bytes
    // (memif.md §2), so the same name binds and connects with the same length.
    const std::string name = path.substr(1);
    if (name.size() + 1 > sizeof(a.addr.sun_path)) {
      return make_error(Errc::InvalidArgument, "memif socket name '{}' is too long", path);
    }
    a.addr.sun_path[0] = '\0';
    std::memcpy(a.addr.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    a.abstract = true;
    return a;
  }
  if (path.size() + 1 > sizeof(a.addr.sun_path)) {
    return make_error(Errc::InvalidArgument,
                      "memif socket path '{}' is longer than {} bytes", path,
                      sizeof(a.addr.sun_path) - 1);
  }
  std::memcpy(a.addr.sun_path, path.c_str(), path.size() + 1);
  a.len = sizeof(sockaddr_un);
  return a;
}

Result<UniqueFd> listen_seqpacket(const std::string& path) {
  auto addr = make_socket_address(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return make_sys_error(Errc::Io, errno, "memif: socket()");
  if (!addr->abstract) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return make_error(Errc::AlreadyExists, "memif socket path '{}' exists and is not a socket",
                          path);
      }
      // A live server answers connect(); only a stale file may be removed.
      UniqueFd probe(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
      if (probe &&
          ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) == 0) {
        return make_error(Errc::AlreadyExists,
                          "memif socket '{}' is in use by another process", path);
      }
      ::unlink(path.c_str());
    }
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("memif: bind('{}')", path));
  }
  const int one = 1;  // credentials of peers, for logs (memif.md §2)
  ::setsockopt(fd.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
  if (::listen(fd.get(), 16) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("memif: listen('{}')", path));
  }
  return fd;
}

Result<UniqueFd> connect_seqpacket(const std::string& path) {
  auto addr = make_socket_address(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return make_sys_error(Errc::Io, errno, "memif: socket()");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) != 0) {
    return make_sys_error(Errc::Unavailable, errno, fmt::format("memif: connect('{}')", path));
  }
  return fd;
}

Status send_msg(int sock, const MsgBuffer& msg, int fd) {
  iovec iov{const_cast<std::byte*>(msg.data()), msg.size()};
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))];
  if (fd >= 0) {
    std::memset(ctrl, 0, sizeof(ctrl));
    mh.msg_control = ctrl;
    mh.msg_controllen = sizeof(ctrl);
    cmsghdr* c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    const ssize_t n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(msg.size())) return ok();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return make_error(Errc::Unavailable, "memif: peer is not reading its control socket");
    }
    return make_sys_error(Errc::Io, n < 0 ? errno : EMSGSIZE, "memif: sendmsg");
  }
}

Received recv_msg(int sock) {
  Received r;
  // One byte more than a message so that an oversize datagram is detected even without
  // MSG_TRUNC; room for a few descriptors and the sender's credentials.
  std::byte buf[kMsgBytes + 1];
  iovec iov{buf, sizeof(buf)};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(4 * sizeof(int)) + CMSG_SPACE(sizeof(ucred))];
  msghdr mh{};
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = ctrl;
  mh.msg_controllen = sizeof(ctrl);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      r.status = RecvStatus::WouldBlock;
    } else {
      r.status = RecvStatus::Error;
      r.err = errno;
    }
    return r;
  }
  // Walk every control message: keep the first descriptor, close all others (memif.md §2).
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (!r.fd) {
        r.fd.reset(fd);
      } else {
        ::close(fd);
      }
    }
  }
  if ((mh.msg_flags & MSG_CTRUNC) != 0) {
    r.status = RecvStatus::Error;  // descriptors were dropped by the kernel
    r.err = EMSGSIZE;
    r.fd.reset();
    return r;
  }
  if (n == 0) {
    r.status = RecvStatus::Closed;
    r.fd.reset();
    return r;
  }
  if (n != static_cast<ssize_t>(kMsgBytes) || (mh.msg_flags & MSG_TRUNC) != 0) {
    r.status = RecvStatus::BadSize;  // memif.md §2: every message is exactly 128 bytes
    r.fd.reset();
    return r;
  }
  std::memcpy(r.msg.data(), buf, kMsgBytes);
  r.status = RecvStatus::Message;
  return r;
}

bool is_nonblocking_eventfd(int fd) noexcept {
  char link[64];
  char target[64];
  std::snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
  const ssize_t n = ::readlink(link, target, sizeof(target) - 1);
  if (n <= 0) return false;
  target[n] = '\0';
  if (std::strcmp(target, "anon_inode:[eventfd]") != 0) return false;
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ((flags & O_NONBLOCK) != 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0);
}

}  // namespace vsw::ports::memif
