// ports/pci/driver_binding.h — moving a PCI function to uio_pci_generic or vfio-pci and back.
//
// Linux Documentation/ABI/testing/sysfs-bus-pci: writing the address to
// drivers/<old>/unbind detaches the device; a driver name in the device's `driver_override`
// makes the next probe (writing the address to /sys/bus/pci/drivers_probe) bind only that driver.
// The module must already be loaded (test guests have no modprobe). The previous driver is
// recorded in <PciPaths::run>/<bdf>.driver before anything changes, so a vsw restarted after a
// crash (which finds the device still bound to the user-space driver, and takes it as it is)
// still gives it back to the right driver; a device bound to the user-space driver without a
// record (by an administrator) is used and left so. Destruction restores: unbind, clear driver_override,
// reprobe (and bind the recorded driver explicitly if the probe chose none).
// Control thread only.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "ports/pci/sysfs_pci.h"

namespace vsw::ports::pci {

class DriverBinding {
 public:
  // Binds the device to `wanted` ("uio_pci_generic", "vfio-pci"), or takes it as it is when it
  // is already bound to it (adopted(): an earlier vsw bound it). On error the device is left
  // with the driver it had. `module` names the kernel module for the "not loaded" message.
  static Result<std::unique_ptr<DriverBinding>> bind(const SysfsPci& dev, std::string wanted,
                                                     std::string_view module);
  // Restores the previous driver when this object bound the device, or when it adopted a
  // device an earlier vsw bound (its record exists) and set_owned() was called. An adopted
  // device that turned out to be busy stays as it is (it is another process's), and so does
  // one bound to the wanted driver by someone else (no record: e.g. an administrator's
  // dpdk-devbind), which is left bound when released.
  ~DriverBinding();
  DriverBinding(const DriverBinding&) = delete;
  DriverBinding& operator=(const DriverBinding&) = delete;

  const std::string& previous() const noexcept { return previous_; }
  bool adopted() const noexcept { return adopted_; }
  // Called once this process has exclusive use of the device.
  void set_owned() noexcept { owned_ = true; }

  // The state file of `bdf` under `run_dir`.
  static std::string record_path(const std::string& run_dir, const std::string& bdf);

 private:
  DriverBinding(const SysfsPci& dev, std::string wanted) : dev_(dev), wanted_(std::move(wanted)) {}
  void restore() noexcept;

  SysfsPci dev_;
  std::string wanted_;
  std::string previous_;
  bool adopted_ = false;
  bool owned_ = false;
  bool recorded_ = false;  // adopted with a record file: bound by an earlier vsw
  bool changed_ = false;  // this object unbound the previous driver or wrote driver_override
};

}  // namespace vsw::ports::pci
