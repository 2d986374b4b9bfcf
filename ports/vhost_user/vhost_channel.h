// ports/vhost_user/vhost_channel.h — framing vhost-user messages on a SOCK_STREAM socket
// (vhost-user.md §1): a 12-byte header, then `size` payload bytes; file descriptors travel as
// SCM_RIGHTS with the header bytes, at most kMaxFdsPerMessage per message.
//
// The socket is non-blocking: MessageReader keeps a partial message between readiness events,
// so a front-end that sends a message byte by byte, or stops half-way, never blocks the control
// thread. Every descriptor received is owned by a UniqueFd from the moment recvmsg returns it,
// so no error path can leak one; descriptors beyond the limit, or arriving with the payload, are
// closed and make the message invalid.
//
// Threads: the control thread only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "ports/shm/unique_fd.h"
#include "ports/vhost_user/vhost_protocol.h"

namespace vsw::ports::vhost_user {

struct Message {
  MsgHeader hdr{};
  std::array<std::byte, kMaxPayloadBytes> payload{};  // hdr.size bytes are valid
  std::vector<UniqueFd> fds;
};

enum class ReadStatus : uint8_t {
  Complete,  // `msg` holds one whole message
  NeedMore,  // the socket has no more bytes now; call again when readable
  Closed,    // the front-end closed the connection (possibly mid-message)
  Invalid,   // protocol violation: `error` says which; close the connection
};

class MessageReader {
 public:
  // Reads from `sock` until one message is complete or the socket has nothing more. On Invalid
  // or Closed the reader must not be used again.
  ReadStatus read(int sock, Message& msg, std::string& error);

 private:
  size_t got_ = 0;  // bytes of the current message received so far (header, then payload)
  bool fds_late_ = false;  // descriptors arrived after the header bytes
};

// Sends a reply: header {request, version | REPLY, size} and `payload`. Non-blocking: a
// front-end that does not read its socket gets Unavailable (the caller disconnects it).
Status send_reply(int sock, uint32_t request, const void* payload, uint32_t size);

}  // namespace vsw::ports::vhost_user
