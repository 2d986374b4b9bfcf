// ports/pci/dma_region_table.h — the DmaMemory regions one device may DMA to, and the
// pointer -> device-address lookup the fast path calls per frame.
//
// A small array sorted by virtual address. lookup() tries the last region it hit first (frames
// of one mempool are all in one region), then a binary search. Entries with iova 0 are
// "physical": the address comes from DmaMemory::iova_of (hugepages + pagemap: uio, vfio
// no-IOMMU); others are IOVA windows vsw assigned (vfio with an IOMMU): iova + (p - begin).
//
// Concurrency: insert/erase on the control thread publish a new immutable snapshot (release);
// lookup (any thread, noexcept) reads the current one (acquire). Old snapshots are kept until
// the table is destroyed, so a worker still reading one is safe; dma_map/unmap happen a few
// times per port, so they stay few.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/dma_memory.h"

namespace vsw::ports::pci {

class DmaRegionTable {
 public:
  DmaRegionTable();
  ~DmaRegionTable();
  DmaRegionTable(const DmaRegionTable&) = delete;
  DmaRegionTable& operator=(const DmaRegionTable&) = delete;

  // --- control thread ---
  bool contains(const DmaMemory& mem) const;
  // Adds `mem` with device address `iova` for its first byte (0: physical, per hugepage).
  // Regions must not overlap (DmaMemory regions never do). No-op when already present.
  void insert(const DmaMemory& mem, uint64_t iova);
  // Removes `mem`; false when it was not present.
  bool erase(const DmaMemory& mem);
  size_t size() const noexcept;
  // The regions, in address order (for dma_unmap of everything at close).
  std::vector<const DmaMemory*> regions() const;

  // --- any thread ---
  // The device address of `p`, 0 when `p` is in no region.
  uint64_t lookup(const void* p) const noexcept;
  // The IOVA of mem.data() when `mem` is present as an IOVA window (inserted with iova != 0:
  // contiguous for the device); 0 when absent or physical.
  uint64_t window(const DmaMemory& mem) const noexcept;

 private:
  struct Region {
    uintptr_t begin;
    uintptr_t end;  // one past the last byte
    uint64_t iova;  // 0: physical (mem->iova_of)
    const DmaMemory* mem;
  };
  struct Snapshot {
    std::vector<Region> regions;
  };
  void publish(std::vector<Region> regions);

  std::atomic<const Snapshot*> current_;
  std::vector<std::unique_ptr<Snapshot>> snapshots_;  // every version, freed with the table
  mutable std::atomic<uint32_t> last_hit_{0};
};

}  // namespace vsw::ports::pci
