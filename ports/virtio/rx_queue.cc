// ports/virtio/rx_queue.cc — receive: used entries -> Packets, then a batched refill
// (virtio 1.1 §2.6.8 used ring, §5.1.6.3 buffers, §5.1.6.4 MRG_RXBUF).
#include "ports/virtio/rx_queue.h"

#include <algorithm>
#include <cstring>

#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::virtio {

namespace {
constexpr uint32_t kMinFrameBytes = 14;   // an Ethernet header
constexpr uint32_t kNumBuffersOffset = 10;  // §5.1.6: le16 num_buffers after the 10-byte header
}  // namespace

void RxQueue::attach(const RingArena& arena, const VringOffsets& v, Doorbell bell, bool event_idx,
                     const RxQueueConfig& cfg) {
  ring_.attach(arena, v, bell, event_idx);
  cfg_ = cfg;
  slots_ = cfg.header_own_desc ? static_cast<uint16_t>(v.size / 2) : v.size;
  buf_room_ = cfg.pool->buffer_bytes() - kDefaultDataOffset + cfg.hdr_len;
  bufs_ = std::make_unique<Packet*[]>(slots_);
  free_ = std::make_unique<uint16_t[]>(slots_);
  for (uint16_t s = 0; s < slots_; ++s) {
    bufs_[s] = nullptr;
    free_[s] = static_cast<uint16_t>(slots_ - 1 - s);  // slot 0 is posted first
  }
  free_count_ = slots_;
}

int RxQueue::slot_of(uint32_t id) const noexcept {
  uint32_t s = id;
  if (cfg_.header_own_desc) {
    if ((id & 1u) != 0) return -1;
    s = id / 2;
  }
  return s < slots_ && bufs_[s] != nullptr ? static_cast<int>(s) : -1;
}

void RxQueue::post(uint16_t slot, Packet* p) noexcept {
  bufs_[slot] = p;
  // The header goes in the headroom right before data() (see the drawing in rx_queue.h).
  const uint64_t addr = cfg_.dev->dma_address(p->data() - cfg_.hdr_len);
  if (cfg_.header_own_desc) {
    // Fact sheet §6: without ANY_LAYOUT the header has a descriptor of its own.
    const uint16_t d = static_cast<uint16_t>(2 * slot);
    ring_.desc(d) = {addr, cfg_.hdr_len, static_cast<uint16_t>(kDescFlagWrite | kDescFlagNext),
                     static_cast<uint16_t>(d + 1)};
    ring_.desc(d + 1) = {addr + cfg_.hdr_len, buf_room_ - cfg_.hdr_len, kDescFlagWrite, 0};
    ring_.push_avail(d);
  } else {
    ring_.desc(slot) = {addr, buf_room_, kDescFlagWrite, 0};
    ring_.push_avail(slot);
  }
}

Packet* RxQueue::take(uint16_t slot) noexcept {
  Packet* p = bufs_[slot];
  bufs_[slot] = nullptr;
  free_[free_count_++] = slot;
  return p;
}

void RxQueue::refill() noexcept {
  const uint16_t threshold = std::min<uint16_t>(kRefillBatch, slots_);
  Packet* fresh[kRefillBatch];
  while (free_count_ >= threshold && free_count_ > 0) {
    const uint16_t want = std::min<uint16_t>(free_count_, kRefillBatch);
    const uint16_t got = cfg_.pool->alloc(fresh, want);
    for (uint16_t i = 0; i < got; ++i) post(free_[--free_count_], fresh[i]);
    if (got < want) {
      no_buffer_.add(1);
      break;
    }
  }
  ring_.publish_and_notify();  // one avail.idx store and at most one doorbell per refill
}

Status RxQueue::prefill() {
  Packet* fresh[kRefillBatch];
  while (free_count_ > 0) {
    const uint16_t want = std::min<uint16_t>(free_count_, kRefillBatch);
    const uint16_t got = cfg_.pool->alloc(fresh, want);
    for (uint16_t i = 0; i < got; ++i) post(free_[--free_count_], fresh[i]);
    if (got < want) {
      ring_.publish_and_notify();
      return make_error(Errc::ResourceExhausted,
                        "mempool '{}' has too few free buffers to fill a {}-entry receive queue",
                        cfg_.pool->name(), slots_);
    }
  }
  ring_.publish_and_notify();
  return ok();
}

void RxQueue::drop_invalid(Packet* head, QueueCounters& c) noexcept {
  release_packet(head);
  c.drop(DropReason::Invalid);
}

uint16_t RxQueue::receive(PacketBatch& batch, QueueCounters& c) noexcept {
  const uint16_t pending = ring_.used_pending();
  const uint16_t hdr = cfg_.hdr_len;
  const uint16_t room = batch.room();
  uint16_t k = 0;  // used entries consumed
  uint16_t n = 0;  // frames delivered
  uint64_t bytes = 0;
  while (k < pending && n < room) {
    const VringUsedElem e = ring_.used_at(k);
    const int s = slot_of(e.id);
    if (s < 0) {  // an id vsw never posted (or already got back): nothing to give back
      c.drop(DropReason::Invalid);
      ++k;
      continue;
    }
    Packet* head = bufs_[s];
    const std::byte* h = head->data() - hdr;
    uint16_t buffers = 1;
    if (cfg_.mergeable && e.len >= hdr) {
      std::memcpy(&buffers, h + kNumBuffersOffset, sizeof buffers);
      if (buffers == 0 || buffers > slots_) {
        drop_invalid(take(static_cast<uint16_t>(s)), c);
        ++k;
        continue;
      }
      if (static_cast<uint16_t>(pending - k) < buffers) break;  // the rest is not there yet
    }
    take(static_cast<uint16_t>(s));
    bool bad = e.len < hdr || e.len > buf_room_;
    head->data_off = kDefaultDataOffset;
    head->len = bad ? 0 : static_cast<uint16_t>(e.len - hdr);
    head->frame_len = head->len;
    head->in_port = cfg_.port;
    Packet* tail = head;
    for (uint16_t j = 1; j < buffers; ++j) {
      const VringUsedElem more = ring_.used_at(static_cast<uint16_t>(k + j));
      const int s2 = slot_of(more.id);
      if (s2 < 0) {
        bad = true;
        continue;
      }
      Packet* seg = take(static_cast<uint16_t>(s2));
      // Following buffers carry frame bytes from their descriptor start (no header).
      seg->data_off = static_cast<uint16_t>(kDefaultDataOffset - hdr);
      if (more.len == 0 || more.len > buf_room_) bad = true;
      seg->len = static_cast<uint16_t>(std::min(more.len, buf_room_));
      tail->next = seg;
      tail = seg;
      head->frame_len += seg->len;
    }
    k = static_cast<uint16_t>(k + buffers);
    if (bad || head->frame_len < kMinFrameBytes) {
      drop_invalid(head, c);
      continue;
    }
    if (cfg_.offloads) {
      vnet::VirtioNetHdr vh;
      std::memcpy(&vh, h, sizeof vh);
      if ((vh.flags | vh.gso_type) != 0 && vnet::import_vnet(vh, *head) != vnet::ImportStatus::Ok) {
        drop_invalid(head, c);
        continue;
      }
    }
    bytes += head->frame_len;
    batch.push(head);
    ++n;
  }
  ring_.consume(k);
  c.packets.add(n);
  c.bytes.add(bytes);
  refill();
  return n;
}

void RxQueue::release_all() noexcept {
  for (uint16_t s = 0; s < slots_; ++s) {
    if (bufs_[s] != nullptr) release_packet(take(s));
  }
}

}  // namespace vsw::ports::virtio
