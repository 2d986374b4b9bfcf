// ports/pci/open_device.cc — open_device(): the checks every path shares, then uio or vfio.
//
// Order matters: everything that can refuse without touching the device (root, address, ids,
// kernel interfaces, IOMMU state, hugepages, group members) is checked before any driver is
// unbound; what can only fail later (busy device, a driver that does not take it) restores the
// previous driver through DriverBinding's destructor.
#include <unistd.h>

#include "common/log.h"
#include "ports/pci/pci_environment.h"
#include "ports/pci/sysfs_pci.h"
#include "ports/pci/uio_device.h"
#include "ports/pci/vfio_device.h"

namespace vsw::ports::pci {

namespace {

std::string id_list(const OpenOptions& opts) {
  std::string s;
  for (size_t i = 0; i < opts.id_count; ++i) {
    if (!s.empty()) s += ", ";
    s += fmt::format("{:04x}:{:04x}", opts.ids[i].vendor, opts.ids[i].device);
  }
  return s.empty() ? "none" : s;
}

bool id_supported(const OpenOptions& opts, uint16_t vendor, uint16_t device) {
  for (size_t i = 0; i < opts.id_count; ++i) {
    if (opts.ids[i].vendor == vendor && opts.ids[i].device == device) return true;
  }
  return false;
}

std::string_view driver_label(const OpenOptions& opts) {
  return opts.driver_name.empty() ? std::string_view("this") : opts.driver_name;
}

// uio: DMA goes to physical addresses, which an IOMMU would translate (and fault).
Status check_uio(const SysfsPci& dev) {
  if (dev.iommu_translates()) {
    return make_error(Errc::Unavailable,
                      "pci {}: an IOMMU translates this device's DMA (IOMMU group {}, type {}), "
                      "so uio's physical addresses would fault: use driver=vfio",
                      dev.bdf(), *dev.iommu_group(), dev.iommu_group_type(*dev.iommu_group()));
  }
  if (dev.hugepages_2m() == 0) {
    return make_error(Errc::Unavailable,
                      "pci {}: uio needs hugepages (DMA to physical addresses) and none are "
                      "reserved: echo N > /proc/sys/vm/nr_hugepages before starting vswitchd "
                      "(N 2 MiB pages), or use driver=vfio",
                      dev.bdf());
  }
  if (!dev.driver_available("uio_pci_generic") && dev.driver() != "uio_pci_generic") {
    return make_error(Errc::Unavailable,
                      "pci {}: the uio_pci_generic driver is not loaded: load the kernel module "
                      "first (modprobe uio_pci_generic)",
                      dev.bdf());
  }
  return ok();
}

// vfio: every other device of the group must be vfio's too (vfio.rst, "Groups, Devices, and
// IOMMUs": a group is the unit of ownership); without an IOMMU, no-IOMMU mode is enabled.
// Sets `noiommu`.
Status check_vfio(const SysfsPci& dev, bool& noiommu) {
  if (!dev.driver_available("vfio-pci") && dev.driver() != "vfio-pci") {
    return make_error(Errc::Unavailable,
                      "pci {}: the vfio-pci driver is not loaded: load the kernel module first "
                      "(modprobe vfio-pci)",
                      dev.bdf());
  }
  const auto group = dev.iommu_group();
  const std::string noiommu_param = dev.paths().sys + "/module/vfio/parameters/enable_unsafe_noiommu_mode";
  noiommu = !dev.iommu_present();
  if (noiommu) {
    auto value = read_text_file(noiommu_param);
    if (!value) {
      return make_error(Errc::Unavailable,
                        "pci {}: the system has no IOMMU and this kernel's vfio has no no-IOMMU "
                        "mode ({} missing): use driver=uio",
                        dev.bdf(), noiommu_param);
    }
    if (value->empty() || (*value)[0] != 'Y') {
      if (auto st = write_text_file(noiommu_param, "Y"); !st) {
        return make_error(Errc::Unavailable, "pci {}: cannot enable vfio's no-IOMMU mode: {}",
                          dev.bdf(), st.error().message);
      }
    }
    log::port().warn("pci {}: no IOMMU: vfio runs in unsafe no-IOMMU mode (the device can DMA "
                     "anywhere in memory; DMA uses physical addresses of hugepages)",
                     dev.bdf());
    return ok();
  }
  if (!group) {
    return make_error(Errc::Unavailable,
                      "pci {}: an IOMMU is present but the device has no IOMMU group (is the "
                      "IOMMU enabled for it? intel_iommu=on)",
                      dev.bdf());
  }
  std::string others;
  for (const std::string& member : dev.iommu_group_devices(*group)) {
    if (member == dev.bdf()) continue;
    const std::string drv = dev.driver_of(member);
    // Bridges (pcieport) and unbound devices do not stop a group from being viable.
    if (drv.empty() || drv == "vfio-pci" || drv == "pcieport" || drv == "pci-stub") continue;
    others += fmt::format("{}{} ({})", others.empty() ? "" : ", ", member, drv);
  }
  if (!others.empty()) {
    return make_error(Errc::Unavailable,
                      "pci {}: its IOMMU group {} also holds {}, not bound to vfio-pci: bind "
                      "them to vfio-pci too, or use a device with its own group",
                      dev.bdf(), *group, others);
  }
  return ok();
}

}  // namespace

Result<std::unique_ptr<PciDevice>> open_device(const PciAddress& addr, const OpenOptions& opts) {
  return open_device(addr, opts, PciPaths{});
}

Result<std::unique_ptr<PciDevice>> open_device(const PciAddress& addr, const OpenOptions& opts,
                                               const PciPaths& paths) {
  const std::string bdf = addr.str();
  const int euid = paths.euid >= 0 ? paths.euid : static_cast<int>(geteuid());
  if (euid != 0) {
    return make_error(Errc::Unavailable,
                      "pci {}: taking a PCI device from its kernel driver needs root (effective "
                      "uid is {})",
                      bdf, euid);
  }
  const SysfsPci dev(paths, addr);
  if (!dev.exists()) {
    return make_error(Errc::NotFound, "no PCI device {} (see {}/bus/pci/devices/)", bdf,
                      paths.sys);
  }
  auto vendor = dev.vendor();
  if (!vendor) return vendor.error();
  auto device = dev.device();
  if (!device) return device.error();
  if (!id_supported(opts, *vendor, *device)) {
    return make_error(Errc::InvalidArgument,
                      "pci {} is {:04x}:{:04x}, which the {} driver does not support (it "
                      "supports {})",
                      bdf, *vendor, *device, driver_label(opts), id_list(opts));
  }
  for (const NetInterface& n : dev.net_interfaces()) {
    if (n.is_up()) {
      return make_error(Errc::Unavailable,
                        "pci {} is the kernel's network interface {}, which is up: take it down "
                        "first (ip link set {} down)",
                        bdf, n.name, n.name);
    }
  }
  if (opts.path == AccessPath::Uio) {
    if (auto st = check_uio(dev); !st) return st.error();
    return UioDevice::open(dev, *vendor, *device);
  }
  bool noiommu = false;
  if (auto st = check_vfio(dev, noiommu); !st) return st.error();
  return VfioDevice::open(dev, *vendor, *device, noiommu);
}

}  // namespace vsw::ports::pci
