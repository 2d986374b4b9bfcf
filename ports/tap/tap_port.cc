// ports/tap/tap_port.cc — tap interface lifecycle and the read()/write() fast path.
// Reference: Linux Documentation/networking/tuntap.rst ("Universal TUN/TAP device driver").
#include "ports/tap/tap_port.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/ether.h"
#include "common/log.h"
#include "ports/tap/netdev.h"

namespace vsw::ports::tap {

namespace {
constexpr uint16_t kMaxSegmentsPerFrame = 8;
}  // namespace

Result<std::unique_ptr<TapPort>> TapPort::open(std::string name, PortId id, const TapConfig& cfg,
                                               Mempool& pool) {
  if (Status s = netdev::check_ifname(cfg.ifname); !s) return std::move(s).error();
  // TUNSETIFF would silently attach to an existing persistent tap; refuse any existing name.
  if (netdev::exists(cfg.ifname)) {
    return make_error(Errc::AlreadyExists,
                      "kernel interface '{}' already exists; a tap port creates its own interface "
                      "(use type afpacket to attach an existing one)",
                      cfg.ifname);
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return make_sys_error(err == ENOENT ? Errc::Unavailable : Errc::Io, err,
                          "cannot open /dev/net/tun");
  }
  // tuntap.rst §3.2: IFF_TAP for Ethernet frames, IFF_NO_PI for no 4-byte packet-info prefix.
  // No IFF_VNET_HDR: the kernel then segments and checksums before queueing to the tap.
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(ifr.ifr_name, cfg.ifname.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd, TUNSETIFF, &ifr) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EBUSY || err == EEXIST || err == EINVAL) {
      return make_sys_error(Errc::AlreadyExists, err,
                            fmt::format("cannot create tap '{}' (name in use)", cfg.ifname));
    }
    return make_sys_error(err == EPERM ? Errc::Unavailable : Errc::Io, err,
                          fmt::format("TUNSETIFF for tap '{}' failed", cfg.ifname));
  }
  Status st = netdev::set_mtu(cfg.ifname, cfg.mtu);
  if (st && cfg.up) st = netdev::set_up(cfg.ifname, true);
  auto index = st ? netdev::ifindex(cfg.ifname) : Result<int>(st.error());
  if (!index) {
    ::close(fd);  // removes the half-configured interface
    return std::move(index).error();
  }
  std::unique_ptr<TapPort> port(new TapPort(std::move(name), id, cfg, fd, *index, pool));
  log::port().info("tap port created port={} ifname={} ifindex={} mtu={} up={}", port->name(),
                   cfg.ifname, *index, cfg.mtu, cfg.up);
  return port;
}

TapPort::TapPort(std::string name, PortId id, const TapConfig& cfg, int fd, int ifindex,
                 Mempool& pool)
    : Port(std::move(name), id, cfg.mtu),
      fd_(fd),
      ifname_(cfg.ifname),
      ifindex_(ifindex),
      data_room_(pool.data_room()),
      stash_(pool) {}

TapPort::~TapPort() {
  ::close(fd_);
  log::port().info("tap port deleted port={} ifname={}", name(), ifname_);
}

uint16_t TapPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  QueueCounters& c = counters_.rx(q);
  if (stash_.size() < batch.room()) stash_.refill();
  uint16_t n = 0;
  uint64_t bytes = 0;
  // At most one batch worth of frames per call, whether kept or dropped.
  for (uint16_t budget = batch.room(); budget != 0; --budget) {
    Packet* p = stash_.take();
    if (p == nullptr) {
      // Pool empty: drain one frame into the overflow scratch so the kernel queue keeps moving
      // and the loss is counted here rather than hidden in the tap's tx_dropped.
      if (::read(fd_, overflow_.data(), overflow_.size()) < 0) break;
      c.drop(DropReason::NoBuffer);
      continue;
    }
    // One read() returns one whole frame (tuntap.rst §3.2); the second iovec catches frames longer
    // than a buffer so they can be told apart from frames of exactly data_room_ bytes.
    iovec iov[2] = {{p->data(), data_room_}, {overflow_.data(), overflow_.size()}};
    const ssize_t r = ::readv(fd_, iov, 2);
    if (r < 0) {
      stash_.put_back(p);
      if (errno == EINTR) continue;
      break;  // EAGAIN: nothing queued (or the interface went away: also nothing to read)
    }
    if (static_cast<size_t>(r) < kEtherHeaderBytes) {
      stash_.put_back(p);
      c.drop(DropReason::Invalid);
      continue;
    }
    if (static_cast<size_t>(r) > data_room_) {
      stash_.put_back(p);
      c.drop(DropReason::Mtu);
      continue;
    }
    p->len = static_cast<uint16_t>(r);
    p->frame_len = static_cast<uint32_t>(r);
    p->in_port = id();
    batch.push(p);
    ++n;
    bytes += static_cast<uint64_t>(r);
  }
  c.packets.add(n);
  c.bytes.add(bytes);
  return n;
}

uint16_t TapPort::tx_burst(QueueId q, PacketBatch& batch) noexcept {
  QueueCounters& c = counters_.tx(q);
  uint16_t sent = 0;
  uint64_t bytes = 0;
  for (Packet* p : batch.packets()) {
    iovec iov[kMaxSegmentsPerFrame];
    int segs = 0;
    for (Packet* s = p; s != nullptr && segs < kMaxSegmentsPerFrame; s = s->next) {
      iov[segs++] = {s->data(), s->len};
    }
    ssize_t r;
    do {
      r = ::writev(fd_, iov, segs);  // tuntap.rst §3.2: one write() injects one frame
    } while (r < 0 && errno == EINTR);
    if (r >= 0) {
      ++sent;
      bytes += static_cast<uint64_t>(r);
    } else {
      c.drop(errno == EINVAL ? DropReason::Invalid : DropReason::TxFull);
    }
    release_packet(p);
  }
  batch.clear();
  c.packets.add(sent);
  c.bytes.add(bytes);
  return sent;
}

LinkState TapPort::link_state() const noexcept { return netdev::link_state(ifname_); }

std::vector<std::pair<std::string, std::string>> TapPort::details() const {
  std::vector<std::pair<std::string, std::string>> d;
  d.emplace_back("ifname", ifname_);
  d.emplace_back("ifindex", std::to_string(ifindex_));
  auto kmtu = netdev::mtu(ifname_);
  d.emplace_back("kernel_mtu", kmtu ? std::to_string(*kmtu) : "?");
  auto f = netdev::flags(ifname_);
  d.emplace_back("admin", f && (*f & IFF_UP) ? "up" : "down");
  d.emplace_back("carrier", f && (*f & IFF_RUNNING) ? "yes" : "no");
  d.emplace_back("queues", "1");
  d.emplace_back("offloads", "none (kernel segments and checksums before the tap)");
  return d;
}

}  // namespace vsw::ports::tap
