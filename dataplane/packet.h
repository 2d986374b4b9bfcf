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
// extra references (refs > 1) instead of copying, so a packet with refs > 1 is read-only: nobody
// writes its bytes or its header fields (offload metadata included) until it is theirs alone.
// Lent buffers (kPacketLent) and DMA rules: see the contract in dataplane/port.h.
//
// Offload metadata (bytes 52..63 of the header, the virtio-net header's meaning, virtio 1.0
// §5.1.6): a frame may be a GSO super-frame (gso_type != None: to be cut into segments of
// gso_size payload bytes, each hdr_len bytes of headers) and/or carry a partial checksum
// (kPacketNeedsCsum: the ones'-complement sum from csum_start to the end still has to be stored
// at csum_start + csum_offset). It lives in the one cache line the fast path touches anyway:
// a frame without offloads pays one byte compare (has_offload()) and the reset in Mempool::alloc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vsw {

using PortId = uint16_t;
using QueueId = uint16_t;
constexpr PortId kNoPort = 0xFFFF;
constexpr uint32_t kMaxPorts = 1024;  // PortId values are below this

struct Packet;

// Packet::flags bits.
constexpr uint8_t kPacketLent = 0x01;       // memory lent by a peer (memif, vhost-user): see port.h
constexpr uint8_t kPacketNeedsCsum = 0x02;  // partial checksum at csum_start/csum_offset
constexpr uint8_t kPacketCsumValid = 0x04;  // L4 checksum already verified (virtio DATA_VALID)
constexpr uint8_t kPacketGsoEcn = 0x08;     // GSO flow uses ECN: CWR only on the first segment
constexpr uint8_t kPacketOffloadFlags = kPacketNeedsCsum | kPacketCsumValid | kPacketGsoEcn;

// What kind of super-frame a packet is (virtio 1.0 §5.1.6 gso_type, vsw's own numbering).
enum class GsoType : uint8_t {
  None = 0,
  Tcpv4 = 1,  // TSO over IPv4
  Tcpv6 = 2,  // TSO over IPv6
  UdpL4 = 3,  // USO: one UDP datagram per gso_size payload bytes (virtio 1.2 GSO_UDP_L4)
};

// Where a buffer goes back when its last reference is dropped.
class BufferOwner {
 public:
  // Called by the thread that drops the last reference; must not block or throw.
  virtual void release(Packet* p) noexcept = 0;
  // The last references of n packets of this owner, each a single segment (next == nullptr),
  // dropped at once (PacketBatch::release_all groups them). Same thread rules as release();
  // owners that can return a burst in one step (a lending port's counter) override it.
  virtual void release_bulk(Packet* const* pkts, uint16_t n) noexcept {
    for (uint16_t i = 0; i < n; ++i) release(pkts[i]);
  }

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
  // --- offload metadata and buffer kind (first segment of a frame only) ---
  uint8_t flags;              // kPacket* bits
  GsoType gso_type;           // None: an ordinary frame
  uint16_t gso_size;          // payload bytes per segment (the MSS for TCP) when gso_type != None
  uint16_t csum_start;        // kPacketNeedsCsum: checksummed region starts here (from frame start)
  uint16_t csum_offset;       // kPacketNeedsCsum: checksum field offset from csum_start
  uint16_t hdr_len;           // L2+L3+L4 header bytes of a super-frame; 0 = not known (re-parse)
  uint16_t spare;

  std::byte* data() noexcept { return base + data_off; }
  const std::byte* data() const noexcept { return base + data_off; }
  uint32_t tailroom() const noexcept { return buf_len - data_off - len; }

  bool is_lent() const noexcept { return (flags & kPacketLent) != 0; }
  // Only owned buffers with a real device address (physical or IOMMU-mapped) may go to DMA.
  bool is_dma_capable() const noexcept { return !is_lent() && iova != 0; }
  bool is_gso() const noexcept { return gso_type != GsoType::None; }
  bool needs_csum() const noexcept { return (flags & kPacketNeedsCsum) != 0; }
  // True when a port must know about offloads to send this frame as it is.
  bool has_offload() const noexcept { return is_gso() || needs_csum(); }
  // Non-zero exactly when has_offload(): flags and gso_type read as one 16-bit word (they are
  // adjacent), for scans that fold many frames together.
  uint16_t offload_bits() const noexcept {
    uint16_t w;
    std::memcpy(&w, &flags, sizeof w);
    return static_cast<uint16_t>(w & (kPacketNeedsCsum | 0xFF00u));
  }
  // Copies the offload metadata of `from` (not the kPacketLent bit).
  void copy_offload(const Packet& from) noexcept {
    flags = static_cast<uint8_t>((flags & ~kPacketOffloadFlags) | (from.flags & kPacketOffloadFlags));
    gso_type = from.gso_type;
    gso_size = from.gso_size;
    csum_start = from.csum_start;
    csum_offset = from.csum_offset;
    hdr_len = from.hdr_len;
  }
  // Forgets every offload (the frame is now an ordinary frame with complete checksums).
  void clear_offload() noexcept {
    flags = static_cast<uint8_t>(flags & ~kPacketOffloadFlags);
    gso_type = GsoType::None;
    gso_size = csum_start = csum_offset = hdr_len = 0;
  }
};
static_assert(sizeof(Packet) == 64, "Packet header must be one cache line");
static_assert(offsetof(Packet, flags) == 52, "offload metadata shares the first cache line");
static_assert(offsetof(Packet, gso_type) == offsetof(Packet, flags) + 1 &&
                  __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "offload_bits() reads flags (low byte) and gso_type (high byte) as one word");

constexpr uint16_t kDefaultDataOffset = 128;  // 64-byte header + 64-byte headroom

// Segments in the chain starting at `p`.
inline uint32_t chain_length(const Packet* p) noexcept {
  uint32_t n = 0;
  for (; p != nullptr; p = p->next) ++n;
  return n;
}

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
