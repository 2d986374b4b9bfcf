// dataplane/dma_memory.h — memory that a PCI device may DMA into.
//
// Allocated from 2 MiB hugepages (MAP_HUGETLB) when the system has them reserved, so a buffer
// never straddles a physical page boundary; otherwise from ordinary pages (logged once), which is
// enough for software ports and for vfio with an IOMMU (where IOVA = virtual address).
// iova_of() resolves the physical address through /proc/self/pagemap when that is readable
// (root, hugepages: what uio needs, as ixy does). Otherwise the memory has no device address and
// iova_of() returns 0: ordinary pages can move, so they must never be handed to a device. (An
// IOMMU mapping — vfio — gives such memory an IOVA explicitly; that is the PCI layer's job.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/result.h"

namespace vsw {

class DmaMemory {
 public:
  static constexpr size_t kHugePageBytes = 2u << 20;

  // Reserves `bytes` (rounded up to a hugepage when hugepages are used). `prefer_hugepages`
  // false always uses ordinary memory.
  static Result<std::unique_ptr<DmaMemory>> allocate(size_t bytes, bool prefer_hugepages);
  ~DmaMemory();
  DmaMemory(const DmaMemory&) = delete;
  DmaMemory& operator=(const DmaMemory&) = delete;

  std::byte* data() const noexcept { return base_; }
  size_t size() const noexcept { return bytes_; }
  bool hugepage_backed() const noexcept { return huge_; }
  bool physical_iova() const noexcept { return physical_; }
  // Device address of `p`, which must lie inside this region; 0 when the region has none.
  uint64_t iova_of(const void* p) const noexcept;

 private:
  DmaMemory(std::byte* base, size_t bytes, bool huge);
  void resolve_pages();

  std::byte* base_;
  size_t bytes_;
  bool huge_;
  bool physical_ = false;
  std::unique_ptr<uint64_t[]> page_phys_;  // one entry per hugepage when physical_
};

}  // namespace vsw
