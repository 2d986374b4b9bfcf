// ports/shm/unix_socket.cc — Unix-socket addresses, listening with stale-file removal,
// connecting, eventfd checks.
#include "ports/shm/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>

namespace vsw::ports::shm {

Result<SocketAddress> make_socket_address(const std::string& path) {
  SocketAddress a;
  a.addr.sun_family = AF_UNIX;
  if (path.empty() || path == "@") {
    return make_error(Errc::InvalidArgument, "socket path must not be empty");
  }
  if (path[0] == '@') {
    // Abstract: NUL then the name bytes, no trailing NUL; the length covers exactly those bytes
    // (memif.md §2), so the same name binds and connects with the same length.
    const std::string name = path.substr(1);
    if (name.size() + 1 > sizeof(a.addr.sun_path)) {
      return make_error(Errc::InvalidArgument, "socket name '{}' is too long", path);
    }
    a.addr.sun_path[0] = '\0';
    std::memcpy(a.addr.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    a.abstract = true;
    return a;
  }
  if (path.size() + 1 > sizeof(a.addr.sun_path)) {
    return make_error(Errc::InvalidArgument, "socket path '{}' is longer than {} bytes", path,
                      sizeof(a.addr.sun_path) - 1);
  }
  std::memcpy(a.addr.sun_path, path.c_str(), path.size() + 1);
  a.len = sizeof(sockaddr_un);
  return a;
}

Result<UniqueFd> listen_unix(const std::string& path, int type) {
  auto addr = make_socket_address(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return make_sys_error(Errc::Io, errno, "socket()");
  if (!addr->abstract) {
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) {
        return make_error(Errc::AlreadyExists, "socket path '{}' exists and is not a socket",
                          path);
      }
      // A live server answers connect(); only a stale file may be removed.
      UniqueFd probe(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
      if (probe &&
          ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) == 0) {
        return make_error(Errc::AlreadyExists, "socket '{}' is in use by another process", path);
      }
      ::unlink(path.c_str());
    }
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("bind('{}')", path));
  }
  if (::listen(fd.get(), 16) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("listen('{}')", path));
  }
  return fd;
}

Result<UniqueFd> connect_unix(const std::string& path, int type, bool nonblocking) {
  auto addr = make_socket_address(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0));
  if (!fd) return make_sys_error(Errc::Io, errno, "socket()");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->addr), addr->len) != 0) {
    return make_sys_error(Errc::Unavailable, errno, fmt::format("connect('{}')", path));
  }
  return fd;
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

}  // namespace vsw::ports::shm
