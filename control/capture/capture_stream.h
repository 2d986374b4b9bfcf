// control/capture/capture_stream.h — the bytes that follow a capture.start reply (docs/capture.md
// "Transport"): the capture's records as a pcap file, cut into chunks, then a summary.
//
// Framing on the connection, after the reply line:
//   chunk   = length (4 bytes, big-endian, > 0) + that many bytes of the pcap file
//   ...       (the first chunk starts with the 24-byte pcap file header)
//   end     = length 0, then one JSON line: {"reason": "count"|"port_deleted"|"shutdown",
//             "captured": N, "matched": N, "dropped": N, "message": "..."}, then the daemon
//             closes the connection.
// Concatenating the chunks gives a complete pcap file. The client stops a capture by closing
// the connection; the stream (and with it the capture) is then destroyed.
//
// pull() drains the per-worker rings, oldest record first across workers (the rings are each in
// time order), and stops after `count` records (0: no limit).
//
// Threads: the control thread (ReplyStream).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "control/reply_stream.h"
#include "dataplane/capture/capture.h"

namespace vsw {
class Switch;
}

namespace vsw::control {

class CaptureStream final : public ReplyStream {
 public:
  CaptureStream(Switch& sw, std::shared_ptr<Capture> capture, uint64_t count);
  ~CaptureStream() override;  // detaches the capture: the workers stop copying
  bool pull(std::string& out, size_t max) override;

  uint64_t captured() const noexcept { return captured_; }

 private:
  // Appends pcap records to `body` until it holds about `max` bytes, the rings are empty or
  // the count is reached.
  void drain(std::string& body, size_t max);
  void append_end(std::string& out, const char* reason, const std::string& message);

  Switch& sw_;
  std::shared_ptr<Capture> capture_;
  uint64_t count_;
  uint64_t captured_ = 0;
  bool header_sent_ = false;
  std::string body_;  // reused
};

// Appends the 4-byte big-endian chunk length and `body` (nothing for an empty body).
void append_stream_chunk(std::string& out, const std::string& body);

}  // namespace vsw::control
