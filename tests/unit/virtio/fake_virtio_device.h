// tests/unit/virtio/fake_virtio_device.h — an in-memory virtio-net PCI function for the driver's
// unit tests: a pci::PciDevice whose config space and BARs emulate the legacy register block
// (I/O BAR0) and/or the modern capabilities (memory BAR4), plus the device side of the rings —
// it consumes the driver's transmit chains, fills its receive buffers (mergeable or not), answers
// control commands, and honours EVENT_IDX / NO_NOTIFY on both sides.
//
// DMA (tests/unit/support/fake_dma_space.h): like an IOMMU, each region given to dma_map() gets
// an IOVA range of its own (from 4 GiB up, below the 16 TiB a legacy QUEUE_PFN reaches);
// dma_address(p) translates into it (0 outside every region) and the device side translates
// back, so a driver that programmed a pointer instead of a device address is caught.
//
// Layout of the modern BAR4: common config at 0x0000, ISR at 0x1000, device config at 0x2000,
// notify at 0x3000 (queue_notify_off = queue index, multiplier 4).
//
// Single-threaded: tests call the driver and the device side in turn.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ports/pci/pci_device.h"
#include "ports/vnet/virtio_net_hdr.h"
#include "ports/virtio/virtio_regs.h"
#include "ports/virtio_common/vring.h"
#include "tests/unit/support/fake_dma_space.h"

namespace vsw::ports::virtio::testing {

enum class FakeKind : uint8_t { Legacy, Transitional, Modern };

struct FakeConfig {
  FakeKind kind = FakeKind::Modern;
  pci::AccessPath path = pci::AccessPath::Vfio;
  uint64_t features = 0;          // offered
  uint16_t queue_size = 256;
  uint16_t max_pairs = 1;
  std::array<uint8_t, 6> mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint16_t net_status = 1;        // LINK_UP
  bool msix_enabled = false;
  bool accept_features = true;    // false: FEATURES_OK does not stick
  uint8_t ctrl_ack = 0;           // what control commands are answered with
  uint16_t vendor = kVendorId;
  uint16_t device_id = 0;         // 0: from kind
};

// A frame the device took from a transmit queue.
struct TxFrame {
  vnet::VirtioNetHdr hdr{};
  std::vector<uint8_t> bytes;
  uint16_t descriptors = 0;
};

struct ControlCommand {
  uint8_t cls = 0, cmd = 0;
  std::vector<uint8_t> data;
};

class FakeVirtioDevice;

class FakeBar final : public pci::BarAccess {
 public:
  FakeBar(FakeVirtioDevice& d, unsigned index, uint64_t size, bool io)
      : d_(d), index_(index), size_(size), io_(io) {}
  uint64_t size() const noexcept override { return size_; }
  bool is_io() const noexcept override { return io_; }
  uint8_t read8(uint64_t off) const noexcept override;
  uint16_t read16(uint64_t off) const noexcept override;
  uint32_t read32(uint64_t off) const noexcept override;
  void write8(uint64_t off, uint8_t v) noexcept override;
  void write16(uint64_t off, uint16_t v) noexcept override;
  void write32(uint64_t off, uint32_t v) noexcept override;
  volatile std::byte* mapped() const noexcept override { return nullptr; }

 private:
  FakeVirtioDevice& d_;
  unsigned index_;
  uint64_t size_;
  bool io_;
};

class FakeVirtioDevice final : public pci::PciDevice {
 public:
  struct Queue {
    uint16_t size = 0;        // programmed size (modern) or the fixed one (legacy)
    uint64_t desc = 0, avail = 0, used = 0;
    bool enabled = false;
    uint16_t msix_vector = 0;
    uint16_t last_avail = 0;  // next avail entry the device reads
    uint16_t used_idx = 0;    // next used entry the device writes
    uint64_t notifies = 0;    // doorbells received
    uint64_t interrupts = 0;  // interrupts the device would have raised
    bool polling = false;     // set_polling()
  };

  explicit FakeVirtioDevice(const FakeConfig& cfg);

  // --- pci::PciDevice ---
  pci::AccessPath path() const noexcept override { return cfg_.path; }
  const std::string& previous_driver() const noexcept override { return prev_; }
  Status read_config(uint32_t off, void* out, size_t len) const override;
  Status write_config(uint32_t off, const void* in, size_t len) override;
  Result<pci::BarAccess*> bar(unsigned index) override;
  Status dma_map(const DmaMemory& mem) override;
  void dma_unmap(const DmaMemory& mem) noexcept override;
  uint64_t dma_address(const void* p) const noexcept override;
  Result<int> interrupt_eventfd() override { return -1; }

  // --- device side, driven by the tests ---
  // Writes `frame` (behind a header `hdr`, num_buffers filled in) into the next receive
  // buffers of pair `pair`; with MRG_RXBUF negotiated it spans as many buffers as needed.
  // False when the driver posted too few buffers.
  bool deliver(uint16_t pair, const std::vector<uint8_t>& frame, vnet::VirtioNetHdr hdr = {});
  // Takes the next available rx buffer of `pair` and returns it with a used length of `len`
  // (possibly invalid); false when none is posted.
  bool return_rx_raw(uint16_t pair, uint32_t len);
  // Puts {id, len} into the used ring of queue `q` without taking anything.
  void push_used_raw(uint16_t q, uint32_t id, uint32_t len);
  // Consumes up to `max` transmit chains of `pair` and gives them back used.
  std::vector<TxFrame> consume_tx(uint16_t pair, size_t max = SIZE_MAX);
  // Reads the next `max` transmit chains of `pair` without completing them.
  std::vector<TxFrame> peek_tx(uint16_t pair, size_t max = SIZE_MAX);
  // Device-side notification suppression: NO_NOTIFY in used.flags (without EVENT_IDX) or an
  // avail_event far ahead (with it) when `polling`; otherwise ask for every new entry.
  void set_polling(uint16_t q, bool polling);
  uint16_t rx_posted(uint16_t pair) const;  // available entries not yet used

  // --- inspection ---
  uint8_t status() const noexcept { return status_; }
  const std::vector<uint8_t>& status_writes() const noexcept { return status_writes_; }
  uint64_t driver_features() const noexcept { return driver_features_; }
  Queue& queue(uint16_t q) { return queues_.at(q); }
  const std::vector<ControlCommand>& commands() const noexcept { return commands_; }
  unsigned resets() const noexcept { return resets_; }
  size_t mapped_regions() const noexcept { return dma_.regions(); }
  void set_net_status(uint16_t s) noexcept;
  void set_status_bits(uint8_t bits) noexcept { status_ |= bits; }
  uint16_t ctrl_index() const noexcept;
  // The process address of device address `iova` (nullptr when no region holds it).
  std::byte* to_ptr(uint64_t iova) const noexcept;
  template <class T>
  T* ptr(uint64_t iova) const noexcept { return reinterpret_cast<T*>(to_ptr(iova)); }
  bool negotiated(unsigned bit) const noexcept { return (driver_features_ >> bit) & 1u; }

  // BAR register handling (FakeBar forwards here).
  uint64_t bar_read(unsigned bar, uint64_t off, unsigned width);
  void bar_write(unsigned bar, uint64_t off, unsigned width, uint64_t v);

 private:
  void reset();
  void notify(uint16_t q);
  void process_ctrl();
  uint16_t hdr_len() const noexcept;
  VringDesc* desc(Queue& q) { return reinterpret_cast<VringDesc*>(to_ptr(q.desc)); }
  VringAvail* avail(Queue& q) { return reinterpret_cast<VringAvail*>(to_ptr(q.avail)); }
  VringUsed* used(Queue& q) { return reinterpret_cast<VringUsed*>(to_ptr(q.used)); }
  uint16_t avail_pending(Queue& q) {
    return static_cast<uint16_t>(load_acquire(&avail(q)->idx) - q.last_avail);
  }
  uint16_t next_avail(Queue& q) {
    return avail(q)->ring[q.last_avail++ & (q.size - 1)];
  }
  void publish_used(Queue& q, uint16_t old_used);
  // After the device read the available ring: where it wants the next notification.
  void update_avail_event(Queue& q);
  std::vector<TxFrame> walk_tx(uint16_t pair, size_t max, bool complete);

  FakeConfig cfg_;
  std::string prev_ = "virtio-pci";
  std::array<uint8_t, 256> config_space_{};
  std::array<uint8_t, 64> net_config_{};
  std::unique_ptr<FakeBar> bar0_, bar4_;
  test::FakeDmaSpace dma_;
  std::vector<Queue> queues_;
  uint8_t status_ = 0;
  std::vector<uint8_t> status_writes_;
  uint64_t driver_features_ = 0;
  uint32_t device_feature_select_ = 0, driver_feature_select_ = 0;
  uint16_t queue_sel_ = 0;
  uint8_t generation_ = 0;
  unsigned resets_ = 0;
  std::vector<ControlCommand> commands_;
};

}  // namespace vsw::ports::virtio::testing
