// ports/virtio_common/vring.h — the split virtqueue as it lies in memory shared by a virtio
// driver and a device: layout, flag bits, byte sizes and the event-index test. Shared by
// vhost-user (vsw is the device, ports/vhost_user/guest_*_queue.h) and the virtio-net PCI driver
// (vsw is the driver, ports/virtio/). Layout and tiny pure helpers only; no policy.
//
// virtio 1.1 §2.6 "Split Virtqueues" (§2.7 in virtio 1.2, §2.4 in virtio 1.0). One queue of
// N entries (N a power of two, at most 32768) is three areas:
//
//   descriptor table  16·N bytes, align 16      driver writes, device reads
//   +------------------+---------+----------+---------+
//   | addr (le64)      | len le32| flags le16| next le16|   × N            (§2.6.5)
//   +------------------+---------+----------+---------+
//   available ring    6 + 2·N bytes, align 2     driver writes, device reads     (§2.6.6)
//   | flags | idx | ring[0..N-1] (head indices) | used_event (EVENT_IDX only) |
//   used ring         6 + 8·N bytes, align 4     device writes, driver reads     (§2.6.8)
//   | flags | idx | {le32 id, le32 len}[0..N-1] | avail_event (EVENT_IDX only) |
//
// Indices (avail.idx, used.idx) are free-running 16-bit counters; entry i lives in slot
// i & (N - 1). Everything is little-endian with VERSION_1 and guest-native for legacy devices;
// vsw runs on little-endian hosts only (static_assert below), so fields are plain integers.
//
// Concurrency: the other side writes its fields at any time. Its indices are read with acquire
// (avail.idx by a device, used.idx by a driver) so that the entries published before them are
// visible; one's own index is stored with release after the entries it publishes. Descriptors
// and ring entries written by the other side are copied once into locals (load_desc) and only
// the copy is checked and used: the other side may rewrite them between two reads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vsw::ports::virtio {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "vring fields are little-endian (virtio 1.1 §2.6); big-endian hosts need swaps");

// virtio 1.1 §2.6: Queue Size is a power of two of at most 32768.
constexpr uint32_t kMaxQueueSize = 32768;

// --- descriptor table (virtio 1.1 §2.6.5) --------------------------------------------------------
constexpr uint16_t kDescFlagNext = 1;      // VIRTQ_DESC_F_NEXT: the chain continues at `next`
constexpr uint16_t kDescFlagWrite = 2;     // VIRTQ_DESC_F_WRITE: device writes (else reads)
constexpr uint16_t kDescFlagIndirect = 4;  // VIRTQ_DESC_F_INDIRECT: addr/len is a table (§2.6.5.3)

struct VringDesc {
  uint64_t addr;   // guest-physical address of the buffer (or of an indirect table)
  uint32_t len;    // bytes (for an indirect table: 16 × its entries)
  uint16_t flags;  // kDescFlag*
  uint16_t next;   // next descriptor of the chain when kDescFlagNext
};
static_assert(sizeof(VringDesc) == 16 && offsetof(VringDesc, len) == 8 &&
              offsetof(VringDesc, flags) == 12 && offsetof(VringDesc, next) == 14);

// --- available ring (virtio 1.1 §2.6.6) ------------------------------------------------------------
constexpr uint16_t kAvailFlagNoInterrupt = 1;  // VIRTQ_AVAIL_F_NO_INTERRUPT (ignored with EVENT_IDX)

struct VringAvail {
  uint16_t flags;
  uint16_t idx;     // where the driver puts its next entry
  uint16_t ring[];  // [N] heads, then uint16_t used_event (virtio 1.1 §2.6.7)
};
static_assert(sizeof(VringAvail) == 4 && offsetof(VringAvail, ring) == 4);

// --- used ring (virtio 1.1 §2.6.8) -------------------------------------------------------------------
constexpr uint16_t kUsedFlagNoNotify = 1;  // VIRTQ_USED_F_NO_NOTIFY (ignored with EVENT_IDX)

struct VringUsedElem {
  uint32_t id;   // head of the chain given back
  uint32_t len;  // bytes the device wrote into it (0 for a chain it only read)
};
static_assert(sizeof(VringUsedElem) == 8);

struct VringUsed {
  uint16_t flags;
  uint16_t idx;           // where the device puts its next entry
  VringUsedElem ring[];   // [N], then uint16_t avail_event (virtio 1.1 §2.6.10)
};
static_assert(sizeof(VringUsed) == 4 && offsetof(VringUsed, ring) == 4);

// --- sizes and alignment (virtio 1.1 §2.6 table "Virtqueue Part / Alignment / Size") ---------------
constexpr uint32_t kDescAlign = 16;
constexpr uint32_t kAvailAlign = 2;
constexpr uint32_t kUsedAlign = 4;
constexpr uint64_t desc_table_bytes(uint32_t n) noexcept { return 16ull * n; }
// With `event_idx` the trailing used_event / avail_event field is included.
constexpr uint64_t avail_ring_bytes(uint32_t n, bool event_idx) noexcept {
  return 4 + 2ull * n + (event_idx ? 2 : 0);
}
constexpr uint64_t used_ring_bytes(uint32_t n, bool event_idx) noexcept {
  return 4 + 8ull * n + (event_idx ? 2 : 0);
}
constexpr bool is_valid_queue_size(uint32_t n) noexcept {
  return n != 0 && n <= kMaxQueueSize && (n & (n - 1)) == 0;
}

// The event fields after the rings (virtio 1.1 §2.6.7, §2.6.10); N = the queue size.
inline uint16_t* used_event_field(VringAvail* a, uint32_t n) noexcept { return &a->ring[n]; }
inline uint16_t* avail_event_field(VringUsed* u, uint32_t n) noexcept {
  return reinterpret_cast<uint16_t*>(&u->ring[n]);
}

// virtio 1.1 §2.6.7.1 / §2.6.10.1 (vring_need_event in the spec's helper code): true when the
// other side asked to be notified at `event` and the index moved from `old_idx` to `new_idx`
// past it, i.e. event lies in [old_idx, new_idx) modulo 2^16.
constexpr bool vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) noexcept {
  return static_cast<uint16_t>(new_idx - event - 1) < static_cast<uint16_t>(new_idx - old_idx);
}

// --- access to fields the other side writes ----------------------------------------------------
inline uint16_t load_acquire(const uint16_t* p) noexcept {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
inline uint16_t load_relaxed(const uint16_t* p) noexcept {
  return __atomic_load_n(p, __ATOMIC_RELAXED);
}
inline void store_release(uint16_t* p, uint16_t v) noexcept { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
inline void store_relaxed(uint16_t* p, uint16_t v) noexcept { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

// Reads a descriptor exactly once (two relaxed 8-byte loads), so every later check and use sees
// the same values while the other side rewrites the slot: the compiler may neither re-read the
// shared slot for a later use nor tear a field differently from the copy. `d` must be 8-byte
// aligned (a descriptor table is 16-byte aligned, virtio 1.1 §2.6; the ring set-up checks it).
inline VringDesc load_desc(const VringDesc* d) noexcept {
  const auto* w = reinterpret_cast<const uint64_t*>(d);
  const uint64_t lo = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
  const uint64_t hi = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
  VringDesc out;
  out.addr = lo;
  out.len = static_cast<uint32_t>(hi);
  out.flags = static_cast<uint16_t>(hi >> 32);
  out.next = static_cast<uint16_t>(hi >> 48);
  return out;
}

// The same for a descriptor at any alignment (an indirect table's address comes from the
// driver): one copy into a local, then a compiler barrier, after which the compiler cannot go
// back to the shared bytes for a value it already read.
inline VringDesc load_desc_unaligned(const std::byte* d) noexcept {
  VringDesc out;
  std::memcpy(&out, d, sizeof out);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  return out;
}

}  // namespace vsw::ports::virtio
