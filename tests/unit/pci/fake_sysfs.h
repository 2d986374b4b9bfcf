// tests/unit/pci/fake_sysfs.h — a fake sysfs + /dev + /run tree in a temporary directory, shaped
// like Linux's (Documentation/ABI/testing/sysfs-bus-pci), for the PCI layer's unit tests.
// Writes to sysfs attributes land in plain files, so a test can read what the layer wrote
// (unbind, driver_override, drivers_probe, bind). Driver links never change by themselves.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "ports/pci/pci_environment.h"

namespace vsw::ports::pci::testing {

namespace fs = std::filesystem;

class FakeSysfs {
 public:
  FakeSysfs() {
    std::string tmpl = (fs::temp_directory_path() / "vsw-pci-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    paths_.sys = root_ + "/sys";
    paths_.dev = root_ + "/dev";
    paths_.run = root_ + "/run/vsw/pci";
    paths_.euid = 0;
    paths_.port_io = false;  // never in/out on made-up port numbers
    fs::create_directories(paths_.sys + "/bus/pci/devices");
    fs::create_directories(paths_.sys + "/class/iommu");
    fs::create_directories(paths_.dev);
    write(paths_.sys + "/bus/pci/drivers_probe", "");
    for (const char* d : {"virtio-pci", "uio_pci_generic", "vfio-pci", "virtio-net"}) {
      add_driver(d);
    }
    set_hugepages(16);
  }
  ~FakeSysfs() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  FakeSysfs(const FakeSysfs&) = delete;
  FakeSysfs& operator=(const FakeSysfs&) = delete;

  const PciPaths& paths() const { return paths_; }
  PciPaths& paths() { return paths_; }
  std::string sys(const std::string& rel) const { return paths_.sys + "/" + rel; }
  std::string dev_dir(const std::string& bdf) const { return sys("bus/pci/devices/" + bdf); }

  static void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  }
  static std::string read(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

  void add_driver(const std::string& name) {
    fs::create_directories(sys("bus/pci/drivers/" + name));
  }
  void remove_driver(const std::string& name) { fs::remove_all(sys("bus/pci/drivers/" + name)); }

  // A function with ids, a 256-byte config space, BAR0 memory (4 KiB) and BAR1 I/O (32 ports),
  // bound to `driver` ("" for none).
  void add_device(const std::string& bdf, uint16_t vendor, uint16_t device,
                  const std::string& driver) {
    const std::string d = dev_dir(bdf);
    fs::create_directories(d);
    write(d + "/vendor", fmt::format("0x{:04x}\n", vendor));
    write(d + "/device", fmt::format("0x{:04x}\n", device));
    std::string config(256, '\0');
    config[0] = static_cast<char>(vendor & 0xff);
    config[1] = static_cast<char>(vendor >> 8);
    config[2] = static_cast<char>(device & 0xff);
    config[3] = static_cast<char>(device >> 8);
    write(d + "/config", config);
    // Linux resource_show: "0x%016llx 0x%016llx 0x%016llx" per BAR, then ROM and bridge windows.
    std::string res = "0x00000000febf1000 0x00000000febf1fff 0x0000000000040200\n"
                      "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n";
    for (int i = 2; i < 13; ++i) res += "0x0000000000000000 0x0000000000000000 0x0000000000000000\n";
    write(d + "/resource", res);
    std::string bar0(4096, '\0');
    for (size_t i = 0; i < bar0.size(); ++i) bar0[i] = static_cast<char>(i & 0xff);
    write(d + "/resource0", bar0);
    std::string bar1(32, '\0');
    for (size_t i = 0; i < bar1.size(); ++i) bar1[i] = static_cast<char>(0x80 + i);
    write(d + "/resource1", bar1);
    write(d + "/driver_override", "(null)\n");
    set_driver(bdf, driver);
  }
  void set_driver(const std::string& bdf, const std::string& driver) {
    const std::string link = dev_dir(bdf) + "/driver";
    std::error_code ec;
    fs::remove(link, ec);
    if (!driver.empty()) fs::create_directory_symlink("../../drivers/" + driver, link);
  }
  // A kernel interface of the device as virtio-net registers it: <dev>/virtio0/net/<name>.
  void add_net(const std::string& bdf, const std::string& name, bool up) {
    write(dev_dir(bdf) + "/virtio0/net/" + name + "/flags", up ? "0x1003\n" : "0x1002\n");
  }
  void set_hugepages(unsigned n) {
    write(sys("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"), fmt::format("{}\n", n));
  }
  void add_iommu() { fs::create_directories(sys("class/iommu/dmar0")); }
  void set_group(const std::string& bdf, unsigned group, const std::string& type) {
    const std::string g = sys(fmt::format("kernel/iommu_groups/{}", group));
    fs::create_directories(g + "/devices");
    write(g + "/type", type + "\n");
    write(g + "/reserved_regions", "0x00000000fee00000 0x00000000feefffff msi\n");
    std::error_code ec;
    fs::create_directory_symlink("../../../../bus/pci/devices/" + bdf, g + "/devices/" + bdf, ec);
    fs::create_directory_symlink(fmt::format("../../../../kernel/iommu_groups/{}", group),
                                 dev_dir(bdf) + "/iommu_group", ec);
  }
  void add_uio(const std::string& bdf, unsigned index) {
    fs::create_directories(dev_dir(bdf) + fmt::format("/uio/uio{}", index));
    write(paths_.dev + fmt::format("/uio{}", index), "");
  }

 private:
  std::string root_;
  PciPaths paths_;
};

}  // namespace vsw::ports::pci::testing
