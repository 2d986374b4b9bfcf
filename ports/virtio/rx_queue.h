// ports/virtio/rx_queue.h — one receive virtqueue (queue 2k): the device writes frames into
// mempool buffers vsw posted, vsw hands them to the bridge as Packets (virtio 1.1 §5.1.6.3–4).
//
//   posted buffer (one mempool buffer, device-writable from the header on):
//   +--------+------------------+-----------+-------------------------------------+
//   | Packet | headroom ...     | net hdr   | frame ...                           |
//   +--------+------------------+-----------+-------------------------------------+
//                               ^ descriptor address = dma(data() - hdr_len)
//                                           ^ data(): the frame lands where vsw wants it
// With VERSION_1 or ANY_LAYOUT one descriptor covers header and data; a legacy device without
// ANY_LAYOUT gets the header in a descriptor of its own (fact sheet §6), chained to the data —
// the same bytes, so the frame still lands at data(). A buffer's slot is fixed: descriptor i
// (or the pair 2i, 2i+1) always belongs to slot i, so giving a buffer back needs no list walk.
//
// MRG_RXBUF (§5.1.6.4): a frame may take num_buffers used entries; its first buffer holds the
// header, the following ones frame bytes from their descriptor start. vsw chains them (next,
// frame_len) and imports the header's offload metadata (ports/vnet/). A frame is consumed only
// when all its entries are in the used ring.
//
// Refill: after each receive, free slots are refilled 32 at a time from the pool, published
// with one avail.idx store and at most one doorbell. A refill the pool cannot serve is counted
// (no_buffer_events) and retried on the next receive.
//
// Bad input from the device (an unknown id, a length shorter than the header or longer than the
// buffer, num_buffers out of range, an invalid offload header) is counted Invalid, the buffers
// go back to the pool and the queue goes on.
//
// Threads: receive() only on the worker owning the queue; prefill()/release_all() on the
// control thread while no worker polls it.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/mempool.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "ports/pci/pci_device.h"
#include "ports/virtio/driver_vring.h"

namespace vsw::ports::virtio {

struct RxQueueConfig {
  pci::PciDevice* dev = nullptr;  // for dma_address()
  Mempool* pool = nullptr;
  PortId port = kNoPort;
  uint16_t hdr_len = 12;
  bool header_own_desc = false;   // legacy without ANY_LAYOUT
  bool mergeable = false;         // MRG_RXBUF
  bool offloads = false;          // GUEST_CSUM negotiated: import the header
};

class RxQueue {
 public:
  static constexpr uint16_t kRefillBatch = 32;

  RxQueue() = default;
  RxQueue(const RxQueue&) = delete;
  RxQueue& operator=(const RxQueue&) = delete;
  ~RxQueue() { release_all(); }

  // Control thread: attaches the ring and prepares the descriptor table.
  void attach(const RingArena& arena, const VringOffsets& v, Doorbell bell, bool event_idx,
              const RxQueueConfig& cfg);
  // Control thread: posts a buffer in every slot. ResourceExhausted when the pool has too few.
  Status prefill();

  // Worker: appends up to batch.room() frames; returns how many.
  uint16_t receive(PacketBatch& batch, QueueCounters& c) noexcept;

  // Worker, around its sleep (adaptive polling, DriverVring::enable_interrupts): false when a
  // used entry already waits.
  bool enable_interrupts() noexcept { return ring_.enable_interrupts(); }
  void disable_interrupts() noexcept { ring_.disable_interrupts(); }

  // Control thread, after the device was reset: every posted buffer back to the pool.
  void release_all() noexcept;

  uint16_t slots() const noexcept { return slots_; }
  uint16_t posted() const noexcept { return static_cast<uint16_t>(slots_ - free_count_); }
  uint64_t no_buffer_events() const noexcept { return no_buffer_.get(); }
  uint64_t notifies() const noexcept { return ring_.notifies(); }
  uint16_t ring_size() const noexcept { return ring_.size(); }

 private:
  // The slot a used id names, or -1 when it is no posted head.
  int slot_of(uint32_t id) const noexcept;
  void post(uint16_t slot, Packet* p) noexcept;
  void refill() noexcept;
  Packet* take(uint16_t slot) noexcept;
  // Drops a half-built chain and counts the frame Invalid.
  static void drop_invalid(Packet* head, QueueCounters& c) noexcept;

  DriverVring ring_;
  RxQueueConfig cfg_;
  uint16_t slots_ = 0;
  uint32_t buf_room_ = 0;  // device-writable bytes per buffer (header + data room)
  std::unique_ptr<Packet*[]> bufs_;      // per slot: the posted buffer, or nullptr
  std::unique_ptr<uint16_t[]> free_;     // stack of free slots
  uint16_t free_count_ = 0;
  Counter no_buffer_;
};

}  // namespace vsw::ports::virtio
