// ports/afpacket/afpacket_rx.cc — the receive fast path: rx ring -> mempool buffers.
//
// Per ring slot (packet_mmap.rst "RX_RING"; packet(7) PACKET_VNET_HDR):
//   1. wait for TP_STATUS_USER (acquire); tp_snaplen < tp_len means a truncated copy -> Invalid;
//   2. read the virtio_net_hdr that sits right before tp_mac;
//   3. TP_STATUS_VLAN_VALID: the kernel moved the 802.1Q tag into tp_vlan_tci; put it back into
//      the frame (in the slot, which is ours until step 5) so the bridge sees the wire format;
//   4. GSO super-frame -> segment (ports/offload/gso.h); otherwise copy, and complete a partial
//      checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) in the copy;
//   5. hand the slot back with TP_STATUS_KERNEL (release).
#include <algorithm>
#include <cstring>

#include "common/ether.h"
#include "ports/afpacket/afpacket_port.h"
#include "ports/offload/bytes.h"
#include "ports/offload/checksum.h"
#include "ports/offload/gso.h"

namespace vsw::ports::afpacket {

using offload::VirtioNetHdr;

namespace {
// tpacket2_hdr, then room for the virtio_net_hdr and a reinserted VLAN tag before tp_mac.
constexpr uint32_t kMinMacOffset = sizeof(tpacket2_hdr) + sizeof(VirtioNetHdr) + kVlanTagBytes;
}  // namespace

Packet* AfPacketPort::take_buffer() noexcept {
  Packet* p = stash_.take();
  if (p == nullptr && !rx_.refilled) {
    // At most one Mempool::alloc (32 buffers) per rx_burst, so an empty pool costs one failed
    // attempt per poll, not one per frame.
    rx_.refilled = true;
    stash_.refill();
    p = stash_.take();
  }
  return p;
}

void AfPacketPort::deliver(Packet* p, uint32_t len, PacketBatch& batch, RxTotals& t) noexcept {
  p->len = static_cast<uint16_t>(len);
  p->frame_len = len;
  p->in_port = id();
  batch.push(p);
  ++t.packets;
  t.bytes += len;
}

void AfPacketPort::drain_carry(PacketBatch& batch, RxTotals& t) noexcept {
  while (rx_.carry_count != 0 && batch.room() != 0) {
    Packet* p = rx_.carry[rx_.carry_head++];
    --rx_.carry_count;
    batch.push(p);
    ++t.packets;
    t.bytes += p->len;
  }
  if (rx_.carry_count == 0) rx_.carry_head = 0;
}

uint16_t AfPacketPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  QueueCounters& c = counters_.rx(q);
  RxTotals t;
  drain_carry(batch, t);
  rx_.refilled = false;
  const uint32_t slots = sock_->rx().frame_nr;
  // A slot is only processed when the batch has room, and the carry-over list is empty whenever
  // the batch has room (drain_carry above), so receive_gso() may always use the whole list.
  while (batch.room() != 0) {
    tpacket2_hdr* h = sock_->rx_slot(rx_.head);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if ((status & TP_STATUS_USER) == 0) break;
    receive_slot(h, status, batch, c, t);
    __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    rx_.head = rx_.head + 1 == slots ? 0 : rx_.head + 1;
  }
  c.packets.add(t.packets);
  c.bytes.add(t.bytes);
  return t.packets;
}

void AfPacketPort::receive_slot(tpacket2_hdr* h, uint32_t status, PacketBatch& batch,
                                QueueCounters& c, RxTotals& t) noexcept {
  auto* slot = reinterpret_cast<std::byte*>(h);
  const uint32_t mac = h->tp_mac;
  uint32_t len = h->tp_len;
  // TP_STATUS_COPY / snaplen < len: the frame did not fit the slot (e.g. BIG TCP > 64 KiB).
  if (h->tp_snaplen < len || (status & TP_STATUS_COPY) != 0 || mac < kMinMacOffset ||
      mac + len > sock_->rx().frame_size || len < kEtherHeaderBytes) {
    c.drop(DropReason::Invalid);
    return;
  }
  VirtioNetHdr vh;
  std::memcpy(&vh, slot + mac - sizeof vh, sizeof vh);  // packet(7): right before the frame
  std::byte* frame = slot + mac;
  if ((status & TP_STATUS_VLAN_VALID) != 0) {
    // IEEE 802.1Q §9.3: TPID then TCI right after the source address.
    const uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) != 0 ? h->tp_vlan_tpid : 0x8100;
    frame -= kVlanTagBytes;
    std::memmove(frame, frame + kVlanTagBytes, 12);
    offload::store_be16(frame + 12, tpid);
    offload::store_be16(frame + 14, h->tp_vlan_tci);
    len += kVlanTagBytes;
    vh.csum_start = static_cast<uint16_t>(vh.csum_start + kVlanTagBytes);
  }
  if (vh.gso_type != offload::kVnetGsoNone) {
    receive_gso({frame, len}, vh, batch, c, t);
    return;
  }
  if (len > data_room_) {
    c.drop(DropReason::Mtu);
    return;
  }
  Packet* p = take_buffer();
  if (p == nullptr) {
    c.drop(DropReason::NoBuffer);
    return;
  }
  std::memcpy(p->data(), frame, len);
  // virtio 1.0 §5.1.6.2.1: the checksum from csum_start to the end goes at csum_offset.
  if ((vh.flags & offload::kVnetFlagNeedsCsum) != 0 &&
      !offload::complete_partial_checksum({p->data(), len}, vh.csum_start, vh.csum_offset)) {
    stash_.put_back(p);
    c.drop(DropReason::Invalid);
    return;
  }
  deliver(p, len, batch, t);
}

void AfPacketPort::receive_gso(std::span<const std::byte> frame, const VirtioNetHdr& vh,
                               PacketBatch& batch, QueueCounters& c, RxTotals& t) noexcept {
  offload::GsoPlan plan;
  switch (offload::plan_gso(frame, vh.gso_type, vh.gso_size, data_room_, plan)) {
    case offload::GsoStatus::Ok: break;
    case offload::GsoStatus::TooBig: c.drop(DropReason::Mtu); return;
    case offload::GsoStatus::Invalid:
    case offload::GsoStatus::Unsupported: c.drop(DropReason::Invalid); return;
  }
  if (plan.segments > kMaxSegments) {
    c.drop(DropReason::NoBuffer);
    return;
  }
  // All or nothing: reserve a buffer for every segment before building any, in the carry list
  // (empty here, see rx_burst), first from the stash, then from the pool 32 at a time.
  Packet** segs = rx_.carry.data();
  const uint32_t need = plan.segments;
  uint32_t got = 0;
  for (Packet* p; got < need && (p = stash_.take()) != nullptr;) segs[got++] = p;
  while (got < need) {
    const uint32_t want = std::min<uint32_t>(need - got, Mempool::kBurst);
    const uint16_t n = stash_.pool().alloc(segs + got, static_cast<uint16_t>(want));
    got += n;
    if (n < want) break;
  }
  if (got < need) {
    for (uint32_t i = 0; i < got; ++i) stash_.put_back(segs[i]);
    c.drop(DropReason::NoBuffer);
    return;
  }
  for (uint32_t i = 0; i < need; ++i) {
    Packet* p = segs[i];
    const uint32_t len = offload::build_segment(plan, frame, i, {p->data(), data_room_});
    p->len = static_cast<uint16_t>(len);
    p->frame_len = len;
    p->in_port = id();
  }
  rx_.carry_head = 0;
  rx_.carry_count = static_cast<uint16_t>(need);
  drain_carry(batch, t);
}

}  // namespace vsw::ports::afpacket
