// ports/virtio/tx_queue.cc — transmit: reclaim, post by reference (or copy), one publish
// (virtio 1.1 §2.6.13 "Supplying Buffers to The Device", §5.1.6.2 "Packet Transmission").
#include "ports/virtio/tx_queue.h"

#include <algorithm>
#include <cstring>

#include "dataplane/buffer_ownership.h"
#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::virtio {

uint16_t TxQueue::max_segments(uint16_t ring_size) noexcept {
  // A chain needs a descriptor per segment plus possibly one for the header; leave room for at
  // least two frames in flight. 64 segments hold a 64 KiB super-frame in 2 KiB buffers.
  return static_cast<uint16_t>(std::clamp<int>(ring_size / 2 - 1, 1, 64));
}

void TxQueue::attach(const RingArena& arena, const VringOffsets& v, uint64_t header_slots,
                     Doorbell bell, bool event_idx, const TxQueueConfig& cfg) {
  ring_.attach(arena, v, bell, event_idx);
  cfg_ = cfg;
  header_slots_ = arena.at(header_slots);
  header_slots_iova_ = arena.iova(header_slots);
  const uint16_t n = v.size;
  frames_ = std::make_unique<Packet*[]>(n);
  chain_ = std::make_unique<uint16_t[]>(n);
  chain_len_ = std::make_unique<uint16_t[]>(n);
  free_ = std::make_unique<uint16_t[]>(n);
  for (uint16_t i = 0; i < n; ++i) {
    frames_[i] = nullptr;
    chain_[i] = 0;
    chain_len_[i] = 0;
    free_[i] = static_cast<uint16_t>(n - 1 - i);
  }
  free_count_ = n;
}

void TxQueue::reclaim(QueueCounters& c) noexcept {
  const uint16_t pending = ring_.used_pending();
  const uint16_t n = ring_.size();
  for (uint16_t k = 0; k < pending; ++k) {
    const uint32_t id = ring_.used_at(k).id;
    if (id >= n || frames_[id] == nullptr) {  // not a chain vsw has in flight
      c.drop(DropReason::Invalid);
      continue;
    }
    Packet* p = frames_[id];
    frames_[id] = nullptr;
    uint16_t d = static_cast<uint16_t>(id);
    for (uint16_t j = 0; j < chain_len_[id]; ++j) {
      free_[free_count_++] = d;
      d = chain_[d];
    }
    // The device has read the frame (§2.6.8): its buffers may be reused now.
    release_packet(p);
  }
  ring_.consume(pending);
}

Packet* TxQueue::reachable(Packet* p, QueueCounters& c, bool& copied) noexcept {
  return device_reachable(p, *cfg_.pool, c, copied,
                          [this](const Packet* s) { return cfg_.dev->dma_address(s->data()); });
}

bool TxQueue::post(Packet* p) noexcept {
  const uint16_t hdr = cfg_.hdr_len;
  const uint32_t segs = chain_length(p);
  // Bytes before data() that are free headroom: a mempool buffer starts with its Packet header.
  const int32_t headroom =
      static_cast<int32_t>(p->data_off) -
      (p->base == reinterpret_cast<std::byte*>(p) ? static_cast<int32_t>(sizeof(Packet)) : 0);
  const bool in_headroom =
      p->refs.load(std::memory_order_relaxed) == 1 && !p->is_lent() && headroom >= hdr;
  const bool own_hdr_desc = !in_headroom || !cfg_.any_layout;
  const uint32_t need = segs + (own_hdr_desc ? 1 : 0);
  if (need > free_count_) return false;

  const uint16_t head = pop_desc();
  // §5.1.6.2: the header (offload request; num_buffers 0 on transmit) in front of the frame.
  std::byte* h = in_headroom ? p->data() - hdr : header_slots_ + uint64_t{head} * kHeaderSlotBytes;
  const uint64_t h_addr = in_headroom ? cfg_.dev->dma_address(h)
                                      : header_slots_iova_ + uint64_t{head} * kHeaderSlotBytes;
  const vnet::VirtioNetHdr vh = vnet::export_vnet(*p);
  std::memcpy(h, &vh, sizeof vh);
  if (hdr > sizeof vh) std::memset(h + sizeof vh, 0, hdr - sizeof vh);

  uint16_t cur = head;
  uint32_t written = 0;
  auto add = [&](uint64_t addr, uint32_t len) noexcept {
    if (written > 0) {
      const uint16_t d = pop_desc();
      ring_.desc(cur).flags = kDescFlagNext;
      ring_.desc(cur).next = d;
      chain_[cur] = d;
      cur = d;
    }
    ring_.desc(cur) = {addr, len, 0, 0};
    ++written;
  };
  const Packet* s = p;
  if (own_hdr_desc) {
    add(h_addr, hdr);
  } else {  // ANY_LAYOUT: header and first segment in one descriptor
    add(h_addr, hdr + s->len);
    s = s->next;
  }
  for (; s != nullptr; s = s->next) add(cfg_.dev->dma_address(s->data()), s->len);
  frames_[head] = p;
  chain_len_[head] = static_cast<uint16_t>(need);
  ring_.push_avail(head);
  return true;
}

uint16_t TxQueue::transmit(PacketBatch& batch, QueueCounters& c) noexcept {
  reclaim(c);
  uint16_t sent = 0;
  uint64_t bytes = 0;
  for (uint16_t i = 0; i < batch.size(); ++i) {
    bool copied = false;
    Packet* p = reachable(batch[i], c, copied);
    if (p == nullptr) continue;
    const uint32_t len = p->frame_len;
    if (!post(p)) {
      release_packet(p);
      c.drop(DropReason::TxFull);
      continue;
    }
    (copied ? copied_ : zero_copy_).add(1);
    ++sent;
    bytes += len;
  }
  batch.clear();
  ring_.publish_and_notify();
  c.packets.add(sent);
  c.bytes.add(bytes);
  return sent;
}

void TxQueue::release_all() noexcept {
  const uint16_t n = ring_.size();
  for (uint16_t i = 0; i < n; ++i) {
    if (frames_[i] == nullptr) continue;
    release_packet(frames_[i]);
    frames_[i] = nullptr;
  }
  for (uint16_t i = 0; i < n; ++i) free_[i] = static_cast<uint16_t>(n - 1 - i);
  free_count_ = n;
}

}  // namespace vsw::ports::virtio
