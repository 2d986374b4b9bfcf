// ports/vhost_user/guest_rx_queue.cc — GuestRxQueue: copying frames into a guest's receive
// buffers (virtio 1.1 §5.1.6.3, §5.1.6.4; vhost-user.md §7 step 4, §8).
#include "ports/vhost_user/guest_rx_queue.h"

#include <algorithm>
#include <cstring>

#include "ports/vhost_user/piece_copy.h"
#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::vhost_user {

using virtio::kDescFlagWrite;
using virtio::VringUsedElem;

Status GuestRxQueue::start(const GuestMemory* mem, const QueueConfig& cfg) {
  if (Status st = check_queue_config(mem, cfg); !st) return st;
  mem_ = mem;
  desc_ = cfg.desc;
  avail_ = cfg.avail;
  used_ = cfg.used;
  size_ = cfg.size;
  mask_ = static_cast<uint16_t>(cfg.size - 1);
  hdr_len_ = cfg.hdr_len;
  mrg_rxbuf_ = cfg.mrg_rxbuf;
  indirect_ = cfg.indirect;
  guest_csum_ = cfg.guest_csum;
  guest_tso4_ = cfg.guest_tso4;
  guest_tso6_ = cfg.guest_tso6;
  guest_ecn_ = cfg.guest_ecn;
  guest_uso_ = cfg.guest_uso;
  // vhost-user.md §8: used->idx wins when it disagrees with SET_VRING_BASE (see guest_tx_queue.h).
  const uint16_t used_idx = virtio::load_acquire(&used_->idx);
  resynced_ = used_idx != cfg.last_avail;
  last_avail_ = resynced_ ? used_idx : cfg.last_avail;
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

uint16_t GuestRxQueue::stop() noexcept {
  started_ = false;
  return last_avail_;
}

bool GuestRxQueue::accepts(const Packet& p, DropReason& why) const noexcept {
  // virtio 1.1 §5.1.6.4.1: GSO types and NEEDS_CSUM only when the guest negotiated them.
  if (p.is_gso()) {
    bool ok = false;
    switch (p.gso_type) {
      case GsoType::None: ok = true; break;
      case GsoType::Tcpv4: ok = guest_tso4_; break;
      case GsoType::Tcpv6: ok = guest_tso6_; break;
      case GsoType::UdpL4: ok = guest_uso_; break;
    }
    if ((p.flags & kPacketGsoEcn) != 0 && !guest_ecn_) ok = false;
    if (!ok) {
      why = DropReason::Mtu;
      return false;
    }
  }
  if (p.needs_csum() && !guest_csum_) {
    why = DropReason::Invalid;
    return false;
  }
  return true;
}

GuestRxQueue::Delivery GuestRxQueue::deliver(const Packet& src, uint16_t cur, uint16_t avail_idx,
                                             Violation& v) noexcept {
  Delivery r;
  if (!accepts(src, r.drop)) {
    r.outcome = Outcome::Dropped;
    return r;
  }
  vnet::VirtioNetHdr h = vnet::export_vnet(src);
  if (!guest_csum_) h.flags = 0;  // §5.1.6.4.1: DATA_VALID only with GUEST_CSUM
  const uint32_t frame_len = src.frame_len;
  const uint64_t need = uint64_t{hdr_len_} + frame_len;
  // Collect writable buffers: one chain, or with MRG_RXBUF as many chains as the frame needs.
  BufferPiece pieces[kMaxFramePieces];
  uint16_t heads[kMaxFramePieces];
  uint32_t written[kMaxFramePieces];
  const uint32_t max_chains = mrg_rxbuf_ ? kMaxFramePieces : 1;
  uint32_t n_pieces = 0;
  uint32_t chains = 0;
  uint64_t have = 0;
  const ChainRing ring{mem_, desc_, size_, indirect_};
  while (have < need) {
    if (chains == max_chains) {
      r.outcome = Outcome::Dropped;  // larger than what the guest posts for one frame
      r.drop = DropReason::Mtu;
      return r;
    }
    const uint16_t pos = static_cast<uint16_t>(cur + chains);
    if (pos == avail_idx) {
      r.outcome = Outcome::NoRoom;
      return r;
    }
    const uint16_t head = virtio::load_relaxed(&avail_->ring[pos & mask_]);  // read once
    if (head >= size_) {
      v = Violation::BadHead;
      return r;
    }
    ChainWalk w;
    v = walk_chain(ring, head, Access::DeviceWrites, need - have, pieces + n_pieces,
                   kMaxFramePieces - n_pieces, w);
    if (v != Violation::None) return r;
    if (w.too_many) {
      r.outcome = Outcome::Dropped;
      r.drop = DropReason::Mtu;
      return r;
    }
    heads[chains] = head;
    written[chains] = static_cast<uint32_t>(std::min<uint64_t>(w.bytes, need - have));
    n_pieces += w.pieces;
    have += w.bytes;
    ++chains;
  }
  // §5.1.6.4: header first (num_buffers: the chains used; 1 without MRG_RXBUF), then the frame.
  PieceCursor out(pieces, n_pieces);
  std::byte raw[12];
  std::memcpy(raw, &h, sizeof h);
  const uint16_t num_buffers = static_cast<uint16_t>(chains);
  std::memcpy(raw + sizeof h, &num_buffers, sizeof num_buffers);
  out.scatter(raw, hdr_len_);
  uint32_t left = frame_len;
  for (const Packet* seg = &src; seg != nullptr && left != 0; seg = seg->next) {
    const uint32_t n = std::min<uint32_t>(seg->len, left);
    out.scatter(seg->data(), n);
    left -= n;
  }
  VSW_ASSERT(left == 0);
  for (uint32_t i = 0; i < chains; ++i) {
    used_->ring[(cur + i) & mask_] = VringUsedElem{heads[i], written[i]};
  }
  if (src.is_gso()) super_frames_.add(1);  // the general path only: the fast loop has none
  r.outcome = Outcome::Delivered;
  r.buffers = static_cast<uint16_t>(chains);
  return r;
}

uint16_t GuestRxQueue::transmit(PacketBatch& batch, QueueCounters& c, Violation& v) noexcept {
  if (guest_csum_) {
    return hdr_len_ == 12 ? transmit_for<12, true>(batch, c, v) : transmit_for<10, true>(batch, c, v);
  }
  return hdr_len_ == 12 ? transmit_for<12, false>(batch, c, v) : transmit_for<10, false>(batch, c, v);
}

// The header length and GUEST_CSUM as constants of the fast loop: fewer live values, no
// register spills.
template <uint32_t kHdr, bool kGuestCsum>
uint16_t GuestRxQueue::transmit_for(PacketBatch& batch, QueueCounters& c, Violation& v) noexcept {
  const uint16_t n_pkts = batch.size();
  if (n_pkts == 0) return 0;
  const uint16_t avail_idx = virtio::load_acquire(&avail_->idx);
  // vhost-user.md §8: at most `size` entries can be posted beyond the ones vsw used (every entry
  // vsw took is already published here, so last_avail_ == used->idx).
  if (static_cast<uint16_t>(avail_idx - last_avail_) > size_) {
    v = Violation::BadAvailIndex;
    c.drop(DropReason::Invalid, n_pkts);
    batch.release_all();
    return 0;
  }
  // Locals, not members, in the loop: stores into guest memory could alias them.
  const GuestMemory& mem = *mem_;
  uint64_t hot_gpa = hot_.gpa;  // hot_region.h, as scalars: no spills
  std::byte* hot_host = hot_.host;
  uint64_t hot_size = hot_.size;
  const VringDesc* const desc = desc_;
  const uint16_t* const avail_ring = avail_->ring;
  VringUsedElem* const used_ring = used_->ring;
  const uint32_t mask = mask_;
  const uint32_t ring_size = size_;
  constexpr uint32_t hdr = kHdr;
  // The header of an ordinary frame: zero, num_buffers = 1 when the header has the field
  // (§5.1.6.4.1, with or without MRG_RXBUF), written as 8 zero bytes and the 4 bytes ending at
  // hdr_len (for 10 bytes: csum_start/csum_offset 0; for 12: csum_offset 0, num_buffers 1).
  const uint64_t hdr_head = 0;
  constexpr uint32_t hdr_tail = hdr == 12 ? 0x00010000u : 0u;
  // Frames the fast loop takes: no GSO (gso_type, the high byte), no partial checksum, and no
  // DATA_VALID to pass on (only a guest with GUEST_CSUM is told). Packet::offload_bits() plus
  // that bit, as one 16-bit test of flags and gso_type.
  constexpr uint16_t slow_bits = static_cast<uint16_t>(
      0xFF00u | kPacketNeedsCsum | (kGuestCsum ? kPacketCsumValid : 0));
  Packet* const* const first = batch.data();
  Packet* const* const last = first + n_pkts;
  Packet* const* it = first;
  uint16_t cur = last_avail_;
  uint64_t bytes = 0;
  uint32_t dropped = 0;  // frames dropped one by one (not for lack of room)
  // The release test folded into the copy loop (as memif's TxRing): zero while every frame so
  // far was a sole segment of the first frame's owner.
  BufferOwner* const owner0 = (*first)->owner;
  uintptr_t not_sole = 0;
  while (it != last) {
    const uint32_t slot0 = cur & mask;
    const uint32_t run = std::min({static_cast<uint32_t>(last - it),
                                   static_cast<uint32_t>(static_cast<uint16_t>(avail_idx - cur)),
                                   ring_size - slot0});
    if (run == 0) break;  // no posted buffer left
    Packet* const* const run_end = it + run;
    const uint16_t* a = avail_ring + slot0;
    VringUsedElem* u = used_ring + slot0;
    for (; it != run_end; ++it, ++a, ++u) {
      // The checks of deliver() for this shape, each value read once: one segment, no offload;
      // head < size; flags exactly WRITE (no NEXT, no INDIRECT); header + frame fit the buffer;
      // the bytes written inside one region.
      const Packet* const src = *it;
      uint16_t offload;
      std::memcpy(&offload, &src->flags, sizeof offload);  // flags, gso_type (packet.h)
      if ((reinterpret_cast<uintptr_t>(src->next) | (offload & slow_bits)) != 0) break;
      const uint16_t head = virtio::load_relaxed(a);
      if (head >= ring_size) [[unlikely]] break;
      const VringDesc d = virtio::load_desc(&desc[head]);
      const uint32_t len = src->len;
      const uint32_t total = hdr + len;
      if (d.flags != kDescFlagWrite || d.len < total) [[unlikely]] break;
      uint64_t off = d.addr - hot_gpa;  // huge when addr < hot_gpa
      if (off > hot_size || total > hot_size - off) [[unlikely]] {
        const HotRegion r = HotRegion::find(mem, d.addr, total);
        if (r.host == nullptr) break;
        hot_gpa = r.gpa;
        hot_size = r.size;
        hot_host = r.host;
        off = d.addr - hot_gpa;
      }
      std::byte* const dst = hot_host + off;
      std::memcpy(dst, &hdr_head, sizeof hdr_head);
      std::memcpy(dst + hdr - sizeof hdr_tail, &hdr_tail, sizeof hdr_tail);
      copy_frame_bytes(dst + hdr, src->data(), len);
      *u = VringUsedElem{head, total};  // published with used->idx below
      not_sole |= PacketBatch::sole_segment_bits(src, owner0);
      bytes += len;
    }
    cur = static_cast<uint16_t>(cur + (a - (avail_ring + slot0)));
    if (it == run_end) continue;
    // Chains, offloads, several buffers, or a check that failed (redone there).
    not_sole = 1;  // a frame outside the fast loop: release_all() decides
    const Delivery r = deliver(**it, cur, avail_idx, v);
    if (r.outcome == Outcome::Broken || r.outcome == Outcome::NoRoom) break;
    if (r.outcome == Outcome::Dropped) {
      c.drop(r.drop);  // the general path counts as it goes: drops are rare
      ++dropped;
    } else {
      cur = static_cast<uint16_t>(cur + r.buffers);
      bytes += (*it)->frame_len;
    }
    ++it;
  }
  hot_ = HotRegion{hot_gpa, hot_host, hot_size};
  if (cur != last_avail_) {
    last_avail_ = cur;
    // virtio 1.1 §2.6.8.2: the entries (and the bytes they describe) before the index.
    virtio::store_release(&used_->idx, cur);
    notifier_.consumed(cur);
    notifier_.notify(cur);
  }
  const uint16_t sent = static_cast<uint16_t>((it - first) - dropped);
  const uint16_t unsent = static_cast<uint16_t>(last - it);
  if (unsent != 0) {
    c.drop(v != Violation::None ? DropReason::Invalid : DropReason::TxFull, unsent);
  }
  c.packets.add(sent);
  c.bytes.add(bytes);
  if (not_sole == 0 && it == last) {
    batch.release_sole_segments(owner0);
  } else {
    batch.release_all();
  }
  return sent;
}

}  // namespace vsw::ports::vhost_user
