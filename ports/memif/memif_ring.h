// ports/memif/memif_ring.h — vsw's side of one memif ring: the fast path over client memory.
//
// RxRing consumes a C2S ring (client -> vsw) and lends the client's buffers to the switch:
// each slot has a vsw-private Packet header whose `base` points into the client's region, so a
// frame reaches its destination with exactly one copy (done by the destination port). The
// client never sees or writes a Packet header. Buffers go back to the client in one step: when
// every segment lent by the previous bursts has been released (release() counts them down, and
// release_bulk() a whole burst at once), the next receive() stores tail = everything consumed so
// far (memif.md §8, C2S). Both directions have a fast loop for the common one-descriptor frame
// with the same checks as the general path, which takes chains, runts and anything invalid.
//
// TxRing produces on an S2C ring (vsw -> client): it copies each frame, all its segments, into
// the empty buffers the client offered, chaining slots with kDescFlagNext when a frame does not
// fit one buffer, rolls back a frame that does not fit the free slots, and signals the client's
// eventfd once per burst unless the client masked interrupts (memif.md §8, §9).
//
// Every value read from shared memory is untrusted: descriptors are read once (load_desc) and
// checked against the region table (index, bounds, length) before any use; the client's head is
// checked against the ring size. A violation is reported through `Violation` and the ring must
// not be used again: the port disconnects the client (memif.md §10).
//
// Threads: receive() only on the worker owning the rx queue; release() by whoever drops the last
// reference of a lent packet, which with vsw's synchronous forwarding is that same worker before
// its next quiescent point (the buffer-ownership contract of dataplane/port.h: lent frames carry
// kPacketLent, and a port that keeps buffers past tx_burst copies them first).
// transmit() only under the tx lock of the queue mapped to this ring. Construction and reset on
// the control thread while the ring is not published.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "ports/memif/memif_protocol.h"
#include "ports/shm/range.h"

namespace vsw::ports::memif {

// Largest frame accepted from a client, and the longest descriptor chain (memif.md §10).
constexpr uint32_t kMaxFrameBytes = 65535;
constexpr uint32_t kMaxChainSegments = 64;
// A received frame must be at least an Ethernet header and its first segment must hold its
// first kMinHeadBytes (or all of it), so header parsing never reads past a client buffer.
constexpr uint32_t kMinFrameBytes = 14;
constexpr uint32_t kMinHeadBytes = 64;

// A client region as the fast path sees it.
struct RegionView {
  std::byte* base = nullptr;
  uint64_t size = 0;
  bool contains(uint64_t offset, uint64_t len) const noexcept {
    return shm::range_inside(offset, len, size);
  }
};

// Why a client is disconnected by the data path.
enum class Violation : uint8_t {
  None,
  BadHead,    // head moved more than a ring size away from tail
  BadRegion,  // descriptor names a region that does not exist
  BadBuffer,  // descriptor buffer not inside its region
  BadLength,  // descriptor length zero or above the buffer size
  BadChain,   // chain longer than allowed, or NEXT set on the last published slot
};
std::string_view violation_text(Violation v) noexcept;

class RxRing final : public BufferOwner {
 public:
  // `hdr` and `desc` point into a mapped region; `log2` was validated (1..14);
  // max_segment_bytes >= kMinHeadBytes (the buffer-size option's minimum; checked, fatal).
  RxRing(RingHeader* hdr, uint8_t log2, uint32_t max_segment_bytes, PortId port);
  RxRing(const RxRing&) = delete;
  RxRing& operator=(const RxRing&) = delete;

  // Worker owning the queue. Appends up to batch.room() frames; returns how many. Drops runt
  // frames (counted Invalid, slots returned). On a violation stops, sets `v`, counts Invalid,
  // and returns the frames taken before it.
  uint16_t receive(std::span<const RegionView> regions, PacketBatch& batch, QueueCounters& c,
                   Violation& v) noexcept {
    // Idle poll: nothing published since last time and nothing to hand back. Kept inline so an
    // idle queue costs a load and two compares.
    if (hdr_->head.load(std::memory_order_acquire) == last_head_ &&
        (outstanding_ != 0 || tail_ == last_head_)) {
      return 0;
    }
    return receive_burst(regions, batch, c, v);
  }
  // Worker owning the queue, before it sleeps (Port::enable_rx_wakeup): clears MASK_INT so the
  // client signals the ring's eventfd after its next burst (memif.md §9), then looks at head
  // again. False when there is work already (receive() would not return at once).
  bool enable_interrupts() noexcept {
    // The RMW is a full barrier: the head load below cannot pass it (pairs with the client's
    // head store and flags load; the store-buffer pattern, quiescent.h).
    hdr_->flags.fetch_and(static_cast<uint16_t>(~kRingFlagMaskInt), std::memory_order_seq_cst);
    return hdr_->head.load(std::memory_order_seq_cst) == last_head_ &&
           (outstanding_ != 0 || tail_ == last_head_);
  }
  // Worker owning the queue, after waking: the client stops signalling (vsw polls again).
  void disable_interrupts() noexcept {
    hdr_->flags.fetch_or(kRingFlagMaskInt, std::memory_order_relaxed);
  }
  // Last reference of a lent segment dropped: one fewer outstanding.
  void release(Packet* p) noexcept override;
  // Last references of n lent single-segment frames dropped (PacketBatch::release_all, e.g. at
  // the end of the other port's tx_burst): n fewer outstanding, one call for the burst.
  void release_bulk(Packet* const* pkts, uint16_t n) noexcept override;

  // Control thread, ring unpublished: zero both indices and mask interrupts (vsw polls C2S
  // rings, memif.md §9), forget anything lent.
  void reset() noexcept;
  uint16_t size() const noexcept { return size_; }
  uint32_t outstanding() const noexcept { return outstanding_; }

  // The work of receive() once something changed (memif_rx.cc).
  uint16_t receive_burst(std::span<const RegionView> regions, PacketBatch& batch,
                         QueueCounters& c, Violation& v) noexcept;
  RingHeader* header() const noexcept { return hdr_; }

 private:
  struct Taken {
    Packet* first = nullptr;  // the frame, or nullptr (runt dropped, or violation)
    uint16_t cur = 0;         // the slot after the frame (taken or dropped)
    uint16_t segs = 0;        // slots it occupies
  };
  // One frame starting at `cur` with every check, any number of segments (the slow path of
  // receive_burst: chains, runts, violations). On a violation sets `v`; `cur` is then
  // meaningless and nothing of the frame is consumed.
  [[gnu::noinline]] Taken take_frame(const RegionView* regions, uint32_t n_regions,
                                     uint16_t head, uint16_t cur, Violation& v) noexcept;

  RingHeader* hdr_;
  Desc* desc_;
  uint16_t size_;
  uint16_t mask_;
  uint32_t max_segment_bytes_;
  uint32_t fast_extra_bytes_;  // a lone segment of kMinFrameBytes + [0, this] bytes is a frame
  PortId port_;
  uint16_t last_head_ = 0;    // next slot to consume
  uint16_t tail_ = 0;         // slots before this were returned to the client
  uint32_t outstanding_ = 0;  // lent segments not yet released
  // One header per slot, vsw-private. Set once at construction: owner, slot, flags (kPacketLent),
  // in_port, data_off (0), iova (0) and the offload fields (none); receive sets base, lengths and
  // refs. Holders of a lent frame therefore must not change those fields (they never need to:
  // lent bytes are read-only, port.h); next is nullptr whenever the slot is not lent.
  std::unique_ptr<Packet[]> pkts_;
};

class TxRing {
 public:
  TxRing(RingHeader* hdr, uint8_t log2, uint32_t max_segment_bytes, int eventfd);
  TxRing(const TxRing&) = delete;
  TxRing& operator=(const TxRing&) = delete;

  // Tx lock of the queue mapped to this ring held. Takes ownership of every packet in `batch`
  // (leaves it empty); returns how many frames reached the client. Frames without room are
  // counted TxFull; on a violation the rest of the batch is counted Invalid and `v` is set.
  uint16_t transmit(std::span<const RegionView> regions, PacketBatch& batch, QueueCounters& c,
                    Violation& v) noexcept;

  // Control thread, ring unpublished: zero both indices.
  void reset() noexcept;
  uint16_t size() const noexcept { return size_; }
  RingHeader* header() const noexcept { return hdr_; }
  uint64_t interrupts() const noexcept { return interrupts_.load(std::memory_order_relaxed); }

 private:
  // The buffer the client offered in `slot`, checked before use (memif.md §10); nullptr and `v`
  // set when it is not inside the client's memory. `cap`: capacity as offered, clamped to the
  // negotiated buffer size (memif.md §8).
  std::byte* offered(std::span<const RegionView> regions, uint16_t slot, uint32_t& cap,
                     Violation& v) const noexcept;
  struct Copied {
    bool ok = false;    // the whole frame went in
    uint16_t cur = 0;   // then: the slot after its last one
    uint32_t bytes = 0;
  };
  // The general path of transmit(): any number of source segments into as many offered buffers
  // as needed, from slot `cur`. Not ok when the ring fills mid-frame or an offered buffer is
  // invalid (`v` set); nothing is published then.
  [[gnu::noinline]] Copied copy_frame(std::span<const RegionView> regions, const Packet* src,
                                      uint16_t head, uint16_t cur, Violation& v) noexcept;

  RingHeader* hdr_;
  Desc* desc_;
  uint16_t size_;
  uint16_t mask_;
  uint32_t max_segment_bytes_;
  int eventfd_;
  uint16_t tail_ = 0;  // next slot to fill (vsw private copy of ring tail)
  std::atomic<uint64_t> interrupts_{0};  // single writer (tx lock holder)
};

}  // namespace vsw::ports::memif
