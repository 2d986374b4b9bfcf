// ports/pci/vfio_container.h — the process's one vfio container and its IOVA space.
//
// Linux Documentation/driver-api/vfio.rst ("VFIO Usage Example"): a container
// (/dev/vfio/vfio) holds groups; the first group added decides the IOMMU model (VFIO_SET_IOMMU)
// and every group then shares one address space, so a region mapped once
// (VFIO_IOMMU_MAP_DMA) is reachable by every vfio device of the process — what zero copy between
// two DMA ports needs. Mappings are reference-counted over devices and unmapped
// (VFIO_IOMMU_UNMAP_DMA) when the last device lets go of them. IOVAs come from IovaSpace.
// No-IOMMU mode (VFIO_NOIOMMU_IOMMU; kernel parameter vfio.enable_unsafe_noiommu_mode): no
// translation and no MAP_DMA; devices then DMA to physical addresses, as with uio.
// Control thread only (a mutex guards against two control threads anyway).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include "common/result.h"
#include "dataplane/dma_memory.h"
#include "ports/pci/iova_space.h"
#include "ports/pci/pci_environment.h"

namespace vsw::ports::pci {

class VfioContainer {
 public:
  // The process's container (opened on first use, lives until exit).
  static Result<VfioContainer*> instance(const PciPaths& paths);

  // Adds an opened group (VFIO_GROUP_SET_CONTAINER); the first one sets the IOMMU model:
  // no-IOMMU when `noiommu`, else VFIO_TYPE1_IOMMU. A group of the other kind than the ones
  // already attached is refused. `reserved` are the group's reserved IOVA ranges.
  Status attach_group(int group_fd, bool noiommu,
                      const std::vector<std::pair<uint64_t, uint64_t>>& reserved);
  // VFIO_GROUP_UNSET_CONTAINER; the last group out resets the IOMMU model (the kernel drops it).
  void detach_group(int group_fd) noexcept;
  bool noiommu() const noexcept { return noiommu_; }

  // The IOVA of `mem` in the container, mapping it on first use (IOMMU mode only).
  Result<uint64_t> map(const DmaMemory& mem);
  // Drops one reference; unmaps at zero.
  void unmap(const DmaMemory& mem) noexcept;
  size_t mapped_regions() const noexcept { return maps_.size(); }

 private:
  explicit VfioContainer(int fd) : fd_(fd) {}
  struct Mapping {
    uint64_t iova;
    uint64_t bytes;
    unsigned refs;
  };
  using Key = std::pair<const void*, size_t>;  // the region's address and size

  std::mutex mu_;
  int fd_;
  unsigned groups_ = 0;
  bool noiommu_ = false;
  IovaSpace iova_;
  std::map<Key, Mapping> maps_;
};

}  // namespace vsw::ports::pci
