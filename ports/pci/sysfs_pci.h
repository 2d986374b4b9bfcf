// ports/pci/sysfs_pci.h — what Linux's sysfs says about one PCI function.
//
// Everything the PCI layer reads about a device before and after taking it: ids, the current
// driver, the IOMMU group and its type, the BAR table of the `resource` file, the kernel network
// interfaces and the uio node. Paths follow Linux Documentation/ABI/testing/sysfs-bus-pci and
// Documentation/PCI/sysfs-pci.rst; the root is configurable (PciPaths::sys) so unit tests read a
// fake tree. Control thread only; nothing here is cached (sysfs changes as drivers bind).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "ports/pci/pci_device.h"
#include "ports/pci/pci_environment.h"

namespace vsw::ports::pci {

// Linux include/linux/ioport.h: resource type flags, as printed in the `resource` file.
constexpr uint64_t kIoResourceIo = 0x100;
constexpr uint64_t kIoResourceMem = 0x200;

// One line of the `resource` file: "start end flags" in hex (Linux drivers/pci/pci-sysfs.c
// resource_show). Lines 0..5 are BAR0..5; an absent BAR is all zeros.
struct BarResource {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t flags = 0;
  uint64_t size() const noexcept { return (start || end) ? end - start + 1 : 0; }
  bool is_io() const noexcept { return (flags & kIoResourceIo) != 0; }
  bool is_mem() const noexcept { return (flags & kIoResourceMem) != 0; }
};
using BarTable = std::array<BarResource, 6>;

struct NetInterface {
  std::string name;
  uint32_t flags = 0;  // IFF_* of /sys/class/net/<name>/flags
  bool is_up() const noexcept { return (flags & 0x1) != 0; }  // IFF_UP, include/uapi/linux/if.h
};

// --- small file helpers (text files of sysfs, procfs and the state directory) ---
Result<std::string> read_text_file(const std::string& path);   // whole file, trailing \n kept
Status write_text_file(const std::string& path, std::string_view text);  // one write(2)
// "0x1af4\n" -> 0x1af4 (leading 0x optional, trailing whitespace ignored); nullopt otherwise.
std::optional<uint64_t> parse_hex(std::string_view text);
// The text of a `resource` file -> the six BARs; InvalidArgument on a malformed line.
Result<BarTable> parse_resource_table(std::string_view text);
// The last component of a symlink's target ("../../bus/pci/drivers/virtio-pci" -> "virtio-pci");
// "" when `path` is no symlink.
std::string link_basename(const std::string& path);

class SysfsPci {
 public:
  SysfsPci(const PciPaths& paths, const PciAddress& addr);

  const PciPaths& paths() const noexcept { return paths_; }
  const std::string& bdf() const noexcept { return bdf_; }
  // <sys>/bus/pci/devices/<bdf>
  const std::string& dir() const noexcept { return dir_; }
  bool exists() const;

  Result<uint16_t> vendor() const;
  Result<uint16_t> device() const;
  // The bound driver's name, "" when none.
  std::string driver() const;
  // The driver bound to another function `bdf`, "" when none.
  std::string driver_of(std::string_view bdf) const;
  bool driver_available(std::string_view driver) const;  // <sys>/bus/pci/drivers/<driver>

  // IOMMU: a group exists when an IOMMU (or vfio's no-IOMMU mode) handles the device.
  std::optional<unsigned> iommu_group() const;
  // <sys>/kernel/iommu_groups/N/type: "DMA", "DMA-FQ", "identity", ... ("" when unreadable).
  std::string iommu_group_type(unsigned group) const;
  std::vector<std::string> iommu_group_devices(unsigned group) const;  // bdfs, sorted
  // <sys>/kernel/iommu_groups/N/reserved_regions: [start, end] pairs the IOVA space must avoid.
  std::vector<std::pair<uint64_t, uint64_t>> iommu_reserved_regions(unsigned group) const;
  bool iommu_present() const;  // <sys>/class/iommu has entries (dmar0, ...)
  // True when DMA from the device goes through IOMMU translation (a group of type DMA/DMA-FQ
  // or any type other than identity while an IOMMU is present).
  bool iommu_translates() const;

  Result<BarTable> resources() const;
  std::string config_path() const { return dir_ + "/config"; }
  std::string resource_path(unsigned bar) const;  // <dir>/resource<bar>
  std::vector<NetInterface> net_interfaces() const;  // <dir>/net/*, <dir>/*/net/*
  std::optional<unsigned> uio_index() const;          // <dir>/uio/uioN

  // Hugepages of 2 MiB reserved (<sys>/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages).
  uint64_t hugepages_2m() const;

 private:
  PciPaths paths_;
  std::string bdf_;
  std::string dir_;
};

}  // namespace vsw::ports::pci
