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

namespace {
Error with_prefix(Error e) {
  e.message = "memif " + e.message;
  return e;
}
}  // namespace

Result<UniqueFd> listen_seqpacket(const std::string& path) {
  auto fd = shm::listen_unix(path, SOCK_SEQPACKET);
  if (!fd) return with_prefix(std::move(fd).error());
  const int one = 1;  // credentials of peers, for logs (memif.md §2)
  ::setsockopt(fd->get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
  return fd;
}

Result<UniqueFd> connect_seqpacket(const std::string& path) {
  auto fd = shm::connect_unix(path, SOCK_SEQPACKET, false);
  if (!fd) return with_prefix(std::move(fd).error());
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

}  // namespace vsw::ports::memif
