// ports/pci/iova_space.h — the IOVAs vsw gives its DMA regions under an IOMMU (vfio).
//
// Not IOVA = virtual address: user-space addresses reach 47 bits, while QEMU's intel-iommu
// defaults to a 39-bit address width (its "aw-bits" property) and real IOMMUs may offer 39 or 48.
// Regions get IOVAs upward from kBase (1 MiB), each aligned to 2 MiB (a hugepage, so the IOMMU
// may use large pages), first fit, never above 2^address_bits. Reserved windows are skipped: the
// x86 interrupt range 0xfee00000..0xfeefffff (Intel SDM Vol. 3A §11.11.1: MSI writes go to
// 0xFEExxxxx and are not translated as DMA) and whatever the group's reserved_regions lists.
// One IovaSpace per vfio container (process). Control thread only.
#pragma once

#include <cstdint>
#include <map>

#include "common/result.h"

namespace vsw::ports::pci {

class IovaSpace {
 public:
  static constexpr uint64_t kBase = 1ull << 20;
  static constexpr uint64_t kAlign = 2ull << 20;

  explicit IovaSpace(unsigned address_bits = 39);

  // Marks [first, last] unusable (may overlap existing reservations).
  void reserve(uint64_t first, uint64_t last);
  // An IOVA for `bytes` (rounded up to kAlign); ResourceExhausted when the space is full.
  Result<uint64_t> allocate(uint64_t bytes);
  // Gives back an IOVA allocate() returned; false if unknown.
  bool release(uint64_t iova);
  size_t allocated() const noexcept { return used_.size(); }

 private:
  unsigned address_bits_;
  uint64_t limit_;                     // one past the highest usable IOVA
  std::map<uint64_t, uint64_t> used_;  // start -> bytes, allocations
  std::map<uint64_t, uint64_t> reserved_;  // start -> one past the end
};

}  // namespace vsw::ports::pci
