// ports/vhost_user/guest_tx_queue.cc — GuestTxQueue: taking the frames a guest transmits by
// lending its buffers (virtio 1.1 §2.6.12 device side, §5.1.6.2; vhost-user.md §7 step 3, §8).
#include "ports/vhost_user/guest_tx_queue.h"

#include <unistd.h>

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
  kick_fd_ = cfg.kick_fd;
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
  notifier_.start(cfg.call_fd, cfg.event_idx, cfg.notify_on_empty, avail_, used_, size_,
                  last_avail_);
  hot_ = HotRegion{};
  if (mem->size() != 0) {
    const GuestRegion& r = mem->region(0);
    hot_ = HotRegion{r.gpa, r.host, r.size};
  }
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

void GuestTxQueue::disable_kicks(bool kicked) noexcept {
  notifier_.suppress_kicks(last_avail_);
  // poll(2) said the eventfd is readable and this worker is its only reader: the read returns
  // at once and leaves it quiet for the next sleep.
  if (kicked && kick_fd_ >= 0) {
    uint64_t count;
    (void)!::read(kick_fd_, &count, sizeof count);
  }
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
  if (offload_dirty_) {
    // Slot headers take_frame() gave offload metadata, all released now: back to the constant
    // state the fast loop relies on. Their positions cannot be taken again before this: a
    // position is reused only `size` entries later, which needs a publish first.
    for (uint16_t i = last_used_; i != last_avail_; ++i) reset_lent_offload(&slots_[i & mask_]);
    offload_dirty_ = false;
  }
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
  if (!copy_head && (h.flags | h.gso_type) != 0) offload_dirty_ = true;
  if ((h.flags | h.gso_type) != 0 && vnet::import_vnet(h, *frame) != vnet::ImportStatus::Ok) {
    if (copy_head) release_packet(frame);
    t.lent = 0;
    return t;  // Invalid
  }
  if (frame->is_gso()) super_frames_.add(1);  // the general path only: the fast loop has none
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
  return hdr_len_ == 12 ? receive_burst_for<12>(avail_idx, batch, c, v)
                        : receive_burst_for<10>(avail_idx, batch, c, v);
}

// The header length as a constant of the fast loop: fewer live values, no register spills.
template <uint32_t kHdr>
uint16_t GuestTxQueue::receive_burst_for(uint16_t avail_idx, PacketBatch& batch,
                                         QueueCounters& c, Violation& v) noexcept {
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
  const GuestMemory& mem = *mem_;
  uint64_t hot_gpa = hot_.gpa;  // hot_region.h, as scalars: no spills
  std::byte* hot_host = hot_.host;
  uint64_t hot_size = hot_.size;
  // [addr, addr + len) inside one region: the hot one, else looked up (and made hot).
  auto translate = [&](uint64_t addr, uint64_t len) -> std::byte* {
    uint64_t off = addr - hot_gpa;  // huge when addr < hot_gpa
    if (off > hot_size || len > hot_size - off) [[unlikely]] {
      const HotRegion r = HotRegion::find(mem, addr, len);
      if (r.host == nullptr) return nullptr;
      hot_gpa = r.gpa;
      hot_size = r.size;
      hot_host = r.host;
      off = addr - hot_gpa;
    }
    // A hit is inside a mapped region, never null (len > 0 on every call here, and start()
    // makes a real region hot): tells the compiler, so a hit skips the null test.
    std::byte* const host = hot_host + off;
    if (host == nullptr) __builtin_unreachable();
    return host;
  };
  const VringDesc* const desc = desc_;
  const uint16_t* const avail_ring = avail_->ring;
  VringUsedElem* const used_ring = used_->ring;
  Packet* const slots = slots_.get();
  const uint32_t mask = mask_;
  const uint32_t ring_size = size_;
  constexpr uint32_t hdr = kHdr;
  constexpr uint32_t min_len = hdr + kMinGuestFrameBytes;
  constexpr uint32_t kFastExtra = kMaxGuestFrameBytes - kMinGuestFrameBytes;
  Packet** const out = batch.data() + batch.size();
  const uint16_t room = batch.room();
  uint16_t cur = last_avail_;
  uint16_t taken = 0;
  uint32_t lent = 0;
  uint64_t bytes = 0;
  for (;;) {
    // A run of published entries, fitting the batch and before the end of the ring (so the inner
    // loop walks slots without wrapping), taken while each is a one-descriptor frame without
    // offloads; the first that is not goes to take_frame().
    const uint32_t slot0 = cur & mask;
    const uint32_t run = std::min({static_cast<uint32_t>(static_cast<uint16_t>(avail_idx - cur)),
                                   static_cast<uint32_t>(room - taken), ring_size - slot0});
    if (run == 0) break;
    const uint16_t* const a0 = avail_ring + slot0;
    const uint16_t* const a_end = a0 + run;
    const uint16_t* a = a0;
    Packet* p = slots + slot0;
    VringUsedElem* u = used_ring + slot0;
    Packet** o = out + taken;
    for (; a != a_end; ++a, ++p, ++u) {
      // The checks of take_frame() for this shape (vhost-user.md §8), each value read once:
      // head < size; flags 0 (no NEXT, INDIRECT or WRITE); hdr_len + 14 <= len <= hdr_len +
      // 65535 (one compare); [addr, addr + len) inside one region; the virtio-net header's
      // flags and gso_type zero (one 16-bit load: no offload, nothing else in it matters).
      const uint16_t head = virtio::load_relaxed(a);
      if (head >= ring_size) [[unlikely]] break;
      const VringDesc d = virtio::load_desc(&desc[head]);
      std::byte* base;
      uint32_t len;
      if (d.flags == 0) [[likely]] {
        // Header and frame in one descriptor.
        if (d.len - min_len > kFastExtra) [[unlikely]] break;
        std::byte* const host = translate(d.addr, d.len);
        if (host == nullptr) [[unlikely]] break;
        uint16_t offload;  // flags and gso_type of the guest's header, any alignment
        std::memcpy(&offload, host, sizeof offload);
        if (offload != 0) [[unlikely]] break;
        base = host + hdr;
        len = d.len - hdr;
      } else {
        // The header alone (NEXT, exactly hdr_len bytes), then the frame in one descriptor
        // (flags 0, 14 <= len <= 65535): Linux when the headers are cloned, as a chain of two
        // (next < size) or, with INDIRECT_DESC, as a table of two (entry 0 -> 1).
        VringDesc hd;
        VringDesc d2;
        if (d.flags == virtio::kDescFlagNext) {
          if (d.next >= ring_size) break;
          hd = d;
          d2 = virtio::load_desc(&desc[d.next]);
        } else {
          if (d.flags != virtio::kDescFlagIndirect || d.len != 2 * sizeof(VringDesc) ||
              !indirect_) {
            break;
          }
          const std::byte* const table = translate(d.addr, d.len);
          if (table == nullptr) break;
          hd = virtio::load_desc_unaligned(table);
          d2 = virtio::load_desc_unaligned(table + sizeof(VringDesc));
          if (hd.flags != virtio::kDescFlagNext || hd.next != 1) break;
        }
        if (hd.len != hdr || d2.flags != 0 || d2.len - kMinGuestFrameBytes > kFastExtra) break;
        const std::byte* const h = translate(hd.addr, hdr);
        std::byte* const host = translate(d2.addr, d2.len);
        if (h == nullptr || host == nullptr) [[unlikely]] break;
        uint16_t offload;
        std::memcpy(&offload, h, sizeof offload);
        if (offload != 0) [[unlikely]] break;
        base = host;
        len = d2.len;
      }
      // Constant fields were set at start; next is nullptr whenever a header is not lent, and
      // the offload word is kPacketLent/None (publish() resets what take_frame() set).
      p->base = base;
      p->buf_len = len;
      p->len = static_cast<uint16_t>(len);
      p->frame_len = len;
      p->refs.store(1, std::memory_order_relaxed);
      // {id = head, len = 0} as one 8-byte store (the entry is 4-aligned: memcpy); published
      // with used->idx, after the release.
      const uint64_t elem = head;
      std::memcpy(u, &elem, sizeof elem);
      *o++ = p;
      bytes += len;
    }
    const uint32_t k = static_cast<uint32_t>(a - a0);
    const uint32_t slot = slot0 + k;
    cur = static_cast<uint16_t>(cur + k);
    taken = static_cast<uint16_t>(taken + k);
    lent += k;
    if (a == a_end) continue;
    // Longer chains, offloads, a runt or something invalid: the general path, one frame.
    const Taken t = take_frame(slot, v);
    if (v != Violation::None) break;
    ++cur;
    if (t.frame == nullptr) {
      c.drop(t.drop);  // the general path counts as it goes: drops are rare
      continue;
    }
    out[taken++] = t.frame;
    lent += t.lent;
    bytes += t.frame->frame_len;
  }
  hot_ = HotRegion{hot_gpa, hot_host, hot_size};
  if (cur != last_avail_) {
    last_avail_ = cur;
    notifier_.consumed(cur);
  }
  outstanding_ += lent;
  batch.set_size(static_cast<uint16_t>(batch.size() + taken));
  // Nothing of it lent (all dropped or copied): give it back now rather than at the next poll.
  if (outstanding_ == 0 && last_used_ != last_avail_) publish();
  if (v != Violation::None) [[unlikely]] c.drop(DropReason::Invalid);
  c.packets.add(taken);
  c.bytes.add(bytes);
  return taken;
}

}  // namespace vsw::ports::vhost_user
