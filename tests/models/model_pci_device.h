// tests/models/model_pci_device.h — the 82599 model behind the interface the PCI layer gives a
// driver (ports/pci/pci_device.h), so vsw's driver runs against it unchanged.
//
//   * config space: vendor 8086, device 10fb, a command register the driver must set bus
//     mastering (bit 2) in before the model does any DMA;
//   * BAR 0: 128 KiB whose read/write calls go into IxgbeModel; mapped() is nullptr, so the
//     driver must use read32/write32 (the contract in /work/intel-contract.md);
//   * DMA like vfio with an IOMMU: each region given to dma_map() gets an IOVA range of its own
//     (from 4 GiB up, with a gap between regions); dma_address() translates into it and the
//     model translates back with bounds checks, so a pointer given to the device instead of a
//     device address, or a buffer running past its region, is caught;
//   * MSI-X like vfio: msix_eventfds(n) gives n non-blocking eventfds (n up to the 82599's 64
//     vectors), vector v's message being a write to fds[v] (IxgbeModel::set_msix_vectors);
//   * optionally a wire: a Linux tap (attach_tap) served by a thread, the model's DMA engine —
//     frames read from the tap are received, TDT writes wake it to transmit onto the tap.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ports/pci/pci_device.h"
#include "tests/models/ixgbe_model.h"

namespace vsw::tests::models {

class ModelWire;
class ModelPciDevice;

class ModelBar final : public ports::pci::BarAccess {
 public:
  explicit ModelBar(IxgbeModel& m) : m_(m) {}
  uint64_t size() const noexcept override { return ixgbe::kBar0Size; }
  bool is_io() const noexcept override { return false; }
  uint8_t read8(uint64_t off) const noexcept override {
    return static_cast<uint8_t>(m_.bar_read(off, 1));
  }
  uint16_t read16(uint64_t off) const noexcept override {
    return static_cast<uint16_t>(m_.bar_read(off, 2));
  }
  uint32_t read32(uint64_t off) const noexcept override { return m_.bar_read(off, 4); }
  void write8(uint64_t off, uint8_t v) noexcept override { m_.bar_write(off, 1, v); }
  void write16(uint64_t off, uint16_t v) noexcept override { m_.bar_write(off, 2, v); }
  void write32(uint64_t off, uint32_t v) noexcept override { m_.bar_write(off, 4, v); }
  volatile std::byte* mapped() const noexcept override { return nullptr; }

 private:
  IxgbeModel& m_;
};

class ModelPciDevice final : public ports::pci::PciDevice, public DmaBus {
 public:
  static constexpr std::array<uint8_t, 6> kDefaultMac = {0x02, 0x1b, 0x21, 0x00, 0x82, 0x99};
  static constexpr uint16_t kCommandBusMaster = 1u << 2;

  explicit ModelPciDevice(std::array<uint8_t, 6> mac = kDefaultMac);
  ~ModelPciDevice() override;

  // --- pci::PciDevice ---
  ports::pci::AccessPath path() const noexcept override { return ports::pci::AccessPath::Vfio; }
  const std::string& previous_driver() const noexcept override { return prev_; }
  Status read_config(uint32_t off, void* out, size_t len) const override;
  Status write_config(uint32_t off, const void* in, size_t len) override;
  Result<ports::pci::BarAccess*> bar(unsigned index) override;
  Status dma_map(const DmaMemory& mem) override;
  void dma_unmap(const DmaMemory& mem) noexcept override;
  uint64_t dma_address(const void* p) const noexcept override;
  uint64_t dma_contiguous(const DmaMemory& mem) const noexcept override;  // its IOVA range
  Result<int> interrupt_eventfd() override { return -1; }
  Result<std::vector<int>> msix_eventfds(uint16_t n) override;

  // --- DmaBus ---
  bool bus_master_enabled() const noexcept override;
  std::byte* translate(uint64_t iova, size_t len) const noexcept override;

  // --- the model ---
  IxgbeModel& model() noexcept { return model_; }
  // Creates tap `name` (IFF_TAP | IFF_NO_PI) as the model's wire and starts the DMA engine's
  // thread on it. Control thread; once.
  Status attach_tap(const std::string& name);
  // The wire thread's name of the tap, "" without one.
  const std::string& tap_name() const noexcept;
  // Called from the destructor, after the driver's last access (a driver owns its PciDevice and
  // destroys it last): where a test reads the final violations and counters.
  void set_on_destroy(std::function<void(const IxgbeModel&)> f) { on_destroy_ = std::move(f); }

 private:
  struct Region {
    const DmaMemory* mem = nullptr;
    std::byte* data = nullptr;
    size_t size = 0;
    uint64_t iova = 0;
    std::atomic<bool> live{false};
  };
  static constexpr size_t kMaxRegions = 64;

  std::string prev_ = "ixgbe";
  std::array<uint8_t, 4096> config_{};
  IxgbeModel model_;
  ModelBar bar0_{model_};
  // Append-only table: the fast path (dma_address, the engine's translate) reads it without a
  // lock; dma_map publishes an entry by bumping count_ after filling it.
  std::array<Region, kMaxRegions> regions_;
  std::atomic<size_t> count_{0};
  uint64_t next_iova_ = uint64_t{1} << 32;
  std::unique_ptr<ModelWire> wire_;
  std::function<void(const IxgbeModel&)> on_destroy_;
  std::vector<int> msix_fds_;
};

}  // namespace vsw::tests::models
