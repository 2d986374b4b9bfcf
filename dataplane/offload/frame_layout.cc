// dataplane/offload/frame_layout.cc — Ethernet / VLAN / IP / TCP-UDP header walk.
#include "dataplane/offload/frame_layout.h"

#include "dataplane/offload/bytes.h"

namespace vsw::offload {

namespace {

constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86DD;
constexpr uint16_t kEthVlan = 0x8100;   // IEEE 802.1Q C-tag
constexpr uint16_t kEthQinQ = 0x88A8;   // IEEE 802.1ad S-tag
constexpr uint32_t kMaxVlanTags = 2;
constexpr uint32_t kMaxIpv6ExtHeaders = 4;

// RFC 8200 §4.1 extension header numbers vsw can step over (all use the
// "next header, length in 8-octet units not counting the first 8" layout).
constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6DestOpts = 60;

// `f` holds the bytes that may be read (the frame's first segment); `frame_len` is the whole
// frame. Every header byte read is checked against f.size(), every length field against
// frame_len.
ParseStatus parse_ipv4(std::span<const std::byte> f, uint32_t frame_len,
                       FrameLayout& out) noexcept {
  // RFC 791 §3.1: version/IHL, total length at 2, flags/fragment offset at 6, protocol at 9.
  const uint32_t l3 = out.l3_off;
  if (f.size() < l3 || f.size() - l3 < 20) return ParseStatus::Invalid;
  const std::byte* ip = f.data() + l3;
  const uint8_t vihl = std::to_integer<uint8_t>(ip[0]);
  const uint32_t ihl = (vihl & 0x0F) * 4u;
  if ((vihl >> 4) != 4 || ihl < 20 || f.size() - l3 < ihl) return ParseStatus::Invalid;
  const uint32_t total = load_be16(ip + 2);
  if (total < ihl || total > frame_len - l3) return ParseStatus::Invalid;
  if ((load_be16(ip + 6) & 0x3FFF) != 0) return ParseStatus::Unsupported;  // MF or offset: fragment
  out.ipv6 = false;
  out.l4_proto = std::to_integer<uint8_t>(ip[9]);
  out.l4_off = l3 + ihl;
  out.ip_end = l3 + total;
  return ParseStatus::Ok;
}

ParseStatus parse_ipv6(std::span<const std::byte> f, uint32_t frame_len,
                       FrameLayout& out) noexcept {
  // RFC 8200 §3: version at 0, payload length at 4, next header at 6; fixed header 40 bytes.
  const uint32_t l3 = out.l3_off;
  if (f.size() < l3 || f.size() - l3 < 40) return ParseStatus::Invalid;
  const std::byte* ip = f.data() + l3;
  if ((std::to_integer<uint8_t>(ip[0]) >> 4) != 6) return ParseStatus::Invalid;
  const uint32_t payload = load_be16(ip + 4);
  if (payload > frame_len - l3 - 40) return ParseStatus::Invalid;  // also rejects jumbograms (0)
  out.ipv6 = true;
  out.ip_end = l3 + 40 + payload;
  uint8_t next = std::to_integer<uint8_t>(ip[6]);
  uint32_t off = l3 + 40;
  for (uint32_t i = 0; i < kMaxIpv6ExtHeaders; ++i) {
    if (next != kIpv6HopByHop && next != kIpv6Routing && next != kIpv6DestOpts) break;
    if (out.ip_end - off < 8 || f.size() < off + 2) return ParseStatus::Invalid;
    const uint32_t len = (std::to_integer<uint8_t>(f[off + 1]) + 1u) * 8u;
    if (out.ip_end - off < len) return ParseStatus::Invalid;
    next = std::to_integer<uint8_t>(f[off]);
    off += len;
  }
  out.l4_proto = next;
  out.l4_off = off;
  return ParseStatus::Ok;
}

}  // namespace

ParseStatus parse_frame(std::span<const std::byte> f, FrameLayout& out) noexcept {
  return parse_frame(f, static_cast<uint32_t>(f.size()), out);
}

ParseStatus parse_frame(std::span<const std::byte> f, uint32_t frame_len,
                        FrameLayout& out) noexcept {
  // IEEE 802.3 §3.1.1 / 802.1Q §9: destination, source, then EtherType or a 4-byte tag.
  if (f.size() > frame_len) f = f.first(frame_len);
  if (f.size() < 14) return ParseStatus::Invalid;
  uint32_t off = 12;
  uint16_t type = load_be16(f.data() + off);
  for (uint32_t tags = 0; (type == kEthVlan || type == kEthQinQ) && tags < kMaxVlanTags; ++tags) {
    off += 4;
    if (f.size() < off + 2) return ParseStatus::Invalid;
    type = load_be16(f.data() + off);
  }
  out.l3_off = off + 2;
  ParseStatus s;
  if (type == kEthIpv4) {
    s = parse_ipv4(f, frame_len, out);
  } else if (type == kEthIpv6) {
    s = parse_ipv6(f, frame_len, out);
  } else {
    return ParseStatus::Unsupported;
  }
  if (s != ParseStatus::Ok) return s;

  if (out.ip_end < out.l4_off) return ParseStatus::Invalid;
  const uint32_t avail = out.ip_end - out.l4_off;
  if (out.l4_proto == kIpProtoTcp) {
    // RFC 793 §3.1: data offset in the high nibble of byte 12, in 32-bit words, at least 5.
    if (avail < 20 || f.size() < out.l4_off + 20) return ParseStatus::Invalid;
    const uint32_t doff = (std::to_integer<uint8_t>(f[out.l4_off + 12]) >> 4) * 4u;
    if (doff < 20 || doff > avail || f.size() < out.l4_off + doff) return ParseStatus::Invalid;
    out.l4_hdr_len = doff;
  } else if (out.l4_proto == kIpProtoUdp) {
    // RFC 768: 8-byte header.
    if (avail < 8 || f.size() < out.l4_off + 8) return ParseStatus::Invalid;
    out.l4_hdr_len = 8;
  } else {
    return ParseStatus::Unsupported;
  }
  return ParseStatus::Ok;
}

}  // namespace vsw::offload
