// ports/afpacket/afpacket_port.h — an existing kernel interface (veth end, NIC) attached through
// AF_PACKET with memory-mapped TPACKET_V2 rings.
//
//          wire / veth peer
//               |  ^
//      +--------v--+-------+   ETH_P_ALL, promiscuous, PACKET_IGNORE_OUTGOING,
//      | kernel interface  |   PACKET_QDISC_BYPASS, PACKET_VNET_HDR
//      +--------+--^-------+
//        RX_RING|  |TX_RING     (mmap; no syscall on rx, one sendto() per tx batch)
//               v  |
//   rx_burst: lend each frame (+ its VLAN tag reinserted) to the bridge in place, in its ring slot
//             (zero copy; the slot goes back to the kernel when the frame is released), its
//             virtio_net_hdr into the Packet's offload metadata (ports/vnet/vnet_metadata.h)
//   tx_burst: copy each frame into a TX_RING slot behind the virtio_net_hdr of its metadata,
//             then one sendto(MSG_DONTWAIT) for the batch
//
// Offloads: the peer of a veth keeps TSO and checksum offload on by default, so the kernel hands
// over 64 KiB TCP super-frames and frames whose checksum is still partial, each with a
// virtio_net_hdr. They stay whole through vsw (a super-frame is one frame on the bridge, read in
// place from the rx ring); a destination that cannot take them segments and checksums at egress
// (dataplane/egress_offload.h), and another afpacket or tap port gets them as they came: the
// receiving kernel does the rest. Tx slots are sized for a super-frame (68 KiB each).
//
// Options: ifname (required), mtu (default: the interface's MTU, capped to what one buffer
// holds), rx-frames (default 252), tx-frames (default 256). See docs/ports/afpacket.md.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/afpacket/packet_socket.h"
#include "ports/port_factory.h"
#include "ports/tap/buffer_stash.h"

namespace vsw::ports::afpacket {

// The factory entry (ports/port_factory.cc): validates spec.options and attaches the interface.
// Control thread. Errors: InvalidArgument (bad or missing option, not an Ethernet interface),
// NotFound (no such interface), Unavailable (no CAP_NET_RAW), Io / ResourceExhausted (rings).
Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env);

struct AfPacketConfig {
  std::string ifname;
  uint32_t mtu = 0;          // 0: the interface's MTU, capped to the buffer size
  uint32_t rx_frames = 252;  // rx ring slots (64 KiB each), rounded up to whole blocks of 7
  uint32_t tx_frames = 256;  // tx ring slots (68 KiB each)
};

class AfPacketPort final : public Port {
 public:
  // Largest frame carried: a 64 KiB GSO super-frame with its Ethernet header and a VLAN tag.
  static constexpr uint32_t kMaxFrameBytes = 65536 + 18;

  // Control thread. Attaches `cfg.ifname`, makes it promiscuous and brings it up. Buffers come
  // from `pool`, which must outlive the port.
  static Result<std::unique_ptr<AfPacketPort>> open(std::string name, PortId id,
                                                    const AfPacketConfig& cfg, Mempool& pool);
  // Control thread: returns buffers still held (carry-over, stash), unmaps rings, closes socket.
  ~AfPacketPort() override;

  std::string_view type() const noexcept override { return "afpacket"; }
  uint16_t rx_queue_count() const noexcept override { return 1; }
  uint16_t tx_queue_count() const noexcept override { return 1; }

  // --- fast path: owning worker only; no syscalls on rx ----------------------------------------
  // Walks the rx ring. Drops: Invalid (truncated frame, inconsistent virtio_net_hdr, a GSO type
  // vsw cannot segment such as UFO), NoBuffer (pool empty: a frame is dropped whole if it cannot
  // get a buffer for every part).
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // Copies each frame (all its segments) into a free tx slot behind its virtio_net_hdr and
  // issues one sendto(MSG_DONTWAIT) for the batch. A slot still owned by the kernel means the
  // ring is full: the frame counts TxFull; a frame longer than a slot counts Mtu.
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // The packet socket: with an rx ring, poll(2) reports POLLIN once the kernel filled a slot
  // (packet_mmap.rst "RX_RING": the slot before the kernel's position is the user's). Nothing
  // to enable; enable_rx_wakeup() says false when the next slot is already the worker's.
  int rx_wakeup_fd(QueueId q) const noexcept override {
    (void)q;
    return sock_->fd();
  }
  bool enable_rx_wakeup(QueueId q) noexcept override;

  // --- control thread ------------------------------------------------------------------------------
  LinkState link_state() const noexcept override;
  // Re-issues sendto() so tx slots left requested by a failed send go out without new traffic.
  void housekeeping() override;
  std::vector<std::pair<std::string, std::string>> details() const override;
  const std::string& ifname() const noexcept { return ifname_; }

 private:
  AfPacketPort(std::string name, PortId id, uint32_t mtu, const AfPacketConfig& cfg, int ifindex,
               std::unique_ptr<PacketSocket> sock, Mempool& pool);

  // Rx slots lent to the bridge (kPacketLent, dataplane/port.h): one vsw-private Packet header
  // per slot, pointing into the slot. The last release of the frame hands the slot back to the
  // kernel (TP_STATUS_KERNEL); by the ownership contract that happens before the receiving
  // worker's next quiescent point, so the ring never wraps onto a slot still lent.
  class SlotLender final : public BufferOwner {
   public:
    explicit SlotLender(AfPacketPort& port) noexcept : port_(port) {}
    void release(Packet* p) noexcept override;

   private:
    AfPacketPort& port_;
  };

  // Rx helpers (afpacket_rx.cc), owning worker only. The frame of one slot: lent in place
  // (`lent` set: the slot stays the worker's until release), copied into a chain of buffers (a
  // frame longer than a Packet segment can describe), or nullptr after counting a drop.
  Packet* receive_slot(uint32_t index, tpacket2_hdr* h, uint32_t status, QueueCounters& c,
                       bool& lent) noexcept;
  Packet* copy_to_chain(const std::byte* frame, uint32_t len) noexcept;
  Packet* take_buffer() noexcept;

  std::string ifname_;
  int ifindex_;
  uint32_t data_room_;
  uint32_t kernel_mtu_at_open_;
  std::unique_ptr<PacketSocket> sock_;

  // Rx state: owning worker only (slot_lent_: also the releasing thread).
  struct alignas(64) RxState {
    uint32_t head = 0;             // next rx slot to look at
    bool pool_empty = false;       // a refill during this rx_burst found the pool empty
  } rx_;
  BufferStash stash_;
  SlotLender lender_{*this};
  std::unique_ptr<Packet[]> slot_pkts_;               // one header per rx slot
  std::unique_ptr<std::atomic<bool>[]> slot_lent_;    // slot's frame not yet released

  // Tx state: under the tx-queue lock only.
  alignas(64) uint32_t tx_head_ = 0;

  // Control thread: accumulated PACKET_STATISTICS (the kernel resets them on read).
  mutable PacketSocket::KernelStats kernel_stats_;
};

}  // namespace vsw::ports::afpacket
