// ports/memif/memif_rx.cc — RxRing: receiving from a C2S ring by lending client buffers
// (memif.md §8 "C2S ring", §10).
#include <algorithm>

#include "ports/memif/memif_ring.h"

namespace vsw::ports::memif {

std::string_view violation_text(Violation v) noexcept {
  switch (v) {
    case Violation::None: return "none";
    case Violation::BadHead: return "ring head out of range";
    case Violation::BadRegion: return "descriptor region out of range";
    case Violation::BadBuffer: return "descriptor buffer outside its region";
    case Violation::BadLength: return "descriptor length invalid";
    case Violation::BadChain: return "descriptor chain invalid";
  }
  return "unknown";
}

RxRing::RxRing(RingHeader* hdr, uint8_t log2, uint32_t max_segment_bytes, PortId port)
    : hdr_(hdr),
      desc_(reinterpret_cast<Desc*>(reinterpret_cast<std::byte*>(hdr) + sizeof(RingHeader))),
      size_(static_cast<uint16_t>(1u << log2)),
      mask_(static_cast<uint16_t>(size_ - 1)),
      max_segment_bytes_(max_segment_bytes),
      port_(port),
      pkts_(std::make_unique<Packet[]>(size_)) {
  for (uint32_t i = 0; i < size_; ++i) {
    Packet& p = pkts_[i];
    p.iova = 0;  // client memory is not DMA-capable: ports that keep buffers must copy
    p.flags = kPacketLent;  // valid only until the worker's next quiescent point (port.h)
    p.owner = this;
    p.slot = i;
    p.in_port = port_;
  }
}

void RxRing::reset() noexcept {
  // memif.md §6: both sides zero head/tail on connect (server at CONNECT).
  hdr_->head.store(0, std::memory_order_relaxed);
  hdr_->tail.store(0, std::memory_order_relaxed);
  // memif.md §9: the consumer of a ring it polls sets MASK_INT, so the client never signals.
  hdr_->flags.fetch_or(kRingFlagMaskInt, std::memory_order_relaxed);
  last_head_ = 0;
  tail_ = 0;
  outstanding_ = 0;
}

void RxRing::release(Packet* p) noexcept {
  (void)p;
  --outstanding_;
}

uint16_t RxRing::receive_burst(std::span<const RegionView> regions, PacketBatch& batch,
                               QueueCounters& c, Violation& v) noexcept {
  // Give back every slot consumed so far once nothing lent is still held (memif.md §8: the
  // server stores tail, release order).
  if (outstanding_ == 0 && tail_ != last_head_) {
    tail_ = last_head_;
    hdr_->tail.store(tail_, std::memory_order_release);
  }
  const uint16_t head = hdr_->head.load(std::memory_order_acquire);
  // memif.md §10: a peer may advertise more than a ring can hold, or move head back behind
  // slots vsw already took (which would lend a buffer still in use a second time; found by
  // fuzz/memif_ring_fuzz.cc); never trust it.
  if (static_cast<uint16_t>(head - tail_) > size_ ||
      static_cast<uint16_t>(head - tail_) < static_cast<uint16_t>(last_head_ - tail_)) {
    v = Violation::BadHead;
    c.drop(DropReason::Invalid);
    return 0;
  }
  const uint32_t n_regions = static_cast<uint32_t>(regions.size());
  uint16_t cur = last_head_;
  uint16_t taken = 0;
  uint16_t runts = 0;
  uint64_t bytes = 0;
  while (batch.room() != 0 && cur != head) {
    Packet* first = nullptr;
    Packet* prev = nullptr;
    uint32_t total = 0;
    uint32_t segs = 0;
    for (;;) {
      if (cur == head || segs == kMaxChainSegments) {
        // memif.md §8: NEXT on the last published slot is an error, not a reason to wait.
        v = Violation::BadChain;
        break;
      }
      const uint16_t slot = cur & mask_;
      const Desc d = load_desc(&desc_[slot]);  // read once, then only the copy is used
      ++cur;
      ++segs;
      if (d.region >= n_regions) {
        v = Violation::BadRegion;
        break;
      }
      if (d.length == 0 || d.length > max_segment_bytes_) {
        v = Violation::BadLength;
        break;
      }
      const RegionView& r = regions[d.region];
      if (!r.contains(d.offset, d.length)) {  // memif.md §10: (u64)offset + length <= size
        v = Violation::BadBuffer;
        break;
      }
      Packet* p = &pkts_[slot];
      p->base = r.base + d.offset;
      p->buf_len = d.length;
      p->data_off = 0;
      p->len = static_cast<uint16_t>(d.length);
      p->next = nullptr;
      p->refs.store(1, std::memory_order_relaxed);
      if (prev != nullptr) {
        prev->next = p;
      } else {
        first = p;
      }
      prev = p;
      total += d.length;
      if ((d.flags & kDescFlagNext) == 0) break;
    }
    if (v != Violation::None) break;
    last_head_ = cur;
    if (total < kMinFrameBytes || total > kMaxFrameBytes ||
        first->len < std::min(total, kMinHeadBytes)) {
      ++runts;  // well-formed descriptors, unusable frame: drop it, its slots go back
      continue;
    }
    first->frame_len = total;
    first->in_port = port_;
    outstanding_ += segs;
    batch.push(first);
    ++taken;
    bytes += total;
  }
  if (v != Violation::None) c.drop(DropReason::Invalid);
  if (runts != 0) c.drop(DropReason::Invalid, runts);
  c.packets.add(taken);
  c.bytes.add(bytes);
  return taken;
}

}  // namespace vsw::ports::memif
