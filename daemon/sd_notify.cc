// daemon/sd_notify.cc — one datagram to $NOTIFY_SOCKET (sd_notify(7), "NOTIFY_SOCKET").
#include "daemon/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace vsw::daemon {

Status sd_notify_to(const std::string& address, std::string_view state) {
  if (address.empty()) return ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (address.size() >= sizeof addr.sun_path || (address[0] != '/' && address[0] != '@')) {
    return make_error(Errc::InvalidArgument, "unusable NOTIFY_SOCKET '{}'", address);
  }
  std::memcpy(addr.sun_path, address.data(), address.size());
  // Abstract namespace: the name starts with a NUL byte and is not NUL-terminated.
  if (address[0] == '@') addr.sun_path[0] = '\0';
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() +
                                               (address[0] == '@' ? 0 : 1));

  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return make_sys_error(Errc::Io, errno, "cannot create notify socket");
  const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                             reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (n < 0) return make_sys_error(Errc::Io, err, fmt::format("cannot notify '{}'", address));
  return ok();
}

Status sd_notify(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  return sd_notify_to(env == nullptr ? std::string() : std::string(env), state);
}

}  // namespace vsw::daemon
