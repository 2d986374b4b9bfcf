// ports/virtio/virtio_net_device.h — one virtio-net PCI function initialised and running: the
// transport, the negotiated features, the DMA memory and every virtqueue. VirtioPort
// (virtio_port.cc) is the dataplane face of it.
//
// open() runs the initialisation of virtio 1.1 §3.1.1 over either interface:
//   1. reset (wait until status reads 0); 2. ACKNOWLEDGE; 3. DRIVER;
//   4. read the offered features (and max_virtqueue_pairs when MQ is offered) and choose
//      (feature_negotiation.h); 5–6. write them — modern: FEATURES_OK, re-read;
//   7. map the pool and the ring memory for DMA, set up rx/tx queue pairs 0..queues-1 and the
//      control queue, post a receive buffer in every rx slot;
//   8. DRIVER_OK, then check the device did not set FAILED / DEVICE_NEEDS_RESET;
//   then control commands: promiscuous mode on (CTRL_RX), VQ_PAIRS_SET when queues > 1.
// On any failure the device is reset again, every buffer goes back to the pool and every mapping
// is undone, so a refused device is left as it was found (reset) for the PCI layer to give back.
//
// Destruction: reset first (the device stops all DMA, §2.1.2), then every buffer still in a ring
// goes back to the pool, then the memory is unmapped. The PciDevice must outlive this object.
//
// Threads: control thread, except rx(q)/tx(q) used by the workers (see RxQueue/TxQueue).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/ether.h"
#include "common/result.h"
#include "dataplane/mempool.h"
#include "dataplane/port.h"
#include "ports/pci/pci_device.h"
#include "ports/virtio/control_queue.h"
#include "ports/virtio/feature_negotiation.h"
#include "ports/virtio/ring_arena.h"
#include "ports/virtio/rx_queue.h"
#include "ports/virtio/tx_queue.h"
#include "ports/virtio/virtio_transport.h"

namespace vsw::ports::virtio {

struct DeviceOptions {
  InterfacePreference interface = InterfacePreference::Auto;
  uint16_t queues = 0;      // 0: one pair per worker, at most what the device has
  uint16_t workers = 1;
  bool offloads = true;
  uint16_t max_ring_size = 1024;  // modern devices are asked for at most this many entries
  PortId port = kNoPort;          // in_port of received frames
};

class VirtioNetDevice {
 public:
  // `dev` and `pool` must outlive the device. Errors name the device and what to do.
  static Result<std::unique_ptr<VirtioNetDevice>> open(pci::PciDevice& dev, Mempool& pool,
                                                        const DeviceOptions& opts);
  ~VirtioNetDevice();
  VirtioNetDevice(const VirtioNetDevice&) = delete;
  VirtioNetDevice& operator=(const VirtioNetDevice&) = delete;

  // --- workers ---
  RxQueue& rx(uint16_t q) noexcept { return rx_[q]; }
  TxQueue& tx(uint16_t q) noexcept { return tx_[q]; }
  const RxQueue& rx(uint16_t q) const noexcept { return rx_[q]; }
  const TxQueue& tx(uint16_t q) const noexcept { return tx_[q]; }

  // --- control thread ---
  uint16_t queue_pairs() const noexcept { return neg_.queue_pairs; }
  const Negotiated& negotiated() const noexcept { return neg_; }
  uint64_t offered_features() const noexcept { return offered_; }
  InterfaceKind interface() const noexcept { return transport_->kind(); }
  uint16_t rx_ring_size() const noexcept { return rx_ring_size_; }
  uint16_t tx_ring_size() const noexcept { return tx_ring_size_; }
  // The device's MAC (when it offers MAC; otherwise all zero).
  MacAddress mac() const noexcept { return mac_; }
  bool promiscuous() const noexcept { return promiscuous_; }
  // Link from the config status field (Up when STATUS was not negotiated, §5.1.4).
  LinkState read_link() const noexcept;
  // The device reported an error (status FAILED or DEVICE_NEEDS_RESET, §2.1).
  bool failed() const noexcept;
  uint16_t max_segments() const noexcept { return TxQueue::max_segments(tx_ring_size_); }

  // Routes rx virtqueue 2k's notifications to MSI-X vector k, for every queue pair k (the
  // transmit, control and configuration notifications stay on NO_VECTOR: vsw polls those).
  // False when the transport or device cannot (legacy; a vector the device refuses). Control
  // thread, before the workers poll the port; MSI-X must be enabled already (msix_eventfds()).
  bool route_rx_to_vectors() noexcept;

 private:
  VirtioNetDevice(pci::PciDevice& dev, Mempool& pool) : dev_(dev), pool_(pool) {}
  Status init(const DeviceOptions& opts);
  // The pool can serve this device: big enough buffers, physical addresses under uio.
  Status check_pool() const;
  Status setup_queues(const DeviceOptions& opts);
  Status control_commands();
  // Reads device config with the generation check of §4.1.4.3.1 (stable across the reads).
  template <class F>
  auto read_config(F&& f) const noexcept;

  pci::PciDevice& dev_;
  Mempool& pool_;
  std::unique_ptr<VirtioTransport> transport_;
  uint64_t offered_ = 0;
  Negotiated neg_;
  MacAddress mac_;
  bool promiscuous_ = false;
  bool pool_mapped_ = false;
  uint16_t rx_ring_size_ = 0;
  uint16_t tx_ring_size_ = 0;
  // Destroyed in reverse order: queues (buffers back to the pool) before the arena (unmap).
  RingArena arena_;
  std::unique_ptr<RxQueue[]> rx_;
  std::unique_ptr<TxQueue[]> tx_;
  ControlQueue ctrl_;
};

}  // namespace vsw::ports::virtio
