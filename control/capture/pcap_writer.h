// control/capture/pcap_writer.h — the pcap file format with nanosecond timestamps, as libpcap,
// tcpdump and Wireshark read it (libpcap's pcap-savefile(5); the IETF draft
// draft-ietf-opsawg-pcap, "PCAP Capture File Format", §4 file header, §5 packet record).
// Every field is written in the writer's byte order (little-endian on x86_64); readers detect it
// by the magic number. Pure functions that append to a string: no I/O.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace vsw::control {

constexpr uint32_t kPcapMagicNanoseconds = 0xa1b23c4d;  // pcap-savefile(5): ns resolution
constexpr uint16_t kPcapVersionMajor = 2;
constexpr uint16_t kPcapVersionMinor = 4;
constexpr uint32_t kLinktypeEthernet = 1;  // LINKTYPE_ETHERNET (DLT_EN10MB)
constexpr size_t kPcapFileHeaderBytes = 24;
constexpr size_t kPcapRecordHeaderBytes = 16;

namespace detail {
template <class T>
void put(std::string& out, T v) {
  char b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  out.append(b, sizeof v);
}
}  // namespace detail

// The 24-byte file header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen, link type.
inline void append_pcap_file_header(std::string& out, uint32_t snaplen) {
  detail::put<uint32_t>(out, kPcapMagicNanoseconds);
  detail::put<uint16_t>(out, kPcapVersionMajor);
  detail::put<uint16_t>(out, kPcapVersionMinor);
  detail::put<int32_t>(out, 0);
  detail::put<uint32_t>(out, 0);
  detail::put<uint32_t>(out, snaplen);
  detail::put<uint32_t>(out, kLinktypeEthernet);
}

// One record: seconds, nanoseconds, captured length, original length, then the bytes.
inline void append_pcap_record(std::string& out, uint64_t ts_ns, uint32_t orig_len,
                               const void* data, uint32_t cap_len) {
  detail::put<uint32_t>(out, static_cast<uint32_t>(ts_ns / 1'000'000'000u));
  detail::put<uint32_t>(out, static_cast<uint32_t>(ts_ns % 1'000'000'000u));
  detail::put<uint32_t>(out, cap_len);
  detail::put<uint32_t>(out, orig_len);
  out.append(static_cast<const char*>(data), cap_len);
}

}  // namespace vsw::control
