// ports/tap/tap_port.cc — tap interface lifecycle and the readv()/writev() fast path.
// Reference: Linux Documentation/networking/tuntap.rst ("Universal TUN/TAP device driver"),
// linux/if_tun.h (IFF_VNET_HDR, IFF_MULTI_QUEUE, TUNSETOFFLOAD and the TUN_F_* bits).
#include "ports/tap/tap_port.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/ether.h"
#include "common/log.h"
#include "ports/tap/netdev.h"
#include "ports/tap/tap_location.h"
#include "ports/vnet/vnet_metadata.h"

namespace vsw::ports::tap {

namespace {

using vnet::VirtioNetHdr;

// linux/if_tun.h since Linux 6.2 (Debian 12's headers predate them): UDP segmentation offload.
constexpr unsigned kTunFUso4 = 0x20;
constexpr unsigned kTunFUso6 = 0x40;
constexpr unsigned kTunOffloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;

// Most segments one written frame may have (plus the header iovec); longer chains are packed
// into fewer buffers by Port::transmit (OffloadCaps::max_segments).
constexpr uint16_t kMaxTxSegments = 256;

void close_all(const std::vector<int>& fds) noexcept {
  for (int fd : fds) ::close(fd);
}

// One TUNSETIFF: a new interface for the first queue, another queue of it for the rest.
Result<int> attach_queue(const TapConfig& cfg) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return make_sys_error(err == ENOENT ? Errc::Unavailable : Errc::Io, err,
                          "cannot open /dev/net/tun");
  }
  // tuntap.rst §3.2: IFF_TAP for Ethernet frames, IFF_NO_PI for no 4-byte packet-info prefix,
  // IFF_VNET_HDR for a virtio_net_hdr in front of every frame; §3.4 IFF_MULTI_QUEUE.
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (cfg.queues > 1) ifr.ifr_flags |= IFF_MULTI_QUEUE;
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
  return fd;
}

}  // namespace

Result<std::unique_ptr<TapPort>> TapPort::open(std::string name, PortId id, const TapConfig& cfg,
                                               Mempool& pool) {
  if (Status s = netdev::check_ifname(cfg.ifname); !s) return std::move(s).error();
  if (cfg.queues == 0 || cfg.queues > kMaxQueues) {
    return make_error(Errc::InvalidArgument, "tap queues {} must be in 1..{}", cfg.queues,
                      kMaxQueues);
  }
  // TUNSETIFF would silently attach to an existing persistent tap; refuse any existing name.
  if (netdev::exists(cfg.ifname)) {
    return make_error(Errc::AlreadyExists,
                      "kernel interface '{}' already exists; a tap port creates its own interface "
                      "(use type afpacket to attach an existing one)",
                      cfg.ifname);
  }
  std::vector<int> fds;
  for (uint16_t q = 0; q < cfg.queues; ++q) {
    auto fd = attach_queue(cfg);
    if (!fd) {
      close_all(fds);  // the last close removes the half-made interface
      return std::move(fd).error();
    }
    fds.push_back(*fd);
  }
  // The kernel may now hand over super-frames and partial checksums (it sets the interface's
  // features from these bits). UDP segmentation needs Linux 6.2: without it, TCP only.
  bool uso = true;
  if (::ioctl(fds[0], TUNSETOFFLOAD, kTunOffloads | kTunFUso4 | kTunFUso6) != 0) {
    uso = false;
    if (::ioctl(fds[0], TUNSETOFFLOAD, kTunOffloads) != 0) {
      const int err = errno;
      close_all(fds);
      return make_sys_error(Errc::Io, err,
                            fmt::format("TUNSETOFFLOAD for tap '{}' failed", cfg.ifname));
    }
  }
  Status st = netdev::set_mtu(cfg.ifname, cfg.mtu);
  if (st && cfg.up) st = netdev::set_up(cfg.ifname, true);
  auto index = st ? netdev::ifindex(cfg.ifname) : Result<int>(st.error());
  if (!index) {
    close_all(fds);
    return std::move(index).error();
  }
  std::unique_ptr<TapPort> port(
      new TapPort(std::move(name), id, cfg, std::move(fds), *index, uso, pool));
  log::port().info("tap port created port={} ifname={} ifindex={} mtu={} up={} queues={} uso={}",
                   port->name(), cfg.ifname, *index, cfg.mtu, cfg.up, cfg.queues, uso);
  return port;
}

TapPort::TapPort(std::string name, PortId id, const TapConfig& cfg, std::vector<int> fds,
                 int ifindex, bool uso, Mempool& pool)
    : Port(std::move(name), id, cfg.mtu),
      ifname_(cfg.ifname),
      ifindex_(ifindex),
      data_room_(pool.data_room()),
      rx_segments_(std::min<uint32_t>(kMaxRxSegments,
                                      (kMaxRxFrameBytes + data_room_ - 1) / data_room_)),
      queue_count_(static_cast<uint16_t>(fds.size())),
      uso_(uso),
      pool_(pool),
      queues_(std::make_unique<Queue[]>(fds.size())) {
  for (size_t q = 0; q < fds.size(); ++q) queues_[q].fd = fds[q];
  OffloadCaps caps = OffloadCaps::kernel();
  caps.uso = uso;
  caps.max_segments = kMaxTxSegments;
  set_offload_caps(caps);
}

TapPort::~TapPort() {
  for (uint16_t q = 0; q < queue_count_; ++q) {
    Queue& rxq = queues_[q];
    for (uint16_t i = 0; i < rxq.ready; ++i) release_packet(rxq.bufs[i]);
    ::close(rxq.fd);
  }
  log::port().info("tap port deleted port={} ifname={}", name(), ifname_);
}

void TapPort::refill(Queue& rxq) noexcept {
  while (rxq.ready < rx_segments_) {
    const uint16_t want = static_cast<uint16_t>(
        std::min<uint32_t>(rx_segments_ - rxq.ready, Mempool::kBurst));
    const uint16_t got = pool_.alloc(rxq.bufs.data() + rxq.ready, want);
    rxq.ready = static_cast<uint16_t>(rxq.ready + got);
    if (got < want) return;
  }
}

Packet* TapPort::receive_one(Queue& rxq, QueueCounters& c, bool& again) noexcept {
  again = true;
  // One readv() returns one whole frame (tuntap.rst §3.2), behind its virtio_net_hdr; a last
  // iovec catches frames longer than the buffers so they can be told apart from a full fit.
  VirtioNetHdr vh{};
  iovec iov[kMaxRxSegments + 2];
  iov[0] = {&vh, sizeof vh};
  for (uint16_t i = 0; i < rxq.ready; ++i) iov[i + 1] = {rxq.bufs[i]->data(), data_room_};
  iov[rxq.ready + 1] = {rxq.overflow.data(), rxq.overflow.size()};
  const ssize_t r = ::readv(rxq.fd, iov, rxq.ready + 2);
  if (r < 0) {
    again = errno == EINTR;
    return nullptr;  // EAGAIN: nothing queued (or the interface went away: nothing to read)
  }
  const auto got = static_cast<size_t>(r);
  if (got < sizeof vh + kEtherHeaderBytes) {
    c.drop(DropReason::Invalid);
    return nullptr;
  }
  const uint32_t len = static_cast<uint32_t>(got - sizeof vh);
  if (len > static_cast<uint64_t>(rxq.ready) * data_room_) {
    // Did not fit: too long for any read (Mtu), or the pool could not fill every buffer.
    c.drop(rxq.ready < rx_segments_ ? DropReason::NoBuffer : DropReason::Mtu);
    return nullptr;
  }
  // Chain the buffers the frame filled; the rest stay ready for the next read.
  const uint16_t used = static_cast<uint16_t>((len + data_room_ - 1) / data_room_);
  Packet* first = rxq.bufs[0];
  uint32_t left = len;
  for (uint16_t i = 0; i < used; ++i) {
    Packet* s = rxq.bufs[i];
    s->len = static_cast<uint16_t>(std::min(left, data_room_));
    s->next = i + 1 < used ? rxq.bufs[i + 1] : nullptr;
    left -= s->len;
  }
  std::copy(rxq.bufs.begin() + used, rxq.bufs.begin() + rxq.ready, rxq.bufs.begin());
  rxq.ready = static_cast<uint16_t>(rxq.ready - used);
  first->frame_len = len;
  first->in_port = id();
  if (vnet::import_vnet(vh, *first) != vnet::ImportStatus::Ok) {
    release_packet(first);
    c.drop(DropReason::Invalid);
    return nullptr;
  }
  return first;
}

uint16_t TapPort::rx_burst(QueueId q, PacketBatch& batch) noexcept {
  Queue& rxq = queues_[q];
  QueueCounters& c = counters_.rx(q);
  uint16_t n = 0;
  uint64_t bytes = 0;
  bool pool_empty = false;
  // At most one batch worth of frames per call, whether kept or dropped.
  for (uint16_t budget = batch.room(); budget != 0; --budget) {
    // Every read is offered room for a super-frame. Once the pool had nothing, no other attempt
    // in this burst: an empty pool costs one failed refill per poll, not one per frame.
    if (rxq.ready < rx_segments_ && !pool_empty) {
      const uint16_t before = rxq.ready;
      refill(rxq);
      pool_empty = rxq.ready == before;
    }
    if (rxq.ready == 0) {
      // Pool empty: drain one frame into the scratch area so the kernel queue keeps moving and
      // the loss is counted here rather than hidden in the tap's tx_dropped.
      if (::read(rxq.fd, rxq.overflow.data(), rxq.overflow.size()) < 0) break;
      c.drop(DropReason::NoBuffer);
      continue;
    }
    bool again = false;
    Packet* p = receive_one(rxq, c, again);
    if (p == nullptr) {
      if (!again) break;
      continue;
    }
    batch.push(p);
    ++n;
    bytes += p->frame_len;
  }
  c.packets.add(n);
  c.bytes.add(bytes);
  return n;
}

uint16_t TapPort::tx_burst(QueueId q, PacketBatch& batch) noexcept {
  QueueCounters& c = counters_.tx(q);
  const int fd = queues_[q].fd;
  uint16_t sent = 0;
  uint64_t bytes = 0;
  for (Packet* p : batch.packets()) {
    // The kernel segments and checksums what the header says (virtio 1.0 §5.1.6.2 from the
    // device's side; tun_get_user() in the kernel).
    const VirtioNetHdr vh = vnet::export_vnet(*p);
    iovec iov[kMaxTxSegments + 1];
    iov[0] = {const_cast<VirtioNetHdr*>(&vh), sizeof vh};
    int segs = 1;
    for (Packet* s = p; s != nullptr && segs <= kMaxTxSegments; s = s->next) {
      iov[segs++] = {s->data(), s->len};
    }
    ssize_t r;
    do {
      r = ::writev(fd, iov, segs);  // tuntap.rst §3.2: one write() injects one frame
    } while (r < 0 && errno == EINTR);
    if (r >= 0) {
      ++sent;
      bytes += p->frame_len;
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

LinkState TapPort::link_state() const noexcept {
  try {
    auto where = locate_tap(queues_[0].fd);
    const uint32_t up = IFF_UP | IFF_RUNNING;
    return where && where->flags && (*where->flags & up) == up ? LinkState::Up : LinkState::Down;
  } catch (...) {  // std::string allocation only
    return LinkState::Down;
  }
}

std::vector<std::pair<std::string, std::string>> TapPort::details() const {
  std::vector<std::pair<std::string, std::string>> d;
  auto where = locate_tap(queues_[0].fd);
  if (!where) {
    d.emplace_back("ifname", ifname_ + " (gone)");
    return d;
  }
  d.emplace_back("ifname", where->ifname);
  d.emplace_back("netns", where->netns);
  d.emplace_back("ifindex", where->ifindex ? std::to_string(*where->ifindex) : "?");
  d.emplace_back("kernel_mtu", where->mtu ? std::to_string(*where->mtu) : "?");
  const auto& f = where->flags;
  d.emplace_back("admin", f && (*f & IFF_UP) ? "up" : "down");
  d.emplace_back("carrier", f && (*f & IFF_RUNNING) ? "yes" : "no");
  d.emplace_back("queues", std::to_string(queue_count_));
  d.emplace_back("offloads", uso_ ? "vnet_hdr: csum, tso4, tso6, tso_ecn, uso4, uso6"
                                  : "vnet_hdr: csum, tso4, tso6, tso_ecn");
  return d;
}

}  // namespace vsw::ports::tap
