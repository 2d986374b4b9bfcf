// tests/unit/support/fake_dma_space.h — the IOVA space of the PCI drivers' fake devices
// (tests/unit/virtio/, tests/unit/intel/): like an IOMMU, every region given to map() gets an
// IOVA range of its own, from 4 GiB up with a 2 MiB gap between regions; address(p) translates a
// pointer into it (0 outside every region) and to_ptr(iova) back (nullptr outside), so a driver
// that programmed a pointer instead of a device address is caught. Under uio, memory without
// physical addresses is refused, as the real uio path refuses it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/result.h"
#include "dataplane/dma_memory.h"
#include "ports/pci/pci_device.h"

namespace vsw::test {

class FakeDmaSpace {
 public:
  Status map(const DmaMemory& mem, ports::pci::AccessPath path) {
    if (path == ports::pci::AccessPath::Uio && !mem.physical_iova()) {
      return make_error(Errc::Unavailable, "fake uio: memory without physical addresses");
    }
    for (const Mapping& m : maps_) {
      if (m.mem == &mem) return ok();
    }
    maps_.push_back({&mem, next_iova_});
    constexpr uint64_t k2M = uint64_t{2} << 20;
    next_iova_ += (mem.size() + k2M - 1) / k2M * k2M + k2M;  // a gap between regions
    return ok();
  }

  void unmap(const DmaMemory& mem) noexcept {
    std::erase_if(maps_, [&](const Mapping& m) { return m.mem == &mem; });
  }

  uint64_t address(const void* p) const noexcept {
    const auto* b = static_cast<const std::byte*>(p);
    for (const Mapping& m : maps_) {
      if (b >= m.mem->data() && b < m.mem->data() + m.mem->size()) {
        return m.iova + static_cast<uint64_t>(b - m.mem->data());
      }
    }
    return 0;
  }

  std::byte* to_ptr(uint64_t iova) const noexcept {
    for (const Mapping& m : maps_) {
      if (iova >= m.iova && iova < m.iova + m.mem->size()) return m.mem->data() + (iova - m.iova);
    }
    return nullptr;
  }

  size_t regions() const noexcept { return maps_.size(); }

 private:
  struct Mapping {
    const DmaMemory* mem;
    uint64_t iova;
  };
  std::vector<Mapping> maps_;
  uint64_t next_iova_ = uint64_t{1} << 32;
};

}  // namespace vsw::test
