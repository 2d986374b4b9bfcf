// ports/pci/pci_device.h — a PCI function vsw drives from user space, whatever the access path.
//
// The PCI layer (this folder) finds a device by its address, takes it from its kernel driver,
// binds it to uio_pci_generic or vfio-pci, enables bus mastering, and gives a driver
// (ports/virtio/, later ports/intel/) four things through this interface:
//   * config-space access (PCI Local Bus 3.0 §6.1: vendor/device id, command register, the
//     capability list);
//   * register access to each BAR (BarAccess): MMIO BARs are mmapped, I/O-port BARs use in/out
//     instructions when the process may (iopl), else pread/pwrite on the resource/device fd;
//   * DMA: dma_map() makes a DmaMemory region reachable by the device and dma_address()
//     translates a pointer inside a mapped region into the address the device must use —
//     physical (uio, and vfio in no-IOMMU mode: hugepages only, /proc/self/pagemap) or an IOVA
//     vsw assigned (vfio with an IOMMU: one container for the whole process and one IOVA space,
//     allocated upward from a low base so that IOMMUs with 39-bit address widths work; a region
//     mapped once is valid for every vfio device, which is what makes zero copy between two DMA
//     ports possible);
//   * an interrupt eventfd (vfio: INTx, or MSI-X vector 0, through VFIO_DEVICE_SET_IRQS; uio:
//     none yet, -1 — TODO(#8): an eventfd fed from /dev/uioN), for wake-ups when a worker
//     sleeps. Polling drivers need not use it.
// Destroying the PciDevice unmaps everything it mapped, closes its fds, and gives the device
// back to the kernel driver it had before vsw took it.
//
// Threads: open and close on the control thread. BarAccess reads/writes and dma_address() are
// noexcept and may be called by the worker that owns a queue (a doorbell write per batch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <string_view>

#include "common/result.h"
#include "dataplane/dma_memory.h"

namespace vsw::ports::pci {

// Domain:bus:device.function, written "0000:00:04.0" (lower-case hex, as in /sys/bus/pci).
struct PciAddress {
  uint16_t domain = 0;
  uint8_t bus = 0;
  uint8_t device = 0;    // 0..31
  uint8_t function = 0;  // 0..7
  // Parses exactly DDDD:BB:DD.F; anything else is InvalidArgument with a message that shows the
  // expected form.
  static Result<PciAddress> parse(std::string_view text);
  std::string str() const;
  friend bool operator==(const PciAddress&, const PciAddress&) = default;
};

enum class AccessPath : uint8_t { Uio, Vfio };
constexpr std::string_view access_path_name(AccessPath p) noexcept {
  return p == AccessPath::Uio ? "uio" : "vfio";
}

// Registers of one BAR. Offsets are bytes from the start of the BAR; an access outside
// [0, size()) or of a width the BAR cannot do is a programming error (asserted), never a device
// access.
class BarAccess {
 public:
  virtual ~BarAccess() = default;
  virtual uint64_t size() const noexcept = 0;
  virtual bool is_io() const noexcept = 0;  // I/O-port BAR (legacy virtio BAR0)
  virtual uint8_t read8(uint64_t off) const noexcept = 0;
  virtual uint16_t read16(uint64_t off) const noexcept = 0;
  virtual uint32_t read32(uint64_t off) const noexcept = 0;
  virtual void write8(uint64_t off, uint8_t v) noexcept = 0;
  virtual void write16(uint64_t off, uint16_t v) noexcept = 0;
  virtual void write32(uint64_t off, uint32_t v) noexcept = 0;
  // MMIO BARs: the mapping (registers may be accessed directly with volatile loads/stores);
  // nullptr for I/O BARs.
  virtual volatile std::byte* mapped() const noexcept = 0;
};

class PciDevice {
 public:
  virtual ~PciDevice() = default;
  PciDevice(const PciDevice&) = delete;
  PciDevice& operator=(const PciDevice&) = delete;

  const PciAddress& address() const noexcept { return address_; }
  uint16_t vendor_id() const noexcept { return vendor_; }
  uint16_t device_id() const noexcept { return device_; }
  virtual AccessPath path() const noexcept = 0;
  // The kernel driver the device had when vsw took it ("" when none); restored on destruction.
  virtual const std::string& previous_driver() const noexcept = 0;

  // Config space (PCI Local Bus 3.0 §6.1), little-endian; `off + len` within the config space
  // (256 bytes, 4096 for PCIe).
  virtual Status read_config(uint32_t off, void* out, size_t len) const = 0;
  virtual Status write_config(uint32_t off, const void* in, size_t len) = 0;
  Result<uint8_t> config8(uint32_t off) const;
  Result<uint16_t> config16(uint32_t off) const;
  Result<uint32_t> config32(uint32_t off) const;

  // BAR `index` (0..5). NotFound when the BAR is absent (size 0); the object lives as long as
  // the PciDevice. The first call maps the BAR.
  virtual Result<BarAccess*> bar(unsigned index) = 0;

  // Makes `mem` reachable by the device's DMA. Physical paths (uio, vfio no-IOMMU): `mem` must
  // have physical addresses (hugepage-backed, DmaMemory::physical_iova()), else an Unavailable
  // error explaining how to reserve hugepages or to use vfio. vfio with an IOMMU: maps it into
  // the process's container at an IOVA vsw assigns (idempotent per region, reference-counted
  // over devices; unmapped when the last user goes). `mem` must outlive the mapping: call
  // dma_unmap() (or destroy the PciDevice) before freeing it.
  virtual Status dma_map(const DmaMemory& mem) = 0;
  virtual void dma_unmap(const DmaMemory& mem) noexcept = 0;
  // The device address of `p` (and of the following bytes up to the end of its hugepage, or of
  // its region under an IOMMU); 0 when `p` is in no region given to dma_map() — then it must
  // not be given to the device. Fast (a few compares): called per frame on the fast path.
  virtual uint64_t dma_address(const void* p) const noexcept = 0;
  // The device address of mem.data() when the device sees all of `mem` (a region given to
  // dma_map()) as one contiguous window, i.e. dma_address(mem.data() + k) == that + k for every
  // k < mem.size() (vfio with an IOMMU, where vsw assigns the IOVA range); 0 otherwise: not
  // mapped, or reached through physical addresses, contiguous only per hugepage (uio, vfio
  // no-IOMMU; there DmaMemory::iova_of and Packet::iova give the address). Lets a ring translate
  // the buffers of one pool by an addition instead of a lookup per frame. Control thread.
  virtual uint64_t dma_contiguous(const DmaMemory& mem) const noexcept {
    (void)mem;
    return 0;
  }

  // An eventfd that becomes readable when the device raises its (INTx or first MSI-X)
  // interrupt; -1 when the path offers none. Owned by the PciDevice.
  virtual Result<int> interrupt_eventfd() = 0;
  // Lets the interrupt fire again after the eventfd was read. vfio masks INTx at each interrupt
  // until it is unmasked (include/uapi/linux/vfio.h VFIO_IRQ_SET_ACTION_UNMASK); the driver
  // first clears the device's interrupt cause (virtio: read the ISR), then calls this. No-op
  // where nothing is masked (MSI-X, uio's -1). Control or owning worker thread.
  virtual Status unmask_interrupt() { return ok(); }
  // One eventfd per MSI-X vector: enables MSI-X with vectors 0..n-1, vector i signalling
  // fds[i] (vfio: VFIO_DEVICE_SET_IRQS on the MSI-X index). Edge-triggered: nothing to unmask
  // or acknowledge. Either this or interrupt_eventfd(), not both. Unsupported where the path
  // (uio) or the device (no MSI-X capability, fewer vectors) cannot. The fds are non-blocking
  // and owned by the PciDevice. Control thread.
  virtual Result<std::vector<int>> msix_eventfds(uint16_t n) {
    (void)n;
    return make_error(Errc::Unsupported, "{} has no per-vector interrupt eventfds",
                      access_path_name(path()));
  }

 protected:
  PciDevice(PciAddress a, uint16_t vendor, uint16_t device)
      : address_(a), vendor_(vendor), device_(device) {}

 private:
  PciAddress address_;
  uint16_t vendor_;
  uint16_t device_;
};

struct OpenOptions {
  AccessPath path = AccessPath::Vfio;
  // Device ids the caller's driver supports; the device is refused (InvalidArgument naming what
  // was found) before anything is unbound when its vendor:device is not among them.
  struct Id { uint16_t vendor; uint16_t device; };
  const Id* ids = nullptr;
  size_t id_count = 0;
  std::string_view driver_name;  // for messages: "virtio-net"
};

// Takes the device at `addr` for a user-space driver. Refuses, with a message saying what to do
// and leaving the device as it was: not root; no such device; a vendor:device the driver does
// not support; a device another process holds (vfio group busy, uio device open elsewhere); a
// kernel network interface of the device that is up; vfio whose IOMMU group holds other devices
// not bound to vfio-pci; uio when the IOMMU translates (DMA to physical addresses would fault).
// vfio without an IOMMU uses the kernel's no-IOMMU mode, enabling it with a warning.
Result<std::unique_ptr<PciDevice>> open_device(const PciAddress& addr, const OpenOptions& opts);

}  // namespace vsw::ports::pci
