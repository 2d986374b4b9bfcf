// cli/capture_summary.h — `vswctl capture` without -w: one text line per captured frame, read
// from the pcap byte stream (pcap-savefile(5) with nanosecond timestamps, as the daemon writes
// it: control/capture/pcap_writer.h).
//
// Line: "<seconds>.<nanoseconds> <src MAC> > <dst MAC> <what> length <original length>", where
// <what> is "IPv4 a.b.c.d > e.f.g.h proto N", "IPv6", "ARP", "802.1Q vlan N" or "ethertype 0x....".
// Bytes may arrive cut anywhere: feed() keeps what it cannot parse yet. A stream that does not
// start with the nanosecond pcap header is reported once and ignored.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace vsw::cli {

class CaptureSummarizer {
 public:
  explicit CaptureSummarizer(std::ostream& out) : out_(out) {}
  void feed(std::string_view bytes);
  uint64_t frames() const noexcept { return frames_; }

 private:
  void print(uint32_t sec, uint32_t nsec, uint32_t orig_len, std::string_view data);

  std::ostream& out_;
  std::string buf_;
  bool header_done_ = false;
  bool bad_ = false;
  uint64_t frames_ = 0;
};

// The one-line description of an Ethernet frame (see the top of the file), without timestamp.
std::string describe_frame(std::string_view data, uint32_t orig_len);

}  // namespace vsw::cli
