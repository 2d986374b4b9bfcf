// ports/vnet/virtio_net_hdr.h — the offload metadata the kernel puts in front of a frame.
//
// With PACKET_VNET_HDR (packet(7)) or IFF_VNET_HDR (tun), the kernel exchanges each frame
// preceded by this 10-byte header: whether the frame is a GSO super-frame that still has to be
// cut into MSS-sized segments, and whether a checksum still has to be computed ("partial"
// checksum, CHECKSUM_PARTIAL in the kernel). Layout and constants: virtio 1.0 §5.1.6
// "struct virtio_net_hdr" (legacy form, without num_buffers); GSO_UDP_L4 from virtio 1.2
// §5.1.6. Over AF_PACKET the 16-bit fields are in host byte order (legacy virtio is "guest
// native" endian; the kernel's vio_le() is true on little-endian hosts).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vsw::ports::vnet {

struct VirtioNetHdr {
  uint8_t flags;         // kVnetFlag*
  uint8_t gso_type;      // kVnetGso*, possibly with kVnetGsoEcn
  uint16_t hdr_len;      // advisory; the kernel reports skb_headlen() here, so vsw re-parses
  uint16_t gso_size;     // payload bytes per segment (the MSS for TCP)
  uint16_t csum_start;   // offset from the frame start where checksumming starts
  uint16_t csum_offset;  // offset of the checksum field from csum_start
};
static_assert(sizeof(VirtioNetHdr) == 10);
static_assert(offsetof(VirtioNetHdr, gso_size) == 4);
static_assert(offsetof(VirtioNetHdr, csum_start) == 6);
static_assert(offsetof(VirtioNetHdr, csum_offset) == 8);

// virtio 1.0 §5.1.6: flags.
constexpr uint8_t kVnetFlagNeedsCsum = 1;
constexpr uint8_t kVnetFlagDataValid = 2;

// virtio 1.0 §5.1.6: gso_type values (and 1.2 for UDP_L4).
constexpr uint8_t kVnetGsoNone = 0;
constexpr uint8_t kVnetGsoTcpv4 = 1;
constexpr uint8_t kVnetGsoUdp = 3;      // UFO: IPv4 fragmentation; vsw does not implement it
constexpr uint8_t kVnetGsoTcpv6 = 4;
constexpr uint8_t kVnetGsoUdpL4 = 5;    // USO: one UDP datagram per gso_size bytes
constexpr uint8_t kVnetGsoEcn = 0x80;   // flag: the TCP flow uses ECN (CWR on the first segment)

}  // namespace vsw::ports::vnet
