// ports/tap/tap_port.h — a kernel tap interface created and owned by vsw.
//
//      kernel stack (routes, bridges, netns ...)
//              |  ^
//   tap xmit   v  |  netif_rx
//      +-------------------+
//      |  tap "<ifname>"   |   /dev/net/tun, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR
//      +-------------------+   [| IFF_MULTI_QUEUE: one fd per queue], O_NONBLOCK
//          readv() |  ^ writev()    one system call per frame — and a frame may be a 64 KiB
//                  v  |             GSO super-frame: one call moves ~45 MTU-sized frames' worth
//      TapPort rx_burst / tx_burst  <->  vsw bridge
//
// Offloads (tuntap.rst "Multiqueue tuntap interface", linux/if_tun.h): with IFF_VNET_HDR every
// frame read or written is preceded by a virtio_net_hdr (ports/vnet/virtio_net_hdr.h), and
// TUNSETOFFLOAD(CSUM | TSO4 | TSO6 | TSO_ECN | USO4 | USO6) lets the kernel hand over TCP and UDP
// super-frames and frames with partial checksums. They travel through vsw whole, as chains of
// mempool buffers, with their metadata on the Packet; a destination that cannot take them gets
// them segmented and checksummed at egress (dataplane/egress_offload.h). Written frames carry
// the same metadata back to the kernel, which segments or checksums what it must.
//
// The interface exists exactly as long as the port: it is created non-persistent (no
// TUNSETPERSIST), so closing the file descriptors in the destructor removes it.
//
// Options: ifname (default: the port name, at most 15 characters), mtu (default 1500; also set on
// the interface; at most Mempool::data_room() - 18), up (default true), queues (default: one per
// worker). See docs/ports/tap.md.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/port_factory.h"

namespace vsw::ports::tap {

// The factory entry (ports/port_factory.cc): validates spec.options and creates the tap.
// Control thread. Errors: InvalidArgument (bad option), AlreadyExists (an interface with that
// name exists), Unavailable (/dev/net/tun missing), Io (other kernel refusals).
Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env);

struct TapConfig {
  std::string ifname;
  uint32_t mtu = kDefaultMtu;
  bool up = true;
  uint16_t queues = 1;  // > 1: IFF_MULTI_QUEUE, one file descriptor per queue
};

class TapPort final : public Port {
 public:
  // Largest frame read from the kernel: a 64 KiB GSO super-frame plus its Ethernet header and
  // one VLAN tag (the kernel's default gso_max_size is 65536).
  static constexpr uint32_t kMaxRxFrameBytes = 65536 + 18;
  static constexpr uint16_t kMaxQueues = 16;

  // Control thread. Creates the kernel interface `cfg.ifname` with cfg.queues queues, enables the
  // offloads, sets its MTU and (if cfg.up) brings it up. Received frames are stored in buffers
  // from `pool`, which must outlive the port.
  static Result<std::unique_ptr<TapPort>> open(std::string name, PortId id, const TapConfig& cfg,
                                               Mempool& pool);
  // Control thread; closes the tun fds, which deletes the kernel interface.
  ~TapPort() override;

  std::string_view type() const noexcept override { return "tap"; }
  uint16_t rx_queue_count() const noexcept override { return queue_count_; }
  uint16_t tx_queue_count() const noexcept override { return queue_count_; }

  // --- fast path: owning worker only -----------------------------------------------------------
  // Reads frames the kernel sent out of the tap queue `q`, one readv() each (straight into a
  // chain of mempool buffers), until the batch is full or the queue is empty (EAGAIN). Counts
  // Invalid (shorter than an Ethernet header, inconsistent virtio_net_hdr), Mtu (longer than
  // kMaxRxFrameBytes) and NoBuffer (frame discarded because the pool was empty).
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // Writes each frame, every segment of its chain behind its virtio_net_hdr, with one writev().
  // EAGAIN or any other refusal counts TxFull, EINVAL counts Invalid. Consumes the whole batch.
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // The queue's tun fd: readable while the kernel holds a frame for it (level-triggered, so
  // there is nothing to enable or consume).
  int rx_wakeup_fd(QueueId q) const noexcept override { return queues_[q].fd; }

  // --- control thread ------------------------------------------------------------------------------
  // Up when the interface is IFF_UP and IFF_RUNNING, wherever it is now: found through the tap
  // fd (tap_location.h), so a tap renamed or moved into another network namespace reports its
  // real state; details() names the namespace.
  LinkState link_state() const noexcept override;
  std::vector<std::pair<std::string, std::string>> details() const override;
  const std::string& ifname() const noexcept { return ifname_; }

 private:
  // Buffers a read may fill: enough for kMaxRxFrameBytes. One rx queue's state, used only by the
  // worker polling it.
  static constexpr uint32_t kMaxRxSegments = 64;
  struct alignas(64) Queue {
    int fd = -1;
    uint16_t ready = 0;                           // fresh buffers at the front of `bufs`
    std::array<Packet*, kMaxRxSegments> bufs{};   // read targets, refilled from the pool
    // Receives the bytes of a frame too long for the buffers, and frames discarded for NoBuffer.
    std::array<std::byte, 256> overflow{};
  };

  TapPort(std::string name, PortId id, const TapConfig& cfg, std::vector<int> fds, int ifindex,
          bool uso, Mempool& pool);
  // Tops queue `rxq`'s read buffers up to rx_segments_ (Mempool::alloc, 32 at a time).
  void refill(Queue& rxq) noexcept;
  Packet* receive_one(Queue& rxq, QueueCounters& c, bool& again) noexcept;

  std::string ifname_;
  int ifindex_;
  uint32_t data_room_;
  uint32_t rx_segments_;  // buffers one read needs at most (kMaxRxFrameBytes / data_room_)
  uint16_t queue_count_;
  bool uso_;
  Mempool& pool_;
  std::unique_ptr<Queue[]> queues_;
};

}  // namespace vsw::ports::tap
