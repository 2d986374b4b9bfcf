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
//   rx_burst: copy (+ reinsert VLAN tag, complete partial checksum, or segment a GSO
//             super-frame into MSS-sized frames via ports/offload/gso.h) into mempool buffers
//   tx_burst: copy into TX_RING slots behind a zeroed virtio_net_hdr, then sendto(MSG_DONTWAIT)
//
// Offloads: the peer of a veth keeps TSO and checksum offload on by default, so the kernel hands
// over 64 KiB TCP super-frames and frames whose checksum is still partial. With PACKET_VNET_HDR
// each comes with a virtio_net_hdr, and rx_burst turns them into ordinary frames with complete
// checksums — what every other vsw port expects. One super-frame can give ~45 segments; those that
// do not fit the caller's batch wait in a per-queue carry-over list for the next rx_burst.
//
// Options: ifname (required), mtu (default: the interface's MTU, capped to what one buffer
// holds), rx-frames (default 252), tx-frames (default 512). See docs/ports/afpacket.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/afpacket/packet_socket.h"
#include "ports/offload/virtio_net_hdr.h"
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
  uint32_t tx_frames = 512;  // tx ring slots
};

class AfPacketPort final : public Port {
 public:
  // Most segments one super-frame may produce (a 64 KiB frame at MSS 536 gives 123): larger
  // counts are dropped as NoBuffer. Also the size of the per-queue carry-over list.
  static constexpr uint32_t kMaxSegments = 256;

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
  // Delivers carried-over segments first, then walks the rx ring. Drops: Invalid (truncated
  // frame, bad offload metadata, unsupported GSO type such as UFO), Mtu (frame or UDP segment
  // larger than a buffer), NoBuffer (pool empty; a super-frame is dropped whole if it cannot get
  // a buffer for every segment).
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // Copies each frame into a free tx slot and issues one sendto(MSG_DONTWAIT) for the batch. A
  // slot still owned by the kernel means the ring is full: the frame counts TxFull.
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;

  // --- control thread ------------------------------------------------------------------------------
  LinkState link_state() const noexcept override;
  // Re-issues sendto() so tx slots left requested by a failed send go out without new traffic.
  void housekeeping() override;
  std::vector<std::pair<std::string, std::string>> details() const override;
  const std::string& ifname() const noexcept { return ifname_; }

 private:
  AfPacketPort(std::string name, PortId id, uint32_t mtu, const AfPacketConfig& cfg, int ifindex,
               std::unique_ptr<PacketSocket> sock, Mempool& pool);

  struct RxTotals {
    uint16_t packets = 0;
    uint64_t bytes = 0;
  };
  // Rx helpers (afpacket_rx.cc), owning worker only.
  void drain_carry(PacketBatch& batch, RxTotals& t) noexcept;
  void receive_slot(tpacket2_hdr* h, uint32_t status, PacketBatch& batch, QueueCounters& c,
                    RxTotals& t) noexcept;
  void receive_gso(std::span<const std::byte> frame, const offload::VirtioNetHdr& vh,
                   PacketBatch& batch, QueueCounters& c, RxTotals& t) noexcept;
  Packet* take_buffer() noexcept;
  void deliver(Packet* p, uint32_t len, PacketBatch& batch, RxTotals& t) noexcept;

  std::string ifname_;
  int ifindex_;
  uint32_t data_room_;
  uint32_t kernel_mtu_at_open_;
  std::unique_ptr<PacketSocket> sock_;

  // Rx state: owning worker only.
  struct alignas(64) RxState {
    uint32_t head = 0;             // next rx slot to look at
    bool refilled = false;         // the stash was refilled during this rx_burst
    uint16_t carry_head = 0;       // first undelivered segment in carry
    uint16_t carry_count = 0;      // segments waiting in carry
    std::array<Packet*, kMaxSegments> carry{};
  } rx_;
  BufferStash stash_;

  // Tx state: under the tx-queue lock only.
  alignas(64) uint32_t tx_head_ = 0;

  // Control thread: accumulated PACKET_STATISTICS (the kernel resets them on read).
  mutable PacketSocket::KernelStats kernel_stats_;
};

}  // namespace vsw::ports::afpacket
