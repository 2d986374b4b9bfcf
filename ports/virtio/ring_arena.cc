// ports/virtio/ring_arena.cc — planning and mapping the virtqueues' DMA memory.
#include "ports/virtio/ring_arena.h"

#include <cstring>

namespace vsw::ports::virtio {

RingArena::~RingArena() {
  if (mapped_) dev_->dma_unmap(*mem_);
}

uint64_t RingArena::reserve(uint64_t bytes, uint64_t align) {
  constexpr uint64_t kPage = DmaMemory::kHugePageBytes;
  if (bytes > kPage) oversized_ = true;
  uint64_t off = (next_ + align - 1) & ~(align - 1);
  // Fact sheet §7: physical contiguity ends at the hugepage boundary.
  if (off / kPage != (off + bytes - 1) / kPage) off = (off + kPage - 1) & ~(kPage - 1);
  next_ = off + bytes;
  return off;
}

VringOffsets RingArena::reserve_vring(uint16_t size) {
  VringOffsets v;
  v.size = size;
  v.desc = reserve(vring_bytes(size), 4096);
  v.avail = v.desc + vring_avail_offset(size);
  v.used = v.desc + vring_used_offset(size);
  return v;
}

Status RingArena::allocate(pci::PciDevice& dev) {
  if (oversized_) {
    return make_error(Errc::InvalidArgument,
                      "a virtqueue does not fit one 2 MiB hugepage; use a smaller queue size");
  }
  auto mem = DmaMemory::allocate(next_ == 0 ? 4096 : next_, true);
  if (!mem) return std::move(mem).error();
  mem_ = std::move(*mem);
  std::memset(mem_->data(), 0, mem_->size());
  if (dev.path() == pci::AccessPath::Uio && !mem_->physical_iova()) {
    mem_.reset();
    return make_error(Errc::Unavailable,
                      "driver=uio needs hugepage memory with physical addresses for the "
                      "virtqueues, and none is available: reserve hugepages before starting "
                      "vswitchd (echo 64 > /sys/kernel/mm/hugepages/hugepages-2048kB/"
                      "nr_hugepages), or use driver=vfio");
  }
  if (auto st = dev.dma_map(*mem_); !st) {
    mem_.reset();
    return st;
  }
  dev_ = &dev;
  mapped_ = true;
  return ok();
}

}  // namespace vsw::ports::virtio
