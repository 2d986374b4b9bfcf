// ports/pci/pci_environment.h — where the PCI layer finds sysfs, /dev and its state directory.
//
// open_device(addr, opts) uses the real system (PciPaths{}). Unit tests pass a fake tree in a
// temporary directory (tests/unit/pci/fake_sysfs.h) to reach every refusal without a device;
// nothing here is specific to tests beyond being configurable.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::pci {

struct PciPaths {
  std::string sys = "/sys";            // sysfs: bus/pci, kernel/iommu_groups, class/iommu, module
  std::string dev = "/dev";            // uioN, vfio/
  std::string run = "/run/vsw/pci";    // <bdf>.driver: the driver to restore after a crash
  int euid = -1;                       // the effective uid to check; -1: geteuid()
  bool port_io = true;                 // may use iopl(3) + in/out for I/O BARs
};

// open_device() against `paths` (see pci_device.h for the contract).
Result<std::unique_ptr<PciDevice>> open_device(const PciAddress& addr, const OpenOptions& opts,
                                               const PciPaths& paths);

}  // namespace vsw::ports::pci
