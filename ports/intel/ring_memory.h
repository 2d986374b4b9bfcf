// ports/intel/ring_memory.h — the DMA memory holding one port's descriptor rings, mapped for
// the device (PciDevice::dma_map).
//
// Layout: ring k (receive rings first, then transmit rings) at a 4096-byte boundary — more than
// the 128 bytes both datasheets ask for the base address (fact sheet §3), and it keeps every ring
// inside one hugepage: under uio the device sees physical addresses, contiguous only within a
// 2 MiB page. A ring larger than a hugepage is refused (the largest, 8192 descriptors, is 128
// KiB). The memory is zeroed before use.
//
// Destroy after resetting the device (it may still DMA to the rings until then) and before the
// PciDevice. Control thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.h"
#include "dataplane/dma_memory.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::intel {

class RingMemory {
 public:
  RingMemory() = default;
  ~RingMemory();
  RingMemory(const RingMemory&) = delete;
  RingMemory& operator=(const RingMemory&) = delete;

  // Allocates `rings` rings of `descriptors` 16-byte descriptors each and maps them for `dev`.
  // Unavailable (with what to do) when `dev` needs physical addresses (uio) and the memory has
  // none; what dma_map() refuses otherwise.
  Status allocate(pci::PciDevice& dev, uint16_t rings, uint16_t descriptors);

  std::byte* ring(uint16_t k) const noexcept { return mem_->data() + k * stride_; }
  uint64_t iova(uint16_t k) const noexcept { return dev_->dma_address(ring(k)); }
  uint32_t ring_bytes() const noexcept { return bytes_; }

 private:
  std::unique_ptr<DmaMemory> mem_;
  pci::PciDevice* dev_ = nullptr;
  uint64_t stride_ = 0;
  uint32_t bytes_ = 0;
};

}  // namespace vsw::ports::intel
