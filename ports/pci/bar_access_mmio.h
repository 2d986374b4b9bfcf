// ports/pci/bar_access_mmio.h — a memory BAR mapped into the process.
//
// The mapping comes from mmap of sysfs `resourceN` (uio; Documentation/PCI/sysfs-pci.rst) or of
// the vfio device fd at the region's offset (include/uapi/linux/vfio.h,
// VFIO_REGION_INFO_FLAG_MMAP). Accesses are single volatile loads/stores of their width, so the
// compiler neither merges nor splits them; on x86 an uncached (UC) mapping keeps them in program
// order with respect to each other and to earlier stores to DMA memory (Intel SDM Vol. 3A
// §11.3), which is the ordering a doorbell write after a descriptor update needs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/assert.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::pci {

class MmioBar final : public BarAccess {
 public:
  // Takes ownership of a mapping of `map_bytes` at `map` (munmapped on destruction); the BAR's
  // registers are `size` bytes from `map`.
  MmioBar(void* map, size_t map_bytes, uint64_t size) noexcept
      : base_(static_cast<volatile std::byte*>(map)), map_bytes_(map_bytes), size_(size) {}
  ~MmioBar() override;
  MmioBar(const MmioBar&) = delete;
  MmioBar& operator=(const MmioBar&) = delete;

  uint64_t size() const noexcept override { return size_; }
  bool is_io() const noexcept override { return false; }
  uint8_t read8(uint64_t off) const noexcept override { return load<uint8_t>(off); }
  uint16_t read16(uint64_t off) const noexcept override { return load<uint16_t>(off); }
  uint32_t read32(uint64_t off) const noexcept override { return load<uint32_t>(off); }
  void write8(uint64_t off, uint8_t v) noexcept override { store(off, v); }
  void write16(uint64_t off, uint16_t v) noexcept override { store(off, v); }
  void write32(uint64_t off, uint32_t v) noexcept override { store(off, v); }
  volatile std::byte* mapped() const noexcept override { return base_; }

 private:
  template <class T>
  T load(uint64_t off) const noexcept {
    VSW_ASSERT(off + sizeof(T) <= size_ && off % sizeof(T) == 0);
    return *reinterpret_cast<volatile const T*>(base_ + off);
  }
  template <class T>
  void store(uint64_t off, T v) noexcept {
    VSW_ASSERT(off + sizeof(T) <= size_ && off % sizeof(T) == 0);
    *reinterpret_cast<volatile T*>(base_ + off) = v;
  }

  volatile std::byte* base_;
  size_t map_bytes_;
  uint64_t size_;
};

}  // namespace vsw::ports::pci
