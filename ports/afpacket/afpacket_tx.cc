// ports/afpacket/afpacket_tx.cc — the transmit fast path: mempool buffers -> tx ring.
//
// packet_mmap.rst "TX_RING": fill a slot whose tp_status is TP_STATUS_AVAILABLE, set tp_len,
// mark it TP_STATUS_SEND_REQUEST (release), and after the batch ask the kernel to send every
// requested slot with one sendto(). With PACKET_VNET_HDR every slot starts with a
// virtio_net_hdr (virtio 1.0 §5.1.6): all zero for an ordinary frame with complete checksums,
// the frame's GSO type and size and partial-checksum position otherwise, so the kernel
// segments and checksums what vsw passed through.
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/ether.h"
#include "ports/afpacket/afpacket_port.h"
#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::afpacket {

uint16_t AfPacketPort::tx_burst(QueueId q, PacketBatch& batch) noexcept {
  QueueCounters& c = counters_.tx(q);
  const uint32_t slots = sock_->tx().frame_nr;
  const uint32_t max_len = sock_->tx().frame_size - kTxDataOffset - sizeof(vnet::VirtioNetHdr);
  uint16_t queued = 0;
  uint64_t bytes = 0;
  bool full = false;
  for (Packet* p : batch.packets()) {
    tpacket2_hdr* h = sock_->tx_slot(tx_head_);
    const uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if ((status & (TP_STATUS_SEND_REQUEST | TP_STATUS_SENDING)) != 0) {
      c.drop(DropReason::TxFull);  // the kernel still owns the next slot: ring full
      full = true;
      release_packet(p);
      continue;
    }
    auto* data = reinterpret_cast<std::byte*>(h) + kTxDataOffset;
    const vnet::VirtioNetHdr vh = vnet::export_vnet(*p);
    std::memcpy(data, &vh, sizeof vh);
    std::byte* out = data + sizeof vh;
    uint32_t len = 0;
    bool fits = true;
    for (Packet* s = p; s != nullptr; s = s->next) {
      if (s->len > max_len - len) {
        fits = false;
        break;
      }
      std::memcpy(out + len, s->data(), s->len);
      len += s->len;
    }
    release_packet(p);
    if (!fits || len < kEtherHeaderBytes) {
      c.drop(fits ? DropReason::Invalid : DropReason::Mtu);
      continue;
    }
    h->tp_len = static_cast<uint32_t>(sizeof vh) + len;
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    tx_head_ = tx_head_ + 1 == slots ? 0 : tx_head_ + 1;
    ++queued;
    bytes += len;
  }
  batch.clear();
  if (queued != 0 || full) {
    // One syscall per batch. MSG_DONTWAIT: queue what the driver takes now and return; a failure
    // (e.g. ENETDOWN) leaves the slots requested, and the next sendto() retries them — also when
    // the ring is full, which may be exactly such a backlog.
    if (::sendto(sock_->fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0) < 0 && errno != EAGAIN &&
        errno != ENOBUFS) {
      // A pending socket error (ENETDOWN left over from a link flap) is reported once and cleared
      // by the failing call: try once more so this batch does not wait for the next one.
      (void)::sendto(sock_->fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
    }
  }
  c.packets.add(queued);
  c.bytes.add(bytes);
  return queued;
}

}  // namespace vsw::ports::afpacket
