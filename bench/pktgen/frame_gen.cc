// bench/pktgen/frame_gen.cc — building and checking vsw-pktgen frames (IPv4 per RFC 791,
// UDP per RFC 768 with checksum 0 = none).
#include "bench/pktgen/frame_gen.h"

#include <arpa/inet.h>

#include <cstring>

namespace vsw::pktgen {

namespace {

uint16_t ipv4_checksum(const uint8_t* h) {  // RFC 791 §3.1 header checksum
  uint32_t sum = 0;
  for (int i = 0; i < 20; i += 2) sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

uint16_t get16(const std::byte* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]));
}

}  // namespace

FrameGen::FrameGen(const FrameSpec& spec) : spec_(spec) {
  if (spec_.flows == 0) spec_.flows = 1;
  templates_.resize(static_cast<size_t>(spec_.flows) * kHeaderOffset);
  for (uint32_t f = 0; f < spec_.flows; ++f) {
    auto* h = reinterpret_cast<uint8_t*>(templates_.data() + f * kHeaderOffset);
    spec_.dst.to_bytes(h);
    const MacAddress src =
        spec_.vary_mac ? MacAddress::from_u64((spec_.src.u64() & ~0xFFFFull) | (f & 0xFFFF))
                       : spec_.src;
    src.to_bytes(h + 6);
    put16(h + 12, kEtherTypeIpv4);
    uint8_t* ip = h + 14;
    ip[0] = 0x45;  // version 4, 20-byte header
    ip[1] = 0;
    put16(ip + 2, static_cast<uint16_t>(spec_.size - 14));
    put16(ip + 4, 0);
    put16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 17;  // UDP
    put16(ip + 10, 0);
    const uint32_t saddr = (10u << 24) + 1 + f;
    const uint32_t daddr = (10u << 24) + (1u << 16) + 1;
    put16(ip + 12, static_cast<uint16_t>(saddr >> 16));
    put16(ip + 14, static_cast<uint16_t>(saddr));
    put16(ip + 16, static_cast<uint16_t>(daddr >> 16));
    put16(ip + 18, static_cast<uint16_t>(daddr));
    put16(ip + 10, ipv4_checksum(ip));
    uint8_t* udp = ip + 20;
    put16(udp, static_cast<uint16_t>(1024 + f % 60000));
    put16(udp + 2, 5001);
    put16(udp + 4, static_cast<uint16_t>(spec_.size - 34));
    put16(udp + 6, 0);
  }
  pattern_.resize(kMaxFrame + 256);
  for (size_t i = 0; i < pattern_.size(); ++i) {
    pattern_[i] = static_cast<std::byte>((i * 131 + 7) & 0xFF);
  }
}

uint32_t FrameGen::check_word(uint64_t seq, uint16_t flow, uint32_t size) const noexcept {
  return static_cast<uint32_t>(seq * 0x9E3779B97F4A7C15ull >> 32) ^ (uint32_t{flow} << 16) ^
         size;
}

void FrameGen::build(uint64_t seq, std::byte* out) const noexcept {
  const uint16_t flow = static_cast<uint16_t>(seq % spec_.flows);
  std::memcpy(out, templates_.data() + static_cast<size_t>(flow) * kHeaderOffset, kHeaderOffset);
  PktgenHeader h{kMagic, flow, check_word(seq, flow, spec_.size), seq};
  std::memcpy(out + kHeaderOffset, &h, sizeof(h));
  std::memcpy(out + kPayloadOffset, pattern_.data() + (seq & 0xFF), spec_.size - kPayloadOffset);
}

Parsed FrameGen::parse(std::span<const std::byte> f) const noexcept {
  Parsed p;
  if (f.size() < kMinFrame || get16(f.data() + 12) != kEtherTypeIpv4 ||
      get16(f.data() + 36) != 5001) {
    return p;  // not ours
  }
  PktgenHeader h;
  std::memcpy(&h, f.data() + kHeaderOffset, sizeof(h));
  p.seq = h.seq;
  p.flow = h.flow;
  const uint32_t ip_len = get16(f.data() + 16);
  if (h.magic != kMagic || ip_len + 14 != f.size() ||
      h.check != check_word(h.seq, h.flow, static_cast<uint32_t>(f.size())) ||
      std::memcmp(f.data() + kPayloadOffset, pattern_.data() + (h.seq & 0xFF),
                  f.size() - kPayloadOffset) != 0) {
    p.verdict = Verdict::Corrupt;
    return p;
  }
  p.verdict = Verdict::Ok;
  return p;
}

void FrameGen::announce(MacAddress mac, std::byte* out) noexcept {
  std::memset(out, 0, kMinFrame);
  auto* h = reinterpret_cast<uint8_t*>(out);
  MacAddress::from_u64(0xFFFFFFFFFFFFull).to_bytes(h);
  mac.to_bytes(h + 6);
  put16(h + 12, kAnnounceEtherType);
}

}  // namespace vsw::pktgen
