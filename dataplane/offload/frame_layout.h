// dataplane/offload/frame_layout.h — where the IP and TCP/UDP headers of an Ethernet frame start.
//
// Software segmentation (gso.h) needs the offsets of the L3 and L4 headers and the true end of
// the IP datagram. The kernel's own hints (virtio_net_hdr.hdr_len) are not reliable for this, so
// the frame is parsed here: Ethernet II, up to two VLAN tags (802.1Q / 802.1ad), IPv4 with
// options, or IPv6 with hop-by-hop, routing and destination-options extension headers, then a
// TCP or UDP header. Fragments and any other L4 protocol are Unsupported.
//
// Pure function on bytes; no allocation; safe on the fast path. Never trusts a length field
// without checking it against the bytes actually present.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vsw::offload {

constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;

struct FrameLayout {
  uint32_t l3_off = 0;      // first byte of the IPv4/IPv6 header
  uint32_t l4_off = 0;      // first byte of the TCP/UDP header
  uint32_t l4_hdr_len = 0;  // TCP data offset * 4, or 8 for UDP
  uint32_t ip_end = 0;      // one past the last byte of the IP datagram (excludes L2 padding)
  uint8_t l4_proto = 0;     // kIpProtoTcp or kIpProtoUdp
  bool ipv6 = false;
};

enum class ParseStatus : uint8_t {
  Ok,
  Invalid,      // truncated or inconsistent headers
  Unsupported,  // well-formed but not IPv4/IPv6 + TCP/UDP (ARP, fragments, ESP, ...)
};

// Parses `frame` (starting at the Ethernet destination address) into `out`.
ParseStatus parse_frame(std::span<const std::byte> frame, FrameLayout& out) noexcept;
// The same for a frame of `frame_len` bytes of which only the first head.size() are contiguous
// (the first segment of a chain): every header must lie inside `head` (Invalid otherwise),
// length fields are checked against frame_len.
ParseStatus parse_frame(std::span<const std::byte> head, uint32_t frame_len,
                        FrameLayout& out) noexcept;

}  // namespace vsw::offload
