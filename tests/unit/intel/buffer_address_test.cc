// tests/unit/intel/buffer_address_test.cc — BufferAddress (ports/intel/buffer_address.h): the
// per-frame shortcut past PciDevice::dma_address() must give the very address the lookup gives,
// and must not apply to memory outside the bound pool.
#include "ports/intel/buffer_address.h"

#include <gtest/gtest.h>

#include "tests/unit/intel/intel_test_rig.h"

namespace vsw::ports::intel::testing {
namespace {

// A FakeIntelDevice seen through a PciDevice that answers dma_contiguous() the way vfio with an
// IOMMU does: the fake maps each region as one IOVA range, so the window starts at the address
// of the region's first byte.
class WindowDevice final : public BorrowedDevice {
 public:
  explicit WindowDevice(FakeIntelDevice& d) : BorrowedDevice(d), fake_(d) {}
  uint64_t dma_contiguous(const DmaMemory& mem) const noexcept override {
    return fake_.dma_address(mem.data());
  }

 private:
  FakeIntelDevice& fake_;
};

std::vector<Packet*> take(Mempool& pool, uint16_t n) {
  std::vector<Packet*> v(n);
  EXPECT_EQ(pool.alloc(v.data(), n), n);
  return v;
}

void give_back(const std::vector<Packet*>& v) {
  for (Packet* p : v) release_packet(p);
}

TEST(BufferAddress, WindowDeviceTranslatesByAdditionExactlyAsTheLookupDoes) {
  FakeIntelDevice fake({});
  WindowDevice dev(fake);
  auto pool = make_pool(256);
  auto other = make_pool(64, "other-pool");
  auto unmapped = make_pool(64, "unmapped-pool");
  ASSERT_TRUE(dev.dma_map(pool->memory()));
  ASSERT_TRUE(dev.dma_map(other->memory()));
  BufferAddress a;
  a.bind(&dev, pool.get());
  EXPECT_TRUE(a.direct());
  EXPECT_TRUE(a.window());
  const auto bufs = take(*pool, 256);
  for (Packet* p : bufs) {
    ASSERT_NE(dev.dma_address(p->data()), 0u);
    EXPECT_EQ(a.pool_buffer(p), dev.dma_address(p->data()));
    p->data_off = 200;  // a moved data offset counts too
    EXPECT_EQ(a.segment(p), dev.dma_address(p->data()));
  }
  // Another mapped pool: the lookup, not the window arithmetic (its IOVA range differs).
  const auto others = take(*other, 8);
  for (Packet* p : others) {
    EXPECT_EQ(a.segment(p), dev.dma_address(p->data()));
    EXPECT_NE(a.segment(p), 0u);
  }
  // Memory the device has no mapping for: 0, so the transmit ring copies the frame.
  const auto loose = take(*unmapped, 8);
  for (Packet* p : loose) EXPECT_EQ(a.segment(p), 0u);
  give_back(bufs);
  give_back(others);
  give_back(loose);
}

TEST(BufferAddress, DeviceWithoutAWindowFallsBackToTheLookup) {
  FakeIntelDevice dev({});  // answers dma_contiguous() with the default 0
  auto pool = make_pool(64);
  ASSERT_TRUE(dev.dma_map(pool->memory()));
  BufferAddress a;
  a.bind(&dev, pool.get());
  EXPECT_FALSE(a.direct());  // ordinary pages: no physical addresses either
  const auto bufs = take(*pool, 64);
  for (Packet* p : bufs) EXPECT_EQ(a.pool_buffer(p), dev.dma_address(p->data()));
  give_back(bufs);
}

TEST(BufferAddress, UnmappedPoolGetsNoWindow) {
  FakeIntelDevice fake({});
  WindowDevice dev(fake);
  auto pool = make_pool(64);
  BufferAddress a;
  a.bind(&dev, pool.get());
  EXPECT_FALSE(a.direct());
  const auto bufs = take(*pool, 4);
  for (Packet* p : bufs) EXPECT_EQ(a.segment(p), 0u);
  give_back(bufs);
}

}  // namespace
}  // namespace vsw::ports::intel::testing
