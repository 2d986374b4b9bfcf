// tests/support/memif_dump/pcap_writer.cc — see pcap_writer.h.
#include "tests/support/memif_dump/pcap_writer.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace vsw::testing {

namespace {

// libpcap file format, global header (magic 0xa1b2c3d4 = microsecond timestamps, version 2.4).
struct GlobalHeader {
  uint32_t magic = 0xa1b2c3d4;
  uint16_t version_major = 2;
  uint16_t version_minor = 4;
  int32_t thiszone = 0;
  uint32_t sigfigs = 0;
  uint32_t snaplen = 262144;
  uint32_t linktype = 1;  // LINKTYPE_ETHERNET
};

struct RecordHeader {
  uint32_t ts_sec;
  uint32_t ts_usec;
  uint32_t incl_len;
  uint32_t orig_len;
};

}  // namespace

Result<PcapWriter> PcapWriter::create(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return make_error(Errc::Io, "cannot create '{}': {}", path, std::strerror(errno));
  const GlobalHeader h;
  if (std::fwrite(&h, sizeof(h), 1, f) != 1) {
    std::fclose(f);
    return make_error(Errc::Io, "cannot write '{}'", path);
  }
  return PcapWriter(f);
}

PcapWriter::~PcapWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

bool PcapWriter::write(std::span<const std::byte> frame) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const RecordHeader r{static_cast<uint32_t>(ts.tv_sec), static_cast<uint32_t>(ts.tv_nsec / 1000),
                       static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size())};
  return std::fwrite(&r, sizeof(r), 1, file_) == 1 &&
         std::fwrite(frame.data(), 1, frame.size(), file_) == frame.size();
}

bool PcapWriter::flush() { return std::fflush(file_) == 0; }

}  // namespace vsw::testing
