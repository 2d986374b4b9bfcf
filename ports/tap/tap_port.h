// ports/tap/tap_port.h — a kernel tap interface created and owned by vsw.
//
//      kernel stack (routes, bridges, netns ...)
//              |  ^
//   tap xmit   v  |  netif_rx
//      +-------------------+
//      |  tap "<ifname>"   |   /dev/net/tun, IFF_TAP | IFF_NO_PI, O_NONBLOCK
//      +-------------------+
//          read() |  ^ write()          one syscall per frame (the tun API has no batching)
//                 v  |
//      TapPort rx_burst / tx_burst  <->  vsw bridge
//
// The interface exists exactly as long as the port: it is created non-persistent (no
// TUNSETPERSIST), so closing the file descriptor in the destructor removes it. Offloads are not
// negotiated (no IFF_VNET_HDR / TUNSETOFFLOAD), so the kernel segments GSO packets and completes
// checksums before it hands a frame to the tap: every frame read is a plain Ethernet frame with
// valid checksums, which is what vsw carries internally.
//
// Options: ifname (default: the port name, at most 15 characters), mtu (default 1500; also set on
// the interface; at most Mempool::data_room() - 18), up (default true). See docs/ports/tap.md.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "common/result.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/port_factory.h"
#include "ports/tap/buffer_stash.h"

namespace vsw::ports::tap {

// The factory entry (ports/port_factory.cc): validates spec.options and creates the tap.
// Control thread. Errors: InvalidArgument (bad option), AlreadyExists (an interface with that
// name exists), Unavailable (/dev/net/tun missing), Io (other kernel refusals).
Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env);

struct TapConfig {
  std::string ifname;
  uint32_t mtu = kDefaultMtu;
  bool up = true;
};

class TapPort final : public Port {
 public:
  // Control thread. Creates the kernel interface `cfg.ifname`, sets its MTU and (if cfg.up)
  // brings it up. Received frames are stored in buffers from `pool`, which must outlive the port.
  static Result<std::unique_ptr<TapPort>> open(std::string name, PortId id, const TapConfig& cfg,
                                               Mempool& pool);
  // Control thread; closes the tun fd, which deletes the kernel interface.
  ~TapPort() override;

  std::string_view type() const noexcept override { return "tap"; }
  uint16_t rx_queue_count() const noexcept override { return 1; }
  uint16_t tx_queue_count() const noexcept override { return 1; }

  // --- fast path: owning worker only -----------------------------------------------------------
  // Reads frames the kernel sent out of the tap, one read() each, until the batch is full or the
  // queue is empty (EAGAIN). Counts Invalid (shorter than an Ethernet header), Mtu (longer than
  // a buffer) and NoBuffer (frame read and discarded because the pool was empty).
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // Writes each frame with one write(); EAGAIN or any other refusal counts TxFull, EINVAL counts
  // Invalid. Always consumes the whole batch.
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;

  // --- control thread ------------------------------------------------------------------------------
  // Up when the interface is IFF_UP and IFF_RUNNING (looked up by name in vsw's network
  // namespace: a tap moved to another namespace reports Down).
  LinkState link_state() const noexcept override;
  std::vector<std::pair<std::string, std::string>> details() const override;
  const std::string& ifname() const noexcept { return ifname_; }

 private:
  TapPort(std::string name, PortId id, const TapConfig& cfg, int fd, int ifindex, Mempool& pool);

  int fd_;
  std::string ifname_;
  int ifindex_;
  uint32_t data_room_;
  BufferStash stash_;
  // Receives the bytes of a frame too long for one buffer, and frames discarded for NoBuffer.
  std::array<std::byte, 64> overflow_{};
};

}  // namespace vsw::ports::tap
