// ports/pci/vfio_device.cc — vfio-pci access path (see vfio_device.h).
#include "ports/pci/vfio_device.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "ports/pci/bar_access_io.h"
#include "ports/pci/bar_access_mmio.h"

namespace vsw::ports::pci {

namespace {

constexpr const char* kVfioDriver = "vfio-pci";

Result<vfio_region_info> region_info(int device_fd, unsigned index) {
  vfio_region_info info{};
  info.argsz = sizeof info;
  info.index = index;
  if (ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, &info) != 0) {
    return make_sys_error(Errc::Io, errno,
                          fmt::format("vfio: VFIO_DEVICE_GET_REGION_INFO({})", index));
  }
  return info;
}

}  // namespace

Result<std::unique_ptr<PciDevice>> VfioDevice::open(const SysfsPci& sysfs, uint16_t vendor,
                                                    uint16_t device, bool noiommu) {
  auto bars = sysfs.resources();
  if (!bars) return bars.error();
  auto container = VfioContainer::instance(sysfs.paths());
  if (!container) return container.error();
  auto binding = DriverBinding::bind(sysfs, kVfioDriver, "vfio-pci");
  if (!binding) return binding.error();
  std::unique_ptr<VfioDevice> d(new VfioDevice(sysfs, vendor, device, std::move(*binding), *bars));
  d->noiommu_ = noiommu;

  // The group exists once vfio-pci is bound (in no-IOMMU mode vfio creates it then).
  const auto group = sysfs.iommu_group();
  if (!group) {
    return make_error(Errc::Unavailable, "pci {}: bound to vfio-pci but it has no IOMMU group",
                      sysfs.bdf());
  }
  const std::string group_path =
      fmt::format("{}/vfio/{}{}", sysfs.paths().dev, noiommu ? "noiommu-" : "", *group);
  d->group_fd_ = ::open(group_path.c_str(), O_RDWR | O_CLOEXEC);
  if (d->group_fd_ < 0) {
    const int err = errno;
    if (err == EBUSY) {
      return make_error(Errc::Unavailable, "pci {} (vfio group {}) is in use by another process",
                        sysfs.bdf(), group_path);
    }
    return make_sys_error(Errc::Io, err, fmt::format("cannot open vfio group {}", group_path));
  }
  d->binding_->set_owned();
  // vfio.rst: the group is usable only when every device in it is bound to a vfio driver (or
  // none): VFIO_GROUP_FLAGS_VIABLE.
  vfio_group_status status{};
  status.argsz = sizeof status;
  if (ioctl(d->group_fd_, VFIO_GROUP_GET_STATUS, &status) != 0) {
    return make_sys_error(Errc::Io, errno, "vfio: VFIO_GROUP_GET_STATUS");
  }
  if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
    return make_error(Errc::Unavailable, "pci {}: vfio group {} is not viable (another device "
                      "of the group is bound to a non-vfio driver)", sysfs.bdf(), *group);
  }
  if (auto st = (*container)->attach_group(d->group_fd_, noiommu,
                                           sysfs.iommu_reserved_regions(*group));
      !st) {
    close(d->group_fd_);
    d->group_fd_ = -1;
    return st.error();
  }
  d->container_ = *container;
  d->device_fd_ = ioctl(d->group_fd_, VFIO_GROUP_GET_DEVICE_FD, sysfs.bdf().c_str());
  if (d->device_fd_ < 0) {
    return make_sys_error(Errc::Io, errno, "vfio: VFIO_GROUP_GET_DEVICE_FD");
  }
  auto config = region_info(d->device_fd_, VFIO_PCI_CONFIG_REGION_INDEX);
  if (!config) return config.error();
  d->set_config_file(d->device_fd_, config->offset, config->size);
  if (auto st = d->enable_bus_master(); !st) return st.error();
  log::port().info("pci {}: opened through vfio (group {}{}), {:04x}:{:04x}", sysfs.bdf(), *group,
                   noiommu ? ", no-IOMMU mode" : "", vendor, device);
  return std::unique_ptr<PciDevice>(std::move(d));
}

VfioDevice::~VfioDevice() {
  shut_down();
  if (irq_fd_ >= 0) {
    // include/uapi/linux/vfio.h VFIO_DEVICE_SET_IRQS: DATA_NONE + ACTION_TRIGGER, count 0
    // disables the index.
    vfio_irq_set off{};
    off.argsz = sizeof off;
    off.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    off.index = irq_index_;
    ioctl(device_fd_, VFIO_DEVICE_SET_IRQS, &off);
    close(irq_fd_);
  }
  if (!msix_fds_.empty()) {
    vfio_irq_set off{};
    off.argsz = sizeof off;
    off.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
    off.index = VFIO_PCI_MSIX_IRQ_INDEX;
    ioctl(device_fd_, VFIO_DEVICE_SET_IRQS, &off);
    for (int fd : msix_fds_) close(fd);
  }
  if (container_) {
    for (const DmaMemory* mem : dma_.regions()) {
      if (!noiommu_) container_->unmap(*mem);
    }
  }
  if (device_fd_ >= 0) close(device_fd_);
  if (group_fd_ >= 0) {
    if (container_) container_->detach_group(group_fd_);
    close(group_fd_);
  }
}

Result<std::unique_ptr<BarAccess>> VfioDevice::map_bar(unsigned index, const BarResource& r) {
  auto info = region_info(device_fd_, VFIO_PCI_BAR0_REGION_INDEX + index);
  if (!info) return info.error();
  if (info->size == 0) return make_error(Errc::NotFound, "pci {}: BAR{} is absent", sysfs_.bdf(), index);
  if (!r.is_io() && (info->flags & VFIO_REGION_INFO_FLAG_MMAP)) {
    void* p = mmap(nullptr, info->size, PROT_READ | PROT_WRITE, MAP_SHARED, device_fd_,
                   static_cast<off_t>(info->offset));
    if (p != MAP_FAILED) return std::unique_ptr<BarAccess>(new MmioBar(p, info->size, info->size));
    log::port().warn("pci {}: BAR{} cannot be mmapped ({}); using read/write on the device fd",
                     sysfs_.bdf(), index, std::strerror(errno));
  }
  const uint16_t base = r.is_io() && r.start <= 0xffff ? static_cast<uint16_t>(r.start) : 0;
  return std::unique_ptr<BarAccess>(new FileBar(device_fd_, false, info->offset, info->size,
                                                r.is_io(), base, sysfs_.paths().port_io));
}

Status VfioDevice::dma_map(const DmaMemory& mem) {
  if (dma_.contains(mem)) return ok();
  if (noiommu_) {
    if (!mem.physical_iova()) {
      return make_error(Errc::Unavailable,
                        "pci {}: vfio without an IOMMU DMAs to physical addresses and needs "
                        "hugepage memory: reserve hugepages (echo N > /proc/sys/vm/nr_hugepages) "
                        "before starting vswitchd",
                        sysfs_.bdf());
    }
    dma_.insert(mem, 0);
    return ok();
  }
  auto iova = container_->map(mem);
  if (!iova) return iova.error();
  dma_.insert(mem, *iova);
  return ok();
}

void VfioDevice::dma_unmap(const DmaMemory& mem) noexcept {
  try {
    if (!dma_.erase(mem)) return;
  } catch (...) {
    return;  // allocation failure copying the table: keep the mapping (it stays consistent)
  }
  if (!noiommu_) container_->unmap(mem);
}

Result<int> VfioDevice::interrupt_eventfd() {
  if (irq_fd_ >= 0) return irq_fd_;
  // include/uapi/linux/vfio.h: VFIO_DEVICE_GET_IRQ_INFO per index; INTx first (count 1 when the
  // device has an interrupt pin), else MSI-X vector 0.
  unsigned index = VFIO_PCI_INTX_IRQ_INDEX;
  vfio_irq_info info{};
  info.argsz = sizeof info;
  info.index = index;
  if (ioctl(device_fd_, VFIO_DEVICE_GET_IRQ_INFO, &info) != 0 || info.count == 0) {
    index = VFIO_PCI_MSIX_IRQ_INDEX;
    info = vfio_irq_info{};
    info.argsz = sizeof info;
    info.index = index;
    if (ioctl(device_fd_, VFIO_DEVICE_GET_IRQ_INFO, &info) != 0 || info.count == 0) return -1;
  }
  const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) return make_sys_error(Errc::Io, errno, "eventfd");
  // struct vfio_irq_set followed by one int32 eventfd (VFIO_IRQ_SET_DATA_EVENTFD).
  alignas(vfio_irq_set) std::byte buf[sizeof(vfio_irq_set) + sizeof(int32_t)]{};
  auto* set = reinterpret_cast<vfio_irq_set*>(buf);
  set->argsz = sizeof buf;
  set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
  set->index = index;
  set->start = 0;
  set->count = 1;
  const int32_t fd32 = efd;
  std::memcpy(buf + sizeof(vfio_irq_set), &fd32, sizeof fd32);
  if (ioctl(device_fd_, VFIO_DEVICE_SET_IRQS, set) != 0) {
    const int err = errno;
    close(efd);
    return make_sys_error(Errc::Io, err, "vfio: VFIO_DEVICE_SET_IRQS");
  }
  irq_fd_ = efd;
  irq_index_ = index;
  return irq_fd_;
}

Result<std::vector<int>> VfioDevice::msix_eventfds(uint16_t n) {
  if (!msix_fds_.empty() && msix_fds_.size() == n) return msix_fds_;
  if (irq_fd_ >= 0 || !msix_fds_.empty() || n == 0) {
    return make_error(Errc::InvalidArgument, "vfio {}: interrupts already set up", address().str());
  }
  // include/uapi/linux/vfio.h: VFIO_DEVICE_GET_IRQ_INFO on VFIO_PCI_MSIX_IRQ_INDEX gives the
  // table size (0: no MSI-X capability).
  vfio_irq_info info{};
  info.argsz = sizeof info;
  info.index = VFIO_PCI_MSIX_IRQ_INDEX;
  if (ioctl(device_fd_, VFIO_DEVICE_GET_IRQ_INFO, &info) != 0) {
    return make_sys_error(Errc::Io, errno, "vfio: VFIO_DEVICE_GET_IRQ_INFO (MSI-X)");
  }
  if (info.count < n) {
    return make_error(Errc::Unsupported, "{} has {} MSI-X vectors, {} needed", address().str(),
                      info.count, n);
  }
  std::vector<int> fds;
  auto close_all = [&] {
    for (int fd : fds) close(fd);
  };
  for (uint16_t i = 0; i < n; ++i) {
    const int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
      const int err = errno;
      close_all();
      return make_sys_error(Errc::Io, err, "eventfd");
    }
    fds.push_back(efd);
  }
  // struct vfio_irq_set followed by n int32 eventfds; enabling the index turns MSI-X on.
  std::vector<std::byte> buf(sizeof(vfio_irq_set) + n * sizeof(int32_t));
  vfio_irq_set head{};
  head.argsz = static_cast<uint32_t>(buf.size());
  head.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
  head.index = VFIO_PCI_MSIX_IRQ_INDEX;
  head.start = 0;
  head.count = n;
  std::memcpy(buf.data(), &head, sizeof head);
  for (uint16_t i = 0; i < n; ++i) {
    const int32_t fd32 = fds[i];
    std::memcpy(buf.data() + sizeof head + i * sizeof(int32_t), &fd32, sizeof fd32);
  }
  if (ioctl(device_fd_, VFIO_DEVICE_SET_IRQS, buf.data()) != 0) {
    const int err = errno;
    close_all();
    return make_sys_error(Errc::Io, err, "vfio: VFIO_DEVICE_SET_IRQS (MSI-X)");
  }
  msix_fds_ = std::move(fds);
  return msix_fds_;
}

Status VfioDevice::unmask_interrupt() {
  if (irq_fd_ < 0 || irq_index_ != VFIO_PCI_INTX_IRQ_INDEX) return ok();  // MSI-X: edge, no mask
  // include/uapi/linux/vfio.h: ACTION_UNMASK with DATA_NONE, start 0, count 1 unmasks INTx.
  vfio_irq_set set{};
  set.argsz = sizeof set;
  set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK;
  set.index = irq_index_;
  set.start = 0;
  set.count = 1;
  if (ioctl(device_fd_, VFIO_DEVICE_SET_IRQS, &set) != 0) {
    return make_sys_error(Errc::Io, errno, "vfio: VFIO_DEVICE_SET_IRQS unmask");
  }
  return ok();
}

}  // namespace vsw::ports::pci
