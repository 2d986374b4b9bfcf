// tests/support/memif_dump/pcap_writer.h — writes frames to a classic pcap file (the libpcap
// file format: a 24-byte global header, then a 16-byte record header before each frame;
// link type 1 = Ethernet). Test tooling only: one stdio write per frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>

#include "common/result.h"

namespace vsw::testing {

class PcapWriter {
 public:
  // Creates (truncates) `path` and writes the global header. Io error when it cannot.
  static Result<PcapWriter> create(const std::string& path);
  PcapWriter(PcapWriter&& o) noexcept : file_(o.file_) { o.file_ = nullptr; }
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter();

  // Appends one whole frame with the current wall-clock time; false on a write error.
  bool write(std::span<const std::byte> frame);
  // Flushes buffered records to the file; false on a write error.
  bool flush();

 private:
  explicit PcapWriter(std::FILE* f) : file_(f) {}
  std::FILE* file_;
};

}  // namespace vsw::testing
