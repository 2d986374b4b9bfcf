// ports/memif/memif_channel.h — the control channel's system calls: SOCK_SEQPACKET sockets,
// 128-byte messages with at most one descriptor attached (SCM_RIGHTS), socket path forms.
//
// Shared by the server (memif_socket.cc, memif_session.cc) and the client library. Everything
// is non-blocking on the server side: a peer that does not read its socket gets an EAGAIN here,
// which the caller turns into a disconnect, never into a wait.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <string>

#include "common/result.h"
#include "ports/memif/memif_message.h"
#include "ports/shm/unique_fd.h"
#include "ports/shm/unix_socket.h"

namespace vsw::ports::memif {

using shm::is_nonblocking_eventfd;
using shm::make_socket_address;
using shm::SocketAddress;

// Server: unlinks a stale socket file (one nobody listens on; a live one is AlreadyExists),
// binds, listens. The socket is non-blocking and close-on-exec.
Result<UniqueFd> listen_seqpacket(const std::string& path);
// Client: connects (blocking socket); Unavailable when nobody listens.
Result<UniqueFd> connect_seqpacket(const std::string& path);

// Sends one message; attaches `fd` (SCM_RIGHTS) when >= 0. The socket's own blocking mode
// applies: on a non-blocking socket a full buffer returns Unavailable.
Status send_msg(int sock, const MsgBuffer& msg, int fd = -1);

enum class RecvStatus : uint8_t {
  Message,     // msg (and maybe fd) filled
  WouldBlock,  // nothing to read now
  Closed,      // orderly shutdown by the peer
  BadSize,     // a datagram of another size than 128 bytes (protocol error)
  Error,       // socket error, or truncated ancillary data (descriptors lost)
};
struct Received {
  RecvStatus status = RecvStatus::Error;
  MsgBuffer msg{};
  UniqueFd fd;      // at most one descriptor; any extra ones are closed
  int err = 0;      // errno for RecvStatus::Error
};
// Receives one message with recvmsg(), walking every control message: takes the first
// SCM_RIGHTS descriptor, closes the others, ignores SCM_CREDENTIALS (memif.md §2).
Received recv_msg(int sock);

}  // namespace vsw::ports::memif
