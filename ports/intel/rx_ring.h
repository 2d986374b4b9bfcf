// ports/intel/rx_ring.h — one receive ring of advanced descriptors (82599 §7.1.6, 82576
// §7.1.5), shared by both families: the device DMAs frames straight into mempool buffers and
// writes each descriptor back with DD set; receive() hands the frames to the bridge.
//
//   descriptor i:  read format { pkt_addr = dma(buffer i data()), hdr_addr = 0 }
//                  write-back  { status DD [EOP], length }   -> Packet (chained when EOP clear)
//
// Ownership of the ring (fact sheet §3): the device owns descriptors from RDH up to RDT - 1.
// Software keeps RDT one behind the next descriptor it will look at (ixy): after start() RDT =
// N - 1, afterwards RDT = the last descriptor refilled. So the device never catches up with a
// descriptor software has not refilled, and RDT never passes RDH from behind.
//
// receive(): walks descriptors while DD is set, up to one batch of frames; a frame whose
// descriptors are not all written back yet (no EOP seen) stays for the next call. Each consumed
// descriptor gets a fresh buffer at once, from a per-ring stash topped up to 32 with one mempool
// call at the start of the burst, its device address by BufferAddress (an addition, no lookup),
// and the batch ends with one RDT write. The common frame (one descriptor: DD | EOP, no error)
// takes a loop that loads each status once; anything else goes through receive_chain(). When the pool cannot give buffers, the frames stay
// in the ring (the device then counts missed packets, MPC, folded in as no_buffer drops) and
// no_buffer_events() counts the event.
//
// Frames longer than one buffer (jumbo frames, or standard frames with 2 KiB pool buffers whose
// 1920-byte data room holds one 1 KiB device buffer) span several descriptors; they become a
// Packet chain (next, frame_len), one segment per descriptor, at most kMaxFrameDescriptors.
//
// Checksum status (when the device checked the L4 checksum and found it good) sets
// kPacketCsumValid. Frames with a MAC error (RXE), or longer than kMaxFrameDescriptors, are
// dropped and counted Invalid.
//
// Threads: receive() only by the worker owning the queue; attach/prefill/start/release_all on
// the control thread while no worker polls.
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

struct RxRingConfig {
  pci::PciDevice* dev = nullptr;  // dma_address()
  Mempool* pool = nullptr;
  PortId port = kNoPort;
  uint32_t buffer_bytes = 1024;  // what the device writes per descriptor (SRRCTL.BSIZEPACKET)
};

class RxRing {
 public:
  static constexpr uint16_t kMaxFrameDescriptors = 32;

  RxRing() = default;
  RxRing(const RxRing&) = delete;
  RxRing& operator=(const RxRing&) = delete;
  ~RxRing() { release_all(); }

  // Control thread: `ring` (size descriptors, in DMA memory) and its tail register.
  void attach(AdvRxDesc* ring, uint16_t size, pci::BarAccess* bar, uint32_t tail_offset,
              const RxRingConfig& cfg);
  // Control thread: a buffer in every descriptor (read format). ResourceExhausted when the pool
  // has too few.
  Status prefill();
  // Control thread, once the device enabled the queue: RDT = N - 1 (fact sheet §2 step 10).
  void start() noexcept;

  // Worker: appends up to batch.room() frames; returns how many.
  uint16_t receive(PacketBatch& batch, QueueCounters& c) noexcept;

  // Control thread, after the device was reset: every buffer back to the pool.
  void release_all() noexcept;

  // Worker: the device has written back the descriptor receive() looks at next (DD), i.e. a
  // frame (or the start of one) waits. The re-check after arming the queue's MSI-X vector.
  bool frame_waiting() const noexcept {
    return (__atomic_load_n(&ring_[next_].wb.status_error, __ATOMIC_ACQUIRE) & kRxStatusDd) != 0;
  }

  uint16_t size() const noexcept { return size_; }
  uint16_t next() const noexcept { return next_; }  // the next descriptor looked at
  uint64_t no_buffer_events() const noexcept { return no_buffer_.get(); }
  uint64_t tail_writes() const noexcept { return tail_.writes(); }

 private:
  enum class Chain : uint8_t { Frame, Dropped, Incomplete, NoBuffer };
  // The general path: the frame starting at descriptor `next`, whatever its descriptors say
  // (several, an error, the tail of a dropped frame), `sn` buffers in the stash (both the
  // caller's locals, updated). Frame: `head` set, `next` past it; Dropped: consumed and counted;
  // Incomplete / NoBuffer: nothing consumed, stop the burst.
  Chain receive_chain(uint32_t& next, uint16_t& sn, QueueCounters& c, Packet*& head) noexcept;
  void post(uint16_t i, Packet* p) noexcept;
  // Makes sure the stash holds `n` buffers; false when the pool cannot give them.
  bool stock(uint16_t n) noexcept;
  uint16_t wrap(uint32_t i) const noexcept { return static_cast<uint16_t>(i & (size_ - 1u)); }

  AdvRxDesc* ring_ = nullptr;
  uint16_t size_ = 0;
  uint16_t next_ = 0;
  Doorbell tail_;
  RxRingConfig cfg_;
  BufferAddress addr_;
  std::unique_ptr<Packet*[]> bufs_;      // per descriptor: its buffer
  Packet* stash_[Mempool::kBurst] = {};  // fresh buffers not yet posted
  uint16_t stash_n_ = 0;
  bool discarding_ = false;  // inside a frame longer than kMaxFrameDescriptors
  Counter no_buffer_;
};

}  // namespace vsw::ports::intel
