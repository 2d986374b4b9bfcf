// Unit tests for dataplane/mempool: exhaustion, caches, buffer layout.
#include "dataplane/mempool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <set>
#include <thread>
#include <vector>

namespace vsw {
namespace {

std::unique_ptr<Mempool> make_pool(uint32_t n) {
  auto pool = Mempool::create("t", Mempool::Config{n, 2048, false});
  EXPECT_TRUE(pool.has_value());
  return std::move(*pool);
}

TEST(Mempool, RejectsBadConfig) {
  EXPECT_FALSE(Mempool::create("t", Mempool::Config{1024, 1000, false}).has_value());
  EXPECT_FALSE(Mempool::create("t", Mempool::Config{8, 2048, false}).has_value());
}

TEST(Mempool, ExhaustionReturnsFewerAndRecovers) {
  auto pool = make_pool(64);
  std::vector<Packet*> got(64);
  EXPECT_EQ(pool->alloc(got.data(), 32), 32);
  EXPECT_EQ(pool->alloc(got.data() + 32, 32), 32);
  Packet* extra = nullptr;
  EXPECT_EQ(pool->alloc(&extra, 1), 0);
  EXPECT_EQ(pool->available(), 0u);
  std::set<Packet*> unique(got.begin(), got.end());
  EXPECT_EQ(unique.size(), 64u);
  for (Packet* p : got) release_packet(p);
  EXPECT_EQ(pool->available(), 64u);
}

TEST(Mempool, FreshBuffersAreReset) {
  auto pool = make_pool(64);
  Packet* p = nullptr;
  ASSERT_EQ(pool->alloc(&p, 1), 1);
  EXPECT_EQ(p->refs.load(), 1);
  EXPECT_EQ(p->data_off, kDefaultDataOffset);
  EXPECT_EQ(p->len, 0);
  EXPECT_EQ(p->next, nullptr);
  EXPECT_EQ(p->owner, pool.get());
  EXPECT_EQ(reinterpret_cast<std::byte*>(p), p->base) << "header at the start of its buffer";
  EXPECT_EQ(p->data(), p->base + 128);
  EXPECT_EQ(pool->data_room(), 2048u - 128u);
  EXPECT_EQ(p->iova, 0u) << "ordinary pages have no device address";
  EXPECT_FALSE(p->is_dma_capable());
  EXPECT_FALSE(p->is_lent());
  EXPECT_FALSE(p->has_offload());
  p->len = 100;
  retain_packet(p);
  release_packet(p);
  EXPECT_EQ(pool->available(), 63u) << "one reference still held";
  release_packet(p);
  EXPECT_EQ(pool->available(), 64u);
}

TEST(Mempool, ChainedFramesReleaseEverySegment) {
  auto pool = make_pool(64);
  Packet* p[3];
  ASSERT_EQ(pool->alloc(p, 3), 3);
  p[0]->next = p[1];
  p[1]->next = p[2];
  release_packet(p[0]);
  EXPECT_EQ(pool->available(), 64u);
}

// Takes every buffer the calling (unbound) thread can get from the shared stack, gives them back.
uint32_t allocatable(Mempool& pool) {
  std::vector<Packet*> got(pool.capacity());
  uint32_t n = 0;
  while (n < got.size()) {
    const uint16_t k = pool.alloc(got.data() + n, static_cast<uint16_t>(
                                                      std::min<size_t>(32, got.size() - n)));
    if (k == 0) break;
    n += k;
  }
  for (uint32_t i = 0; i < n; ++i) release_packet(got[i]);
  return n;
}

TEST(Mempool, ThreadCachesDoNotLoseBuffers) {
  auto pool = make_pool(4096);
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < 3; ++t) {
    threads.emplace_back([&pool, t] {
      Mempool::bind_thread_cache(t);
      Packet* pkts[32];
      for (int i = 0; i < 10000; ++i) {
        const uint16_t n = pool->alloc(pkts, 32);
        for (uint16_t k = 0; k < n; ++k) release_packet(pkts[k]);
      }
      Mempool::unbind_thread_cache();
    });
  }
  for (auto& th : threads) th.join();
  // Not only counted: another thread can really allocate every buffer again.
  EXPECT_EQ(pool->available(), 4096u);
  EXPECT_EQ(allocatable(*pool), 4096u);
}

TEST(Mempool, UnbindingGivesTheThreadCacheBackInEveryPool) {
  auto a = make_pool(64);
  auto b = make_pool(64);
  std::promise<void> filled, unbind, done;
  std::thread worker([&] {
    Mempool::bind_thread_cache(5);
    for (Mempool* pool : {a.get(), b.get()}) {
      Packet* p = nullptr;
      EXPECT_EQ(pool->alloc(&p, 1), 1);      // the cache refills a burst and more
      if (p != nullptr) release_packet(p);  // back into this thread's cache
    }
    filled.set_value();
    unbind.get_future().wait();
    Mempool::unbind_thread_cache();
    done.set_value();
  });
  filled.get_future().wait();
  // While the worker holds its cache, those buffers are parked there: counted, not allocatable.
  EXPECT_EQ(a->available(), 64u);
  EXPECT_LT(allocatable(*a), 64u);
  EXPECT_LT(allocatable(*b), 64u);
  unbind.set_value();
  done.get_future().wait();
  EXPECT_EQ(allocatable(*a), 64u);
  EXPECT_EQ(allocatable(*b), 64u);
  worker.join();
}

}  // namespace
}  // namespace vsw
