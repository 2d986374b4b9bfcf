// tests/unit/ports/buffer_stash_test.cc — the per-queue buffer stash of the kernel ports.
#include "ports/tap/buffer_stash.h"

#include <gtest/gtest.h>

#include <vector>

namespace vsw::ports {
namespace {

std::unique_ptr<Mempool> make_pool(uint32_t buffers) {
  auto p = Mempool::create("stash", {.buffers = buffers, .buffer_bytes = 2048, .hugepages = false});
  EXPECT_TRUE(p.has_value());
  return std::move(*p);
}

TEST(BufferStash, RefillTakesOneBurstAndKeepsItBetweenUses) {
  auto pool = make_pool(128);
  {
    BufferStash stash(*pool);
    EXPECT_EQ(stash.take(), nullptr);
    stash.refill();
    EXPECT_EQ(stash.size(), BufferStash::kCapacity);
    EXPECT_EQ(pool->available(), 128u - BufferStash::kCapacity);
    Packet* p = stash.take();
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->refs.load(), 1);
    EXPECT_EQ(p->data_off, kDefaultDataOffset);
    stash.put_back(p);
    EXPECT_EQ(stash.size(), BufferStash::kCapacity);
    stash.refill();  // already full: no pool traffic
    EXPECT_EQ(pool->available(), 128u - BufferStash::kCapacity);
  }
  EXPECT_EQ(pool->available(), 128u);  // the destructor returns everything
}

TEST(BufferStash, PutBackBeyondCapacityReleasesToThePool) {
  auto pool = make_pool(128);
  BufferStash stash(*pool);
  stash.refill();
  Packet* extra = nullptr;
  ASSERT_EQ(pool->alloc(&extra, 1), 1);
  stash.put_back(extra);
  EXPECT_EQ(stash.size(), BufferStash::kCapacity);
  EXPECT_EQ(pool->available(), 128u - BufferStash::kCapacity);
}

TEST(BufferStash, EmptyPoolGivesNothing) {
  auto pool = make_pool(64);
  std::vector<Packet*> held(64);
  ASSERT_EQ(pool->alloc(held.data(), 32) + pool->alloc(held.data() + 32, 32), 64);
  BufferStash stash(*pool);
  stash.refill();
  EXPECT_EQ(stash.size(), 0);
  EXPECT_EQ(stash.take(), nullptr);
  release_packet(held[0]);
  stash.refill();
  EXPECT_EQ(stash.size(), 1);
  for (size_t i = 1; i < held.size(); ++i) release_packet(held[i]);
}

}  // namespace
}  // namespace vsw::ports
