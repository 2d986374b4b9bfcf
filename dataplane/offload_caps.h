// dataplane/offload_caps.h — what a port can send exactly as vsw holds it.
//
// Every frame inside vsw may carry offload metadata (dataplane/packet.h): a GSO super-frame, a
// partial checksum, a chain of buffers. A port states here what its peer accepts; Port::transmit
// (dataplane/egress_offload.h) does in software whatever a destination lacks — segmenting,
// completing checksums, linearising long chains — once, at egress, and only for that port.
//
//   port type           GSO super-frames          partial checksum   chain
//   tap, afpacket       TCPv4, TCPv6, UDP-L4      yes                any length
//   memif               no (segmented for it)     no (completed)     any length
//   ring, loopback      all (they hand frames back into vsw)           any length
//   DMA NIC drivers     what the device does      what it does       the device's limit
#pragma once

#include <cstdint>

#include "dataplane/packet.h"

namespace vsw {

// Eight bytes, so that Port keeps it in a lock-free std::atomic (it may change at run time).
struct alignas(8) OffloadCaps {
  static constexpr uint16_t kAnyChain = 0xFFFF;

  bool tso4 = false;          // TCP over IPv4 super-frames (virtio HOST_TSO4)
  bool tso6 = false;          // TCP over IPv6 super-frames (HOST_TSO6)
  bool uso = false;           // UDP-L4 super-frames (HOST_USO)
  bool partial_csum = false;  // frames whose L4 checksum is still partial (HOST_CSUM)
  uint16_t max_segments = kAnyChain;  // longest buffer chain one frame may have
  uint16_t reserved = 0;

  bool accepts_gso(GsoType t) const noexcept {
    switch (t) {
      case GsoType::None: return true;
      case GsoType::Tcpv4: return tso4;
      case GsoType::Tcpv6: return tso6;
      case GsoType::UdpL4: return uso;
    }
    return false;
  }

  // The kernel's offload language: tap (TUNSETOFFLOAD) and AF_PACKET (PACKET_VNET_HDR).
  static constexpr OffloadCaps kernel() noexcept { return {true, true, true, true, kAnyChain}; }
};
static_assert(sizeof(OffloadCaps) == 8);

}  // namespace vsw
