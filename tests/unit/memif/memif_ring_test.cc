// tests/unit/memif/memif_ring_test.cc — RxRing / TxRing over plain memory playing the client's
// region: lending, release and tail return, chaining, roll-back, interrupts, and hostile
// descriptors and indices (memif.md §8, §10).
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <ostream>
#include <vector>

#include <gtest/gtest.h>

#include "dataplane/mempool.h"
#include "ports/memif/memif_ring.h"

namespace vsw::ports::memif {
namespace {

constexpr uint8_t kLog2 = 3;  // 8 slots
constexpr uint32_t kBuf = 256;
constexpr PortId kPort = 7;

// One region: ring at 0, buffers after it, slot j's buffer at kBufOff + j * kBuf.
struct FakeClient {
  static constexpr uint64_t kBufOff = 1024;
  std::vector<uint64_t> mem = std::vector<uint64_t>((kBufOff + 8 * kBuf) / 8 + 1, 0);
  RegionView view{reinterpret_cast<std::byte*>(mem.data()), kBufOff + 8 * kBuf};
  RingHeader* hdr = reinterpret_cast<RingHeader*>(mem.data());
  Desc* desc = reinterpret_cast<Desc*>(reinterpret_cast<std::byte*>(mem.data()) + 128);

  FakeClient() { hdr->cookie = kCookie; }
  std::span<const RegionView> regions() const { return {&view, 1}; }
  std::byte* buf(uint32_t slot) { return view.base + kBufOff + slot * kBuf; }
  // Client tx on a C2S ring: one frame of `len` bytes filled with `fill`, split into kBuf pieces.
  void send(uint32_t len, uint8_t fill) {
    uint16_t head = hdr->head.load();
    while (len > 0) {
      const uint16_t slot = head & 7;
      const uint32_t n = std::min(len, kBuf);
      std::memset(buf(slot), fill, n);
      desc[slot] = Desc{static_cast<uint16_t>(len > n ? kDescFlagNext : 0), 0, n,
                        static_cast<uint32_t>(kBufOff + slot * kBuf), 0};
      len -= n;
      ++head;
    }
    hdr->head.store(head);
  }
  // Client rx refill on an S2C ring: offer `n` empty buffers.
  void refill(uint16_t n) {
    uint16_t head = hdr->head.load();
    for (uint16_t i = 0; i < n; ++i, ++head) {
      const uint16_t slot = head & 7;
      desc[slot] = Desc{0, 0, kBuf, static_cast<uint32_t>(kBufOff + slot * kBuf), 0};
    }
    hdr->head.store(head);
  }
};

std::unique_ptr<Mempool> make_pool() {
  Mempool::Config cfg;
  cfg.buffers = 256;
  cfg.buffer_bytes = 2048;
  cfg.hugepages = false;
  auto pool = Mempool::create("memif-test", cfg);
  return std::move(pool.value());
}

TEST(MemifRxRing, LendsClientBuffersAndReturnsThemAfterRelease) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  EXPECT_NE(c.hdr->flags.load() & kRingFlagMaskInt, 0);  // vsw polls: interrupts masked
  c.send(100, 0xAA);
  c.send(60, 0xBB);
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 2);
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(batch[0]->frame_len, 100u);
  EXPECT_EQ(batch[0]->in_port, kPort);
  EXPECT_EQ(batch[0]->data(), c.buf(0));  // zero copy: points into the client's buffer
  EXPECT_EQ(batch[0]->iova, 0u);
  EXPECT_EQ(static_cast<uint8_t>(batch[1]->data()[0]), 0xBB);
  EXPECT_EQ(qc.packets.get(), 2u);
  EXPECT_EQ(qc.bytes.get(), 160u);
  EXPECT_EQ(rx.outstanding(), 2u);
  // Not yet returned: tail stays while the switch holds the buffers.
  PacketBatch more;
  EXPECT_EQ(rx.receive(c.regions(), more, qc, v), 0);
  EXPECT_EQ(c.hdr->tail.load(), 0);
  batch.release_all();
  EXPECT_EQ(rx.outstanding(), 0u);
  EXPECT_EQ(rx.receive(c.regions(), more, qc, v), 0);
  EXPECT_EQ(c.hdr->tail.load(), 2);
}

TEST(MemifRxRing, BulkReleaseCountsDownAndSharedFramesHoldTheTail) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.send(64, 1);
  c.send(600, 2);  // chained: 3 slots, released segment by segment
  c.send(64, 3);
  c.send(64, 4);
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 4);
  EXPECT_EQ(rx.outstanding(), 6u);
  Packet* shared = batch[3];
  retain_packet(shared);  // flooded: another holder keeps it
  batch.release_all();
  EXPECT_EQ(rx.outstanding(), 1u);
  PacketBatch none;
  EXPECT_EQ(rx.receive(c.regions(), none, qc, v), 0);
  EXPECT_EQ(c.hdr->tail.load(), 0);  // one buffer still lent: nothing returned yet
  PacketBatch last;
  last.push(shared);
  last.release_all();
  EXPECT_EQ(rx.outstanding(), 0u);
  EXPECT_EQ(rx.receive(c.regions(), none, qc, v), 0);
  EXPECT_EQ(c.hdr->tail.load(), 6);
  // The slots come back clean: lent again, each is a lone, unshared segment.
  c.send(64, 5);
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 1);
  EXPECT_EQ(batch[0]->next, nullptr);
  EXPECT_EQ(batch[0]->refs.load(), 1);
  EXPECT_EQ(batch[0]->in_port, kPort);
  EXPECT_TRUE(batch[0]->is_lent());
  batch.release_all();
}

TEST(MemifRxRing, FramesAcrossTheRingEndAndAfterAChainAreAllTaken) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  QueueCounters qc;
  Violation v = Violation::None;
  PacketBatch batch;
  for (int i = 0; i < 6; ++i) c.send(64, 1);  // move the indices near the end of the ring
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 6);
  batch.release_all();
  c.send(64, 0x10);   // slot 6
  c.send(300, 0x11);  // slots 7, 0 (wraps)
  c.send(64, 0x12);   // slot 1
  c.send(10, 0x13);   // runt, slot 2
  c.send(64, 0x14);   // slot 3
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 4);
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(batch[0]->data(), c.buf(6));
  EXPECT_EQ(batch[1]->frame_len, 300u);
  EXPECT_EQ(batch[1]->next->data(), c.buf(0));
  EXPECT_EQ(static_cast<uint8_t>(batch[2]->data()[0]), 0x12);
  EXPECT_EQ(batch[3]->data(), c.buf(3));
  EXPECT_EQ(rx.outstanding(), 5u);
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
  batch.release_all();
  PacketBatch none;
  rx.receive(c.regions(), none, qc, v);
  EXPECT_EQ(c.hdr->tail.load(), 12);
}

TEST(MemifRxRing, UnknownFlagBitsAreIgnoredAsBefore) {
  // Only NEXT means something (memif.md §3, §7 "Descriptor"); a descriptor with other bits is still one frame
  // (taken by the general path rather than the fast one).
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.send(64, 1);
  c.send(64, 2);
  c.send(64, 3);
  c.desc[1].flags = 0x8000;
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 3);
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(static_cast<uint8_t>(batch[1]->data()[0]), 2);
  EXPECT_EQ(batch[1]->next, nullptr);
  EXPECT_EQ(batch[2]->data(), c.buf(2));
  batch.release_all();
  EXPECT_EQ(rx.outstanding(), 0u);
}

TEST(MemifRxRing, BatchRoomLimitsAndTheRestFollowsNextTime) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  for (int i = 0; i < 5; ++i) c.send(64, static_cast<uint8_t>(i));
  QueueCounters qc;
  Violation v = Violation::None;
  PacketBatch batch;
  for (int i = 0; i < PacketBatch::kMax - 2; ++i) batch.push(nullptr);  // room for 2
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 2);
  EXPECT_EQ(batch.size(), PacketBatch::kMax);
  EXPECT_EQ(static_cast<uint8_t>(batch[PacketBatch::kMax - 1]->data()[0]), 1);
  batch.clear();
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 3);
  EXPECT_EQ(static_cast<uint8_t>(batch[0]->data()[0]), 2);
  EXPECT_EQ(rx.outstanding(), 5u);
}

TEST(MemifRxRing, ChainedFrameBecomesSegmentList) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.send(600, 0x11);  // 256 + 256 + 88
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 1);
  Packet* p = batch[0];
  EXPECT_EQ(p->frame_len, 600u);
  ASSERT_NE(p->next, nullptr);
  ASSERT_NE(p->next->next, nullptr);
  EXPECT_EQ(p->next->next->len, 88);
  EXPECT_EQ(p->next->next->next, nullptr);
  EXPECT_EQ(rx.outstanding(), 3u);
  batch.release_all();
  PacketBatch none;
  rx.receive(c.regions(), none, qc, v);
  EXPECT_EQ(c.hdr->tail.load(), 3);
}

TEST(MemifRxRing, HeadBeyondRingIsAViolation) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.hdr->head.store(9);  // 9 > 8 slots
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(rx.receive(c.regions(), batch, qc, v), 0);
  EXPECT_EQ(v, Violation::BadHead);
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
  c.hdr->head.store(0xFFFF);  // "negative": also far away
  v = Violation::None;
  EXPECT_EQ(rx.receive(c.regions(), batch, qc, v), 0);
  EXPECT_EQ(v, Violation::BadHead);
}

TEST(MemifRxRing, HeadMovedBackBehindLentSlotsIsAViolation) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.send(600, 0x11);  // slots 0..2, held by vsw below
  PacketBatch held;
  QueueCounters qc;
  Violation v = Violation::None;
  ASSERT_EQ(rx.receive(c.regions(), held, qc, v), 1);
  c.hdr->head.store(1);  // the client takes back slots 1 and 2 while vsw still holds them
  PacketBatch batch;
  EXPECT_EQ(rx.receive(c.regions(), batch, qc, v), 0);
  EXPECT_EQ(v, Violation::BadHead);
  EXPECT_TRUE(batch.empty());
  // The held frame is intact: no slot was lent a second time.
  EXPECT_EQ(held[0]->frame_len, 600u);
  ASSERT_NE(held[0]->next, nullptr);
  ASSERT_NE(held[0]->next->next, nullptr);
  EXPECT_EQ(held[0]->next->next->len, 88);
  EXPECT_EQ(rx.outstanding(), 3u);
  held.release_all();
  EXPECT_EQ(rx.outstanding(), 0u);
}

struct BadDescCase {
  Desc d;
  Violation expect;
};

void PrintTo(const BadDescCase& c, std::ostream* os) {
  *os << "region=" << c.d.region << " offset=" << c.d.offset << " length=" << c.d.length
      << " flags=" << c.d.flags << " expect=" << violation_text(c.expect);
}

class MemifRxRingHostile : public ::testing::TestWithParam<BadDescCase> {};

TEST_P(MemifRxRingHostile, DescriptorIsRejectedBeforeUse) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.send(64, 1);             // one good frame first
  c.desc[1] = GetParam().d;  // then the hostile one
  c.hdr->head.store(2);
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(rx.receive(c.regions(), batch, qc, v), 1);  // the good frame still goes through
  EXPECT_EQ(v, GetParam().expect);
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
  batch.release_all();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MemifRxRingHostile,
    ::testing::Values(
        BadDescCase{Desc{0, 1, 64, 1024, 0}, Violation::BadRegion},           // no region 1
        BadDescCase{Desc{0, 0xFFFF, 64, 0, 0}, Violation::BadRegion},
        BadDescCase{Desc{0, 0, 64, 0xFFFFFFF0u, 0}, Violation::BadBuffer},    // far outside
        BadDescCase{Desc{0, 0, 200, 1024 + 8 * 256 - 100, 0}, Violation::BadBuffer},  // past end
        BadDescCase{Desc{0, 0, 0, 1024, 0}, Violation::BadLength},            // empty
        BadDescCase{Desc{0, 0, kBuf + 1, 1024, 0}, Violation::BadLength},     // above buffer size
        BadDescCase{Desc{0, 0, 0xFFFFFFFFu, 1024, 0}, Violation::BadLength},
        BadDescCase{Desc{kDescFlagNext, 0, 64, 1024, 0}, Violation::BadChain}));  // NEXT at head

TEST(MemifRxRing, EndlessChainIsAViolation) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  for (uint16_t i = 0; i < 8; ++i) c.desc[i] = Desc{kDescFlagNext, 0, 64, 1024, 0};
  c.hdr->head.store(8);
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(rx.receive(c.regions(), batch, qc, v), 0);
  EXPECT_EQ(v, Violation::BadChain);
}

TEST(MemifRxRing, RuntsAreDroppedAndTheirSlotsReturned) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  c.send(10, 1);  // shorter than an Ethernet header
  c.send(64, 2);
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(rx.receive(c.regions(), batch, qc, v), 1);
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
  batch.release_all();
  PacketBatch none;
  rx.receive(c.regions(), none, qc, v);
  EXPECT_EQ(c.hdr->tail.load(), 2);
}

TEST(MemifRxRing, CountersWrapAround) {
  FakeClient c;
  RxRing rx(c.hdr, kLog2, kBuf, kPort);
  rx.reset();
  QueueCounters qc;
  Violation v = Violation::None;
  for (int round = 0; round < 70000 / 4; ++round) {
    for (int i = 0; i < 4; ++i) c.send(64, static_cast<uint8_t>(i));
    PacketBatch batch;
    ASSERT_EQ(rx.receive(c.regions(), batch, qc, v), 4) << round;
    batch.release_all();
  }
  EXPECT_EQ(v, Violation::None);
}

// --- tx ------------------------------------------------------------------------------------

Packet* frame(Mempool& pool, uint32_t len, uint8_t fill) {
  Packet* p = nullptr;
  EXPECT_EQ(pool.alloc(&p, 1), 1);
  std::memset(p->data(), fill, len);
  p->len = static_cast<uint16_t>(len);
  p->frame_len = len;
  return p;
}

TEST(MemifTxRing, CopiesFramesAndChainsLargeOnes) {
  auto pool = make_pool();
  FakeClient c;
  const int efd = ::eventfd(0, EFD_NONBLOCK);
  TxRing tx(c.hdr, kLog2, kBuf, efd);
  tx.reset();
  c.refill(8);
  PacketBatch batch;
  batch.push(frame(*pool, 100, 0xAA));
  batch.push(frame(*pool, 600, 0xBB));  // 3 slots
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 2);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(c.hdr->tail.load(), 4);
  EXPECT_EQ(c.desc[0].length, 100u);
  EXPECT_EQ(c.desc[0].flags, 0);
  EXPECT_EQ(c.desc[1].flags, kDescFlagNext);
  EXPECT_EQ(c.desc[2].flags, kDescFlagNext);
  EXPECT_EQ(c.desc[3].flags, 0);
  EXPECT_EQ(c.desc[1].length + c.desc[2].length + c.desc[3].length, 600u);
  EXPECT_EQ(static_cast<uint8_t>(c.buf(3)[0]), 0xBB);
  EXPECT_EQ(qc.packets.get(), 2u);
  EXPECT_EQ(qc.bytes.get(), 700u);
  EXPECT_EQ(pool->available(), pool->capacity());  // every source buffer released
  // Interrupts not masked by the client: one eventfd write for the burst.
  uint64_t count = 0;
  EXPECT_EQ(::read(efd, &count, sizeof(count)), 8);
  EXPECT_EQ(count, 1u);
  EXPECT_EQ(tx.interrupts(), 1u);
  ::close(efd);
}

TEST(MemifTxRing, ChainedSourceSegmentsAreGathered) {
  auto pool = make_pool();
  FakeClient c;
  TxRing tx(c.hdr, kLog2, kBuf, -1);
  tx.reset();
  c.hdr->flags.store(kRingFlagMaskInt);
  c.refill(8);
  Packet* a = frame(*pool, 200, 1);
  Packet* b = frame(*pool, 100, 2);
  a->next = b;
  a->frame_len = 300;
  PacketBatch batch;
  batch.push(a);
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 1);
  EXPECT_EQ(c.desc[0].length, kBuf);
  EXPECT_EQ(c.desc[1].length, 44u);
  EXPECT_EQ(static_cast<uint8_t>(c.buf(0)[199]), 1);
  EXPECT_EQ(static_cast<uint8_t>(c.buf(0)[200]), 2);
  EXPECT_EQ(static_cast<uint8_t>(c.buf(1)[43]), 2);
  EXPECT_EQ(tx.interrupts(), 0u);  // masked: no signal
}

TEST(MemifTxRing, FrameThatDoesNotFitIsRolledBack) {
  auto pool = make_pool();
  FakeClient c;
  TxRing tx(c.hdr, kLog2, kBuf, -1);
  tx.reset();
  c.hdr->flags.store(kRingFlagMaskInt);
  c.refill(2);
  PacketBatch batch;
  batch.push(frame(*pool, 64, 1));
  batch.push(frame(*pool, 600, 2));  // needs 3, only 1 left
  batch.push(frame(*pool, 64, 3));
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 1);
  EXPECT_EQ(c.hdr->tail.load(), 1);  // the partial frame is invisible
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::TxFull)].get(), 2u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST(MemifTxRing, NeverDrainedRingDropsWithoutStalling) {
  auto pool = make_pool();
  FakeClient c;
  TxRing tx(c.hdr, kLog2, kBuf, -1);
  tx.reset();
  QueueCounters qc;
  Violation v = Violation::None;
  for (int i = 0; i < 100; ++i) {
    PacketBatch batch;
    batch.push(frame(*pool, 64, 1));
    EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 0);
  }
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::TxFull)].get(), 100u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST(MemifTxRing, HostileOfferedBuffersAreRejected) {
  auto pool = make_pool();
  const Desc bad[] = {
      Desc{0, 3, kBuf, 1024, 0},            // no such region
      Desc{0, 0, kBuf, 0xFFFFFF00u, 0},      // outside
      Desc{0, 0, 0, 1024, 0},                // zero capacity
      Desc{0, 0, kBuf, 1024 + 8 * 256 - 10, 0},  // straddles the end
  };
  for (const Desc& d : bad) {
    FakeClient c;
    TxRing tx(c.hdr, kLog2, kBuf, -1);
    tx.reset();
    c.desc[0] = d;
    c.hdr->head.store(1);
    PacketBatch batch;
    batch.push(frame(*pool, 64, 1));
    QueueCounters qc;
    Violation v = Violation::None;
    EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 0);
    EXPECT_NE(v, Violation::None);
    EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
    EXPECT_EQ(c.hdr->tail.load(), 0);
  }
  // A head that claims more free slots than the ring has.
  FakeClient c;
  TxRing tx(c.hdr, kLog2, kBuf, -1);
  tx.reset();
  c.hdr->head.store(100);
  PacketBatch batch;
  batch.push(frame(*pool, 64, 1));
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 0);
  EXPECT_EQ(v, Violation::BadHead);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST(MemifTxRing, FramesAcrossTheRingEndAndMixedWithChains) {
  auto pool = make_pool();
  FakeClient c;
  TxRing tx(c.hdr, kLog2, kBuf, -1);
  tx.reset();
  c.hdr->flags.store(kRingFlagMaskInt);
  QueueCounters qc;
  Violation v = Violation::None;
  c.refill(6);
  PacketBatch batch;
  for (int i = 0; i < 6; ++i) batch.push(frame(*pool, 64, 1));
  ASSERT_EQ(tx.transmit(c.regions(), batch, qc, v), 6);  // tail 6: next slot is 6 of 8
  c.refill(6);
  batch.push(frame(*pool, 64, 0x20));   // slot 6
  batch.push(frame(*pool, 300, 0x21));  // slots 7, 0
  batch.push(frame(*pool, 20, 0x22));   // slot 1 (a short frame: memcpy, not the 16..64 copy)
  batch.push(frame(*pool, 64, 0x23));   // slot 2
  batch.push(frame(*pool, 64, 0x24));   // slot 3
  batch.push(frame(*pool, 64, 0x25));   // no slot left: TxFull
  EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 5);
  EXPECT_EQ(v, Violation::None);
  EXPECT_EQ(c.hdr->tail.load(), 12);
  EXPECT_EQ(c.desc[6].length, 64u);
  EXPECT_EQ(c.desc[7].flags, kDescFlagNext);
  EXPECT_EQ(c.desc[7].length + c.desc[0].length, 300u);
  EXPECT_EQ(c.desc[1].length, 20u);
  EXPECT_EQ(static_cast<uint8_t>(c.buf(1)[19]), 0x22);
  EXPECT_EQ(static_cast<uint8_t>(c.buf(3)[63]), 0x24);
  EXPECT_EQ(qc.drops[static_cast<size_t>(DropReason::TxFull)].get(), 1u);
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST(MemifTxRing, SmallFrameCopyIsExactForEveryLength) {
  auto pool = make_pool();
  for (uint32_t len = 1; len <= 80; ++len) {
    FakeClient c;
    TxRing tx(c.hdr, kLog2, kBuf, -1);
    tx.reset();
    c.hdr->flags.store(kRingFlagMaskInt);
    c.refill(1);
    std::memset(c.buf(0), 0xEE, kBuf);
    Packet* p = frame(*pool, len, 0);
    for (uint32_t i = 0; i < len; ++i) p->data()[i] = static_cast<std::byte>(i + 1);
    PacketBatch batch;
    batch.push(p);
    QueueCounters qc;
    Violation v = Violation::None;
    ASSERT_EQ(tx.transmit(c.regions(), batch, qc, v), 1) << len;
    ASSERT_EQ(c.desc[0].length, len);
    for (uint32_t i = 0; i < len; ++i) {
      ASSERT_EQ(static_cast<uint8_t>(c.buf(0)[i]), static_cast<uint8_t>(i + 1)) << len;
    }
    EXPECT_EQ(static_cast<uint8_t>(c.buf(0)[len]), 0xEE) << len;  // nothing written past it
  }
  EXPECT_EQ(pool->available(), pool->capacity());
}

TEST(MemifTxRing, LentFramesGoBackToTheirRingInBulk) {
  // memif -> memif: the frames lent by one client's C2S ring are copied into another client's
  // S2C ring, and the lending ring gets every buffer back when the transmit returns.
  FakeClient a, b;
  RxRing rx(a.hdr, kLog2, kBuf, kPort);
  rx.reset();
  TxRing tx(b.hdr, kLog2, kBuf, -1);
  tx.reset();
  b.hdr->flags.store(kRingFlagMaskInt);
  for (int i = 0; i < 5; ++i) a.send(64, static_cast<uint8_t>(0x30 + i));
  b.refill(8);
  PacketBatch batch;
  QueueCounters qc;
  Violation v = Violation::None;
  ASSERT_EQ(rx.receive(a.regions(), batch, qc, v), 5);
  EXPECT_EQ(rx.outstanding(), 5u);
  EXPECT_EQ(tx.transmit(b.regions(), batch, qc, v), 5);
  EXPECT_EQ(rx.outstanding(), 0u);
  EXPECT_EQ(static_cast<uint8_t>(b.buf(4)[0]), 0x34);
  PacketBatch none;
  rx.receive(a.regions(), none, qc, v);
  EXPECT_EQ(a.hdr->tail.load(), 5);
}

TEST(MemifTxRing, OversizedCapacityIsClampedToBufferSize) {
  auto pool = make_pool();
  FakeClient c;
  TxRing tx(c.hdr, kLog2, 128, -1);  // negotiated buffer size 128 < offered 256
  tx.reset();
  c.refill(8);
  PacketBatch batch;
  batch.push(frame(*pool, 200, 1));
  QueueCounters qc;
  Violation v = Violation::None;
  EXPECT_EQ(tx.transmit(c.regions(), batch, qc, v), 1);
  EXPECT_EQ(c.desc[0].length, 128u);
  EXPECT_EQ(c.desc[1].length, 72u);
}

}  // namespace
}  // namespace vsw::ports::memif
