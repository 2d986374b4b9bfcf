// ports/intel/intel_port.h — an Intel 82599 (ixgbe) or 82576 (igb) NIC driven from user space
// in poll mode, as a vsw Port (docs/ports/intel.md).
//
//        vsw bridge
//   rx_burst(q) ^   | tx_burst(q)       rx queue q: one per worker (RSS spreads flows over them)
//        RxRing |   v TxRing            tx queue q: one per worker
//   +--------------------------------+  advanced descriptors, shared by both families
//   | descriptor engine (rx_ring.h,   |  (adv_descriptors.h), rings in RingMemory
//   |   tx_ring.h)                    |
//   +--------------------------------+
//   | NicLayer: 82599 | 82576         |  register map and bring-up (nic_layer.h,
//   |   (ixgbe_layer.cc, igb_layer.cc)|  ixgbe_regs.h, igb_regs.h)
//   +--------------------------------+
//   | pci::PciDevice (uio|vfio|model) |  BAR 0, dma_map/dma_address (ports/pci/pci_device.h)
//   +--------------------------------+
//
// Received frames land by DMA in buffers of the switch's mempool and travel through the bridge
// without a copy; frames sent to the port go to the device by reference when it can reach them
// (tx_zero_copy), otherwise as copies (tx_copied).
//
// Options (intel_create.cc): pci=DDDD:BB:DD.F (required), driver=vfio|uio (default vfio),
// rx-queues=N (default one per worker, at most the family's RSS limit: 16 on the 82599, 8 on
// the 82576), mtu=N (default 1500, at most 9600: jumbo frames go out as buffer chains).
//
// Wake-ups (adaptive polling): over vfio, one MSI-X vector per rx queue (rx queue q -> vector
// q, NicLayer::enable_msix), each signalling an eventfd of the PCI layer; over uio, or when the
// device refuses the vectors, none (the worker naps), with the reason in port-show's rx_wakeup.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/ether.h"
#include "common/result.h"
#include "dataplane/port.h"
#include "ports/intel/nic_layer.h"
#include "ports/intel/reg_io.h"
#include "ports/intel/ring_memory.h"
#include "ports/intel/rx_ring.h"
#include "ports/intel/tx_ring.h"
#include "ports/pci/pci_device.h"
#include "ports/port_factory.h"

namespace vsw::ports::intel {

enum class NicFamily : uint8_t { Ixgbe82599, Igb82576 };

constexpr std::string_view nic_family_name(NicFamily f) noexcept {
  return f == NicFamily::Ixgbe82599 ? "ixgbe" : "igb";
}

struct IntelOptions {
  uint16_t rx_queues = 0;    // 0: one per worker (capped by the family's RSS maximum)
  uint16_t workers = 1;      // tx queues: one per worker
  uint16_t ring_size = 512;  // descriptors per ring, multiple of 8 (power of two)
  bool promiscuous = true;
  uint32_t link_wait_ms = 10000;  // open() waits at most this long for link up, then proceeds Down
  // Beyond the shared contract: Port::mtu() (transmit limit; receive takes frames up to 9728
  // bytes whatever it is). 68..kMaxMtu.
  uint32_t mtu = kDefaultMtu;
};

// Factory entries (ports/port_factory.cc): `--type ixgbe` and `--type igb`. Parse the options,
// open the PCI device through the PCI layer, bring the NIC up. Control thread. Errors:
// InvalidArgument (options; a device of another family), what the PCI layer refuses
// (pci_device.h), Unavailable/ResourceExhausted from bring-up.
Result<std::unique_ptr<Port>> create_ixgbe(const PortSpec& spec, PortId id, PortEnv& env);
Result<std::unique_ptr<Port>> create_igb(const PortSpec& spec, PortId id, PortEnv& env);

class IntelPort final : public Port {
 public:
  // Takes a device already opened by the PCI layer (or a test model implementing
  // pci::PciDevice) and brings the NIC up. Control thread. `pool` must outlive the port; its
  // memory is mapped for the device (zero-copy receive). Errors: InvalidArgument (options:
  // rx_queues above the family's limit, a ring size that is not a power of two in 64..4096),
  // Unavailable (the device did not answer a bring-up step; uio without hugepages),
  // ResourceExhausted (the pool cannot fill the rings). On failure the device is reset and `dev`
  // destroyed (which gives it back to its kernel driver).
  static Result<std::unique_ptr<IntelPort>> open(std::string name, PortId id, NicFamily family,
                                                 std::unique_ptr<pci::PciDevice> dev, Mempool& pool,
                                                 IntelOptions opts);
  // Control thread: resets the device (no DMA after it), releases every buffer of its rings,
  // unmaps the rings and the pool, then destroys the PciDevice.
  ~IntelPort() override;

  std::string_view type() const noexcept override { return nic_family_name(family_); }
  uint16_t rx_queue_count() const noexcept override { return static_cast<uint16_t>(rx_.size()); }
  uint16_t tx_queue_count() const noexcept override { return static_cast<uint16_t>(tx_.size()); }

  // --- fast path -----------------------------------------------------------------------------
  // Owning worker of rx queue q: up to batch.room() frames, refill and one RDT write included.
  uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept override {
    return rx_[q]->receive(batch, counters_.rx(q));
  }
  // Under Port's tx lock: cleanup, post, one TDT write.
  uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept override {
    return tx_[q]->transmit(batch, counters_.tx(q));
  }

  // Wake-up source (adaptive polling, dataplane/port.h): rx queue q's MSI-X vector's eventfd,
  // or kNoRxWakeup. enable_rx_wakeup clears the vector's stale cause (EICR), unmasks it (EIMS),
  // flushes the posted writes with a register read and then looks at the ring: false when a
  // frame already waits (it may have been written back before the unmask reached the device;
  // then its cause is pending and the vector fires at once as well). disable_rx_wakeup masks
  // the vector (EIMC; the device auto-masks it too when the message goes out, GPIE.EIAME) and,
  // when signalled, drains the eventfd (MSI-X is edge-triggered: nothing to acknowledge).
  // Registers written with write-1 semantics, one bit per vector: workers never share a
  // read-modify-write.
  int rx_wakeup_fd(QueueId q) const noexcept override {
    return q < irq_fds_.size() ? irq_fds_[q] : kNoRxWakeup;
  }
  bool enable_rx_wakeup(QueueId q) noexcept override;
  void disable_rx_wakeup(QueueId q, bool signalled) noexcept override;

  // --- control thread ----------------------------------------------------------------------
  // Up/Down as last read by housekeeping() (82599 LINKS, 82576 STATUS.LU).
  LinkState link_state() const noexcept override { return link_.load(std::memory_order_relaxed); }
  std::vector<std::pair<std::string, std::string>> details() const override;
  // Link state, and the hardware statistics folded into the port counters: MPC (missed, no
  // descriptor) as rx no_buffer drops, CRC and length errors as rx invalid drops — in the
  // counter slot kHardwareSlot, which no queue uses (single writer: this thread).
  void housekeeping() override;

  static constexpr uint16_t kHardwareSlot = PortCounters::kMaxQueues - 1;

  NicFamily family() const noexcept { return family_; }
  const MacAddress& mac() const noexcept { return mac_; }
  const HwStats& hw_stats() const noexcept { return hw_; }
  uint32_t rx_buffer_bytes() const noexcept { return rx_buffer_bytes_; }
  const RxRing& rx_ring(uint16_t q) const noexcept { return *rx_[q]; }
  const TxRing& tx_ring(uint16_t q) const noexcept { return *tx_[q]; }
  uint64_t tx_zero_copy() const noexcept;
  uint64_t tx_copied() const noexcept;
  // port-show rx_wakeup: "msix (N vectors, one per receive queue)" or "none (<why>)".
  const std::string& rx_wakeup() const noexcept { return wakeup_; }
  uint64_t rx_interrupts(QueueId q) const noexcept { return interrupts_[q].get(); }

 private:
  IntelPort(std::string name, PortId id, uint32_t mtu, NicFamily family,
            std::unique_ptr<pci::PciDevice> dev, Mempool& pool)
      : Port(std::move(name), id, mtu), family_(family), dev_(std::move(dev)), pool_(pool) {}
  Status bring_up(const IntelOptions& opts);
  Status enable_bus_master();
  void fold_hw_stats();
  // bring_up(), after the NIC started: the rx wake-up source (see rx_wakeup_fd).
  void choose_wakeup();

  NicFamily family_;
  std::unique_ptr<pci::PciDevice> dev_;  // destroyed last: gives the device back
  Mempool& pool_;
  std::unique_ptr<Registers> regs_;
  std::unique_ptr<NicLayer> nic_;
  bool pool_mapped_ = false;
  bool started_ = false;  // the device may DMA: shutdown() before freeing
  RingMemory rings_;
  std::vector<std::unique_ptr<RxRing>> rx_;
  std::vector<std::unique_ptr<TxRing>> tx_;
  MacAddress mac_;
  uint32_t rx_buffer_bytes_ = 0;
  bool promiscuous_ = true;
  std::atomic<LinkState> link_{LinkState::Down};
  uint32_t speed_mbps_ = 0;
  HwStats hw_;  // control thread only
  pci::BarAccess* bar_ = nullptr;
  RxVectorRegs vec_regs_;
  std::vector<int> irq_fds_;  // rx queue q -> its MSI-X eventfd (owned by dev_); empty: none
  std::string wakeup_ = "none (not started)";
  // Interrupt eventfd reads per rx queue (single writer: the queue's worker).
  std::array<Counter, PortCounters::kMaxQueues> interrupts_{};
};

}  // namespace vsw::ports::intel
