// tests/unit/pci/iova_space_test.cc — IOVA allocation above 1 MiB, 2 MiB aligned, first fit,
// around reserved windows, bounded by the IOMMU's address width.
#include "ports/pci/iova_space.h"

#include <gtest/gtest.h>

namespace vsw::ports::pci {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST(IovaSpace, AllocatesUpwardFromALowAlignedBase) {
  IovaSpace s;
  auto a = s.allocate(3 * kMiB);  // rounded up to 4 MiB
  auto b = s.allocate(1);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, 2 * kMiB);  // 1 MiB base, aligned up to a hugepage
  EXPECT_EQ(*b, 6 * kMiB);
  EXPECT_EQ(*a % IovaSpace::kAlign, 0u);
}

TEST(IovaSpace, ReleasedRangesAreReusedFirstFit) {
  IovaSpace s;
  const uint64_t a = *s.allocate(2 * kMiB), b = *s.allocate(2 * kMiB), c = *s.allocate(2 * kMiB);
  EXPECT_TRUE(s.release(b));
  EXPECT_FALSE(s.release(b));
  EXPECT_EQ(*s.allocate(2 * kMiB), b);  // the gap
  EXPECT_EQ(*s.allocate(4 * kMiB), c + 2 * kMiB);  // too big for any gap: after c
  EXPECT_EQ(s.allocated(), 4u);
  (void)a;
}

TEST(IovaSpace, SkipsTheMsiWindowAndReservedRegions) {
  IovaSpace s;
  s.reserve(2 * kMiB, 3 * kMiB - 1);
  EXPECT_EQ(*s.allocate(2 * kMiB), 4 * kMiB);  // [2, 3) MiB reserved
  // Fill up to just below the MSI window at 0xfee00000, then the next lands past it.
  IovaSpace t;
  auto big = t.allocate(0xfee00000ull - 2 * kMiB);
  ASSERT_TRUE(big);
  EXPECT_EQ(*big, 2 * kMiB);
  auto next = t.allocate(2 * kMiB);
  ASSERT_TRUE(next);
  EXPECT_GE(*next, 0xfef00000ull);
  EXPECT_EQ(*next % IovaSpace::kAlign, 0u);
}

TEST(IovaSpace, StaysBelowTheAddressWidth) {
  IovaSpace s(24);  // 16 MiB of IOVA space
  EXPECT_TRUE(s.allocate(12 * kMiB));
  auto r = s.allocate(4 * kMiB);  // 2 + 12 + 4 > 16
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::ResourceExhausted);
  EXPECT_TRUE(s.allocate(2 * kMiB));  // 14..16 still fits
  IovaSpace wide;                      // 39 bits by default: 512 GiB
  EXPECT_TRUE(wide.allocate(500ull << 30));
  EXPECT_FALSE(wide.allocate(20ull << 30));
}

}  // namespace
}  // namespace vsw::ports::pci
