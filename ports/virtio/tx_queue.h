// ports/virtio/tx_queue.h — one transmit virtqueue (queue 2k+1): frames go to the device by
// reference, as descriptor chains over their own buffers, and are released when the device
// gives the chain back (virtio 1.1 §2.6.8, §5.1.6.2).
//
// Per frame (segments s0..sn of a Packet chain):
//   header in headroom, ANY_LAYOUT     [hdr|s0] -> s1 -> ... -> sn
//   header in a slot of ring memory    [hdr slot] -> s0 -> s1 -> ... -> sn
//   (legacy without ANY_LAYOUT always has the header in a descriptor of its own, fact sheet §6)
// The header is written into the frame's headroom only when vsw may write there: the frame is
// owned (not lent), held alone (refs == 1) and has the room. A flooded frame (refs > 1) is
// shared read-only, so its header goes to the slot of ring memory kept for the chain's head.
//
// Zero copy (issue 8 part 3): a frame whose every segment has a device address
// (PciDevice::dma_address() != 0: an owned buffer of a mapped pool — e.g. received on another
// virtio port) is sent as it is and counted zero_copy; anything else (lent memif/vhost-user
// memory, unmapped memory) is first copied into buffers of the port's pool (counted copied).
// Either way the reference is kept until the device completes the chain: that is when a buffer
// the device reads by DMA is free again.
//
// Each transmit() first reclaims completed chains, then posts the batch, then publishes it with
// one avail.idx store and at most one doorbell (EVENT_IDX avail_event, or NO_NOTIFY). A frame
// that does not fit the free descriptors is dropped TxFull. Descriptors are handed out from a
// free stack (no table scan); a shadow of each chain's indices is kept in vsw memory.
//
// Threads: transmit() by one worker at a time (Port's tx lock when shared); release_all() on the
// control thread after the device was reset.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/mempool.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "ports/pci/pci_device.h"
#include "ports/virtio/driver_vring.h"

namespace vsw::ports::virtio {

struct TxQueueConfig {
  pci::PciDevice* dev = nullptr;
  Mempool* pool = nullptr;       // for copies of frames the device cannot read in place
  uint16_t hdr_len = 12;
  bool any_layout = true;        // VERSION_1 or ANY_LAYOUT
};

class TxQueue {
 public:
  // Bytes per header slot in ring memory (a 12-byte header, 16-byte aligned).
  static constexpr uint32_t kHeaderSlotBytes = 16;
  // Longest segment chain a frame may have (the rest is linearised by Port::transmit).
  static uint16_t max_segments(uint16_t ring_size) noexcept;

  TxQueue() = default;
  TxQueue(const TxQueue&) = delete;
  TxQueue& operator=(const TxQueue&) = delete;
  ~TxQueue() { release_all(); }

  // Control thread. `header_slots` is the offset of ring_size × kHeaderSlotBytes in `arena`.
  void attach(const RingArena& arena, const VringOffsets& v, uint64_t header_slots, Doorbell bell,
              bool event_idx, const TxQueueConfig& cfg);

  // Worker (under the port's tx lock when shared): takes every reference in `batch`.
  uint16_t transmit(PacketBatch& batch, QueueCounters& c) noexcept;
  // Gives completed chains back (their Packets released). Part of transmit(); public for tests.
  void reclaim(QueueCounters& c) noexcept;

  // Control thread, after the device was reset: releases every frame still in the ring.
  void release_all() noexcept;

  uint16_t in_flight() const noexcept { return static_cast<uint16_t>(ring_.size() - free_count_); }
  uint64_t zero_copy() const noexcept { return zero_copy_.get(); }
  uint64_t copied() const noexcept { return copied_.get(); }
  uint64_t notifies() const noexcept { return ring_.notifies(); }
  uint16_t ring_size() const noexcept { return ring_.size(); }

 private:
  // The frame itself when the device can read it in place, else a copy (`copied`), or nullptr
  // when no copy could be made (dropped NoBuffer).
  Packet* reachable(Packet* p, QueueCounters& c, bool& copied) noexcept;
  bool post(Packet* p) noexcept;
  uint16_t pop_desc() noexcept { return free_[--free_count_]; }

  DriverVring ring_;
  TxQueueConfig cfg_;
  std::byte* header_slots_ = nullptr;
  uint64_t header_slots_iova_ = 0;
  std::unique_ptr<Packet*[]> frames_;     // per head descriptor: the frame in flight
  std::unique_ptr<uint16_t[]> chain_;     // per descriptor: next index of its chain (shadow)
  std::unique_ptr<uint16_t[]> chain_len_; // per head: descriptors of its chain
  std::unique_ptr<uint16_t[]> free_;      // stack of free descriptor indices
  uint16_t free_count_ = 0;
  Counter zero_copy_;
  Counter copied_;
};

}  // namespace vsw::ports::virtio
