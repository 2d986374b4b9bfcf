// ports/vhost_user/vhost_channel.cc — reading and writing vhost-user messages (vhost-user.md
// §1–§2: header, payload, SCM_RIGHTS, MSG_CTRUNC is fatal).
#include "ports/vhost_user/vhost_channel.h"

#include <errno.h>
#include <sys/socket.h>

#include <cstring>

namespace vsw::ports::vhost_user {

namespace {
// Takes ownership of every SCM_RIGHTS descriptor in `mh` (appending to `fds`), so that they
// are closed whatever happens next. Returns how many arrived.
size_t take_fds(msghdr& mh, std::vector<UniqueFd>& fds) {
  size_t n = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c != nullptr; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* data = reinterpret_cast<const unsigned char*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
      ++n;
    }
  }
  return n;
}
}  // namespace

ReadStatus MessageReader::read(int sock, Message& msg, std::string& error) {
  for (;;) {
    if (got_ == 0) {
      msg.fds.clear();
      fds_late_ = false;
    }
    const bool in_header = got_ < sizeof(MsgHeader);
    std::byte* dst;
    size_t want;
    if (in_header) {
      dst = reinterpret_cast<std::byte*>(&msg.hdr) + got_;
      want = sizeof(MsgHeader) - got_;
    } else {
      const size_t off = got_ - sizeof(MsgHeader);
      dst = msg.payload.data() + off;
      want = msg.hdr.size - off;
    }
    if (want == 0) {  // a header with size 0 is a whole message
      got_ = 0;
      if (fds_late_) {
        error = "descriptors sent with the payload instead of the header";
        return ReadStatus::Invalid;
      }
      return ReadStatus::Complete;
    }
    iovec iov{dst, want};
    // Room for more than the limit, so that an excess is seen (and closed) rather than
    // truncated, which would leave descriptors in flight and set MSG_CTRUNC.
    alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * (kMaxFdsPerMessage + 8))];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctrl;
    mh.msg_controllen = sizeof(ctrl);
    const ssize_t n = ::recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadStatus::NeedMore;
      if (errno == EINTR) continue;
      error = std::string("recvmsg: ") + std::strerror(errno);
      return ReadStatus::Closed;
    }
    const size_t fds = take_fds(mh, msg.fds);
    if ((mh.msg_flags & MSG_CTRUNC) != 0) {
      error = "descriptors truncated (MSG_CTRUNC)";
      return ReadStatus::Invalid;
    }
    if (n == 0) {
      error = got_ == 0 ? "front-end closed the connection"
                        : "front-end closed the connection in the middle of a message";
      return ReadStatus::Closed;
    }
    if (fds != 0 && !in_header) fds_late_ = true;
    if (msg.fds.size() > kMaxFdsPerMessage) {
      error = "more than 8 descriptors with one message";
      return ReadStatus::Invalid;
    }
    got_ += static_cast<size_t>(n);
    if (in_header && got_ == sizeof(MsgHeader)) {
      // vhost-user.md §2: version 1 only; a payload larger than any vsw accepts cannot be
      // skipped reliably, so the connection ends.
      if ((msg.hdr.flags & kFlagVersionMask) != kFlagVersion) {
        error = "unsupported message version";
        return ReadStatus::Invalid;
      }
      if (msg.hdr.size > kMaxPayloadBytes) {
        error = "message payload of " + std::to_string(msg.hdr.size) + " bytes is too large";
        return ReadStatus::Invalid;
      }
    }
  }
}

Status send_reply(int sock, uint32_t request, const void* payload, uint32_t size) {
  std::array<std::byte, sizeof(MsgHeader) + 64> buf{};
  if (size > buf.size() - sizeof(MsgHeader)) {
    return make_error(Errc::Internal, "reply of {} bytes too large", size);
  }
  const MsgHeader h{request, kFlagVersion | kFlagReply, size};
  std::memcpy(buf.data(), &h, sizeof(h));
  if (size != 0) std::memcpy(buf.data() + sizeof(h), payload, size);
  const size_t total = sizeof(h) + size;
  for (;;) {
    const ssize_t n = ::send(sock, buf.data(), total, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(total)) return ok();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return make_error(Errc::Unavailable, "front-end does not read its replies");
    }
    // A partial write of a few bytes leaves the stream desynchronised: treated as gone.
    return make_sys_error(Errc::Io, n < 0 ? errno : EPIPE, "send reply");
  }
}

}  // namespace vsw::ports::vhost_user
