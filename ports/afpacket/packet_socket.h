// ports/afpacket/packet_socket.h — an AF_PACKET socket with TPACKET_V2 rx and tx rings mapped.
//
// One mmap() covers both rings, rx first (packet(7), Documentation/networking/packet_mmap.rst):
//
//   +----------------------------- rx ring -----------------------------+---- tx ring ----+
//   | block 0: frame 0 | frame 1 | ... | block 1: ... | block n-1 ...   | frame 0 | ...    |
//   +-------------------------------------------------------------------+-----------------+
//   rx frame (one slot per received frame, sized for a 64 KiB GSO super-frame):
//   | tpacket2_hdr | sockaddr_ll | pad | virtio_net_hdr | frame bytes (tp_mac..+tp_snaplen) |
//                                    ^ tp_mac - 10      ^ tp_mac
//   tx frame (data at TPACKET2_HDRLEN - sizeof(sockaddr_ll) = 32 when PACKET_TX_HAS_OFF is off):
//   | tpacket2_hdr | virtio_net_hdr (zero) | frame bytes |     tp_len = 10 + frame length
//
// Ownership of each slot moves between kernel and user through tp_status (TP_STATUS_KERNEL /
// TP_STATUS_USER on rx; TP_STATUS_AVAILABLE / TP_STATUS_SEND_REQUEST on tx); readers load it with
// acquire and writers store it with release ordering.
//
// Threads: created and destroyed on the control thread; the ring slots are then used by the rx
// and tx fast paths of AfPacketPort.
#pragma once

#include <linux/if_packet.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace vsw::ports::afpacket {

// One ring's shape, as passed to PACKET_RX_RING / PACKET_TX_RING (struct tpacket_req).
struct RingGeometry {
  uint32_t block_size = 0;  // multiple of the page size
  uint32_t block_nr = 0;
  uint32_t frame_size = 0;  // multiple of TPACKET_ALIGNMENT; frames never straddle blocks
  uint32_t frame_nr = 0;    // block_nr * (block_size / frame_size)

  size_t bytes() const noexcept { return static_cast<size_t>(block_size) * block_nr; }
};

// Offset of the frame data in a tx slot (packet_mmap.rst "TX_RING"): TPACKET2_HDRLEN minus the
// sockaddr_ll the kernel only uses on rx.
constexpr uint32_t kTxDataOffset = TPACKET_ALIGN(sizeof(tpacket2_hdr));
static_assert(kTxDataOffset == 32);

// Rx slots big enough for a 64 KiB super-frame behind the headers (tp_mac is 76 for Ethernet),
// seven to a 512 KiB block; `min_frames` is rounded up to whole blocks.
RingGeometry rx_geometry(uint32_t min_frames) noexcept;
// Tx slots holding kTxDataOffset + virtio_net_hdr + `max_frame_len`: the next power of two up to
// a page; above, as many as fit a 512 KiB block.
RingGeometry tx_geometry(uint32_t min_frames, uint32_t max_frame_len) noexcept;

class PacketSocket {
 public:
  // Control thread. Opens the socket, enables PACKET_VNET_HDR, sets up and maps both rings, turns
  // on PACKET_QDISC_BYPASS, PACKET_IGNORE_OUTGOING and PACKET_LOSS, binds to `ifindex` for
  // ETH_P_ALL and joins PACKET_MR_PROMISC. Errors: Unavailable without CAP_NET_RAW, Io otherwise.
  static Result<std::unique_ptr<PacketSocket>> open(const std::string& ifname, int ifindex,
                                                    const RingGeometry& rx,
                                                    const RingGeometry& tx);
  ~PacketSocket();  // unmaps the rings and closes the socket (the kernel drops the promisc ref)
  PacketSocket(const PacketSocket&) = delete;
  PacketSocket& operator=(const PacketSocket&) = delete;

  int fd() const noexcept { return fd_; }
  const RingGeometry& rx() const noexcept { return rx_; }
  const RingGeometry& tx() const noexcept { return tx_; }
  // Slot addresses, precomputed at open (index < frame_nr).
  tpacket2_hdr* rx_slot(uint32_t i) const noexcept { return rx_slots_[i]; }
  tpacket2_hdr* tx_slot(uint32_t i) const noexcept { return tx_slots_[i]; }

  // Control thread: PACKET_STATISTICS (frames seen, frames the kernel dropped because the rx ring
  // was full) since the previous call — the kernel resets them on every read.
  struct KernelStats {
    uint64_t packets = 0;
    uint64_t drops = 0;
  };
  KernelStats take_stats() noexcept;

 private:
  PacketSocket(int fd, const RingGeometry& rx, const RingGeometry& tx) noexcept
      : fd_(fd), rx_(rx), tx_(tx) {}

  int fd_;
  RingGeometry rx_;
  RingGeometry tx_;
  std::byte* map_ = nullptr;
  size_t map_bytes_ = 0;
  std::vector<tpacket2_hdr*> rx_slots_;
  std::vector<tpacket2_hdr*> tx_slots_;
};

}  // namespace vsw::ports::afpacket
