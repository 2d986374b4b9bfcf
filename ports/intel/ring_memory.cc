// ports/intel/ring_memory.cc — allocating and mapping the descriptor rings.
#include "ports/intel/ring_memory.h"

#include <cstring>

#include "ports/intel/adv_descriptors.h"

namespace vsw::ports::intel {

RingMemory::~RingMemory() {
  if (dev_ != nullptr) dev_->dma_unmap(*mem_);
}

Status RingMemory::allocate(pci::PciDevice& dev, uint16_t rings, uint16_t descriptors) {
  bytes_ = uint32_t{descriptors} * kDescBytes;
  if (bytes_ > DmaMemory::kHugePageBytes) {
    return make_error(Errc::InvalidArgument, "a {}-descriptor ring does not fit a 2 MiB hugepage",
                      descriptors);
  }
  // A power-of-two stride of at least 4096 bytes divides 2 MiB: no ring straddles a hugepage
  // (the region itself starts on one).
  stride_ = 4096;
  while (stride_ < bytes_) stride_ *= 2;
  const uint64_t total = uint64_t{rings} * stride_;
  auto mem = DmaMemory::allocate(total, true);
  if (!mem) return std::move(mem).error();
  if (dev.path() == pci::AccessPath::Uio && !(*mem)->physical_iova()) {
    return make_error(Errc::Unavailable,
                      "driver=uio needs hugepage memory with physical addresses for the "
                      "descriptor rings, and none is available: reserve hugepages before "
                      "starting vswitchd (echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/"
                      "nr_hugepages), or use driver=vfio");
  }
  std::memset((*mem)->data(), 0, (*mem)->size());
  if (auto st = dev.dma_map(**mem); !st) return st;
  mem_ = std::move(*mem);
  dev_ = &dev;
  return ok();
}

}  // namespace vsw::ports::intel
