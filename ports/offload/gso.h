// ports/offload/gso.h — software segmentation of GSO super-frames (TSO/USO done in software).
//
// A kernel interface with TSO enabled hands over TCP "super-frames" of up to 64 KiB together
// with a virtio_net_hdr saying gso_type and gso_size (virtio_net_hdr.h). Everything inside vsw
// must be an ordinary frame that fits one buffer, so the receiving port cuts the super-frame
// into segments the way a NIC would (and the way Linux's tcp_gso_segment does):
//
//   super-frame:  [ L2 | IP | TCP | payload 0 | payload 1 | ... | payload n-1 (short) ]
//   segment i:    [ L2 | IP' | TCP' | payload i ]
//     IP'  IPv4: total length, identification + i, header checksum recomputed
//          IPv6: payload length
//     TCP' sequence number + i * seg_payload; FIN and PSH only on the last segment, CWR only on
//          the first; checksum computed over the pseudo-header and the segment
//     UDP' (USO) length and checksum per datagram
//
// Usage: plan_gso() validates the frame once and says how many segments it yields; the caller
// reserves that many buffers (all or nothing) and calls build_segment() for each index.
// Pure functions on bytes; no allocation; safe on the fast path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "ports/offload/frame_layout.h"

namespace vsw::ports::offload {

enum class GsoStatus : uint8_t {
  Ok,
  Invalid,      // malformed headers, headers that contradict gso_type, or gso_size == 0
  Unsupported,  // UFO (kVnetGsoUdp), unknown gso_type, or neither TCP nor UDP
  TooBig,       // a UDP datagram of gso_size payload cannot fit max_segment_len
};

struct GsoPlan {
  FrameLayout layout;
  uint32_t hdr_len = 0;      // layout.l4_off + layout.l4_hdr_len: copied in front of each segment
  uint32_t payload_len = 0;  // layout.ip_end - hdr_len (L2 padding after the datagram is dropped)
  uint32_t seg_payload = 0;  // payload bytes in every segment but the last
  uint32_t segments = 0;     // at least 1
};

// Validates `frame` against `gso_type` (virtio_net_hdr.h values, kVnetGsoEcn ignored) and
// `gso_size`, and fills `plan`. Every segment will be at most `max_segment_len` bytes: for TCP the
// segment payload is min(gso_size, max_segment_len - hdr_len) — a smaller MSS is always legal
// TCP; for UDP datagram boundaries must not move, so a gso_size that does not fit is TooBig.
GsoStatus plan_gso(std::span<const std::byte> frame, uint8_t gso_type, uint16_t gso_size,
                   uint32_t max_segment_len, GsoPlan& plan) noexcept;

// Length in bytes of segment `index` (< plan.segments).
uint32_t segment_len(const GsoPlan& plan, uint32_t index) noexcept;

// Writes segment `index` of `frame` (the same bytes given to plan_gso) into `out` and returns its
// length; returns 0 and writes nothing if `out` is shorter than segment_len(plan, index).
uint32_t build_segment(const GsoPlan& plan, std::span<const std::byte> frame, uint32_t index,
                       std::span<std::byte> out) noexcept;

}  // namespace vsw::ports::offload
