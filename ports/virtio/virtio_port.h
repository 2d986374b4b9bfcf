// ports/virtio/virtio_port.h — a virtio-net PCI function driven from user space, as a vsw Port
// (docs/ports/virtio.md).
//
//        vsw bridge
//   rx_burst(q) ^   | tx_burst(q)          q = queue pair k: rx virtqueue 2k, tx virtqueue 2k+1
//       RxQueue |   v TxQueue              (rx_queue.h, tx_queue.h: split rings in DMA memory)
//   +---------------------------+
//   | VirtioNetDevice            |  features, rings, control queue (virtio_net_device.h)
//   | VirtioTransport            |  legacy I/O BAR0 or modern capabilities (virtio_transport.h)
//   +---------------------------+
//   | pci::PciDevice (uio|vfio)  |  BARs, dma_map/dma_address (ports/pci/pci_device.h)
//   +---------------------------+
//
// Received frames land by DMA in buffers of the switch's mempool and travel through the bridge
// with no copy; frames sent to a virtio port go to the device by reference when it can reach them
// (tx_zero_copy), otherwise as copies (tx_copied).
//
// Options: pci=DDDD:BB:DD.F (required), driver=vfio|uio (default vfio), queues=N (default one per
// worker, at most max_virtqueue_pairs), interface=auto|legacy|modern (default auto: modern when
// offered), offloads=on|off (default on).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "dataplane/port.h"
#include "ports/pci/pci_device.h"
#include "ports/port_factory.h"
#include "ports/virtio/virtio_net_device.h"

namespace vsw::ports::virtio {

// The factory entry (ports/port_factory.cc): parses the options, opens the PCI device through
// the PCI layer and initialises it. Control thread. Errors: InvalidArgument (options, a device
// that is not virtio-net), what the PCI layer refuses (pci_device.h), Unsupported/Unavailable
// from the device (missing features, no hugepages for uio).
Result<std::unique_ptr<Port>> create(const PortSpec& spec, PortId id, PortEnv& env);

class VirtioPort final : public Port {
 public:
  // Takes `dev` (already opened by the PCI layer) and initialises the virtio-net function on it.
  // `pool` must outlive the port. On failure the device is left reset and `dev` is destroyed
  // (which gives it back to its kernel driver).
  static Result<std::unique_ptr<VirtioPort>> open(std::string name, PortId id,
                                                  std::unique_ptr<pci::PciDevice> dev,
                                                  Mempool& pool, DeviceOptions opts);
  // Control thread: resets the device, releases every buffer in its rings, unmaps the memory,
  // then destroys the PciDevice.
  ~VirtioPort() override;

  std::string_view type() const noexcept override { return "virtio"; }
  uint16_t rx_queue_count() const noexcept override { return net_->queue_pairs(); }
  uint16_t tx_queue_count() const noexcept override { return net_->queue_pairs(); }

  // --- fast path -----------------------------------------------------------------------------
  // Owning worker of rx queue q: up to batch.room() frames (RxQueue::receive), refill included.
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override;
  // Under Port's tx lock: reclaim, post, one doorbell at most (TxQueue::transmit).
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override;

  // Wake-up source (adaptive polling): rx queue q's own MSI-X vector, as an eventfd of the PCI
  // layer (vfio, modern interface: rx virtqueue 2q -> vector q). Arming asks the virtqueue for
  // an interrupt (RxQueue::enable_interrupts); waking drains the eventfd (MSI-X is edge-
  // triggered: nothing to acknowledge). Without one (uio; the legacy interface, whose register
  // layout changes with MSI-X; a device without MSI-X) the worker naps instead. Not INTx: one
  // line per device cannot wake the several workers of a multi-queue port, and QEMU 7.2 under
  // TCG with an emulated IOMMU never delivered it to vfio in vsw's tests.
  int rx_wakeup_fd(QueueId q) const noexcept override {
    return q < irq_fds_.size() ? irq_fds_[q] : kNoRxWakeup;
  }
  bool enable_rx_wakeup(QueueId q) noexcept override;
  void disable_rx_wakeup(QueueId q, bool signalled) noexcept override;

  // --- control thread ----------------------------------------------------------------------
  // From the device config status field, polled by housekeeping(); Down once the device failed.
  LinkState link_state() const noexcept override { return link_.load(std::memory_order_relaxed); }
  std::vector<std::pair<std::string, std::string>> details() const override;
  void housekeeping() override;

  const VirtioNetDevice& device() const noexcept { return *net_; }
  uint64_t tx_zero_copy() const noexcept;
  uint64_t tx_copied() const noexcept;

 private:
  // open(): the rx wake-up source (see rx_wakeup_fd).
  void choose_wakeup();

  VirtioPort(std::string name, PortId id, std::unique_ptr<pci::PciDevice> dev)
      : Port(std::move(name), id, kDefaultMtu), dev_(std::move(dev)) {}

  std::unique_ptr<pci::PciDevice> dev_;   // destroyed last: gives the device back
  std::unique_ptr<VirtioNetDevice> net_;
  std::atomic<LinkState> link_{LinkState::Down};
  std::vector<int> irq_fds_;   // rx queue q -> its MSI-X eventfd (owned by dev_); empty: none
  std::string wakeup_;         // port-show detail rx_wakeup: what the workers wait on
  // Interrupt eventfd reads per rx queue (single writer: the queue's worker).
  std::array<Counter, PortCounters::kMaxQueues> interrupts_{};
  bool reported_failure_ = false;
};

}  // namespace vsw::ports::virtio
