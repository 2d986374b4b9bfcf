// cli/capture_summary.cc — one line per frame from a pcap stream (see capture_summary.h).
#include "cli/capture_summary.h"

#include <cstring>

#include <fmt/format.h>

namespace vsw::cli {

namespace {
constexpr uint32_t kMagicNs = 0xa1b23c4d;
constexpr size_t kFileHeader = 24, kRecordHeader = 16;

uint32_t u32le(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
unsigned byte(std::string_view d, size_t i) { return static_cast<unsigned char>(d[i]); }
std::string mac(std::string_view d, size_t at) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", byte(d, at), byte(d, at + 1),
                     byte(d, at + 2), byte(d, at + 3), byte(d, at + 4), byte(d, at + 5));
}
std::string ipv4(std::string_view d, size_t at) {
  return fmt::format("{}.{}.{}.{}", byte(d, at), byte(d, at + 1), byte(d, at + 2),
                     byte(d, at + 3));
}
}  // namespace

std::string describe_frame(std::string_view d, uint32_t orig_len) {
  if (d.size() < 14) return fmt::format("(truncated) length {}", orig_len);
  std::string s = mac(d, 6) + " > " + mac(d, 0) + " ";
  const unsigned type = byte(d, 12) << 8 | byte(d, 13);
  if (type == 0x0800 && d.size() >= 14 + 20) {
    s += fmt::format("IPv4 {} > {} proto {}", ipv4(d, 26), ipv4(d, 30), byte(d, 23));
  } else if (type == 0x86dd) {
    s += "IPv6";
  } else if (type == 0x0806) {
    s += "ARP";
  } else if (type == 0x8100 && d.size() >= 16) {
    s += fmt::format("802.1Q vlan {}", (byte(d, 14) << 8 | byte(d, 15)) & 0x0fff);
  } else {
    s += fmt::format("ethertype 0x{:04x}", type);
  }
  return s + fmt::format(" length {}", orig_len);
}

void CaptureSummarizer::print(uint32_t sec, uint32_t nsec, uint32_t orig_len,
                              std::string_view data) {
  out_ << fmt::format("{}.{:09d} {}\n", sec, nsec, describe_frame(data, orig_len));
  ++frames_;
}

void CaptureSummarizer::feed(std::string_view bytes) {
  if (bad_) return;
  buf_.append(bytes);
  size_t at = 0;
  if (!header_done_) {
    if (buf_.size() < kFileHeader) return;
    if (u32le(buf_.data()) != kMagicNs) {
      out_ << "vswctl: the stream is not a nanosecond pcap file\n";
      bad_ = true;
      return;
    }
    header_done_ = true;
    at = kFileHeader;
  }
  while (buf_.size() - at >= kRecordHeader) {
    const char* h = buf_.data() + at;
    const uint32_t cap = u32le(h + 8);
    if (buf_.size() - at - kRecordHeader < cap) break;
    print(u32le(h), u32le(h + 4), u32le(h + 12), std::string_view(h + kRecordHeader, cap));
    at += kRecordHeader + cap;
  }
  buf_.erase(0, at);
}

}  // namespace vsw::cli
