// ports/virtio/ring_arena.h — the DMA memory of one port's virtqueues: descriptor tables,
// available and used rings, transmit header slots and the control command buffer, in one
// DmaMemory region mapped for the device (PciDevice::dma_map).
//
// Layout rules:
//   * every ring uses the legacy placement (fact sheet §5): descriptors at a 4096 boundary, the
//     available ring right after them, the used ring at the next 4096 boundary. It satisfies the
//     modern alignment rules too (virtio 1.1 §2.6: 16 / 2 / 4), so both interfaces share it;
//   * no piece crosses a 2 MiB boundary: under uio the device sees physical addresses, which are
//     contiguous only inside one hugepage (fact sheet §7). A piece larger than 2 MiB is refused.
//
//   offset 0      rx0: desc | avail | pad | used   (4096-aligned pieces)
//                 tx0: desc | avail | pad | used   header slots (16 B × queue size)
//                 ...                              ctrl: ring + command buffer
//
// Use: reserve() every piece (control thread), then allocate(), then at()/iova(). The arena
// unmaps its memory from the device when destroyed, so destroy it after resetting the device
// and before the PciDevice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/result.h"
#include "dataplane/dma_memory.h"
#include "ports/pci/pci_device.h"
#include "ports/virtio/virtio_transport.h"

namespace vsw::ports::virtio {

// Offsets of one split queue's parts inside the arena.
struct VringOffsets {
  uint64_t desc = 0, avail = 0, used = 0;
  uint16_t size = 0;
};

// Bytes of a ring in the legacy layout, including used_event/avail_event (fact sheet §5).
constexpr uint64_t vring_avail_offset(uint16_t n) noexcept { return 16ull * n; }
constexpr uint64_t vring_used_offset(uint16_t n) noexcept {
  return (16ull * n + 6 + 2ull * n + 4095) & ~uint64_t{4095};
}
constexpr uint64_t vring_bytes(uint16_t n) noexcept {
  return vring_used_offset(n) + ((6 + 8ull * n + 4095) & ~uint64_t{4095});
}
static_assert(vring_used_offset(256) == 8192 && vring_bytes(256) == 12288,
              "fact sheet §5 example: Q = 256 puts used at 8192 and takes 12288 bytes");

class RingArena {
 public:
  RingArena() = default;
  ~RingArena();
  RingArena(const RingArena&) = delete;
  RingArena& operator=(const RingArena&) = delete;

  // Plans `bytes` at `align` (a power of two, at most 4096); returns the offset. Before allocate().
  uint64_t reserve(uint64_t bytes, uint64_t align);
  VringOffsets reserve_vring(uint16_t size);
  // True when some piece was larger than a hugepage (then allocate() fails).
  bool oversized() const noexcept { return oversized_; }

  // Allocates the planned bytes (hugepages when reserved; zeroed) and maps them for `dev`.
  // Unavailable, with what to do, when `dev` uses physical addresses (uio) and the memory has
  // none.
  Status allocate(pci::PciDevice& dev);

  std::byte* at(uint64_t off) const noexcept { return mem_->data() + off; }
  uint64_t iova(uint64_t off) const noexcept { return dev_->dma_address(at(off)); }
  QueueAddresses addresses(const VringOffsets& v) const noexcept {
    return {iova(v.desc), iova(v.avail), iova(v.used)};
  }
  bool hugepage_backed() const noexcept { return mem_ && mem_->hugepage_backed(); }

 private:
  uint64_t next_ = 0;
  bool oversized_ = false;
  std::unique_ptr<DmaMemory> mem_;
  pci::PciDevice* dev_ = nullptr;
  bool mapped_ = false;
};

}  // namespace vsw::ports::virtio
