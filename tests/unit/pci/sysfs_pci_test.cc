// tests/unit/pci/sysfs_pci_test.cc — parsing sysfs files (resource table, hex ids) and reading
// a fake device tree.
#include "ports/pci/sysfs_pci.h"

#include <gtest/gtest.h>

#include "tests/unit/pci/fake_sysfs.h"

namespace vsw::ports::pci {
namespace {

using testing::FakeSysfs;

TEST(SysfsParse, HexWithOrWithoutPrefix) {
  EXPECT_EQ(parse_hex("0x1af4\n"), 0x1af4u);
  EXPECT_EQ(parse_hex("1AF4"), 0x1af4u);
  EXPECT_FALSE(parse_hex(""));
  EXPECT_FALSE(parse_hex("0x"));
  EXPECT_FALSE(parse_hex("12z"));
  EXPECT_FALSE(parse_hex("0x11112222333344445"));  // 17 digits
}

TEST(SysfsParse, ResourceTableGivesBasesSizesAndKinds) {
  // A legacy virtio-net under QEMU: BAR0 I/O, BAR1 memory (MSI-X), BAR4 64-bit prefetchable.
  const std::string text =
      "0x000000000000c040 0x000000000000c05f 0x0000000000040101\n"
      "0x00000000febd1000 0x00000000febd1fff 0x0000000000040200\n"
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
      "0x00000000fe000000 0x00000000fe003fff 0x000000000014220c\n"
      "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
      "0x00000000feb80000 0x00000000febbffff 0x0000000000046200\n";
  auto bars = parse_resource_table(text);
  ASSERT_TRUE(bars) << bars.error().message;
  EXPECT_TRUE((*bars)[0].is_io());
  EXPECT_EQ((*bars)[0].start, 0xc040u);
  EXPECT_EQ((*bars)[0].size(), 32u);
  EXPECT_TRUE((*bars)[1].is_mem());
  EXPECT_FALSE((*bars)[1].is_io());
  EXPECT_EQ((*bars)[1].size(), 4096u);
  EXPECT_EQ((*bars)[2].size(), 0u);
  EXPECT_EQ((*bars)[4].size(), 0x4000u);
  EXPECT_TRUE((*bars)[4].is_mem());
}

TEST(SysfsParse, MalformedResourceTablesAreErrors) {
  EXPECT_FALSE(parse_resource_table("0x0 0x0 0x0\n"));  // 1 line of 6
  EXPECT_FALSE(parse_resource_table(std::string(6, '\n')));
  std::string swapped = "0x2000 0x1000 0x200\n";
  for (int i = 0; i < 5; ++i) swapped += "0x0 0x0 0x0\n";
  EXPECT_FALSE(parse_resource_table(swapped));  // end below start
}

TEST(SysfsPci, ReadsIdsDriverInterfacesAndUio) {
  FakeSysfs fake;
  fake.add_device("0000:00:04.0", 0x1af4, 0x1000, "virtio-pci");
  fake.add_net("0000:00:04.0", "eth1", true);
  fake.add_net("0000:00:04.0", "eth0", false);
  const SysfsPci dev(fake.paths(), *PciAddress::parse("0000:00:04.0"));
  EXPECT_TRUE(dev.exists());
  EXPECT_EQ(*dev.vendor(), 0x1af4);
  EXPECT_EQ(*dev.device(), 0x1000);
  EXPECT_EQ(dev.driver(), "virtio-pci");
  EXPECT_TRUE(dev.driver_available("vfio-pci"));
  EXPECT_FALSE(dev.driver_available("ixgbe"));
  const auto nets = dev.net_interfaces();
  ASSERT_EQ(nets.size(), 2u);
  EXPECT_EQ(nets[0].name, "eth0");
  EXPECT_FALSE(nets[0].is_up());
  EXPECT_EQ(nets[1].name, "eth1");
  EXPECT_TRUE(nets[1].is_up());
  EXPECT_FALSE(dev.uio_index());
  fake.add_uio("0000:00:04.0", 3);
  EXPECT_EQ(dev.uio_index(), 3u);
  auto bars = dev.resources();
  ASSERT_TRUE(bars);
  EXPECT_TRUE((*bars)[0].is_mem());
  EXPECT_TRUE((*bars)[1].is_io());
  EXPECT_EQ(dev.hugepages_2m(), 16u);

  const SysfsPci absent(fake.paths(), *PciAddress::parse("0000:00:05.0"));
  EXPECT_FALSE(absent.exists());
  EXPECT_FALSE(absent.vendor());
}

TEST(SysfsPci, IommuGroupTypeDecidesWhetherDmaIsTranslated) {
  FakeSysfs fake;
  fake.add_device("0000:00:04.0", 0x1af4, 0x1000, "");
  const SysfsPci dev(fake.paths(), *PciAddress::parse("0000:00:04.0"));
  EXPECT_FALSE(dev.iommu_group());
  EXPECT_FALSE(dev.iommu_translates());  // no IOMMU at all
  fake.add_iommu();
  fake.set_group("0000:00:04.0", 7, "identity");
  EXPECT_EQ(dev.iommu_group(), 7u);
  EXPECT_EQ(dev.iommu_group_type(7), "identity");
  EXPECT_FALSE(dev.iommu_translates());
  FakeSysfs::write(fake.sys("kernel/iommu_groups/7/type"), "DMA-FQ\n");
  EXPECT_TRUE(dev.iommu_translates());
  EXPECT_EQ(dev.iommu_group_devices(7), std::vector<std::string>{"0000:00:04.0"});
  const auto reserved = dev.iommu_reserved_regions(7);
  ASSERT_EQ(reserved.size(), 1u);
  EXPECT_EQ(reserved[0].first, 0xfee00000u);
  EXPECT_EQ(reserved[0].second, 0xfeefffffu);
}

}  // namespace
}  // namespace vsw::ports::pci
