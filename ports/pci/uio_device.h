// ports/pci/uio_device.h — a PCI function bound to uio_pci_generic.
//
// The Userspace I/O HOWTO (Linux Documentation/driver-api/uio-howto.rst, "Generic PCI UIO
// driver"): uio_pci_generic gives /dev/uioN and leaves config space, BARs and DMA to user space.
// Config space is sysfs `config`, memory BARs are mmaps of sysfs `resourceN`, I/O BARs use
// in/out (port base from `resource`) or pread/pwrite of `resourceN`. There is no IOMMU
// mapping: DMA uses physical addresses, so only hugepage memory whose physical address is known
// (DmaMemory::physical_iova) may be given to the device; open_device refuses uio when an IOMMU
// translates the device's DMA.
// Exclusive use: flock(LOCK_EX|LOCK_NB) first on the device's sysfs directory, then on
// /dev/uioN. The first lock is the one vsw processes meet: uio_pci_generic clears Bus Master
// whenever a /dev/uioN file is closed (its release hook, Linux drivers/uio/uio_pci_generic.c),
// so a second vsw must be refused before it opens /dev/uioN at all, or its refusal would stop
// the first one's DMA. The second lock covers other programs that flock the node.
// interrupt_eventfd() returns -1 (polling drivers only).
#pragma once

#include <memory>

#include "ports/pci/pci_device_base.h"

namespace vsw::ports::pci {

class UioDevice final : public PciDeviceBase {
 public:
  // Takes the device (its ids already checked, refusals done) for uio: binds uio_pci_generic,
  // locks /dev/uioN, opens config space, enables bus mastering.
  static Result<std::unique_ptr<PciDevice>> open(const SysfsPci& sysfs, uint16_t vendor,
                                                 uint16_t device);
  ~UioDevice() override;

  AccessPath path() const noexcept override { return AccessPath::Uio; }
  Status dma_map(const DmaMemory& mem) override;
  void dma_unmap(const DmaMemory& mem) noexcept override;
  Result<int> interrupt_eventfd() override { return -1; }

 private:
  UioDevice(const SysfsPci& sysfs, uint16_t vendor, uint16_t device,
            std::unique_ptr<DriverBinding> binding, const BarTable& bars, UniqueFd lock)
      : PciDeviceBase(sysfs, vendor, device, std::move(binding), bars, std::move(lock)) {}
  Result<std::unique_ptr<BarAccess>> map_bar(unsigned index, const BarResource& r) override;

  int uio_fd_ = -1;
  int config_fd_ = -1;
};

}  // namespace vsw::ports::pci
