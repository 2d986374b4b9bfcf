// dataplane/tx_context.h — what one worker lends Port::transmit: its identity, the mempool for
// software offloads and copies, and a cache of the last super-frame it segmented.
//
// Flooding a super-frame to several ports that cannot take it would segment it once per port;
// the SegmentCache keeps the segments of the last super-frame cut (for one segment size) so the
// next destination in the same flush gets the same segments by reference. The cache holds one
// reference on the original (so its address cannot be reused for another frame while cached)
// and one on every segment; end_flush() drops them. Segments are shared read-only like any
// flooded frame.
//
// Threads: one TxContext per worker, used only by that worker. Not copyable.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/packet.h"

namespace vsw {

class Mempool;

// Most segments one super-frame may be cut into (a 64 KiB frame at the smallest MSS vsw accepts
// without dropping); more is dropped as Invalid, so a hostile gso_size cannot drain the pool.
constexpr uint32_t kMaxGsoSegments = 256;

struct SegmentCache {
  Packet* original = nullptr;
  uint32_t max_segment_len = 0;
  uint32_t count = 0;
  std::array<Packet*, kMaxGsoSegments> segments{};

  void clear() noexcept {
    for (uint32_t i = 0; i < count; ++i) release_packet(segments[i]);
    if (original != nullptr) release_packet(original);
    original = nullptr;
    count = 0;
  }
};

struct TxContext {
  uint16_t worker = 0;      // the transmitting worker's id (picks the tx queue)
  uint16_t workers = 1;     // how many workers run
  Mempool* pool = nullptr;  // buffers for segments and copies; nullptr: such frames are dropped
  SegmentCache segments;

  TxContext() = default;
  TxContext(uint16_t w, uint16_t n, Mempool* p) noexcept : worker(w), workers(n), pool(p) {}
  ~TxContext() { segments.clear(); }
  TxContext(const TxContext&) = delete;
  TxContext& operator=(const TxContext&) = delete;

  // After every destination of an ingress burst was served: drop what the cache holds.
  void end_flush() noexcept {
    if (segments.original != nullptr) segments.clear();
  }
};

}  // namespace vsw
