// tests/unit/dataplane/packet_batch_test.cc — PacketBatch::release_all and the bulk release
// contract of BufferOwner (dataplane/packet.h): runs of single-segment, unshared packets of one
// owner go back with one release_bulk() call; chained and shared packets take release_packet().
#include "dataplane/packet_batch.h"

#include <gtest/gtest.h>

#include <vector>

namespace vsw {
namespace {

// An owner of `n` headers that records how they come back, as a lending port would count them.
class CountingOwner final : public BufferOwner {
 public:
  explicit CountingOwner(uint32_t n, bool bulk = true) : pkts_(n), bulk_(bulk) {
    for (uint32_t i = 0; i < n; ++i) {
      pkts_[i].owner = this;
      pkts_[i].slot = i;
      pkts_[i].len = 64;
      pkts_[i].frame_len = 64;
    }
  }
  // Lends header i (one reference, as a receive would).
  Packet* lend(uint32_t i) {
    pkts_[i].refs.store(1);
    pkts_[i].next = nullptr;
    ++outstanding;
    return &pkts_[i];
  }

  void release(Packet* p) noexcept override {
    EXPECT_EQ(p->owner, this);
    EXPECT_EQ(p->next, nullptr);  // release_packet unlinks before handing back
    singles.push_back(p->slot);
    --outstanding;
  }
  void release_bulk(Packet* const* pkts, uint16_t n) noexcept override {
    if (!bulk_) {
      BufferOwner::release_bulk(pkts, n);  // the default: one release() each
      return;
    }
    std::vector<uint32_t> run;
    for (uint16_t i = 0; i < n; ++i) {
      EXPECT_EQ(pkts[i]->owner, this);
      EXPECT_EQ(pkts[i]->next, nullptr);
      EXPECT_EQ(pkts[i]->refs.load(), 1);
      run.push_back(pkts[i]->slot);
    }
    bulks.push_back(run);
    outstanding -= n;
  }

  int outstanding = 0;
  std::vector<uint32_t> singles;             // slots given back by release()
  std::vector<std::vector<uint32_t>> bulks;  // slots of each release_bulk() call

 private:
  std::vector<Packet> pkts_;
  bool bulk_;
};

using Slots = std::vector<uint32_t>;

TEST(PacketBatchRelease, OneOwnersBurstGoesBackInOneCall) {
  CountingOwner a(32);
  PacketBatch b;
  for (uint32_t i = 0; i < 32; ++i) b.push(a.lend(i));
  b.release_all();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.outstanding, 0);
  ASSERT_EQ(a.bulks.size(), 1u);
  EXPECT_EQ(a.bulks[0].size(), 32u);
  EXPECT_EQ(a.bulks[0][31], 31u);  // in batch order
  EXPECT_TRUE(a.singles.empty());
}

TEST(PacketBatchRelease, MixedOwnersGoBackInRunsOfConsecutivePackets) {
  CountingOwner a(8), c(8);
  PacketBatch b;
  b.push(a.lend(0));
  b.push(a.lend(1));
  b.push(c.lend(0));
  b.push(c.lend(1));
  b.push(c.lend(2));
  b.push(a.lend(2));
  b.release_all();
  EXPECT_EQ(a.outstanding, 0);
  EXPECT_EQ(c.outstanding, 0);
  EXPECT_EQ(a.bulks, (std::vector<Slots>{{0, 1}, {2}}));
  EXPECT_EQ(c.bulks, (std::vector<Slots>{{0, 1, 2}}));
  EXPECT_TRUE(a.singles.empty());
  EXPECT_TRUE(c.singles.empty());
}

TEST(PacketBatchRelease, ChainedPacketsTakeTheSlowWayAndSplitTheRun) {
  CountingOwner a(8);
  PacketBatch b;
  b.push(a.lend(0));
  Packet* head = a.lend(1);
  head->next = a.lend(2);  // a two-segment frame
  b.push(head);
  b.push(a.lend(3));
  b.release_all();
  EXPECT_EQ(a.outstanding, 0);
  EXPECT_EQ(a.bulks, (std::vector<Slots>{{0}, {3}}));
  EXPECT_EQ(a.singles, (Slots{1, 2}));  // every segment of the chain, unlinked
  EXPECT_EQ(head->next, nullptr);
}

TEST(PacketBatchRelease, SharedPacketsOnlyLoseTheBatchsReference) {
  CountingOwner a(8);
  PacketBatch b;
  b.push(a.lend(0));
  Packet* shared = a.lend(1);
  retain_packet(shared);  // flooded: a second holder
  b.push(shared);
  b.push(a.lend(2));
  b.release_all();
  EXPECT_EQ(a.outstanding, 1);  // the other holder still has it
  EXPECT_EQ(shared->refs.load(), 1);
  EXPECT_EQ(a.bulks, (std::vector<Slots>{{0}, {2}}));
  EXPECT_TRUE(a.singles.empty());
  // The last holder's release of a now unshared packet is an ordinary one-packet run.
  PacketBatch last;
  last.push(shared);
  last.release_all();
  EXPECT_EQ(a.outstanding, 0);
  EXPECT_EQ(a.bulks.back(), (Slots{1}));
}

TEST(PacketBatchRelease, DefaultBulkReleaseCallsReleaseForEach) {
  CountingOwner a(8, /*bulk=*/false);
  PacketBatch b;
  for (uint32_t i = 0; i < 4; ++i) b.push(a.lend(i));
  b.release_all();
  EXPECT_EQ(a.outstanding, 0);
  EXPECT_TRUE(a.bulks.empty());
  EXPECT_EQ(a.singles, (Slots{0, 1, 2, 3}));
}

TEST(PacketBatchRelease, EmptyBatchReleasesNothing) {
  PacketBatch b;
  b.release_all();
  EXPECT_TRUE(b.empty());
}

TEST(PacketBatchRelease, SoleSegmentBitsAreZeroOnlyForAnUnsharedPacketOfTheOwner) {
  CountingOwner a(2), c(1);
  Packet* p = a.lend(0);
  EXPECT_EQ(PacketBatch::sole_segment_bits(p, &a), 0u);
  EXPECT_NE(PacketBatch::sole_segment_bits(p, &c), 0u);  // another owner
  p->refs.store(2);
  EXPECT_NE(PacketBatch::sole_segment_bits(p, &a), 0u);  // shared
  p->refs.store(1);
  PacketBatch b;
  b.push(p);
  b.release_all();
  EXPECT_EQ(a.outstanding, 0);
}

TEST(PacketBatchRelease, SoleSegmentsOfOneOwnerGoBackInOneCall) {
  CountingOwner a(32);
  PacketBatch b;
  for (uint32_t i = 0; i < 32; ++i) b.push(a.lend(i));
  b.release_sole_segments(&a);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(a.outstanding, 0);
  ASSERT_EQ(a.bulks.size(), 1u);
  EXPECT_EQ(a.bulks[0], Slots({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                               19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}));
  PacketBatch empty;
  empty.release_sole_segments(&a);  // nothing to give back: no call
  EXPECT_EQ(a.bulks.size(), 1u);
}

TEST(PacketBatch, AppendKeepsOrder) {
  CountingOwner a(8);
  Packet* src[3] = {a.lend(0), a.lend(1), a.lend(2)};
  PacketBatch b;
  b.push(a.lend(3));
  b.append(src, 3);
  ASSERT_EQ(b.size(), 4);
  EXPECT_EQ(b[1], src[0]);
  EXPECT_EQ(b[3], src[2]);
  b.release_all();
  EXPECT_EQ(a.outstanding, 0);
}

}  // namespace
}  // namespace vsw
