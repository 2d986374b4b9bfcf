// ports/vhost_user/guest_tx_queue.cc — GuestTxQueue: taking the frames a guest transmits by
// lending its buffers (virtio 1.1 §2.6.12 device side, §5.1.6.2; vhost-user.md §7 step 3, §8).
#include "ports/vhost_user/guest_tx_queue.h"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <new>

#include "dataplane/mempool.h"
#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::vhost_user {

using virtio::VringUsedElem;

namespace {

// Resets the offload metadata of a lent header in one store: flags = kPacketLent, gso_type =
// None (the other offload fields mean nothing then, dataplane/packet.h).
inline void reset_lent_offload(Packet* p) noexcept {
  const uint16_t word = kPacketLent;  // flags in the low byte, gso_type (None) in the high one
  std::memcpy(&p->flags, &word, sizeof word);
}

}  // namespace

Status GuestTxQueue::start(const GuestMemory* mem, const QueueConfig& cfg) {
  if (Status st = check_queue_config(mem, cfg); !st) return st;
  if (capacity_ < cfg.size) {
    slots_.reset(new (std::nothrow) Packet[cfg.size]);
    if (slots_ == nullptr) {
      capacity_ = 0;
      return make_error(Errc::ResourceExhausted, "no memory for {} packet headers", cfg.size);
    }
    capacity_ = cfg.size;
  }
  if (chain_ == nullptr) {
    chain_.reset(new (std::nothrow) Packet[kChainHeaders]);
    chain_free_.reset(new (std::nothrow) Packet*[kChainHeaders]);
    if (chain_ == nullptr || chain_free_ == nullptr) {
      chain_.reset();
      return make_error(Errc::ResourceExhausted, "no memory for chain packet headers");
    }
  }
  mem_ = mem;
  desc_ = cfg.desc;
  avail_ = cfg.avail;
  used_ = cfg.used;
  size_ = cfg.size;
  mask_ = static_cast<uint16_t>(cfg.size - 1);
  hdr_len_ = cfg.hdr_len;
  indirect_ = cfg.indirect;
  host_csum_ = cfg.host_csum;
  host_tso4_ = cfg.host_tso4;
  host_tso6_ = cfg.host_tso6;
  host_ecn_ = cfg.host_ecn;
  host_uso_ = cfg.host_uso;
  pool_ = cfg.pool;
  port_ = cfg.port;
  // The fields that are the same every time a header is lent are set here, once.
  auto init = [this](Packet& p, uint32_t slot) {
    p.iova = 0;  // guest memory is not DMA-capable: ports that keep buffers must copy
    p.owner = this;
    p.next = nullptr;
    p.slot = slot;
    p.data_off = 0;
    p.in_port = port_;
    p.flags = kPacketLent;  // valid only until the worker's next quiescent point (port.h)
    p.gso_type = GsoType::None;
    p.refs.store(1, std::memory_order_relaxed);
  };
  for (uint32_t i = 0; i < size_; ++i) init(slots_[i], i);
  for (uint32_t i = 0; i < kChainHeaders; ++i) {
    init(chain_[i], kChainSlot + i);
    chain_free_[i] = &chain_[kChainHeaders - 1 - i];
  }
  chain_free_count_ = kChainHeaders;
  outstanding_ = 0;
  // vhost-user.md §8 (DPDK's rule): used->idx is the truth when it disagrees with
  // SET_VRING_BASE — vsw restarted under a running guest and lost its own count.
  const uint16_t used_idx = virtio::load_acquire(&used_->idx);
  resynced_ = used_idx != cfg.last_avail;
  last_avail_ = last_used_ = resynced_ ? used_idx : cfg.last_avail;
  notifier_.start(cfg.call_fd, cfg.event_idx, avail_, used_, size_, last_avail_);
  started_ = true;
  return ok();
}

uint16_t GuestTxQueue::stop() noexcept {
  if (!started_) return last_avail_;
  VSW_ASSERT(outstanding_ == 0);
  if (last_used_ != last_avail_) {
    last_used_ = last_avail_;
    virtio::store_release(&used_->idx, last_used_);
  }
  outstanding_ = 0;
  started_ = false;
  return last_avail_;
}

void GuestTxQueue::release(Packet* p) noexcept {
  --outstanding_;
  if (p->slot >= kChainSlot) chain_free_[chain_free_count_++] = p;
}

void GuestTxQueue::release_bulk(Packet* const* pkts, uint16_t n) noexcept {
  // Single-segment frames only (BufferOwner contract): their one segment is a slot header,
  // since a lent frame never starts with a chain header.
  (void)pkts;
  outstanding_ -= n;
}

void GuestTxQueue::publish() noexcept {
  last_used_ = last_avail_;
  // The used entries written when the frames were taken become visible before the index
  // (virtio 1.1 §2.6.8.2: the device writes the ring entry, then updates idx).
  virtio::store_release(&used_->idx, last_used_);
  notifier_.notify(last_used_);
}

bool GuestTxQueue::offloads_allowed(const vnet::VirtioNetHdr& h) const noexcept {
  // virtio 1.1 §5.1.6.2: a driver asks for an offload only if its feature was negotiated.
  if ((h.flags & vnet::kVnetFlagNeedsCsum) != 0 && !host_csum_) return false;
  const bool ecn = (h.gso_type & vnet::kVnetGsoEcn) != 0;
  if (ecn && !host_ecn_) return false;
  switch (h.gso_type & static_cast<uint8_t>(~vnet::kVnetGsoEcn)) {
    case vnet::kVnetGsoNone: return !ecn;
    case vnet::kVnetGsoTcpv4: return host_tso4_;
    case vnet::kVnetGsoTcpv6: return host_tso6_;
    case vnet::kVnetGsoUdpL4: return host_uso_;
    default: return false;  // UFO (never offered) and unknown types
  }
}

Packet* GuestTxQueue::copy_to_pool(PieceCursor& cur, uint32_t bytes, uint32_t frame_len) noexcept {
  if (pool_ == nullptr) return nullptr;
  const uint32_t room = pool_->data_room();
  Packet* first = nullptr;
  Packet* last = nullptr;
  while (bytes != 0) {
    Packet* b = nullptr;
    if (pool_->alloc(&b, 1) != 1) {
      if (first != nullptr) release_packet(first);
      return nullptr;
    }
    const uint32_t chunk = std::min(bytes, room);
    cur.gather(b->data(), chunk);
    b->len = static_cast<uint16_t>(chunk);
    (last == nullptr ? first : last->next) = b;
    last = b;
    bytes -= chunk;
  }
  first->frame_len = frame_len;
  first->in_port = port_;
  return first;
}

GuestTxQueue::Taken GuestTxQueue::build_frame(Packet* head, PieceCursor cur, uint32_t frame_len,
                                              const vnet::VirtioNetHdr& h) noexcept {
  Taken t;
  const bool gso = h.gso_type != vnet::kVnetGsoNone;
  const bool copy_head = gso || cur.left_in_piece() < std::min(frame_len, kMinHeadBytes);
  Packet* frame;
  uint32_t remaining;
  if (copy_head) {
    const uint32_t n = std::min(frame_len, kHeadCopyBytes);
    frame = copy_to_pool(cur, n, frame_len);
    if (frame == nullptr) {
      t.drop = DropReason::NoBuffer;
      return t;
    }
    remaining = frame_len - n;
  } else {
    const uint32_t n = cur.left_in_piece() < frame_len ? cur.left_in_piece() : frame_len;
    head->base = cur.here();
    head->buf_len = n;
    head->len = static_cast<uint16_t>(n);
    head->frame_len = frame_len;
    head->refs.store(1, std::memory_order_relaxed);
    reset_lent_offload(head);
    cur.advance(n);
    frame = head;
    t.lent = 1;
    remaining = frame_len - n;
  }
  // The header was copied out of guest memory before this; import_vnet parses the frame's own
  // headers in the first segment (a mempool copy for every super-frame).
  if ((h.flags | h.gso_type) != 0 && vnet::import_vnet(h, *frame) != vnet::ImportStatus::Ok) {
    if (copy_head) release_packet(frame);
    t.lent = 0;
    return t;  // Invalid
  }
  Packet* last = frame;
  while (last->next != nullptr) last = last->next;
  if (remaining != 0) {
    const uint32_t tail_pieces = cur.count - cur.index;
    if (tail_pieces <= chain_free_count_) {
      // The rest stays in guest memory: one chain header per remaining piece.
      while (!cur.at_end()) {
        Packet* s = chain_free_[--chain_free_count_];
        const uint32_t n = cur.left_in_piece();
        s->base = cur.here();
        s->buf_len = n;
        s->len = static_cast<uint16_t>(n);
        s->frame_len = 0;
        s->refs.store(1, std::memory_order_relaxed);
        cur.advance(n);
        last->next = s;
        last = s;
      }
      t.lent += tail_pieces;
      frame->flags |= kPacketLent;
    } else {
      // Chain headers short: the rest is copied (the copy fallback).
      Packet* tail = copy_to_pool(cur, remaining, 0);
      if (tail == nullptr) {
        if (copy_head) release_packet(frame);
        t.lent = 0;
        t.drop = DropReason::NoBuffer;
        return t;
      }
      last->next = tail;
    }
  }
  t.frame = frame;
  return t;
}

GuestTxQueue::Taken GuestTxQueue::take_frame(uint32_t slot, Violation& v) noexcept {
  Taken t;
  const uint16_t head = virtio::load_relaxed(&avail_->ring[slot]);  // read once
  if (head >= size_) {
    v = Violation::BadHead;
    return t;
  }
  BufferPiece pieces[kMaxFramePieces];
  ChainWalk w;
  const uint64_t limit = uint64_t{hdr_len_} + kMaxGuestFrameBytes;
  v = walk_chain(ChainRing{mem_, desc_, size_, indirect_}, head, Access::DeviceReads, limit + 1,
                 pieces, kMaxFramePieces, w);
  if (v != Violation::None) return t;
  // The chain is taken whatever happens to the frame: it goes back with the next publish().
  used_->ring[slot] = VringUsedElem{head, 0};
  if (w.too_many || w.bytes > limit || w.bytes < uint64_t{hdr_len_} + kMinGuestFrameBytes) {
    return t;  // Invalid: vhost-user.md §8, DPDK drops buf_len <= hdr_len
  }
  PieceCursor cur(pieces, w.pieces);
  // virtio 1.1 §5.1.6.2: the header is the chain's first hdr_len bytes, wherever they lie; it is
  // copied out of guest memory once and only the copy is looked at (num_buffers is unused on tx).
  std::byte raw[12] = {};
  cur.gather(raw, hdr_len_);
  vnet::VirtioNetHdr h;
  std::memcpy(&h, raw, sizeof h);
  if (!offloads_allowed(h)) return t;
  return build_frame(&slots_[slot], cur, static_cast<uint32_t>(w.bytes - hdr_len_), h);
}

uint16_t GuestTxQueue::receive_burst(uint16_t avail_idx, PacketBatch& batch, QueueCounters& c,
                                     Violation& v) noexcept {
  // Give back everything taken so far once nothing lent from it is held.
  if (outstanding_ == 0 && last_used_ != last_avail_) publish();
  // vhost-user.md §8: the guest may have at most `size` entries not yet used, and may not take
  // back entries vsw already took (that would lend a buffer twice).
  const uint16_t pending = static_cast<uint16_t>(avail_idx - last_used_);
  const uint16_t fresh = static_cast<uint16_t>(avail_idx - last_avail_);
  if (pending > size_ || fresh > pending) {
    v = Violation::BadAvailIndex;
    c.drop(DropReason::Invalid);
    return 0;
  }
  // Everything the loop updates lives in locals: stores into Packet headers or guest memory
  // could otherwise alias members and force reloads on every frame.
  const GuestMemory* const mem = mem_;
  const VringDesc* const desc = desc_;
  const uint16_t* const avail_ring = avail_->ring;
  VringUsedElem* const used_ring = used_->ring;
  Packet* const slots = slots_.get();
  const uint32_t mask = mask_;
  const uint32_t ring_size = size_;
  const uint32_t hdr = hdr_len_;
  const uint32_t min_len = hdr + kMinGuestFrameBytes;
  constexpr uint32_t kFastExtra = kMaxGuestFrameBytes - kMinGuestFrameBytes;
  Packet** const out = batch.data() + batch.size();
  const uint16_t room = batch.room();
  uint16_t cur = last_avail_;
  uint16_t taken = 0;
  uint32_t lent = 0;
  uint64_t bytes = 0;
  uint32_t drops[static_cast<size_t>(DropReason::Count)] = {};
  for (;;) {
    // A run of published entries, fitting the batch and before the end of the ring (so the inner
    // loop walks slots without wrapping), taken while each is a one-descriptor frame without
    // offloads; the first that is not goes to take_frame().
    const uint32_t slot0 = cur & mask;
    const uint32_t run = std::min({static_cast<uint32_t>(static_cast<uint16_t>(avail_idx - cur)),
                                   static_cast<uint32_t>(room - taken), ring_size - slot0});
    if (run == 0) break;
    const uint32_t end = slot0 + run;
    uint32_t slot = slot0;
    Packet** o = out + taken;
#pragma GCC unroll 2
    for (; slot != end; ++slot) {
      // The checks of take_frame() for this shape (vhost-user.md §8), each value read once:
      // head < size; flags 0 (no NEXT, INDIRECT or WRITE); hdr_len + 14 <= len <= hdr_len +
      // 65535 (one compare); [addr, addr + len) inside one region; the virtio-net header's
      // flags and gso_type zero (one 16-bit load: no offload, nothing else in it matters).
      const uint16_t head = virtio::load_relaxed(&avail_ring[slot]);
      if (head >= ring_size) [[unlikely]] break;
      const VringDesc d = virtio::load_desc(&desc[head]);
      if (d.flags != 0 || d.len - min_len > kFastExtra) [[unlikely]] break;
      std::byte* const host = mem->translate(d.addr, d.len);
      if (host == nullptr) [[unlikely]] break;
      uint16_t offload;  // flags and gso_type of the guest's header, any alignment
      std::memcpy(&offload, host, sizeof offload);
      if (offload != 0) [[unlikely]] break;
      // Constant fields were set at start; next is nullptr whenever a header is not lent.
      Packet* const p = slots + slot;
      const uint32_t len = d.len - hdr;
      p->base = host + hdr;
      p->buf_len = len;
      p->len = static_cast<uint16_t>(len);
      p->frame_len = len;
      p->refs.store(1, std::memory_order_relaxed);
      reset_lent_offload(p);
      used_ring[slot] = VringUsedElem{head, 0};  // published with used->idx, after the release
      *o++ = p;
      bytes += len;
    }
    const uint32_t k = slot - slot0;
    cur = static_cast<uint16_t>(cur + k);
    taken = static_cast<uint16_t>(taken + k);
    lent += k;
    if (slot == end) continue;
    // Chained, indirect, offloads, a runt or something invalid: the general path, one frame.
    const Taken t = take_frame(slot, v);
    if (v != Violation::None) break;
    ++cur;
    if (t.frame == nullptr) {
      ++drops[static_cast<size_t>(t.drop)];
      continue;
    }
    out[taken++] = t.frame;
    lent += t.lent;
    bytes += t.frame->frame_len;
  }
  if (cur != last_avail_) {
    last_avail_ = cur;
    notifier_.consumed(cur);
  }
  outstanding_ += lent;
  batch.set_size(static_cast<uint16_t>(batch.size() + taken));
  // Nothing of it lent (all dropped or copied): give it back now rather than at the next poll.
  if (outstanding_ == 0 && last_used_ != last_avail_) publish();
  if (v != Violation::None) [[unlikely]] c.drop(DropReason::Invalid);
  for (size_t r = 0; r < std::size(drops); ++r) {
    if (drops[r] != 0) [[unlikely]] c.drop(static_cast<DropReason>(r), drops[r]);
  }
  c.packets.add(taken);
  c.bytes.add(bytes);
  return taken;
}

}  // namespace vsw::ports::vhost_user
