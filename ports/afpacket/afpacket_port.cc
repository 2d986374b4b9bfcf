// ports/afpacket/afpacket_port.cc — attach/detach and control-thread queries (options are parsed
// in afpacket_options.cc).
// The fast path lives in afpacket_rx.cc and afpacket_tx.cc.
#include "ports/afpacket/afpacket_port.h"

#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>

#include <algorithm>

#include "common/ether.h"
#include "common/log.h"
#include "ports/tap/netdev.h"

namespace vsw::ports::afpacket {

Result<std::unique_ptr<AfPacketPort>> AfPacketPort::open(std::string name, PortId id,
                                                         const AfPacketConfig& cfg,
                                                         Mempool& pool) {
  if (Status s = netdev::check_ifname(cfg.ifname); !s) return std::move(s).error();
  auto index = netdev::ifindex(cfg.ifname);
  if (!index) return std::move(index).error();
  auto hw = netdev::hw_type(cfg.ifname);
  if (!hw) return std::move(hw).error();
  if (*hw != ARPHRD_ETHER) {
    return make_error(Errc::InvalidArgument,
                      "interface '{}' is not an Ethernet interface (link type {})", cfg.ifname,
                      *hw);
  }
  auto kmtu = netdev::mtu(cfg.ifname);
  if (!kmtu) return std::move(kmtu).error();
  const uint32_t data_room = pool.data_room();
  const uint32_t max_mtu = data_room - kEtherHeaderBytes - kVlanTagBytes;
  if (cfg.mtu > max_mtu) {
    return make_error(Errc::InvalidArgument, "mtu {} does not fit a {}-byte buffer (max {})",
                      cfg.mtu, data_room, max_mtu);
  }
  // Default: the kernel's MTU; frames above max_mtu could not be carried by vsw anyway.
  const uint32_t mtu = cfg.mtu != 0 ? cfg.mtu : std::min(*kmtu, max_mtu);

  // An attached port carries traffic at once: bring the interface up (it stays up afterwards).
  // Before bind(): binding to a down interface leaves a pending ENETDOWN socket error that the
  // first sendto() would return instead of sending.
  if (Status s = netdev::set_up(cfg.ifname, true); !s) return std::move(s).error();
  auto sock = PacketSocket::open(cfg.ifname, *index, rx_geometry(cfg.rx_frames),
                                 tx_geometry(cfg.tx_frames, kMaxFrameBytes));
  if (!sock) return std::move(sock).error();

  std::unique_ptr<AfPacketPort> port(
      new AfPacketPort(std::move(name), id, mtu, cfg, *index, std::move(*sock), pool));
  port->kernel_mtu_at_open_ = *kmtu;
  log::port().info(
      "afpacket port attached port={} ifname={} ifindex={} mtu={} rx_frames={} tx_frames={}",
      port->name(), cfg.ifname, *index, mtu, port->sock_->rx().frame_nr,
      port->sock_->tx().frame_nr);
  return port;
}

AfPacketPort::AfPacketPort(std::string name, PortId id, uint32_t mtu, const AfPacketConfig& cfg,
                           int ifindex, std::unique_ptr<PacketSocket> sock, Mempool& pool)
    : Port(std::move(name), id, mtu),
      ifname_(cfg.ifname),
      ifindex_(ifindex),
      data_room_(pool.data_room()),
      kernel_mtu_at_open_(0),
      sock_(std::move(sock)),
      stash_(pool) {
  set_offload_caps(OffloadCaps::kernel());
  const uint32_t slots = sock_->rx().frame_nr;
  slot_pkts_ = std::make_unique<Packet[]>(slots);
  slot_lent_ = std::make_unique<std::atomic<bool>[]>(slots);
  for (uint32_t i = 0; i < slots; ++i) {
    Packet& p = slot_pkts_[i];
    p.owner = &lender_;
    p.slot = i;
    p.iova = 0;  // kernel ring memory: never DMA-capable
    p.flags = kPacketLent;
    p.in_port = id;
    slot_lent_[i].store(false, std::memory_order_relaxed);
  }
}

AfPacketPort::~AfPacketPort() {
  log::port().info("afpacket port detached port={} ifname={}", name(), ifname_);
}

LinkState AfPacketPort::link_state() const noexcept { return netdev::link_state(ifname_); }

void AfPacketPort::housekeeping() {
  // Frames whose sendto() failed (a pending socket error after a link flap, ENOBUFS) stay
  // requested in the tx ring; without more traffic nobody would send them. The kernel serialises
  // concurrent senders on the ring, so this kick is safe beside the worker's tx_burst().
  (void)::sendto(sock_->fd(), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
}

std::vector<std::pair<std::string, std::string>> AfPacketPort::details() const {
  const PacketSocket::KernelStats now = sock_->take_stats();
  kernel_stats_.packets += now.packets;
  kernel_stats_.drops += now.drops;
  std::vector<std::pair<std::string, std::string>> d;
  d.emplace_back("ifname", ifname_);
  d.emplace_back("ifindex", std::to_string(ifindex_));
  auto kmtu = netdev::mtu(ifname_);
  d.emplace_back("kernel_mtu", kmtu ? std::to_string(*kmtu) : "?");
  if (kernel_mtu_at_open_ > mtu()) {
    d.emplace_back("mtu_note", fmt::format("kernel MTU {} capped to {} (buffer size)",
                                           kernel_mtu_at_open_, mtu()));
  }
  auto f = netdev::flags(ifname_);
  d.emplace_back("admin", f && (*f & IFF_UP) ? "up" : "down");
  d.emplace_back("carrier", f && (*f & IFF_RUNNING) ? "yes" : "no");
  // PACKET_MR_PROMISC raises the promiscuity count, which SIOCGIFFLAGS does not show.
  d.emplace_back("promisc", "on (PACKET_MR_PROMISC while attached)");
  const RingGeometry& rx = sock_->rx();
  const RingGeometry& tx = sock_->tx();
  d.emplace_back("rx_ring", fmt::format("{} frames x {} B ({} KiB)", rx.frame_nr, rx.frame_size,
                                        rx.bytes() / 1024));
  d.emplace_back("tx_ring", fmt::format("{} frames x {} B ({} KiB)", tx.frame_nr, tx.frame_size,
                                        tx.bytes() / 1024));
  d.emplace_back("offloads", "vnet_hdr: GSO super-frames and partial checksums passed through");
  d.emplace_back("kernel_rx_packets", std::to_string(kernel_stats_.packets));
  d.emplace_back("kernel_rx_ring_drops", std::to_string(kernel_stats_.drops));
  return d;
}

}  // namespace vsw::ports::afpacket
