// ports/intel/tx_ring.h — one transmit ring of advanced data descriptors (82599 §7.2.3.2.4,
// 82576 §7.2.2.3), shared by both families.
//
// Each frame takes one descriptor per segment (buffer_addr = dma(segment data()), DTALEN = its
// length, PAYLEN = the frame length in the first, EOP in the last; DEXT | DTYP data | IFCS on
// all). The reference to the frame is kept, at the frame's last descriptor, until the device
// has read it.
//
// RS batching: only the last descriptor of each transmit() batch asks for status (RS); the
// device then writes DD into it once it has fetched everything up to there. Its index goes on
// a small FIFO; cleanup (at the start of every transmit()) looks at the oldest such index only
// and, when DD is set, frees every frame up to it in one go — a chunk per batch, like ixy's
// TX_CLEAN_BATCH, without reading every descriptor. One TDT write per batch.
//
// Ring rule (fact sheet §3): software uses at most N - 1 descriptors; TDH == TDT is "nothing
// to send". A frame that does not fit the free descriptors is dropped TxFull.
//
// Zero copy: a frame whose segments are all owned (not lent) and have a device address
// (BufferAddress::segment() != 0: a buffer of the port's pool, translated without a lookup, or
// of another mapped pool, PciDevice::dma_address(), e.g. received from another DMA port) goes to
// the device as it is (zero_copy()). A single-segment frame takes a fast path (one descriptor,
// two 64-bit stores); cleanup hands sole single-segment buffers of the port's pool straight to
// Mempool::release. Lent frames (memif, vhost-user: valid only
// during the burst, never for a device, dataplane/port.h) and unreachable memory are copied
// into buffers of the port's pool first (copied()); a frame that cannot be copied is dropped
// NoBuffer.
//
// Threads: transmit() by one worker at a time (Port's tx lock when shared); attach and
// release_all on the control thread while no worker transmits.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/mempool.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "ports/intel/adv_descriptors.h"
#include "ports/intel/buffer_address.h"
#include "ports/intel/reg_io.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::intel {

struct TxRingConfig {
  pci::PciDevice* dev = nullptr;
  Mempool* pool = nullptr;  // copies of frames the device cannot read in place
};

class TxRing {
 public:
  // Longest segment chain a frame may have; Port::transmit linearises longer ones (offload
  // caps). Well under the 82599's limit of 40 data descriptors per frame (§7.2.3.2.4 note).
  static constexpr uint16_t kMaxSegments = 16;

  TxRing() = default;
  TxRing(const TxRing&) = delete;
  TxRing& operator=(const TxRing&) = delete;
  ~TxRing() { release_all(); }

  void attach(AdvTxDesc* ring, uint16_t size, pci::BarAccess* bar, uint32_t tail_offset,
              const TxRingConfig& cfg);

  // Worker: takes every reference in `batch`; returns the frames handed to the device.
  uint16_t transmit(PacketBatch& batch, QueueCounters& c) noexcept;
  // Frees the frames the device has finished with (part of transmit(); public for tests).
  void clean() noexcept;

  // Control thread, after the device was reset: releases every frame still in the ring.
  void release_all() noexcept;

  uint16_t size() const noexcept { return size_; }
  uint16_t in_flight() const noexcept { return wrap(uint32_t{tail_idx_} + size_ - clean_idx_); }
  uint16_t tail() const noexcept { return tail_idx_; }
  uint64_t zero_copy() const noexcept { return zero_copy_.get(); }
  uint64_t copied() const noexcept { return copied_.get(); }
  uint64_t tail_writes() const noexcept { return tail_.writes(); }

 private:
  // The frame itself when the device can read it in place, else a copy (`copied`), or nullptr
  // when no copy could be made (dropped NoBuffer).
  Packet* reachable(Packet* p, QueueCounters& c, bool& copied) noexcept;
  uint16_t wrap(uint32_t i) const noexcept { return static_cast<uint16_t>(i & (size_ - 1u)); }

  AdvTxDesc* ring_ = nullptr;
  uint16_t size_ = 0;
  uint16_t tail_idx_ = 0;   // next descriptor to write (the TDT value)
  uint16_t clean_idx_ = 0;  // oldest descriptor not yet given back
  Doorbell tail_;
  TxRingConfig cfg_;
  BufferAddress addr_;
  std::unique_ptr<Packet*[]> frames_;  // in flight: the frame at its last descriptor, else null
  std::unique_ptr<uint16_t[]> rs_;     // FIFO of descriptors carrying RS
  uint16_t rs_head_ = 0, rs_count_ = 0;
  Counter zero_copy_;
  Counter copied_;
};

}  // namespace vsw::ports::intel
