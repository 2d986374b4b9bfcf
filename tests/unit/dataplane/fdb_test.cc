// Unit tests for dataplane/fdb: learning, moves, aging (injected time), full table, flushes.
#include "dataplane/fdb.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/unit/dataplane/test_frames.h"

namespace vsw {
namespace {

using test::mac;

Fdb::Config cfg(uint32_t max = 64, uint64_t aging = 300) { return Fdb::Config{max, aging, 1}; }

TEST(Fdb, LearnsSourceAndLooksItUp) {
  Fdb fdb(cfg());
  EXPECT_EQ(fdb.lookup(mac(1)), kNoPort);
  EXPECT_EQ(fdb.learn(mac(1), 3, 10), Fdb::Learn::Learned);
  EXPECT_EQ(fdb.lookup(mac(1)), 3);
  EXPECT_EQ(fdb.learn(mac(1), 3, 11), Fdb::Learn::Refreshed);
  EXPECT_EQ(fdb.stats().entries, 1u);
  EXPECT_EQ(fdb.stats().learned, 1u);
}

TEST(Fdb, StationMoveUpdatesPort) {
  Fdb fdb(cfg());
  ASSERT_EQ(fdb.learn(mac(7), 1, 0), Fdb::Learn::Learned);
  EXPECT_EQ(fdb.learn(mac(7), 2, 1), Fdb::Learn::Moved);
  EXPECT_EQ(fdb.lookup(mac(7)), 2);
  EXPECT_EQ(fdb.stats().entries, 1u);
  EXPECT_EQ(fdb.stats().moved, 1u);
}

TEST(Fdb, IgnoresMulticastAndZeroSources) {
  Fdb fdb(cfg());
  EXPECT_EQ(fdb.learn(MacAddress::from_u64(0x010000000001), 1, 0), Fdb::Learn::Ignored);
  EXPECT_EQ(fdb.learn(MacAddress::from_u64(0xFFFFFFFFFFFF), 1, 0), Fdb::Learn::Ignored);
  EXPECT_EQ(fdb.learn(MacAddress{}, 1, 0), Fdb::Learn::Ignored);
  EXPECT_EQ(fdb.stats().entries, 0u);
}

TEST(Fdb, AgingRemovesOnlyStaleEntries) {
  Fdb fdb(cfg(64, 300));
  ASSERT_EQ(fdb.learn(mac(1), 1, 0), Fdb::Learn::Learned);
  ASSERT_EQ(fdb.learn(mac(2), 2, 200), Fdb::Learn::Learned);
  EXPECT_EQ(fdb.expire(299), 0u);
  EXPECT_EQ(fdb.expire(300), 1u);
  EXPECT_EQ(fdb.lookup(mac(1)), kNoPort);
  EXPECT_EQ(fdb.lookup(mac(2)), 2);
  // Seeing the station again keeps it alive.
  EXPECT_EQ(fdb.learn(mac(2), 2, 450), Fdb::Learn::Refreshed);
  EXPECT_EQ(fdb.expire(600), 0u);
  EXPECT_EQ(fdb.expire(750), 1u);
  EXPECT_EQ(fdb.stats().aged, 2u);
  EXPECT_EQ(fdb.stats().entries, 0u);
}

TEST(Fdb, ChangedAgingAppliesToExistingEntries) {
  Fdb fdb(cfg(64, 300));
  ASSERT_EQ(fdb.learn(mac(1), 1, 0), Fdb::Learn::Learned);
  fdb.set_aging_ticks(10);
  EXPECT_EQ(fdb.expire(10), 1u);
}

TEST(Fdb, FullTableRefusesNewStationsAndKeepsOldOnes) {
  Fdb fdb(cfg(16));
  for (uint64_t i = 1; i <= 16; ++i) ASSERT_EQ(fdb.learn(mac(i), 1, 0), Fdb::Learn::Learned) << i;
  EXPECT_EQ(fdb.learn(mac(100), 2, 0), Fdb::Learn::TableFull);
  EXPECT_EQ(fdb.lookup(mac(100)), kNoPort);
  for (uint64_t i = 1; i <= 16; ++i) EXPECT_EQ(fdb.lookup(mac(i)), 1) << i;
  EXPECT_EQ(fdb.stats().full_drops, 1u);
  // Known stations still move when the table is full.
  EXPECT_EQ(fdb.learn(mac(3), 2, 1), Fdb::Learn::Moved);
  // Aging frees room again.
  fdb.flush_port(1);
  EXPECT_EQ(fdb.learn(mac(100), 2, 0), Fdb::Learn::Learned);
}

TEST(Fdb, FlushPortRemovesOnlyThatPort) {
  Fdb fdb(cfg());
  ASSERT_EQ(fdb.learn(mac(1), 1, 0), Fdb::Learn::Learned);
  ASSERT_EQ(fdb.learn(mac(2), 2, 0), Fdb::Learn::Learned);
  fdb.flush_port(1);
  EXPECT_EQ(fdb.lookup(mac(1)), kNoPort);
  EXPECT_EQ(fdb.lookup(mac(2)), 2);
  fdb.flush();
  EXPECT_EQ(fdb.lookup(mac(2)), kNoPort);
  EXPECT_EQ(fdb.stats().entries, 0u);
}

TEST(Fdb, DeletedSlotsAreReusedWithoutDuplicates) {
  Fdb fdb(cfg(1024));
  for (int round = 0; round < 50; ++round) {
    for (uint64_t i = 1; i <= 500; ++i) fdb.learn(mac(i), static_cast<PortId>(round % 3), 0);
    fdb.flush_port(static_cast<PortId>((round + 1) % 3));
  }
  const auto snap = fdb.snapshot();
  EXPECT_EQ(snap.size(), fdb.stats().entries);
  for (size_t i = 1; i < snap.size(); ++i) EXPECT_NE(snap[i - 1].mac, snap[i].mac);
}

TEST(Fdb, ConcurrentLearnersNeverDuplicateOrLoseEntries) {
  Fdb fdb(cfg(4096));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&fdb, t] {
      for (int rep = 0; rep < 20; ++rep) {
        for (uint64_t i = 1; i <= 2000; ++i) fdb.learn(mac(i), static_cast<PortId>(t), 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto snap = fdb.snapshot();
  ASSERT_EQ(snap.size(), 2000u);
  EXPECT_EQ(fdb.stats().entries, 2000u);
  for (uint64_t i = 1; i <= 2000; ++i) EXPECT_NE(fdb.lookup(mac(i)), kNoPort);
}

}  // namespace
}  // namespace vsw
