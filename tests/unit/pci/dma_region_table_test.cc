// tests/unit/pci/dma_region_table_test.cc — pointer -> device address over several regions of
// ordinary pages (IOVA windows, as vfio with an IOMMU assigns them; no ioctl involved).
#include "ports/pci/dma_region_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace vsw::ports::pci {
namespace {

std::unique_ptr<DmaMemory> region(size_t bytes) {
  auto m = DmaMemory::allocate(bytes, false);
  EXPECT_TRUE(m);
  return std::move(*m);
}

TEST(DmaRegionTable, TranslatesInsideEachRegionAndNothingOutside) {
  DmaRegionTable t;
  auto a = region(1 << 20), b = region(64 << 10), c = region(8192);
  t.insert(*a, 0x200000);
  t.insert(*b, 0x400000);
  t.insert(*c, 0x600000);
  t.insert(*b, 0x999000);  // already present: unchanged
  EXPECT_EQ(t.size(), 3u);
  for (int round = 0; round < 2; ++round) {  // second round: served from the last-hit cache too
    EXPECT_EQ(t.lookup(a->data()), 0x200000u);
    EXPECT_EQ(t.lookup(a->data() + 12345), 0x200000u + 12345);
    EXPECT_EQ(t.lookup(a->data() + a->size() - 1), 0x200000u + a->size() - 1);
    EXPECT_EQ(t.lookup(b->data() + 100), 0x400064u);
    EXPECT_EQ(t.lookup(b->data() + 100), 0x400064u);
    EXPECT_EQ(t.lookup(c->data() + c->size() - 1), 0x600000u + 8191);
  }
  int stack_byte = 0;
  EXPECT_EQ(t.lookup(&stack_byte), 0u);
  std::vector<char> heap(100);
  EXPECT_EQ(t.lookup(heap.data()), 0u);
}

TEST(DmaRegionTable, EraseRemovesOnlyThatRegion) {
  DmaRegionTable t;
  auto a = region(4096), b = region(4096);
  t.insert(*a, 0x200000);
  t.insert(*b, 0x400000);
  EXPECT_EQ(t.lookup(b->data()), 0x400000u);  // last hit: b
  EXPECT_TRUE(t.erase(*b));
  EXPECT_FALSE(t.erase(*b));
  EXPECT_EQ(t.lookup(b->data()), 0u);
  EXPECT_EQ(t.lookup(a->data() + 1), 0x200001u);
  EXPECT_TRUE(t.contains(*a));
  EXPECT_FALSE(t.contains(*b));
  EXPECT_EQ(t.regions(), std::vector<const DmaMemory*>{a.get()});
}

TEST(DmaRegionTable, PhysicalEntriesAskTheMemory) {
  // Ordinary pages have no physical address: a "physical" entry for them translates to 0, the
  // "never give this to a device" answer.
  DmaRegionTable t;
  auto a = region(4096);
  ASSERT_FALSE(a->physical_iova());
  t.insert(*a, 0);
  EXPECT_EQ(t.lookup(a->data()), 0u);
}

TEST(DmaRegionTable, WindowIsTheIovaOfAnIovaEntryOnly) {
  // PciDevice::dma_contiguous(): an IOVA window is one contiguous range, a physical entry is not.
  DmaRegionTable t;
  auto a = region(8192), b = region(4096), c = region(4096);
  t.insert(*a, 0x200000);
  t.insert(*b, 0);
  EXPECT_EQ(t.window(*a), 0x200000u);
  EXPECT_EQ(t.lookup(a->data() + 5000), t.window(*a) + 5000);
  EXPECT_EQ(t.window(*b), 0u);
  EXPECT_EQ(t.window(*c), 0u);  // not present
  EXPECT_TRUE(t.erase(*a));
  EXPECT_EQ(t.window(*a), 0u);
}

}  // namespace
}  // namespace vsw::ports::pci
