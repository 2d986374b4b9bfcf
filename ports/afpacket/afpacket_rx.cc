// ports/afpacket/afpacket_rx.cc — the receive fast path: rx ring -> chains of mempool buffers.
//
// Per ring slot (packet_mmap.rst "RX_RING"; packet(7) PACKET_VNET_HDR):
//   1. wait for TP_STATUS_USER (acquire); tp_snaplen < tp_len means a truncated copy -> Invalid;
//   2. read the virtio_net_hdr that sits right before tp_mac;
//   3. TP_STATUS_VLAN_VALID: the kernel moved the 802.1Q tag into tp_vlan_tci; put it back into
//      the frame (in the slot, which is ours until step 5) so the bridge sees the wire format;
//   4. lend the frame, whole — a GSO super-frame stays one frame — to the bridge in place: the
//      slot's own Packet header points into the slot, its virtio_net_hdr becomes the Packet's
//      offload metadata;
//   5. hand the slot back with TP_STATUS_KERNEL (release) when the frame's last reference is
//      dropped (SlotLender::release), or at once for a frame that was dropped or copied.
#include <algorithm>
#include <cstring>

#include "common/ether.h"
#include "dataplane/offload/bytes.h"
#include "ports/afpacket/afpacket_port.h"
#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::afpacket {

using vnet::VirtioNetHdr;

namespace {
// tpacket2_hdr, then room for the virtio_net_hdr and a reinserted VLAN tag before tp_mac.
constexpr uint32_t kMinMacOffset = sizeof(tpacket2_hdr) + sizeof(VirtioNetHdr) + kVlanTagBytes;
}  // namespace

Packet* AfPacketPort::take_buffer() noexcept {
  Packet* p = stash_.take();
  if (p == nullptr && !rx_.pool_empty) {
    // Refill 32 at a time; once the pool had nothing, not again in this rx_burst, so an empty
    // pool costs one failed attempt per poll, not one per frame.
    stash_.refill();
    p = stash_.take();
    rx_.pool_empty = p == nullptr;
  }
  return p;
}

Packet* AfPacketPort::copy_to_chain(const std::byte* frame, uint32_t len) noexcept {
  Packet* first = nullptr;
  Packet* last = nullptr;
  for (uint32_t off = 0; off < len;) {
    Packet* p = take_buffer();
    if (p == nullptr) {
      if (first != nullptr) release_packet(first);
      return nullptr;
    }
    const uint32_t chunk = std::min(len - off, data_room_);
    std::memcpy(p->data(), frame + off, chunk);
    p->len = static_cast<uint16_t>(chunk);
    if (last != nullptr) {
      last->next = p;
    } else {
      first = p;
    }
    last = p;
    off += chunk;
  }
  first->frame_len = len;
  first->in_port = id();
  return first;
}

void AfPacketPort::SlotLender::release(Packet* p) noexcept {
  // packet_mmap.rst: the slot belongs to the kernel again; it refills slots in ring order.
  port_.slot_lent_[p->slot].store(false, std::memory_order_relaxed);
  __atomic_store_n(&port_.sock_->rx_slot(p->slot)->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

bool AfPacketPort::enable_rx_wakeup(QueueId q) noexcept {
  (void)q;
  const tpacket2_hdr* h = sock_->rx_slot(rx_.head);
  return (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0;
}

uint16_t AfPacketPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  QueueCounters& c = counters_.rx(q);
  rx_.pool_empty = false;
  const uint32_t slots = sock_->rx().frame_nr;
  uint16_t n = 0;
  uint64_t bytes = 0;
  while (batch.room() != 0) {
    // A slot still lent (a holder broke the contract and kept a frame past the quiescent
    // point) is not a new frame: wait for it.
    if (slot_lent_[rx_.head].load(std::memory_order_relaxed)) break;
    tpacket2_hdr* h = sock_->rx_slot(rx_.head);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if ((status & TP_STATUS_USER) == 0) break;
    bool lent = false;
    Packet* p = receive_slot(rx_.head, h, status, c, lent);
    if (!lent) __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    rx_.head = rx_.head + 1 == slots ? 0 : rx_.head + 1;
    if (p == nullptr) continue;
    batch.push(p);
    ++n;
    bytes += p->frame_len;
  }
  c.packets.add(n);
  c.bytes.add(bytes);
  return n;
}

Packet* AfPacketPort::receive_slot(uint32_t index, tpacket2_hdr* h, uint32_t status,
                                   QueueCounters& c, bool& lent) noexcept {
  auto* slot = reinterpret_cast<std::byte*>(h);
  const uint32_t mac = h->tp_mac;
  uint32_t len = h->tp_len;
  // TP_STATUS_COPY / snaplen < len: the frame did not fit the slot (e.g. BIG TCP > 64 KiB).
  if (h->tp_snaplen < len || (status & TP_STATUS_COPY) != 0 || mac < kMinMacOffset ||
      mac + len > sock_->rx().frame_size || len < kEtherHeaderBytes) {
    c.drop(DropReason::Invalid);
    return nullptr;
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
    if ((vh.flags & vnet::kVnetFlagNeedsCsum) != 0) {
      vh.csum_start = static_cast<uint16_t>(vh.csum_start + kVlanTagBytes);
    }
  }
  Packet* p = nullptr;
  if (len <= UINT16_MAX) {
    // Lent in place: only the per-frame fields change (owner, slot, flags, in_port are set
    // once per slot at open).
    p = &slot_pkts_[index];
    p->base = frame;
    p->buf_len = len;
    p->data_off = 0;
    p->len = static_cast<uint16_t>(len);
    p->frame_len = len;
    p->next = nullptr;
    p->refs.store(1, std::memory_order_relaxed);
  } else {
    // 65536..65539 bytes (a 64 KiB frame whose VLAN tag was put back): more than one Packet
    // segment can describe, so copied into a chain.
    p = copy_to_chain(frame, len);
    if (p == nullptr) {
      c.drop(DropReason::NoBuffer);
      return nullptr;
    }
  }
  if (vnet::import_vnet(vh, *p) != vnet::ImportStatus::Ok) {
    if (p->is_lent()) {
      p->clear_offload();
    } else {
      release_packet(p);
    }
    c.drop(DropReason::Invalid);
    return nullptr;
  }
  if (p->is_lent()) {
    lent = true;
    slot_lent_[index].store(true, std::memory_order_relaxed);
  }
  return p;
}

}  // namespace vsw::ports::afpacket
