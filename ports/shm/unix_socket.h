// ports/shm/unix_socket.h — the Unix-socket and eventfd helpers every shared-memory port's
// control channel needs (memif: SOCK_SEQPACKET, memif.md §2; vhost-user: SOCK_STREAM,
// vhost-user.md §1). Also linked into the memif client library (no dataplane dependency).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "common/result.h"
#include "ports/shm/unique_fd.h"

namespace vsw::ports::shm {

// A socket address in either form: a filesystem path, or an abstract name written with a
// leading '@' (libmemif's convention), e.g. "@vsw/memif.sock".
struct SocketAddress {
  sockaddr_un addr{};
  socklen_t len = 0;
  bool abstract = false;
};
// InvalidArgument for an empty path or one that does not fit sun_path (107 bytes + NUL).
Result<SocketAddress> make_socket_address(const std::string& path);

// Server side: a non-blocking, close-on-exec socket of `type` bound to `path` and listening.
// An existing file is removed only when it is a stale socket (nobody accepts on it); a live
// socket or a file that is not a socket is AlreadyExists, and nothing is removed.
Result<UniqueFd> listen_unix(const std::string& path, int type);
// Client side: connects a close-on-exec socket of `type` (non-blocking when asked; Unix
// sockets connect at once or fail); Unavailable when nobody listens (errno kept).
Result<UniqueFd> connect_unix(const std::string& path, int type, bool nonblocking);

// True when `fd` is an eventfd; also makes it non-blocking, so a write from a worker can never
// block (a peer passes one per ring).
bool is_nonblocking_eventfd(int fd) noexcept;

}  // namespace vsw::ports::shm
