// ports/memif/memif_tx.cc — TxRing: copying frames into the client's S2C buffers
// (memif.md §8 "S2C ring", §9, §10).
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ports/memif/memif_ring.h"
#include "ports/shm/frame_copy.h"

namespace vsw::ports::memif {

TxRing::TxRing(RingHeader* hdr, uint8_t log2, uint32_t max_segment_bytes, int eventfd)
    : hdr_(hdr),
      desc_(reinterpret_cast<Desc*>(reinterpret_cast<std::byte*>(hdr) + sizeof(RingHeader))),
      size_(static_cast<uint16_t>(1u << log2)),
      mask_(static_cast<uint16_t>(size_ - 1)),
      max_segment_bytes_(max_segment_bytes),
      eventfd_(eventfd) {}

void TxRing::reset() noexcept {
  // memif.md §6: both sides zero head/tail on connect (server at CONNECT).
  hdr_->head.store(0, std::memory_order_relaxed);
  hdr_->tail.store(0, std::memory_order_relaxed);
  tail_ = 0;
}

std::byte* TxRing::offered(std::span<const RegionView> regions, uint16_t slot, uint32_t& cap,
                           Violation& v) const noexcept {
  const Desc d = load_desc(&desc_[slot]);  // region/offset/capacity, read once
  if (d.region >= regions.size()) {
    v = Violation::BadRegion;
    return nullptr;
  }
  cap = std::min(d.length, max_segment_bytes_);
  if (cap == 0) {
    v = Violation::BadLength;
    return nullptr;
  }
  if (!regions[d.region].contains(d.offset, cap)) {
    v = Violation::BadBuffer;
    return nullptr;
  }
  return regions[d.region].base + d.offset;
}

TxRing::Copied TxRing::copy_frame(std::span<const RegionView> regions, const Packet* src,
                                  uint16_t head, uint16_t cur, Violation& v) noexcept {
  Copied r;
  uint32_t src_off = 0;
  uint16_t at = cur;
  // Every segment of the frame, into as many client buffers as it needs.
  while (src != nullptr) {
    if (at == head) return r;  // memif.md §8: out of slots mid-frame: nothing published
    const uint16_t slot = at & mask_;
    uint32_t cap = 0;
    std::byte* dst = offered(regions, slot, cap, v);
    if (dst == nullptr) return r;
    uint32_t fill = 0;
    while (fill < cap && src != nullptr) {
      const uint32_t chunk = std::min<uint32_t>(cap - fill, src->len - src_off);
      std::memcpy(dst + fill, src->data() + src_off, chunk);
      fill += chunk;
      src_off += chunk;
      if (src_off == src->len) {
        src = src->next;
        src_off = 0;
      }
    }
    // Only length and flags change; region/offset stay the client's (memif.md §8).
    Desc* out = &desc_[slot];
    out->length = fill;
    out->flags = src != nullptr ? kDescFlagNext : 0;
    ++at;
    r.bytes += fill;
  }
  r.ok = true;
  r.cur = at;
  return r;
}

uint16_t TxRing::transmit(std::span<const RegionView> regions, PacketBatch& batch,
                          QueueCounters& c, Violation& v) noexcept {
  // memif.md §8: on S2C the client's head marks empty buffers offered to vsw.
  const uint16_t head = hdr_->head.load(std::memory_order_acquire);
  const uint16_t n_pkts = batch.size();
  if (static_cast<uint16_t>(head - tail_) > size_) {  // memif.md §10
    v = Violation::BadHead;
    c.drop(DropReason::Invalid, n_pkts);
    batch.release_all();
    return 0;
  }
  // Locals, not members, in the loop: descriptor stores could alias them.
  const RegionView* const rv = regions.data();
  const uint32_t n_regions = static_cast<uint32_t>(regions.size());
  const uint32_t max_seg = max_segment_bytes_;
  const uint32_t mask = mask_;
  const uint32_t ring_size = size_;
  Desc* const desc = desc_;
  Packet* const* const first = batch.data();
  Packet* const* const last = first + n_pkts;
  Packet* const* it = first;
  uint16_t cur = tail_;
  uint64_t bytes = 0;
  // The release test folded into the copy loop: zero while every frame so far was a sole
  // segment of the first frame's owner (PacketBatch::sole_segment_bits).
  BufferOwner* const owner0 = n_pkts != 0 ? (*first)->owner : nullptr;
  uintptr_t not_sole = 0;
  while (it != last) {
    // A run of frames that fits the offered slots up to the end of the descriptor array (so
    // the inner loop walks descriptors without wrapping), taken while each frame is one
    // segment into one buffer; the first that is not goes to copy_frame().
    const uint32_t slot0 = cur & mask;
    const uint32_t run = std::min({static_cast<uint32_t>(last - it),
                                   static_cast<uint32_t>(static_cast<uint16_t>(head - cur)),
                                   ring_size - slot0});
    if (run == 0) break;  // ring full: head == cur
    Desc* const d0 = desc + slot0;
    Desc* d = d0;
    Packet* const* const run_end = it + run;
#pragma GCC unroll 2
    for (; it != run_end; ++it, ++d) {
      const Packet* src = *it;
      if (src->next != nullptr) break;
      // The checks of offered() (memif.md §10): region exists, capacity (clamped to the
      // negotiated size, memif.md §8) not zero, buffer inside its region ((u64)offset + cap
      // cannot wrap), frame fits (len - 1 < cap: a non-empty frame, so cap != 0 follows).
      const Desc o = load_desc(d);  // region/offset/capacity, read once
      const uint32_t region = o.region;
      const uint32_t len = src->len;
      const uint32_t cap = std::min(o.length, max_seg);
      if (region >= n_regions || len - 1 >= cap ||
          uint64_t{o.offset} + cap > rv[region].size) [[unlikely]] {
        break;
      }
      shm::copy_frame_bytes(rv[region].base + o.offset, src->data(), len);
      not_sole |= PacketBatch::sole_segment_bits(src, owner0);
      d->length = len;  // only length and flags change (memif.md §8)
      d->flags = 0;
      bytes += len;
    }
    cur = static_cast<uint16_t>(cur + (d - d0));
    if (it == run_end) continue;
    // A chain, a frame larger than one buffer, or an offered buffer that failed a check
    // (re-read and re-checked there). On failure the client never sees a partial frame.
    not_sole = 1;  // a frame outside the fast loop: release_all() decides
    const Copied r = copy_frame(regions, *it, head, cur, v);
    if (!r.ok) break;
    cur = r.cur;
    bytes += r.bytes;
    ++it;
  }
  const uint16_t sent = static_cast<uint16_t>(it - first);
  if (cur != tail_) {
    tail_ = cur;
    hdr_->tail.store(cur, std::memory_order_release);
    // memif.md §9: signal unless the client polls this ring.
    if ((hdr_->flags.load(std::memory_order_acquire) & kRingFlagMaskInt) == 0) {
      const uint64_t one = 1;
      if (::write(eventfd_, &one, sizeof(one)) == sizeof(one)) {
        interrupts_.store(interrupts_.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
      }
    }
  }
  const uint16_t dropped = n_pkts - sent;
  if (dropped != 0) {
    c.drop(v != Violation::None ? DropReason::Invalid : DropReason::TxFull, dropped);
  }
  c.packets.add(sent);
  c.bytes.add(bytes);
  // Frames not sent (it != last) were not tested: release_all() looks at them.
  if (not_sole == 0 && it == last) {
    batch.release_sole_segments(owner0);
  } else {
    batch.release_all();
  }
  return sent;
}

}  // namespace vsw::ports::memif
