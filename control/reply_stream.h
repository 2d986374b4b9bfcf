// control/reply_stream.h — a method whose success reply is followed by a stream of bytes on the
// same connection (capture.start, docs/capture.md). The dispatcher hands it to the transport
// with the reply; the transport (rpc_server.cc) writes the reply line, then pulls the stream and
// writes what it gives until it ends, and destroys it when the stream ends or the client goes
// away. After a streaming reply the connection carries nothing else: further request lines are
// ignored, and the client closing the connection is how it stops the stream.
//
// Threads: the control thread only.
#pragma once

#include <cstddef>
#include <string>

namespace vsw::control {

class ReplyStream {
 public:
  // Ends the stream wherever it is (client gone, server stopping) and frees what it holds.
  virtual ~ReplyStream() = default;
  // Appends the bytes available now (at most about `max`) to `out`. Returns false once the
  // stream has ended; `out` then holds its last bytes. Never blocks: the transport calls again
  // after kPollInterval when nothing was available.
  virtual bool pull(std::string& out, size_t max) = 0;
};

}  // namespace vsw::control
