// dataplane/offload/gso.h — software segmentation of GSO super-frames (TSO/USO done in software).
//
// A kernel interface or a VM with TSO hands over TCP "super-frames" of up to 64 KiB, marked with
// Packet::gso_type and gso_size (dataplane/packet.h; the virtio-net header's meaning, virtio 1.0
// §5.1.6). vsw carries them whole; a destination port that cannot take a super-frame gets it cut
// into segments here, the way a NIC would (and the way Linux's tcp_gso_segment does):
//
//   super-frame:  [ L2 | IP | TCP | payload 0 | payload 1 | ... | payload n-1 (short) ]
//   segment i:    [ L2 | IP' | TCP' | payload i ]
//     IP'  IPv4: total length, identification + i, header checksum recomputed
//          IPv6: payload length
//     TCP' sequence number + i * seg_payload; FIN and PSH only on the last segment, CWR only on
//          the first; checksum computed over the pseudo-header and the segment
//     UDP' (USO) length and checksum per datagram
//
// The super-frame may be a chain of buffers: its headers must lie in the first segment (the
// `head` below), the payload may be spread over any number of segments.
//
// Usage: plan_gso() validates the frame once and says how many segments it yields; the caller
// reserves that many buffers (all or nothing) and calls build_segment() for each index in order.
// Pure functions on bytes; no allocation; safe on the fast path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "dataplane/offload/frame_layout.h"
#include "dataplane/packet.h"

namespace vsw::offload {

enum class GsoStatus : uint8_t {
  Ok,
  Invalid,      // malformed headers, headers that contradict gso_type, or gso_size == 0
  Unsupported,  // neither TCP nor UDP, unknown gso_type
  TooBig,       // a UDP datagram of gso_size payload cannot fit max_segment_len
};

struct GsoPlan {
  FrameLayout layout;
  uint32_t hdr_len = 0;      // layout.l4_off + layout.l4_hdr_len: copied in front of each segment
  uint32_t payload_len = 0;  // layout.ip_end - hdr_len (L2 padding after the datagram is dropped)
  uint32_t seg_payload = 0;  // payload bytes in every segment but the last
  uint32_t segments = 0;     // at least 1
};

// Validates a frame of `frame_len` bytes whose first head.size() bytes are `head` against
// `type` and `gso_size`, and fills `plan`. Every segment will be at most `max_segment_len` bytes:
// for TCP the segment payload is min(gso_size, max_segment_len - hdr_len) — a smaller MSS is
// always legal TCP; for UDP datagram boundaries must not move, so a gso_size that does not fit is
// TooBig.
GsoStatus plan_gso(std::span<const std::byte> head, uint32_t frame_len, GsoType type,
                   uint16_t gso_size, uint32_t max_segment_len, GsoPlan& plan) noexcept;
// A contiguous frame.
inline GsoStatus plan_gso(std::span<const std::byte> frame, GsoType type, uint16_t gso_size,
                          uint32_t max_segment_len, GsoPlan& plan) noexcept {
  return plan_gso(frame, static_cast<uint32_t>(frame.size()), type, gso_size, max_segment_len,
                  plan);
}

// Length in bytes of segment `index` (< plan.segments).
uint32_t segment_len(const GsoPlan& plan, uint32_t index) noexcept;

// Reads a frame's bytes in order across the segments of a chain (or one contiguous span).
class ChainReader {
 public:
  explicit ChainReader(const Packet& first) noexcept : seg_(&first) {}
  explicit ChainReader(std::span<const std::byte> bytes) noexcept
      : seg_(nullptr), span_(bytes) {}
  // Copies the next `n` bytes to `out`; false (and a partial copy) when the frame is shorter.
  bool read(std::byte* out, uint32_t n) noexcept;
  // Skips the next `n` bytes; false when the frame is shorter.
  bool skip(uint32_t n) noexcept { return read(nullptr, n); }

 private:
  const Packet* seg_;
  std::span<const std::byte> span_;
  uint32_t off_ = 0;  // within the current segment (or span_)
};

// Writes segment `index` of the frame into `out` and returns its length; returns 0 and writes
// nothing useful if `out` is shorter than segment_len(plan, index). `head` holds the headers
// (the same bytes given to plan_gso); `payload` must be positioned at the payload of segment
// `index`: build the segments in order with one reader that first skipped plan.hdr_len bytes.
uint32_t build_segment(const GsoPlan& plan, std::span<const std::byte> head, ChainReader& payload,
                       uint32_t index, std::span<std::byte> out) noexcept;
// A contiguous frame (the same bytes given to plan_gso); any index, any order.
uint32_t build_segment(const GsoPlan& plan, std::span<const std::byte> frame, uint32_t index,
                       std::span<std::byte> out) noexcept;

}  // namespace vsw::offload
