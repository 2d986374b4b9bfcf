// ports/pci/vfio_device.h — a PCI function bound to vfio-pci.
//
// Linux Documentation/driver-api/vfio.rst: the device's IOMMU group (/dev/vfio/N, or
// /dev/vfio/noiommu-N in no-IOMMU mode) joins the process's container (vfio_container.h); the
// device fd (VFIO_GROUP_GET_DEVICE_FD) gives config space and BARs as regions
// (VFIO_DEVICE_GET_REGION_INFO: an offset into the device fd, mmap-able when
// VFIO_REGION_INFO_FLAG_MMAP) and interrupts as eventfds (VFIO_DEVICE_SET_IRQS). With an IOMMU,
// dma_map() maps the region into the container at an IOVA vsw assigns; in no-IOMMU mode DMA
// addresses are physical (hugepages only), as with uio.
#pragma once

#include <memory>

#include "ports/pci/pci_device_base.h"
#include "ports/pci/vfio_container.h"

namespace vsw::ports::pci {

class VfioDevice final : public PciDeviceBase {
 public:
  // Takes the device (ids checked, group viability checked by open_device) for vfio: binds
  // vfio-pci, opens its group (EBUSY: another process has it), joins the container, gets the
  // device fd, enables bus mastering. `noiommu`: the host has no IOMMU.
  static Result<std::unique_ptr<PciDevice>> open(const SysfsPci& sysfs, uint16_t vendor,
                                                 uint16_t device, bool noiommu);
  ~VfioDevice() override;

  AccessPath path() const noexcept override { return AccessPath::Vfio; }
  Status dma_map(const DmaMemory& mem) override;
  void dma_unmap(const DmaMemory& mem) noexcept override;
  Result<int> interrupt_eventfd() override;
  Status unmask_interrupt() override;
  Result<std::vector<int>> msix_eventfds(uint16_t n) override;

 private:
  VfioDevice(const SysfsPci& sysfs, uint16_t vendor, uint16_t device,
             std::unique_ptr<DriverBinding> binding, const BarTable& bars)
      : PciDeviceBase(sysfs, vendor, device, std::move(binding), bars) {}
  Result<std::unique_ptr<BarAccess>> map_bar(unsigned index, const BarResource& r) override;

  VfioContainer* container_ = nullptr;
  bool noiommu_ = false;
  int group_fd_ = -1;
  int device_fd_ = -1;
  int irq_fd_ = -1;
  unsigned irq_index_ = 0;
  std::vector<int> msix_fds_;  // msix_eventfds(): vector i -> msix_fds_[i]
};

}  // namespace vsw::ports::pci
