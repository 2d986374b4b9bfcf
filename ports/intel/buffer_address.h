// ports/intel/buffer_address.h — the device address of a buffer's data, without a region lookup
// per frame for the buffers of the port's own mempool.
//
// PciDevice::dma_address() is a virtual call and a search of the device's DMA regions. Every
// buffer a receive ring posts, and most frames a transmit ring sends, come from one mempool,
// i.e. one DmaMemory region. bind() asks the device once how it sees that region:
//   * Window: one contiguous range of device addresses (PciDevice::dma_contiguous(): vfio with
//     an IOMMU, the test model) -> address = virtual address + a constant;
//   * Physical: physical addresses, contiguous per hugepage only (uio, vfio no-IOMMU: the
//     device's dma_address() of the region is DmaMemory::iova_of) -> the buffer's own
//     Packet::iova (the mempool set it from the same physical address; a buffer never straddles
//     a hugepage, Mempool::Config) + data_off;
//   * Lookup: anything else (a device or pool that answers neither) -> dma_address().
// Memory outside the pool (another port's pool, a copy) always takes dma_address().
//
// Threads: bind on the control thread; the rest by the worker owning the ring.
#pragma once

#include <cstdint>

#include "dataplane/mempool.h"
#include "dataplane/packet.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::intel {

class BufferAddress {
 public:
  void bind(pci::PciDevice* dev, const Mempool* pool) noexcept {
    dev_ = dev;
    physical_ = false;
    lo_ = 0;
    window_bytes_ = 0;
    pool_bytes_ = 0;
    offset_ = 0;
    if (dev == nullptr || pool == nullptr) return;
    const DmaMemory& mem = pool->memory();
    lo_ = reinterpret_cast<uintptr_t>(mem.data());
    if (const uint64_t base = dev->dma_contiguous(mem); base != 0) {
      window_bytes_ = pool_bytes_ = mem.size();
      offset_ = base - lo_;  // modulo 2^64: address = virtual + offset_
    } else if (mem.physical_iova() && dev->dma_address(mem.data()) != 0 &&
               dev->dma_address(mem.data()) == mem.iova_of(mem.data())) {
      physical_ = true;
      pool_bytes_ = mem.size();
    }
  }

  // Device address of p->data(); `p` must be a buffer of the bound pool.
  uint64_t pool_buffer(const Packet* p) const noexcept {
    if (window_bytes_ != 0) return reinterpret_cast<uintptr_t>(p->base) + p->data_off + offset_;
    return other(p);
  }
  // Device address of s->data() for any segment; 0 when the device cannot reach it.
  uint64_t segment(const Packet* s) const noexcept {
    const uintptr_t b = reinterpret_cast<uintptr_t>(s->base);
    if (b - lo_ < window_bytes_) return b + s->data_off + offset_;
    return other(s);
  }
  // Window mode: pool_buffer(p) == p->base + p->data_off + window_offset(), for loops that keep
  // the constant in a register.
  bool window() const noexcept { return window_bytes_ != 0; }
  uint64_t window_offset() const noexcept { return offset_; }
  // For tests: whether the pool's buffers skip dma_address().
  bool direct() const noexcept { return pool_bytes_ != 0; }

 private:
  // Physical addresses (a buffer of the pool: its Packet::iova), or the lookup.
  uint64_t other(const Packet* s) const noexcept {
    if (physical_ && reinterpret_cast<uintptr_t>(s->base) - lo_ < pool_bytes_) {
      return s->iova + s->data_off;
    }
    return dev_->dma_address(s->data());
  }

  pci::PciDevice* dev_ = nullptr;
  uintptr_t lo_ = 0;
  uint64_t window_bytes_ = 0;  // the pool's size when the device sees it as one window, else 0
  uint64_t pool_bytes_ = 0;    // the pool's size when either shortcut applies, else 0
  uint64_t offset_ = 0;
  bool physical_ = false;
};

}  // namespace vsw::ports::intel
