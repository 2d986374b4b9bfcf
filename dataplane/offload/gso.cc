// dataplane/offload/gso.cc — TCP (IPv4/IPv6) and UDP-L4 segmentation of GSO super-frames.
#include "dataplane/offload/gso.h"

#include <algorithm>
#include <cstring>

#include "dataplane/offload/bytes.h"
#include "dataplane/offload/checksum.h"

namespace vsw::offload {

namespace {

// RFC 793 §3.1 (and RFC 3168 §23.2 for CWR): TCP flag bits in header byte 13.
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpCwr = 0x80;
constexpr uint32_t kTcpFlagsOff = 13;
constexpr uint32_t kTcpSeqOff = 4;
constexpr uint32_t kTcpCsumOff = 16;
constexpr uint32_t kUdpLenOff = 4;
constexpr uint32_t kUdpCsumOff = 6;

}  // namespace

GsoStatus plan_gso(std::span<const std::byte> head, uint32_t frame_len, GsoType type,
                   uint16_t gso_size, uint32_t max_segment_len, GsoPlan& plan) noexcept {
  if (type != GsoType::Tcpv4 && type != GsoType::Tcpv6 && type != GsoType::UdpL4) {
    return GsoStatus::Unsupported;
  }
  if (gso_size == 0) return GsoStatus::Invalid;
  const ParseStatus ps = parse_frame(head, frame_len, plan.layout);
  if (ps == ParseStatus::Invalid) return GsoStatus::Invalid;
  if (ps == ParseStatus::Unsupported) return GsoStatus::Unsupported;
  const FrameLayout& l = plan.layout;
  const bool tcp = l.l4_proto == kIpProtoTcp;
  if ((type == GsoType::Tcpv4 && (!tcp || l.ipv6)) ||
      (type == GsoType::Tcpv6 && (!tcp || !l.ipv6)) || (type == GsoType::UdpL4 && tcp)) {
    return GsoStatus::Invalid;
  }
  plan.hdr_len = l.l4_off + l.l4_hdr_len;
  plan.payload_len = l.ip_end - plan.hdr_len;
  if (max_segment_len <= plan.hdr_len) return GsoStatus::TooBig;
  const uint32_t room = max_segment_len - plan.hdr_len;
  if (tcp) {
    plan.seg_payload = gso_size < room ? gso_size : room;
  } else {
    if (gso_size > room) return GsoStatus::TooBig;
    plan.seg_payload = gso_size;
  }
  plan.segments =
      plan.payload_len == 0 ? 1 : (plan.payload_len + plan.seg_payload - 1) / plan.seg_payload;
  return GsoStatus::Ok;
}

uint32_t segment_len(const GsoPlan& plan, uint32_t index) noexcept {
  const uint32_t start = index * plan.seg_payload;
  const uint32_t left = plan.payload_len > start ? plan.payload_len - start : 0;
  return plan.hdr_len + (left < plan.seg_payload ? left : plan.seg_payload);
}

bool ChainReader::read(std::byte* out, uint32_t n) noexcept {
  while (n != 0) {
    std::span<const std::byte> cur =
        seg_ != nullptr ? std::span<const std::byte>(seg_->data(), seg_->len) : span_;
    if (off_ == cur.size()) {
      if (seg_ == nullptr || seg_->next == nullptr) return false;
      seg_ = seg_->next;
      off_ = 0;
      continue;
    }
    const uint32_t chunk = std::min<uint32_t>(n, static_cast<uint32_t>(cur.size()) - off_);
    if (out != nullptr) {
      std::memcpy(out, cur.data() + off_, chunk);
      out += chunk;
    }
    off_ += chunk;
    n -= chunk;
  }
  return true;
}

uint32_t build_segment(const GsoPlan& plan, std::span<const std::byte> frame, uint32_t index,
                       std::span<std::byte> out) noexcept {
  ChainReader payload(frame);
  if (!payload.skip(plan.hdr_len + index * plan.seg_payload)) return 0;
  return build_segment(plan, frame, payload, index, out);
}

uint32_t build_segment(const GsoPlan& plan, std::span<const std::byte> head, ChainReader& payload,
                       uint32_t index, std::span<std::byte> out) noexcept {
  const uint32_t len = segment_len(plan, index);
  if (out.size() < len || index >= plan.segments || head.size() < plan.hdr_len) return 0;
  const FrameLayout& l = plan.layout;
  const uint32_t payload_off = index * plan.seg_payload;
  std::byte* o = out.data();
  std::memcpy(o, head.data(), plan.hdr_len);
  if (!payload.read(o + plan.hdr_len, len - plan.hdr_len)) return 0;

  std::byte* ip = o + l.l3_off;
  std::byte* l4 = o + l.l4_off;
  const uint32_t l4_len = len - l.l4_off;
  uint32_t pseudo;
  if (l.ipv6) {
    // RFC 8200 §3: payload length counts extension headers and the upper-layer packet.
    store_be16(ip + 4, static_cast<uint16_t>(len - l.l3_off - 40));
    pseudo = pseudo_header_sum_ipv6(ip, l.l4_proto, l4_len);
  } else {
    // RFC 791 §3.1: total length, identification (one per datagram, as Linux's GSO does),
    // header checksum.
    const uint32_t ihl = l.l4_off - l.l3_off;
    store_be16(ip + 2, static_cast<uint16_t>(len - l.l3_off));
    store_be16(ip + 4, static_cast<uint16_t>(load_be16(ip + 4) + index));
    set_ipv4_header_checksum(ip, ihl);
    pseudo = pseudo_header_sum_ipv4(ip, l.l4_proto, l4_len);
  }

  if (l.l4_proto == kIpProtoTcp) {
    store_be32(l4 + kTcpSeqOff, load_be32(l4 + kTcpSeqOff) + payload_off);
    uint8_t flags = std::to_integer<uint8_t>(l4[kTcpFlagsOff]);
    if (index + 1 < plan.segments) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
    if (index != 0) flags &= static_cast<uint8_t>(~kTcpCwr);
    l4[kTcpFlagsOff] = std::byte{flags};
    store_be16(l4 + kTcpCsumOff, 0);
    store_be16(l4 + kTcpCsumOff, finish(sum_bytes({l4, l4_len}, pseudo)));
  } else {
    // RFC 768: length covers header and data; a computed checksum of 0 is sent as all ones.
    store_be16(l4 + kUdpLenOff, static_cast<uint16_t>(l4_len));
    store_be16(l4 + kUdpCsumOff, 0);
    const uint16_t c = finish(sum_bytes({l4, l4_len}, pseudo));
    store_be16(l4 + kUdpCsumOff, c == 0 ? 0xFFFF : c);
  }
  return len;
}

}  // namespace vsw::offload
