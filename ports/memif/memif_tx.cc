// ports/memif/memif_tx.cc — TxRing: copying frames into the client's S2C buffers
// (memif.md §8 "S2C ring", §9, §10).
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ports/memif/memif_ring.h"

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
  const uint32_t n_regions = static_cast<uint32_t>(regions.size());
  // The buffer the client offered in `slot`, checked before use (memif.md §10); nullptr and `v`
  // set when it is not inside the client's memory. Capacity as offered, clamped to the
  // negotiated buffer size (memif.md §8).
  auto offered = [&](uint16_t slot, uint32_t& cap) noexcept -> std::byte* {
    const Desc d = load_desc(&desc_[slot]);  // region/offset/capacity, read once
    if (d.region >= n_regions) {
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
  };
  uint16_t cur = tail_;
  uint16_t sent = 0;
  uint64_t bytes = 0;
  for (; sent < n_pkts; ++sent) {
    const Packet* src = batch[sent];
    if (cur == head) break;  // ring full
    if (src->next == nullptr) {
      // The common case: one segment that fits the next offered buffer.
      const uint16_t slot = cur & mask_;
      uint32_t cap = 0;
      std::byte* dst = offered(slot, cap);
      if (dst == nullptr) break;
      if (src->len <= cap) {
        std::memcpy(dst, src->data(), src->len);
        desc_[slot].length = src->len;  // only length and flags change (memif.md §8)
        desc_[slot].flags = 0;
        ++cur;
        bytes += src->len;
        continue;
      }
    }
    uint32_t src_off = 0;
    const uint16_t frame_start = cur;
    uint32_t frame_bytes = 0;
    bool fits = true;
    // Every segment of the frame, into as many client buffers as it needs.
    while (src != nullptr) {
      if (cur == head) {
        fits = false;  // memif.md §8: out of slots mid-frame: roll back to the frame start
        break;
      }
      const uint16_t slot = cur & mask_;
      uint32_t cap = 0;
      std::byte* dst = offered(slot, cap);
      if (dst == nullptr) break;
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
      ++cur;
      frame_bytes += fill;
    }
    if (v != Violation::None || !fits) {
      cur = frame_start;  // the client never sees a partial frame
      break;
    }
    bytes += frame_bytes;
  }
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
  batch.release_all();
  return sent;
}

}  // namespace vsw::ports::memif
