// System test (root): a mempool on real 2 MiB hugepages. Reserves a few hugepages for the test
// and restores /proc/sys/vm/nr_hugepages afterwards, whatever happens.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "dataplane/mempool.h"

namespace vsw {
namespace {

constexpr const char* kNrHugepages = "/proc/sys/vm/nr_hugepages";

long read_long(const char* path) {
  std::ifstream f(path);
  long v = -1;
  f >> v;
  return v;
}

void write_long(const char* path, long v) {
  std::ofstream f(path);
  f << v << "\n";
}

class HugepageMempool : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(geteuid(), 0u) << "needs root to reserve hugepages";
    saved_ = read_long(kNrHugepages);
    ASSERT_GE(saved_, 0);
    write_long(kNrHugepages, saved_ + 8);  // 16 MiB for a 4096 x 2 KiB pool (8 MiB)
    ASSERT_GE(read_long(kNrHugepages), saved_ + 4) << "the kernel could not reserve hugepages";
  }
  void TearDown() override {
    pool_.reset();
    if (saved_ >= 0) write_long(kNrHugepages, saved_);
  }
  long saved_ = -1;
  std::unique_ptr<Mempool> pool_;
};

TEST_F(HugepageMempool, BuffersLiveOnHugepagesWithPhysicalAddresses) {
  auto pool = Mempool::create("huge", Mempool::Config{4096, 2048, true});
  ASSERT_TRUE(pool.has_value()) << pool.error().message;
  pool_ = std::move(*pool);
  EXPECT_TRUE(pool_->hugepage_backed());
  EXPECT_TRUE(pool_->physical_iova()) << "root reads /proc/self/pagemap";
  std::vector<Packet*> pkts(4096);
  for (size_t i = 0; i < pkts.size(); i += 32) {
    ASSERT_EQ(pool_->alloc(pkts.data() + i, 32), 32);
  }
  // Every buffer has its own device address; buffers in the same 2 MiB page keep the page's
  // contiguity (a buffer never crosses a hugepage boundary since 2048 divides 2 MiB).
  std::set<uint64_t> iovas;
  for (Packet* p : pkts) {
    EXPECT_NE(p->iova, 0u);
    EXPECT_NE(p->iova, reinterpret_cast<uintptr_t>(p->base)) << "physical, not virtual";
    iovas.insert(p->iova);
    const uintptr_t va = reinterpret_cast<uintptr_t>(p->base);
    EXPECT_EQ(va % DmaMemory::kHugePageBytes, p->iova % DmaMemory::kHugePageBytes);
  }
  EXPECT_EQ(iovas.size(), pkts.size());
  for (Packet* p : pkts) release_packet(p);
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

}  // namespace
}  // namespace vsw
