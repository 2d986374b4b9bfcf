// tests/unit/pci/open_device_test.cc — open_device() against a fake sysfs tree: every refusal
// that needs no real device, that nothing is unbound before a refusal, the binding sequence and
// its restore, and a whole uio open/close of an adopted device over plain files.
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ports/pci/driver_binding.h"
#include "ports/pci/pci_device_base.h"
#include "ports/pci/pci_environment.h"
#include "tests/unit/pci/fake_sysfs.h"

namespace vsw::ports::pci {
namespace {

using testing::FakeSysfs;
namespace fs = std::filesystem;

constexpr const char* kBdf = "0000:00:04.0";
constexpr OpenOptions::Id kVirtioNet[] = {{0x1af4, 0x1000}, {0x1af4, 0x1041}};

OpenOptions options(AccessPath path) {
  OpenOptions o;
  o.path = path;
  o.ids = kVirtioNet;
  o.id_count = 2;
  o.driver_name = "virtio-net";
  return o;
}

class OpenDevice : public ::testing::Test {
 protected:
  void SetUp() override { fake_.add_device(kBdf, 0x1af4, 0x1000, "virtio-pci"); }

  Error refusal(AccessPath path) {
    auto d = open_device(*PciAddress::parse(kBdf), options(path), fake_.paths());
    EXPECT_FALSE(d) << "opened although it should have been refused";
    return d ? Error{} : d.error();
  }
  // Nothing was unbound, overridden or recorded.
  void expect_untouched() {
    const SysfsPci dev(fake_.paths(), *PciAddress::parse(kBdf));
    EXPECT_EQ(dev.driver(), "virtio-pci");
    EXPECT_EQ(FakeSysfs::read(fake_.dev_dir(kBdf) + "/driver_override"), "(null)\n");
    EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers_probe")), "");
    EXPECT_FALSE(fs::exists(fake_.sys("bus/pci/drivers/virtio-pci/unbind")));
    EXPECT_FALSE(fs::exists(DriverBinding::record_path(fake_.paths().run, kBdf)));
  }
  static bool says(const Error& e, std::string_view what) {
    return e.message.find(what) != std::string::npos;
  }

  FakeSysfs fake_;
};

TEST_F(OpenDevice, RefusesWhenNotRoot) {
  fake_.paths().euid = 1000;
  const Error e = refusal(AccessPath::Vfio);
  EXPECT_EQ(e.code, Errc::Unavailable);
  EXPECT_TRUE(says(e, "root")) << e.message;
  expect_untouched();
}

TEST_F(OpenDevice, RefusesAnAbsentAddress) {
  auto d = open_device(*PciAddress::parse("0000:00:09.0"), options(AccessPath::Uio), fake_.paths());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::NotFound);
  EXPECT_TRUE(says(d.error(), "no PCI device 0000:00:09.0")) << d.error().message;
}

TEST_F(OpenDevice, RefusesAnUnsupportedIdBeforeUnbinding) {
  fake_.add_device("0000:00:05.0", 0x1af4, 0x1009, "virtio-pci");  // virtio 9p
  auto d = open_device(*PciAddress::parse("0000:00:05.0"), options(AccessPath::Uio), fake_.paths());
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, Errc::InvalidArgument);
  EXPECT_TRUE(says(d.error(), "1af4:1009")) << d.error().message;
  EXPECT_TRUE(says(d.error(), "virtio-net")) << d.error().message;
  EXPECT_TRUE(says(d.error(), "1af4:1000, 1af4:1041")) << d.error().message;
  EXPECT_EQ(SysfsPci(fake_.paths(), *PciAddress::parse("0000:00:05.0")).driver(), "virtio-pci");
  EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers_probe")), "");
}

TEST_F(OpenDevice, RefusesAnInterfaceThatIsUpNamingIt) {
  fake_.add_net(kBdf, "eth0", true);
  for (AccessPath p : {AccessPath::Uio, AccessPath::Vfio}) {
    const Error e = refusal(p);
    EXPECT_TRUE(says(e, "eth0")) << e.message;
    EXPECT_TRUE(says(e, "ip link set eth0 down")) << e.message;
  }
  expect_untouched();
}

TEST_F(OpenDevice, UioRefusesATranslatingIommu) {
  fake_.add_iommu();
  fake_.set_group(kBdf, 3, "DMA");
  const Error e = refusal(AccessPath::Uio);
  EXPECT_TRUE(says(e, "IOMMU")) << e.message;
  EXPECT_TRUE(says(e, "driver=vfio")) << e.message;
  expect_untouched();
}

TEST_F(OpenDevice, UioRefusesWithoutHugepages) {
  fake_.set_hugepages(0);
  const Error e = refusal(AccessPath::Uio);
  EXPECT_TRUE(says(e, "echo N > /proc/sys/vm/nr_hugepages")) << e.message;
  EXPECT_TRUE(says(e, "driver=vfio")) << e.message;
  expect_untouched();
}

TEST_F(OpenDevice, NamesTheModuleWhenTheDriverIsNotLoaded) {
  fake_.remove_driver("uio_pci_generic");
  EXPECT_TRUE(says(refusal(AccessPath::Uio), "modprobe uio_pci_generic"));
  fake_.add_iommu();
  fake_.set_group(kBdf, 3, "DMA");
  fake_.remove_driver("vfio-pci");
  EXPECT_TRUE(says(refusal(AccessPath::Vfio), "modprobe vfio-pci"));
  expect_untouched();
}

TEST_F(OpenDevice, VfioRefusesAGroupWithOtherDevicesListingThem) {
  fake_.add_iommu();
  fake_.add_device("0000:00:04.1", 0x8086, 0x100e, "e1000");
  fake_.add_device("0000:00:04.2", 0x8086, 0x100e, "vfio-pci");
  fake_.add_device("0000:00:04.3", 0x8086, 0x100e, "");
  for (const char* bdf : {kBdf, "0000:00:04.1", "0000:00:04.2", "0000:00:04.3"}) {
    fake_.set_group(bdf, 5, "DMA");
  }
  const Error e = refusal(AccessPath::Vfio);
  EXPECT_TRUE(says(e, "0000:00:04.1 (e1000)")) << e.message;
  EXPECT_FALSE(says(e, "0000:00:04.2")) << e.message;  // already vfio's
  EXPECT_FALSE(says(e, "0000:00:04.3")) << e.message;  // no driver: viable
  expect_untouched();
}

TEST_F(OpenDevice, VfioWithoutIommuNeedsNoIommuModeSupport) {
  const Error e = refusal(AccessPath::Vfio);  // no /sys/class/iommu entry, no vfio parameter
  EXPECT_TRUE(says(e, "no-IOMMU")) << e.message;
  expect_untouched();
}

TEST_F(OpenDevice, VfioWithoutIommuEnablesNoIommuMode) {
  const std::string param = fake_.sys("module/vfio/parameters/enable_unsafe_noiommu_mode");
  FakeSysfs::write(param, "N\n");
  fake_.paths().dev = "/nonexistent-vsw-test";  // stops at the container, after the checks
  const Error e = refusal(AccessPath::Vfio);
  EXPECT_TRUE(says(e, "vfio container")) << e.message;
  EXPECT_EQ(FakeSysfs::read(param), "Y");
  expect_untouched();
}

TEST_F(OpenDevice, ADriverThatDoesNotTakeTheDeviceGetsThePreviousOneBack) {
  // The fake driver link never moves: uio_pci_generic "fails" to bind after the unbind.
  const Error e = refusal(AccessPath::Uio);
  EXPECT_TRUE(says(e, "uio_pci_generic did not take the device")) << e.message;
  const std::string d = fake_.dev_dir(kBdf);
  // Sequence: unbind from virtio-pci, override, probe; then the restore: clear, reprobe.
  EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers/virtio-pci/unbind")), kBdf);
  EXPECT_EQ(FakeSysfs::read(d + "/driver_override"), "\n");
  EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers_probe")), kBdf);
  EXPECT_FALSE(fs::exists(DriverBinding::record_path(fake_.paths().run, kBdf)));
}

TEST_F(OpenDevice, UioHeldByAnotherVswIsRefusedBeforeAnythingIsTouched) {
  const int fd = ::open(fake_.dev_dir(kBdf).c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);  // another open file description: conflicts like a process
  const Error e = refusal(AccessPath::Uio);
  ::close(fd);
  EXPECT_TRUE(says(e, "in use by another process")) << e.message;
  expect_untouched();
}

// An earlier vsw (crashed) left the device on uio_pci_generic with its record.
class AdoptedUio : public OpenDevice {
 protected:
  void SetUp() override {
    OpenDevice::SetUp();
    fake_.set_driver(kBdf, "uio_pci_generic");
    fake_.add_uio(kBdf, 0);
    FakeSysfs::write(DriverBinding::record_path(fake_.paths().run, kBdf), "virtio-pci\n");
  }
};

TEST_F(AdoptedUio, IsTakenAsItIsAndGivenBackToTheRecordedDriver) {
  {
    auto d = open_device(*PciAddress::parse(kBdf), options(AccessPath::Uio), fake_.paths());
    ASSERT_TRUE(d) << d.error().message;
    PciDevice& dev = **d;
    EXPECT_EQ(dev.path(), AccessPath::Uio);
    EXPECT_EQ(dev.previous_driver(), "virtio-pci");
    EXPECT_EQ(dev.vendor_id(), 0x1af4);
    EXPECT_EQ(*dev.config16(0), 0x1af4);
    EXPECT_EQ(*dev.config16(2), 0x1000);
    // PCI 3.0 §6.2.2: I/O space (BAR1), memory space (BAR0), bus master.
    EXPECT_EQ(*dev.config16(cmd::kOffset), cmd::kIoSpace | cmd::kMemorySpace | cmd::kBusMaster);
    EXPECT_FALSE(dev.config32(254));  // past the 256 bytes
    auto bar0 = dev.bar(0);
    ASSERT_TRUE(bar0) << bar0.error().message;
    EXPECT_FALSE((*bar0)->is_io());
    EXPECT_EQ((*bar0)->size(), 4096u);
    EXPECT_NE((*bar0)->mapped(), nullptr);
    EXPECT_EQ((*bar0)->read32(4), 0x07060504u);  // mmap of resource0
    (*bar0)->write16(8, 0xbeef);
    EXPECT_EQ((*bar0)->read16(8), 0xbeef);
    auto bar1 = dev.bar(1);
    ASSERT_TRUE(bar1);
    EXPECT_TRUE((*bar1)->is_io());
    EXPECT_EQ((*bar1)->mapped(), nullptr);
    EXPECT_EQ((*bar1)->read8(2), 0x82);  // pread of resource1 (port I/O off in tests)
    (*bar1)->write32(4, 0x11223344);
    EXPECT_EQ((*bar1)->read32(4), 0x11223344u);
    EXPECT_EQ(*dev.bar(1), *bar1);  // mapped once
    auto bar2 = dev.bar(2);
    ASSERT_FALSE(bar2);
    EXPECT_EQ(bar2.error().code, Errc::NotFound);
    EXPECT_FALSE(dev.bar(6));
    EXPECT_EQ(*dev.interrupt_eventfd(), -1);

    auto plain = DmaMemory::allocate(4096, false);
    ASSERT_TRUE(plain);
    const Status st = dev.dma_map(**plain);
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("nr_hugepages"), std::string::npos) << st.error().message;
    EXPECT_EQ(dev.dma_address((*plain)->data()), 0u);
  }
  // Closed: bus mastering off, device given back to virtio-pci, record gone.
  const std::string config = FakeSysfs::read(fake_.dev_dir(kBdf) + "/config");
  EXPECT_EQ(static_cast<uint8_t>(config[4]) & cmd::kBusMaster, 0);
  EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers/uio_pci_generic/unbind")), kBdf);
  EXPECT_EQ(FakeSysfs::read(fake_.dev_dir(kBdf) + "/driver_override"), "\n");
  EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers/virtio-pci/bind")), kBdf);
  EXPECT_FALSE(fs::exists(DriverBinding::record_path(fake_.paths().run, kBdf)));
}

TEST_F(AdoptedUio, BoundBySomeoneElseWithoutARecordIsLeftBound) {
  fs::remove(DriverBinding::record_path(fake_.paths().run, kBdf));
  {
    auto d = open_device(*PciAddress::parse(kBdf), options(AccessPath::Uio), fake_.paths());
    ASSERT_TRUE(d) << d.error().message;
    EXPECT_EQ((*d)->previous_driver(), "");
  }
  EXPECT_FALSE(fs::exists(fake_.sys("bus/pci/drivers/uio_pci_generic/unbind")));
  EXPECT_EQ(FakeSysfs::read(fake_.dev_dir(kBdf) + "/driver_override"), "(null)\n");
  EXPECT_EQ(FakeSysfs::read(fake_.sys("bus/pci/drivers_probe")), "");
}

TEST_F(AdoptedUio, HeldByAnotherProcessIsRefusedAndLeftAlone) {
  const int fd = ::open((fake_.paths().dev + "/uio0").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);  // a separate open file description: conflicts like a process
  auto d = open_device(*PciAddress::parse(kBdf), options(AccessPath::Uio), fake_.paths());
  ::close(fd);
  ASSERT_FALSE(d);
  EXPECT_TRUE(says(d.error(), "in use by another process")) << d.error().message;
  // The other user's binding is untouched.
  EXPECT_FALSE(fs::exists(fake_.sys("bus/pci/drivers/uio_pci_generic/unbind")));
  EXPECT_EQ(FakeSysfs::read(fake_.dev_dir(kBdf) + "/driver_override"), "(null)\n");
  EXPECT_TRUE(fs::exists(DriverBinding::record_path(fake_.paths().run, kBdf)));
}

}  // namespace
}  // namespace vsw::ports::pci
