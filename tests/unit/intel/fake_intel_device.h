// tests/unit/intel/fake_intel_device.h — an in-memory Intel NIC for the driver's unit tests: a
// pci::PciDevice whose BAR 0 is a register file with the few behaviours the bring-up relies on
// (self-clearing reset, queue enables that read back, EEC.ARD / DMAIDONE, clear-on-read
// statistics, the 82576's MDIC and link-after-autonegotiation), plus the device side of the
// rings: it writes received frames back into the driver's receive descriptors (DD, EOP,
// several descriptors per frame) and consumes the transmit descriptors (DD on RS).
//
// It is a fake, not a model: tests/models/ (the strict 82599 model) and QEMU's igb check what a
// datasheet requires. This one checks the engine's ring discipline on every tail write: the
// tail stays inside the ring, and every descriptor it hands to the device is a clean read-format
// descriptor with a mapped buffer (so a tail that passed the head would be caught).
//
// DMA (tests/unit/support/fake_dma_space.h): like an IOMMU, every region given to dma_map() gets
// an IOVA range of its own (from 4 GiB up); a driver that programmed a pointer instead of a
// device address is caught.
//
// Single-threaded: tests call the driver and the device side in turn.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ports/intel/adv_descriptors.h"
#include "ports/intel/intel_port.h"
#include "ports/pci/pci_device.h"
#include "tests/unit/support/fake_dma_space.h"

namespace vsw::ports::intel::testing {

struct FakeIntelConfig {
  NicFamily family = NicFamily::Ixgbe82599;
  pci::AccessPath path = pci::AccessPath::Vfio;
  std::array<uint8_t, 6> mac = {0x00, 0x1b, 0x21, 0x0a, 0x0b, 0x0c};
  bool link_up = true;        // 82599: LINKS.LINK_UP; 82576: after an autoneg restart
  bool queues_enable = true;  // false: RXDCTL/TXDCTL.ENABLE never reads back
  // MSI-X vectors msix_eventfds() can give (real eventfds, as vfio would); 0: it refuses, as
  // pci::PciDevice's default does.
  uint16_t msix_vectors = 0;
};

struct TxFrame {
  std::vector<uint8_t> bytes;
  uint16_t descriptors = 0;
  uint32_t paylen = 0;  // PAYLEN of the first descriptor
};

class FakeIntelDevice;

class FakeBar final : public pci::BarAccess {
 public:
  explicit FakeBar(FakeIntelDevice& d) : d_(d) {}
  uint64_t size() const noexcept override { return kBytes; }
  bool is_io() const noexcept override { return false; }
  uint8_t read8(uint64_t) const noexcept override;
  uint16_t read16(uint64_t) const noexcept override;
  uint32_t read32(uint64_t off) const noexcept override;
  void write8(uint64_t, uint8_t) noexcept override;
  void write16(uint64_t, uint16_t) noexcept override;
  void write32(uint64_t off, uint32_t v) noexcept override;
  volatile std::byte* mapped() const noexcept override { return nullptr; }
  static constexpr uint64_t kBytes = 512 * 1024;

 private:
  FakeIntelDevice& d_;
};

class FakeIntelDevice final : public pci::PciDevice {
 public:
  explicit FakeIntelDevice(const FakeIntelConfig& cfg);

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
  Result<std::vector<int>> msix_eventfds(uint16_t n) override;
  ~FakeIntelDevice() override;

  // --- device side ---
  // The eventfds msix_eventfds() gave (vector v = msix_fds()[v]); a test writes one to play the
  // device's message.
  const std::vector<int>& msix_fds() const noexcept { return msix_fds_; }
  // Writes `frame` into receive queue q as the NIC would: as many descriptors as the SRRCTL
  // buffer size needs, EOP and `status_extra` on the last. False (and MPC counted) when the ring
  // has too few descriptors owned by the device, or receive is off.
  bool deliver(uint16_t q, const std::vector<uint8_t>& frame, uint32_t status_extra = 0);
  // One descriptor at RDH holding `bytes`, DD set, EOP when `eop`; false when none is owned.
  bool write_rx_descriptor(uint16_t q, const std::vector<uint8_t>& bytes, bool eop,
                           uint32_t status_extra = 0);
  // Descriptors of queue q the device owns (RDH up to RDT).
  uint16_t rx_owned(uint16_t q) const;
  // Fetches and "sends" every descriptor of tx queue q from TDH to TDT, writing DD on RS
  // descriptors; returns the frames that ended (EOP).
  std::vector<TxFrame> consume_tx(uint16_t q);
  void set_link(bool up) noexcept { link_up_ = up; }
  void add_missed(uint32_t n) noexcept;

  // --- inspection ---
  uint32_t reg(uint32_t off) const;  // without read side effects
  const std::vector<std::pair<uint32_t, uint32_t>>& writes() const noexcept { return writes_; }
  // Index in writes() of the first write to `off` with (value & mask) == want; -1 when none.
  long first_write(uint32_t off, uint32_t mask, uint32_t want) const;
  long last_write(uint32_t off) const;
  const std::vector<std::string>& violations() const noexcept { return violations_; }
  size_t mapped_regions() const noexcept { return dma_.regions(); }
  uint16_t command() const noexcept;
  unsigned resets() const noexcept { return resets_; }
  std::byte* to_ptr(uint64_t iova) const noexcept;

  uint32_t read_reg(uint32_t off);
  void write_reg(uint32_t off, uint32_t v);

 private:
  struct Offsets {
    uint32_t rdbal, rdlen, rdh, rdt, srrctl, rxdctl, tdbal, tdlen, tdh, tdt, txdctl;
  };
  Offsets rx_offsets(uint16_t q) const;
  bool ixgbe() const noexcept { return cfg_.family == NicFamily::Ixgbe82599; }
  void reset_registers();
  bool rx_on() const;
  uint16_t ring_size(uint32_t len_reg) const {
    return static_cast<uint16_t>(regs_.at(len_reg / 4) / 16);
  }
  uint64_t base(uint32_t bal) const {
    return uint64_t{regs_.at(bal / 4)} | uint64_t{regs_.at(bal / 4 + 1)} << 32;
  }
  void check_rx_tail(uint16_t q, uint32_t new_tail);
  void violation(std::string what) { violations_.push_back(std::move(what)); }

  FakeIntelConfig cfg_;
  std::string prev_ = "ixgbe";
  std::array<uint8_t, 256> config_space_{};
  std::unique_ptr<FakeBar> bar0_;
  std::vector<uint32_t> regs_;
  std::array<uint16_t, 32> phy_{};
  bool link_up_;
  bool autoneg_done_ = false;
  std::vector<std::pair<uint32_t, uint32_t>> writes_;
  std::vector<std::string> violations_;
  test::FakeDmaSpace dma_;
  unsigned resets_ = 0;
  std::vector<int> msix_fds_;
};

}  // namespace vsw::ports::intel::testing
