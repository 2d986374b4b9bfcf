// ports/pci/pci_device_base.h — what uio and vfio devices share: config space through a file
// descriptor, the BAR table, the command register, the DMA region table and the driver binding.
//
// Destruction order (each step needs the one before it done): the derived class calls
// shut_down() first — bus mastering off, so the device stops DMA before its memory is unmapped
// or given back — then releases its own fds; the DriverBinding (a member here) restores the
// kernel driver last.
#pragma once

#include <array>
#include <memory>

#include "ports/pci/dma_region_table.h"
#include "ports/pci/driver_binding.h"
#include "ports/pci/pci_device.h"
#include "ports/pci/sysfs_pci.h"
#include "ports/shm/unique_fd.h"

namespace vsw::ports::pci {

// PCI Local Bus 3.0 §6.2.2, Command register (offset 04h).
namespace cmd {
constexpr uint32_t kOffset = 0x04;
constexpr uint16_t kIoSpace = 1u << 0;      // respond to I/O space accesses
constexpr uint16_t kMemorySpace = 1u << 1;  // respond to memory space accesses
constexpr uint16_t kBusMaster = 1u << 2;    // may act as bus master (issue DMA)
}  // namespace cmd

class PciDeviceBase : public PciDevice {
 public:
  const std::string& previous_driver() const noexcept override { return binding_->previous(); }
  Status read_config(uint32_t off, void* out, size_t len) const override;
  Status write_config(uint32_t off, const void* in, size_t len) override;
  Result<BarAccess*> bar(unsigned index) override;
  uint64_t dma_address(const void* p) const noexcept override { return dma_.lookup(p); }
  uint64_t dma_contiguous(const DmaMemory& mem) const noexcept override {
    return dma_.window(mem);
  }

  // Sets I/O space and memory space enable (for the BAR kinds the device has) and bus master
  // in the command register.
  Status enable_bus_master();

 protected:
  // `config_fd` is not owned (the derived class closes it); config space is `config_size` bytes
  // at `config_offset` of it.
  // `device_lock` (optional) is held until the driver binding has been restored.
  PciDeviceBase(const SysfsPci& sysfs, uint16_t vendor, uint16_t device,
                std::unique_ptr<DriverBinding> binding, const BarTable& bars,
                UniqueFd device_lock = UniqueFd());
  void set_config_file(int fd, uint64_t offset, uint64_t size) noexcept;
  // Bus master off, BARs unmapped. Idempotent; called first by the derived destructors.
  void shut_down() noexcept;
  virtual Result<std::unique_ptr<BarAccess>> map_bar(unsigned index, const BarResource& r) = 0;

  SysfsPci sysfs_;
  BarTable bar_resources_;
  DmaRegionTable dma_;
  UniqueFd device_lock_;  // declared before binding_: released after the restore
  std::unique_ptr<DriverBinding> binding_;

 private:
  int config_fd_ = -1;
  uint64_t config_offset_ = 0;
  uint64_t config_size_ = 0;
  std::array<std::unique_ptr<BarAccess>, 6> bars_;
  bool shut_down_ = false;
};

}  // namespace vsw::ports::pci
