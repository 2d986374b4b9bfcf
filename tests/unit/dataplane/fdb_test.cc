// Unit tests for dataplane/fdb: learning, moves, aging (injected time), full table, flushes.
#include "dataplane/fdb.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "tests/unit/dataplane/test_frames.h"

namespace vsw {

// Reaches into the table for the tests below: the slot array, the probe, and the second half of
// learn() (the insert into a slot chosen by an earlier probe) to replay exact interleavings.
struct FdbTestPeer {
  // Keys of VLAN 0 (the tests below) are the MAC itself.
  static size_t home(const Fdb& f, MacAddress m) { return f.home(Fdb::make_key(m, 0)); }
  static size_t slot_count(const Fdb& f) { return f.mask_ + 1; }
  static size_t free_slot(const Fdb& f, MacAddress m) {
    return f.probe(Fdb::make_key(m, 0)).free_slot;
  }
  // learn() after its probe chose `slot`; retries from a fresh probe as learn() does.
  static Fdb::Learn insert_at(Fdb& f, MacAddress m, PortId port, uint64_t now, size_t slot) {
    const Fdb::Learn r = f.insert(Fdb::make_key(m, 0), port, now, slot);
    return r == Fdb::kRetry ? f.learn(m, port, now) : r;
  }
  static bool live(uint64_t w) { return w != Fdb::kEmpty && w != Fdb::kDeleted; }
  static uint64_t word(const Fdb& f, size_t i) { return f.slots_[i].key.load(); }
  // Slots holding `m` (any VLAN), over the whole table.
  static size_t copies(const Fdb& f, MacAddress m) {
    size_t n = 0;
    for (size_t i = 0; i < slot_count(f); ++i) {
      if (live(word(f, i)) && Fdb::key_mac(word(f, i)) == m) ++n;
    }
    return n;
  }
  static size_t tombstones(const Fdb& f) {
    size_t n = 0;
    for (size_t i = 0; i < slot_count(f); ++i) n += word(f, i) == Fdb::kDeleted;
    return n;
  }
  // Slots a lookup of the absent `m` reads before it gives up.
  static uint32_t miss_probe_length(const Fdb& f, MacAddress m) {
    for (uint32_t k = 0; k < Fdb::kProbe; ++k) {
      if (word(f, (home(f, m) + k) & f.mask_) == Fdb::kEmpty) return k + 1;
    }
    return Fdb::kProbe;
  }
  // The table's invariant: every entry lies inside its window, with no empty slot between its
  // home and itself (otherwise lookups stop before reaching it).
  static bool every_entry_reachable(const Fdb& f) {
    for (size_t s = 0; s < slot_count(f); ++s) {
      const uint64_t w = word(f, s);
      if (!live(w)) continue;
      const size_t h = f.home(w);
      const size_t disp = (s - h) & f.mask_;
      if (disp >= Fdb::kProbe) return false;
      for (size_t d = 0; d < disp; ++d) {
        if (word(f, (h + d) & f.mask_) == Fdb::kEmpty) return false;
      }
    }
    return true;
  }
};

namespace {

using test::mac;
using Peer = FdbTestPeer;

// `n` MACs whose home slot is the same, in a table of `f`'s size.
std::vector<MacAddress> same_home(const Fdb& f, size_t n) {
  std::map<size_t, std::vector<MacAddress>> by_home;
  for (uint64_t i = 1;; ++i) {
    auto& v = by_home[Peer::home(f, mac(i))];
    v.push_back(mac(i));
    if (v.size() == n) return v;
  }
}

// Snapshot checks: no MAC twice, the count agrees, every entry is found by lookup() on its port.
void expect_consistent(const Fdb& fdb) {
  const auto snap = fdb.snapshot();
  EXPECT_EQ(snap.size(), fdb.stats().entries);
  for (size_t i = 1; i < snap.size(); ++i) EXPECT_NE(snap[i - 1].mac, snap[i].mac) << "duplicate";
  for (const FdbEntry& e : snap) EXPECT_EQ(fdb.lookup(e.mac), e.port);
  EXPECT_TRUE(Peer::every_entry_reachable(fdb));
}

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
}

TEST(Fdb, AgingFreesRoomInAFullTable) {
  Fdb fdb(cfg(16, 300));
  for (uint64_t i = 1; i <= 16; ++i) ASSERT_EQ(fdb.learn(mac(i), 1, 0), Fdb::Learn::Learned) << i;
  ASSERT_EQ(fdb.learn(mac(3), 1, 100), Fdb::Learn::Refreshed);  // mac3 stays alive longer
  ASSERT_EQ(fdb.learn(mac(100), 2, 100), Fdb::Learn::TableFull);
  EXPECT_EQ(fdb.expire(300), 15u);  // everything seen at 0; mac3 was seen at 100
  EXPECT_EQ(fdb.stats().entries, 1u);
  EXPECT_EQ(fdb.lookup(mac(3)), 1);
  // The 15 aged slots take new stations again; the 16th new one finds the table full.
  for (uint64_t i = 100; i < 115; ++i) EXPECT_EQ(fdb.learn(mac(i), 2, 300), Fdb::Learn::Learned) << i;
  EXPECT_EQ(fdb.learn(mac(200), 2, 300), Fdb::Learn::TableFull);
  EXPECT_EQ(fdb.stats().entries, 16u);
  EXPECT_EQ(fdb.stats().aged, 15u);
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

// Two workers learn the same new station while the control thread ages out the entry in front
// of it (replayed step by step):
//   X at h, Y at h+1 (same home h as M); worker A probes M -> free slot h+2;
//   control erases X -> h is deleted (Y behind it keeps it from being reclaimed);
//   worker B probes M -> free slot h; A stores M at h+2; B stores M at h.
// Each worker checks its own copy after storing it, and one of them must see the other's.
TEST(Fdb, LearnRacingAnEraseLeavesOneEntry) {
  Fdb fdb(cfg(8));  // 16 slots
  const auto macs = same_home(fdb, 3);
  const MacAddress x = macs[0], y = macs[1], m = macs[2];
  const size_t h = Peer::home(fdb, m);
  ASSERT_EQ(fdb.learn(x, 1, 0), Fdb::Learn::Learned);
  ASSERT_EQ(fdb.learn(y, 2, 0), Fdb::Learn::Learned);
  const size_t a_slot = Peer::free_slot(fdb, m);
  ASSERT_EQ(a_slot, (h + 2) % Peer::slot_count(fdb));
  fdb.flush_port(1);
  const size_t b_slot = Peer::free_slot(fdb, m);
  ASSERT_EQ(b_slot, h);
  Peer::insert_at(fdb, m, 3, 0, a_slot);
  Peer::insert_at(fdb, m, 4, 0, b_slot);
  EXPECT_EQ(Peer::copies(fdb, m), 1u);
  EXPECT_NE(fdb.lookup(m), kNoPort);
  EXPECT_EQ(fdb.stats().entries, 2u);
  expect_consistent(fdb);
  // The same with the later store checked last.
  fdb.flush();
  ASSERT_EQ(fdb.learn(x, 1, 0), Fdb::Learn::Learned);
  ASSERT_EQ(fdb.learn(y, 2, 0), Fdb::Learn::Learned);
  const size_t a2 = Peer::free_slot(fdb, m);
  fdb.flush_port(1);
  const size_t b2 = Peer::free_slot(fdb, m);
  Peer::insert_at(fdb, m, 4, 0, b2);
  Peer::insert_at(fdb, m, 3, 0, a2);
  EXPECT_EQ(Peer::copies(fdb, m), 1u);
  expect_consistent(fdb);
}

// As above, but nothing lies behind X: the control thread turns its slot back into an empty one,
// in front of the slot worker A already chose. A's entry would be unreachable there.
TEST(Fdb, LearnRacingAReclaimStaysReachable) {
  Fdb fdb(cfg(8));
  const auto macs = same_home(fdb, 2);
  const MacAddress x = macs[0], m = macs[1];
  ASSERT_EQ(fdb.learn(x, 1, 0), Fdb::Learn::Learned);
  const size_t a_slot = Peer::free_slot(fdb, m);
  fdb.flush_port(1);
  const size_t b_slot = Peer::free_slot(fdb, m);
  Peer::insert_at(fdb, m, 3, 0, a_slot);
  EXPECT_EQ(fdb.lookup(m), 3);
  Peer::insert_at(fdb, m, 4, 0, b_slot);
  EXPECT_EQ(Peer::copies(fdb, m), 1u);
  EXPECT_NE(fdb.lookup(m), kNoPort);
  expect_consistent(fdb);
}

TEST(Fdb, FlushLeavesNoDeletedSlots) {
  Fdb fdb(cfg(1024));
  for (uint64_t i = 1; i <= 1000; ++i) ASSERT_EQ(fdb.learn(mac(i), i % 4, 0), Fdb::Learn::Learned);
  fdb.flush_port(0);
  fdb.flush_port(1);
  expect_consistent(fdb);
  fdb.flush();
  EXPECT_EQ(Peer::tombstones(fdb), 0u);
  EXPECT_EQ(Peer::miss_probe_length(fdb, mac(5000)), 1u);
}

// Heavy churn (stations come, age out, are flushed with their port) must not leave the table
// full of deleted slots: a miss then reads every slot of its window (16) instead of about 1.4
// at this load (linear probing, load factor 1/4: (1 + 1/(1 - 1/4)^2) / 2).
TEST(Fdb, ChurnKeepsMissesShortAndLookupsRight) {
  Fdb fdb(cfg(1024, 100));  // 2048 slots
  std::map<uint64_t, PortId> model;  // mac -> port, what the table must hold
  std::map<uint64_t, uint64_t> seen;
  std::mt19937_64 rng(42);
  uint64_t next = 1;
  for (uint64_t now = 0; now < 4000; now += 10) {
    for (int k = 0; k < 25; ++k) {  // ~25 new stations every 10 ticks, ~250 alive at a time
      const uint64_t v = next++;
      const PortId port = static_cast<PortId>(rng() % 8);
      ASSERT_EQ(fdb.learn(mac(v), port, now), Fdb::Learn::Learned);
      model[v] = port;
      seen[v] = now;
    }
    fdb.expire(now);
    for (auto it = model.begin(); it != model.end();) {
      if (now - seen[it->first] >= 100) it = model.erase(it); else ++it;
    }
    if (now % 500 == 0) {  // a port goes away now and then
      const PortId gone = static_cast<PortId>(rng() % 8);
      fdb.flush_port(gone);
      for (auto it = model.begin(); it != model.end();) {
        if (it->second == gone) it = model.erase(it); else ++it;
      }
    }
  }
  ASSERT_EQ(fdb.stats().entries, model.size());
  for (const auto& [v, port] : model) EXPECT_EQ(fdb.lookup(mac(v)), port);
  EXPECT_EQ(fdb.lookup(mac(1)), kNoPort);
  expect_consistent(fdb);
  double total = 0;
  constexpr int kMisses = 4000;
  for (int i = 0; i < kMisses; ++i) total += Peer::miss_probe_length(fdb, mac(next + 1000 + i));
  EXPECT_LT(total / kMisses, 3.0) << "deleted slots were not reclaimed";
}

// Workers learn (new stations, refreshes, moves between ports) while the control thread ages and
// flushes; afterwards the table holds every MAC at most once and finds each one.
TEST(Fdb, LearnersRacingTheControlThreadKeepTheTableConsistent) {
  Fdb fdb(cfg(256, 3));  // 512 slots; small, so windows overlap and slots are reused often
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> clock{0};
  std::atomic<uint64_t> learns{0};  // in thousands
  std::vector<std::thread> learners;
  for (int t = 0; t < 3; ++t) {
    learners.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      for (uint64_t n = 1; !stop.load(std::memory_order_relaxed); ++n) {
        // Overlapping station sets: the same MAC is learned by several workers at once.
        const uint64_t v = 1 + rng() % 300;
        fdb.learn(mac(v), static_cast<PortId>(rng() % 3), clock.load(std::memory_order_relaxed));
        if (n % 1000 == 0) learns.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  // At least 20000 control rounds, and until the learners have done 600000 learns between them
  // (on a loaded machine they may start late).
  for (int round = 0; round < 20000 || learns.load() < 600; ++round) {
    const uint64_t now = clock.fetch_add(1) + 1;
    switch (round % 3) {
      case 0: fdb.expire(now); break;
      case 1: fdb.flush_port(static_cast<PortId>(round % 3)); break;
      default: if (round % 30 == 2) fdb.flush(); break;
    }
  }
  stop.store(true);
  for (auto& th : learners) th.join();
  expect_consistent(fdb);
  for (uint64_t v = 1; v <= 300; ++v) EXPECT_LE(Peer::copies(fdb, mac(v)), 1u) << v;
}

// IEEE 802.1Q §8.8: independent learning per VLAN.
TEST(Fdb, SameMacOnTwoVlansIsTwoStations) {
  Fdb fdb(Fdb::Config{64, 300, 1});
  EXPECT_EQ(fdb.learn(mac(1), 1, 0, 10), Fdb::Learn::Learned);
  EXPECT_EQ(fdb.learn(mac(1), 2, 0, 20), Fdb::Learn::Learned);
  EXPECT_EQ(fdb.lookup(mac(1), 10), 1);
  EXPECT_EQ(fdb.lookup(mac(1), 20), 2);
  EXPECT_EQ(fdb.lookup(mac(1), 30), kNoPort);
  EXPECT_EQ(fdb.lookup(mac(1)), kNoPort);  // VLAN 0 is a VLAN of its own
  EXPECT_EQ(fdb.stats().entries, 2u);
  auto snap = fdb.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].vlan, 10);
  EXPECT_EQ(snap[0].port, 1);
  EXPECT_EQ(snap[1].vlan, 20);
  EXPECT_EQ(snap[1].port, 2);
}

TEST(Fdb, MoveInOneVlanLeavesTheOtherAlone) {
  Fdb fdb(Fdb::Config{64, 300, 1});
  fdb.learn(mac(1), 1, 0, 10);
  fdb.learn(mac(1), 1, 0, 20);
  EXPECT_EQ(fdb.learn(mac(1), 3, 5, 10), Fdb::Learn::Moved);
  EXPECT_EQ(fdb.lookup(mac(1), 10), 3);
  EXPECT_EQ(fdb.lookup(mac(1), 20), 1);
  EXPECT_EQ(fdb.stats().moved, 1u);
}

TEST(Fdb, AgingAndPortFlushPerVlanEntry) {
  Fdb fdb(Fdb::Config{64, 100, 1});
  fdb.learn(mac(1), 1, 0, 10);
  fdb.learn(mac(1), 2, 50, 20);
  fdb.learn(mac(2), 1, 50, 4094);
  EXPECT_EQ(fdb.expire(120), 1u);  // only (10, mac1), seen at 0
  EXPECT_EQ(fdb.lookup(mac(1), 10), kNoPort);
  EXPECT_EQ(fdb.lookup(mac(1), 20), 2);
  fdb.flush_port(1);
  EXPECT_EQ(fdb.lookup(mac(2), 4094), kNoPort);
  EXPECT_EQ(fdb.lookup(mac(1), 20), 2);
  EXPECT_TRUE(Peer::every_entry_reachable(fdb));
}

}  // namespace
}  // namespace vsw
