// dataplane/packet.h — the packet buffer header and the owner a buffer returns to.
//
// A Packet is a 64-byte header that describes one frame segment. For mempool buffers the header
// sits at the start of the buffer itself:
//
//   buffer (Mempool::Config::buffer_bytes, default 2048)
//   +----------------+-----------------+---------------------------------------------+
//   | Packet (64 B)  | headroom (64 B) | frame data ... (buffer_bytes - 128)          |
//   +----------------+-----------------+---------------------------------------------+
//   ^ iova / base                      ^ base + data_off (kDefaultDataOffset)
//
// Ports that lend their own memory (memif, vhost-user) keep Packet headers in vsw-private arrays
// and point `base` into the peer's memory: a peer can never write a header vsw trusts.
//
// Ownership: whoever holds the Packet* owns one reference. release_packet() drops it; the last
// reference hands the buffer back to `owner` (a Mempool, or the lending port). Flooding takes
// extra references (refs > 1) instead of copying.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vsw {

using PortId = uint16_t;
using QueueId = uint16_t;
constexpr PortId kNoPort = 0xFFFF;
constexpr uint32_t kMaxPorts = 1024;  // PortId values are below this

struct Packet;

// Where a buffer goes back when its last reference is dropped.
class BufferOwner {
 public:
  // Called by the thread that drops the last reference; must not block or throw.
  virtual void release(Packet* p) noexcept = 0;

 protected:
  ~BufferOwner() = default;
};

struct alignas(64) Packet {
  std::byte* base;            // start of the buffer in vsw's address space
  uint64_t iova;              // device-visible address of `base` (0 when not DMA-capable)
  BufferOwner* owner;         // release() target for the last reference
  Packet* next;               // next segment of a chained frame, or nullptr
  uint32_t slot;              // index of this buffer inside its owner
  uint32_t buf_len;           // usable bytes from `base`
  uint16_t data_off;          // first frame byte, counted from `base`
  uint16_t len;               // bytes of frame data in this segment
  PortId in_port;             // set by rx_burst
  std::atomic<uint16_t> refs; // references held; 1 for a fresh buffer
  uint32_t frame_len;         // total frame bytes over all segments (== len when unchained)
  uint32_t user;              // free for the current holder (e.g. a lending port's descriptor)

  std::byte* data() noexcept { return base + data_off; }
  const std::byte* data() const noexcept { return base + data_off; }
  uint32_t tailroom() const noexcept { return buf_len - data_off - len; }
};
static_assert(sizeof(Packet) == 64, "Packet header must be one cache line");

constexpr uint16_t kDefaultDataOffset = 128;  // 64-byte header + 64-byte headroom

// Takes an extra reference (used when one frame is flooded to several ports).
inline void retain_packet(Packet* p) noexcept { p->refs.fetch_add(1, std::memory_order_relaxed); }

// Drops one reference; the last one releases every segment to its owner.
inline void release_packet(Packet* p) noexcept {
  if (p->refs.load(std::memory_order_relaxed) != 1 &&
      p->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    return;
  }
  while (p != nullptr) {
    Packet* next = p->next;
    p->next = nullptr;
    p->owner->release(p);
    p = next;
  }
}

}  // namespace vsw
