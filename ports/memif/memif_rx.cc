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
      // One segment is a whole frame when kMinFrameBytes <= length <= this bound (kMinHeadBytes
      // then holds by itself): the range the fast path of receive_burst() accepts.
      fast_extra_bytes_(std::min(max_segment_bytes, kMaxFrameBytes) - kMinFrameBytes),
      port_(port),
      pkts_(std::make_unique<Packet[]>(size_)) {
  VSW_CHECK(max_segment_bytes >= kMinHeadBytes, "memif buffer size below kMinHeadBytes");
  // The fields that are the same every time a slot is lent are set here, once (memif_ring.h).
  for (uint32_t i = 0; i < size_; ++i) {
    Packet& p = pkts_[i];
    p.iova = 0;  // client memory is not DMA-capable: ports that keep buffers must copy
    p.flags = kPacketLent;  // valid only until the worker's next quiescent point (port.h)
    p.owner = this;
    p.slot = i;
    p.data_off = 0;
    p.in_port = port_;
    p.next = nullptr;
    p.refs.store(1, std::memory_order_relaxed);
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
  for (uint32_t i = 0; i < size_; ++i) pkts_[i].next = nullptr;  // a dead ring's partial chain
}

void RxRing::release(Packet* p) noexcept {
  (void)p;
  --outstanding_;
}

void RxRing::release_bulk(Packet* const* pkts, uint16_t n) noexcept {
  (void)pkts;
  outstanding_ -= n;
}

RxRing::Taken RxRing::take_frame(const RegionView* regions, uint32_t n_regions, uint16_t head,
                                 uint16_t cur, Violation& v) noexcept {
  Taken t;
  Packet* prev = nullptr;
  uint16_t at = cur;
  uint32_t total = 0;
  for (;;) {
    if (at == head || t.segs == kMaxChainSegments) {
      // memif.md §8: NEXT on the last published slot is an error, not a reason to wait.
      v = Violation::BadChain;
      return t;
    }
    const uint16_t slot = at & mask_;
    const Desc d = load_desc(&desc_[slot]);  // read once, then only the copy is used
    ++at;
    ++t.segs;
    if (d.region >= n_regions) {
      v = Violation::BadRegion;
      return t;
    }
    if (d.length == 0 || d.length > max_segment_bytes_) {
      v = Violation::BadLength;
      return t;
    }
    const RegionView& r = regions[d.region];
    if (!r.contains(d.offset, d.length)) {  // memif.md §10: (u64)offset + length <= size
      v = Violation::BadBuffer;
      return t;
    }
    Packet* p = &pkts_[slot];
    p->base = r.base + d.offset;
    p->buf_len = d.length;
    p->len = static_cast<uint16_t>(d.length);
    p->next = nullptr;
    p->refs.store(1, std::memory_order_relaxed);
    if (prev != nullptr) {
      prev->next = p;
    } else {
      t.first = p;
    }
    prev = p;
    total += d.length;
    if ((d.flags & kDescFlagNext) == 0) break;
  }
  t.cur = at;
  if (total < kMinFrameBytes || total > kMaxFrameBytes ||
      t.first->len < std::min(total, kMinHeadBytes)) {
    // Well-formed descriptors, unusable frame: dropped, its slots go back. The chain is undone
    // so that every slot not lent has next == nullptr.
    for (Packet* p = t.first; p != nullptr;) {
      Packet* next = p->next;
      p->next = nullptr;
      p = next;
    }
    t.first = nullptr;
    return t;
  }
  t.first->frame_len = total;
  return t;
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
  // Everything the loop updates lives in locals: stores into Packet headers could otherwise
  // alias members and the batch's size, forcing reloads on every frame.
  const RegionView* const rv = regions.data();
  const uint32_t n_regions = static_cast<uint32_t>(regions.size());
  // The fast path's combined flags/region compare needs n_regions <= 0xFFFF (kMaxRegions is
  // far below; a larger table would only send the last index the slow way).
  static_assert(kMaxRegions <= 0xFFFF);
  const uint32_t fast_regions = std::min<uint32_t>(n_regions, 0xFFFF);
  const uint32_t fast_extra = fast_extra_bytes_;
  const uint32_t mask = mask_;
  const uint32_t ring_size = size_;
  const Desc* const desc = desc_;
  Packet* const pkts = pkts_.get();
  Packet** const out = batch.data() + batch.size();
  const uint16_t room = batch.room();
  uint16_t cur = last_head_;
  uint16_t taken = 0;
  uint16_t runts = 0;
  uint32_t chained = 0;  // slots beyond the first of the chained frames taken
  uint64_t bytes = 0;
  for (;;) {
    // A run of slots published, fitting the batch and before the end of the descriptor array
    // (so the inner loop walks descriptors and headers without wrapping), taken while each
    // descriptor is a whole frame; the first that is not goes to take_frame().
    const uint32_t slot0 = cur & mask;
    const uint32_t run = std::min({static_cast<uint32_t>(static_cast<uint16_t>(head - cur)),
                                   static_cast<uint32_t>(room - taken), ring_size - slot0});
    if (run == 0) break;  // ring drained or batch full
    const Desc* const d0 = desc + slot0;
    const Desc* const d_end = d0 + run;
    const Desc* dp = d0;
    Packet* p = pkts + slot0;
    Packet** o = out + taken;
#pragma GCC unroll 2
    for (; dp != d_end; ++dp, ++p) {
      const Desc d = load_desc(dp);  // read once, then only the copy is used
      // The checks of take_frame() for a lone segment (memif.md §10), cheapest first: flags
      // zero (NEXT clear; memif.md §7 defines no other bit, set ones just go the slow way) and
      // region exists, in one compare of region | flags << 16; kMinFrameBytes <= length <=
      // buffer size (not zero, not a runt); buffer inside its region ((u64)offset + length
      // cannot wrap). take_frame() sorts out any failure.
      const uint32_t region = uint32_t{d.region} | uint32_t{d.flags} << 16;
      if (region >= fast_regions || d.length - kMinFrameBytes > fast_extra) [[unlikely]] break;
      const RegionView& r = rv[region];
      if (uint64_t{d.offset} + d.length > r.size) [[unlikely]] break;
      // Constant per-slot fields (owner, slot, flags, in_port, data_off, iova) were set at
      // construction, and next is nullptr in every slot not lent (release_packet, take_frame
      // and reset keep it so). refs is stored: the last of two racing releases leaves it 0.
      p->base = r.base + d.offset;
      p->buf_len = d.length;
      p->len = static_cast<uint16_t>(d.length);
      p->frame_len = d.length;
      p->refs.store(1, std::memory_order_relaxed);
      *o++ = p;
      bytes += d.length;
    }
    const uint32_t k = static_cast<uint32_t>(dp - d0);
    cur = static_cast<uint16_t>(cur + k);
    taken = static_cast<uint16_t>(taken + k);
    if (dp == d_end) continue;
    // Chained, runt or invalid: the general path, one frame.
    const Taken t = take_frame(rv, n_regions, head, cur, v);
    if (v != Violation::None) break;
    cur = t.cur;
    if (t.first == nullptr) {
      ++runts;
      continue;
    }
    out[taken++] = t.first;
    chained += t.segs - 1u;
    bytes += t.first->frame_len;
  }
  last_head_ = cur;
  outstanding_ += taken + chained;
  batch.set_size(static_cast<uint16_t>(batch.size() + taken));
  if (v != Violation::None) [[unlikely]] c.drop(DropReason::Invalid);
  if (runts != 0) [[unlikely]] c.drop(DropReason::Invalid, runts);
  c.packets.add(taken);
  c.bytes.add(bytes);
  return taken;
}

}  // namespace vsw::ports::memif
