// ports/afpacket/packet_socket.cc — AF_PACKET socket options and ring mapping.
// References: packet(7); Linux Documentation/networking/packet_mmap.rst (TPACKET_V2).
#include "ports/afpacket/packet_socket.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "ports/vnet/virtio_net_hdr.h"

namespace vsw::ports::afpacket {

namespace {

constexpr uint32_t kPageBytes = 4096;
// Sized for the largest GSO super-frame a kernel with default gso_max_size (64 KiB) builds, plus
// the headers before tp_mac (76 bytes for Ethernet; a little slack for tp_reserve-free layouts).
constexpr uint32_t kRxFrameBytes = 65536 + 256;
constexpr uint32_t kRxBlockBytes = 512 * 1024;  // holds 7 rx frames

uint32_t round_up_pow2(uint32_t v) noexcept {
  uint32_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

Status set_int_opt(int fd, int opt, int value, const char* what) {
  if (::setsockopt(fd, SOL_PACKET, opt, &value, sizeof value) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("setsockopt({}) failed", what));
  }
  return ok();
}

}  // namespace

RingGeometry rx_geometry(uint32_t min_frames) noexcept {
  static_assert(kRxFrameBytes % TPACKET_ALIGNMENT == 0);
  RingGeometry g;
  g.frame_size = kRxFrameBytes;
  g.block_size = kRxBlockBytes;
  const uint32_t per_block = g.block_size / g.frame_size;
  g.block_nr = (min_frames + per_block - 1) / per_block;
  g.frame_nr = g.block_nr * per_block;
  return g;
}

RingGeometry tx_geometry(uint32_t min_frames, uint32_t max_frame_len) noexcept {
  RingGeometry g;
  const uint32_t need = kTxDataOffset + sizeof(vnet::VirtioNetHdr) + max_frame_len;
  // Small slots: a power of two, several to a page. Larger slots (a 64 KiB super-frame): as
  // many as fit a 512 KiB block, like the rx ring — the kernel allocates each block as 2^n
  // pages, so a block of one 68 KiB slot would waste 60 KiB.
  if (need <= kPageBytes) {
    g.frame_size = round_up_pow2(need);
    g.block_size = kPageBytes;
  } else {
    g.frame_size = TPACKET_ALIGN(need);
    g.block_size = std::max(kRxBlockBytes, (g.frame_size + kPageBytes - 1) / kPageBytes * kPageBytes);
  }
  const uint32_t per_block = g.block_size / g.frame_size;
  g.block_nr = (min_frames + per_block - 1) / per_block;
  g.frame_nr = g.block_nr * per_block;
  return g;
}

Result<std::unique_ptr<PacketSocket>> PacketSocket::open(const std::string& ifname, int ifindex,
                                                         const RingGeometry& rx,
                                                         const RingGeometry& tx) {
  // Protocol 0: nothing is queued until bind() names ETH_P_ALL below, after the rings exist.
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const int err = errno;
    return make_sys_error(err == EPERM ? Errc::Unavailable : Errc::Io, err,
                          "cannot open an AF_PACKET socket (needs CAP_NET_RAW)");
  }
  std::unique_ptr<PacketSocket> s(new PacketSocket(fd, rx, tx));

  // packet(7) PACKET_VERSION; PACKET_VNET_HDR and PACKET_LOSS must precede the rings (EBUSY
  // afterwards). PACKET_LOSS: skip a malformed tx slot instead of stalling the ring on it.
  if (Status st = set_int_opt(fd, PACKET_VERSION, TPACKET_V2, "PACKET_VERSION"); !st) {
    return std::move(st).error();
  }
  if (Status st = set_int_opt(fd, PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"); !st) {
    return std::move(st).error();
  }
  if (Status st = set_int_opt(fd, PACKET_LOSS, 1, "PACKET_LOSS"); !st) {
    return std::move(st).error();
  }
  for (int which : {PACKET_RX_RING, PACKET_TX_RING}) {
    const RingGeometry& g = which == PACKET_RX_RING ? rx : tx;
    tpacket_req req{g.block_size, g.block_nr, g.frame_size, g.frame_nr};
    if (::setsockopt(fd, SOL_PACKET, which, &req, sizeof req) != 0) {
      return make_sys_error(Errc::Io, errno,
                            fmt::format("setsockopt({}) with {} frames of {} bytes failed",
                                        which == PACKET_RX_RING ? "PACKET_RX_RING"
                                                                : "PACKET_TX_RING",
                                        g.frame_nr, g.frame_size));
    }
  }
  s->map_bytes_ = rx.bytes() + tx.bytes();
  void* map = ::mmap(nullptr, s->map_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     fd, 0);
  if (map == MAP_FAILED) {
    return make_sys_error(Errc::ResourceExhausted, errno,
                          fmt::format("mmap of {} bytes of packet rings failed", s->map_bytes_));
  }
  s->map_ = static_cast<std::byte*>(map);
  const uint32_t rx_per_block = rx.block_size / rx.frame_size;
  s->rx_slots_.resize(rx.frame_nr);
  for (uint32_t i = 0; i < rx.frame_nr; ++i) {
    s->rx_slots_[i] = reinterpret_cast<tpacket2_hdr*>(
        s->map_ + static_cast<size_t>(i / rx_per_block) * rx.block_size +
        static_cast<size_t>(i % rx_per_block) * rx.frame_size);
  }
  s->tx_slots_.resize(tx.frame_nr);
  const uint32_t tx_per_block = tx.block_size / tx.frame_size;
  for (uint32_t i = 0; i < tx.frame_nr; ++i) {
    s->tx_slots_[i] = reinterpret_cast<tpacket2_hdr*>(
        s->map_ + rx.bytes() + static_cast<size_t>(i / tx_per_block) * tx.block_size +
        static_cast<size_t>(i % tx_per_block) * tx.frame_size);
  }

  // packet(7): bypass the qdisc layer on tx (frames go straight to the driver), and do not loop
  // our own transmissions back into the rx ring.
  if (Status st = set_int_opt(fd, PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS"); !st) {
    return std::move(st).error();
  }
  if (Status st = set_int_opt(fd, PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING"); !st) {
    return std::move(st).error();
  }

  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return make_sys_error(Errc::Io, errno, fmt::format("bind to interface '{}' failed", ifname));
  }
  // Consume any error the bind left pending (e.g. ENETDOWN if the link went down meanwhile), so
  // that it does not fail the first sendto() instead.
  int pending = 0;
  socklen_t pending_len = sizeof pending;
  (void)::getsockopt(fd, SOL_SOCKET, SO_ERROR, &pending, &pending_len);
  packet_mreq mreq{};
  mreq.mr_ifindex = ifindex;
  mreq.mr_type = PACKET_MR_PROMISC;
  if (::setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0) {
    return make_sys_error(Errc::Io, errno,
                          fmt::format("cannot make interface '{}' promiscuous", ifname));
  }
  return s;
}

PacketSocket::~PacketSocket() {
  if (map_ != nullptr) ::munmap(map_, map_bytes_);
  ::close(fd_);
}

PacketSocket::KernelStats PacketSocket::take_stats() noexcept {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) return {};
  return {st.tp_packets, st.tp_drops};
}

}  // namespace vsw::ports::afpacket
