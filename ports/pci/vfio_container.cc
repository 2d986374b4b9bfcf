// ports/pci/vfio_container.cc — container, IOMMU model and DMA mappings (see .h).
#include "ports/pci/vfio_container.h"

#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace vsw::ports::pci {

Result<VfioContainer*> VfioContainer::instance(const PciPaths& paths) {
  static std::mutex mu;
  static VfioContainer* the_container = nullptr;  // never freed: lives as long as the process
  std::lock_guard lock(mu);
  if (the_container) return the_container;
  const std::string path = paths.dev + "/vfio/vfio";
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    return make_sys_error(Errc::Unavailable, errno,
                          fmt::format("cannot open the vfio container {} (is the vfio module "
                                      "loaded?)", path));
  }
  // include/uapi/linux/vfio.h: VFIO_GET_API_VERSION must return VFIO_API_VERSION.
  if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
    close(fd);
    return make_error(Errc::Unsupported, "{}: unknown vfio API version", path);
  }
  the_container = new VfioContainer(fd);
  return the_container;
}

Status VfioContainer::attach_group(int group_fd, bool noiommu,
                                   const std::vector<std::pair<uint64_t, uint64_t>>& reserved) {
  std::lock_guard lock(mu_);
  if (groups_ > 0 && noiommu != noiommu_) {
    return make_error(Errc::Unsupported, "vfio: cannot mix no-IOMMU and IOMMU devices in one "
                      "process");
  }
  const unsigned long model = noiommu ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1_IOMMU;
  if (groups_ == 0 && ioctl(fd_, VFIO_CHECK_EXTENSION, model) <= 0) {
    return make_error(Errc::Unsupported, "vfio: the kernel does not offer the {} IOMMU model",
                      noiommu ? "no-IOMMU" : "type1");
  }
  // vfio.rst: VFIO_GROUP_SET_CONTAINER, then (first group) VFIO_SET_IOMMU.
  int container = fd_;
  if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &container) != 0) {
    return make_sys_error(Errc::Io, errno, "vfio: VFIO_GROUP_SET_CONTAINER");
  }
  if (groups_ == 0 && ioctl(fd_, VFIO_SET_IOMMU, model) != 0) {
    const int err = errno;
    ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
    return make_sys_error(Errc::Io, err, "vfio: VFIO_SET_IOMMU");
  }
  ++groups_;
  noiommu_ = noiommu;
  for (const auto& [first, last] : reserved) iova_.reserve(first, last);
  return ok();
}

void VfioContainer::detach_group(int group_fd) noexcept {
  std::lock_guard lock(mu_);
  ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
  if (groups_ > 0 && --groups_ == 0) {
    // The kernel forgets the IOMMU model (and any mapping) with its last group.
    for (const auto& [key, m] : maps_) iova_.release(m.iova);
    maps_.clear();
  }
}

Result<uint64_t> VfioContainer::map(const DmaMemory& mem) {
  std::lock_guard lock(mu_);
  const Key key{mem.data(), mem.size()};
  if (auto it = maps_.find(key); it != maps_.end()) {
    ++it->second.refs;
    return it->second.iova;
  }
  auto iova = iova_.allocate(mem.size());
  if (!iova) return iova.error();
  // include/uapi/linux/vfio.h struct vfio_iommu_type1_dma_map: the device may read and write.
  vfio_iommu_type1_dma_map dm{};
  dm.argsz = sizeof dm;
  dm.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  dm.vaddr = reinterpret_cast<uintptr_t>(mem.data());
  dm.iova = *iova;
  // MAP_DMA takes whole pages; mmap gave the region whole pages.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  dm.size = (mem.size() + page - 1) & ~(page - 1);
  if (ioctl(fd_, VFIO_IOMMU_MAP_DMA, &dm) != 0) {
    const int err = errno;
    iova_.release(*iova);
    return make_sys_error(Errc::Io, err,
                          fmt::format("vfio: VFIO_IOMMU_MAP_DMA of {} bytes at IOVA {:#x}",
                                      mem.size(), *iova));
  }
  maps_[key] = Mapping{*iova, dm.size, 1};
  log::port().info("vfio: mapped {} MiB of DMA memory at IOVA {:#x}", mem.size() >> 20, *iova);
  return *iova;
}

void VfioContainer::unmap(const DmaMemory& mem) noexcept {
  std::lock_guard lock(mu_);
  const auto it = maps_.find(Key{mem.data(), mem.size()});
  if (it == maps_.end() || --it->second.refs > 0) return;
  vfio_iommu_type1_dma_unmap du{};
  du.argsz = sizeof du;
  du.iova = it->second.iova;
  du.size = it->second.bytes;
  if (ioctl(fd_, VFIO_IOMMU_UNMAP_DMA, &du) != 0) {
    log::port().warn("vfio: VFIO_IOMMU_UNMAP_DMA at IOVA {:#x} failed: {}", du.iova,
                     std::strerror(errno));
  }
  iova_.release(it->second.iova);
  maps_.erase(it);
}

}  // namespace vsw::ports::pci
