// tests/unit/intel/intel_rx_test.cc — the receive half of the descriptor engine
// (ports/intel/rx_ring.cc) against the fake device: write-back with DD/EOP, frames over several
// descriptors, frames not complete yet, ring wrap, one RDT write per batch, the tail never
// handing the device a descriptor that was not refilled, an empty pool, checksum status.
#include <gtest/gtest.h>

#include "ports/intel/ixgbe_regs.h"
#include "tests/unit/intel/intel_test_rig.h"

namespace vsw::ports::intel::testing {
namespace {

namespace x = ixgbe;

void expect_clean(const FakeIntelDevice& d) {
  for (const std::string& v : d.violations()) ADD_FAILURE() << v;
}

TEST(IntelRx, AFrameArrivesInAPoolBufferWithItsBytes) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  PacketBatch b;
  EXPECT_EQ(r.rx(0, b), 0) << "nothing written back yet";
  const auto frame = make_frame(60, 3);
  ASSERT_TRUE(r.dev->deliver(0, frame));
  ASSERT_EQ(r.rx(0, b), 1);
  Packet* p = b[0];
  EXPECT_TRUE(r.pool->owns(p));
  EXPECT_EQ(p->in_port, 5);
  EXPECT_EQ(p->frame_len, 60u);
  EXPECT_EQ(p->next, nullptr);
  EXPECT_EQ(packet_bytes(p), frame);
  EXPECT_EQ(r.port->counters().rx(0).packets.get(), 1u);
  EXPECT_EQ(r.port->counters().rx(0).bytes.get(), 60u);
  b.release_all();
  expect_clean(*r.dev);
}

TEST(IntelRx, ABatchOf32FramesTakesOneTailWrite) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  for (uint8_t i = 0; i < 40; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(64 + i, i)));
  const size_t before = r.writes_to(x::RDT(0));
  PacketBatch b;
  ASSERT_EQ(r.rx(0, b), 32) << "one batch at most";
  EXPECT_EQ(r.writes_to(x::RDT(0)), before + 1);
  for (uint8_t i = 0; i < 32; ++i) EXPECT_EQ(packet_bytes(b[i]), make_frame(64 + i, i));
  b.release_all();
  ASSERT_EQ(r.rx(0, b), 8);
  EXPECT_EQ(r.writes_to(x::RDT(0)), before + 2);
  b.release_all();
  EXPECT_EQ(r.rx(0, b), 0);
  EXPECT_EQ(r.writes_to(x::RDT(0)), before + 2) << "no doorbell without work";
  // RDT is one behind the next descriptor looked at.
  EXPECT_EQ(r.dev->reg(x::RDT(0)), 39u);
  expect_clean(*r.dev);
}

TEST(IntelRx, AFrameOverSeveralDescriptorsBecomesAChain) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  ASSERT_EQ(r.port->rx_buffer_bytes(), 1024u);
  const auto jumbo = make_frame(9000, 9);   // 9 descriptors of 1 KiB
  const auto normal = make_frame(1514, 1);  // 2 descriptors
  ASSERT_TRUE(r.dev->deliver(0, jumbo));
  ASSERT_TRUE(r.dev->deliver(0, normal));
  PacketBatch b;
  ASSERT_EQ(r.rx(0, b), 2);
  EXPECT_EQ(chain_length(b[0]), 9u);
  EXPECT_EQ(b[0]->frame_len, 9000u);
  EXPECT_EQ(packet_bytes(b[0]), jumbo);
  EXPECT_EQ(chain_length(b[1]), 2u);
  EXPECT_EQ(packet_bytes(b[1]), normal);
  b.release_all();
  expect_clean(*r.dev);
}

TEST(IntelRx, AFrameWithoutItsEndYetWaitsForIt) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  const auto frame = make_frame(1800, 4);
  const std::vector<uint8_t> first(frame.begin(), frame.begin() + 1024);
  const std::vector<uint8_t> rest(frame.begin() + 1024, frame.end());
  ASSERT_TRUE(r.dev->write_rx_descriptor(0, first, false));
  PacketBatch b;
  EXPECT_EQ(r.rx(0, b), 0);
  EXPECT_EQ(r.port->rx_ring(0).next(), 0) << "the first half is not consumed";
  ASSERT_TRUE(r.dev->write_rx_descriptor(0, rest, true));
  ASSERT_EQ(r.rx(0, b), 1);
  EXPECT_EQ(packet_bytes(b[0]), frame);
  b.release_all();
  expect_clean(*r.dev);
}

TEST(IntelRx, TheRingWrapsManyTimesAndTheTailNeverPassesTheHead) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  PacketBatch b;
  size_t got = 0;
  // 64-descriptor ring; frames of 1 and 2 descriptors; the device fills it up each round.
  for (int round = 0; round < 20; ++round) {
    size_t sent = 0;
    while (r.dev->deliver(0, make_frame(round % 2 ? 1200 : 200, static_cast<uint8_t>(sent)))) {
      ++sent;
    }
    EXPECT_EQ(r.dev->rx_owned(0), round % 2 ? 1 : 0) << "device has every free descriptor filled";
    size_t n = 0;
    while (r.rx(0, b) > 0) {
      for (Packet* p : b.packets()) {
        EXPECT_EQ(packet_bytes(p), make_frame(round % 2 ? 1200 : 200, static_cast<uint8_t>(n)));
        ++n;
      }
      b.release_all();
    }
    EXPECT_EQ(n, sent);
    got += n;
  }
  EXPECT_GT(got, 20u * 30);
  expect_clean(*r.dev);
  // Only the ring (64) and its stash of fresh buffers (at most 32) hold buffers.
  EXPECT_LE(r.pool->available() + 64, r.pool->capacity());
  EXPECT_GE(r.pool->available() + 64 + 32, r.pool->capacity());
}

TEST(IntelRx, AnEmptyPoolLeavesFramesInTheRing) {
  Rig r({}, Rig::small_opts(), 64 + 8);  // the ring takes 64, 8 left
  ASSERT_TRUE(r.port) << r.error;
  for (uint8_t i = 0; i < 20; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(100, i)));
  PacketBatch held;
  const uint16_t n = r.rx(0, held);
  EXPECT_EQ(n, 8) << "as many as there are buffers to refill with";
  EXPECT_GE(r.port->rx_ring(0).no_buffer_events(), 1u);
  held.release_all();
  PacketBatch b;
  uint16_t rest = 0;
  while (uint16_t k = r.rx(0, b)) {
    for (uint16_t i = 0; i < k; ++i) {
      EXPECT_EQ(packet_bytes(b[i]), make_frame(100, static_cast<uint8_t>(n + rest + i)));
    }
    rest = static_cast<uint16_t>(rest + k);
    b.release_all();
  }
  EXPECT_EQ(rest, 12);
  expect_clean(*r.dev);
}

TEST(IntelRx, ChecksumStatusAndErrors) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  ASSERT_TRUE(r.dev->deliver(0, make_frame(80, 1), kRxStatusL4cs));
  ASSERT_TRUE(r.dev->deliver(0, make_frame(80, 2), kRxStatusL4cs | kRxErrorTcpe));
  ASSERT_TRUE(r.dev->deliver(0, make_frame(80, 3), kRxErrorRxe));
  ASSERT_TRUE(r.dev->deliver(0, make_frame(80, 4)));
  PacketBatch b;
  ASSERT_EQ(r.rx(0, b), 3);
  EXPECT_NE(b[0]->flags & kPacketCsumValid, 0);
  EXPECT_EQ(b[1]->flags & kPacketCsumValid, 0) << "bad checksum: let the receiver decide";
  EXPECT_EQ(packet_bytes(b[2]), make_frame(80, 4));
  EXPECT_EQ(b[2]->flags & kPacketCsumValid, 0);
  EXPECT_EQ(r.port->counters().rx(0).drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
  b.release_all();
}

TEST(IntelRx, RssQueuesAreIndependentRings) {
  IntelOptions o = Rig::small_opts();
  o.rx_queues = 3;
  Rig r({}, o);
  ASSERT_TRUE(r.port) << r.error;
  for (uint16_t q = 0; q < 3; ++q) {
    for (uint8_t i = 0; i <= q; ++i)
      ASSERT_TRUE(r.dev->deliver(q, make_frame(70, uint8_t(q * 10 + i))));
  }
  for (uint16_t q = 0; q < 3; ++q) {
    PacketBatch b;
    EXPECT_EQ(r.rx(q, b), q + 1);
    EXPECT_EQ(packet_bytes(b[0]), make_frame(70, uint8_t(q * 10)));
    b.release_all();
    EXPECT_EQ(r.port->counters().rx(q).packets.get(), q + 1u);
  }
  bool found = false;
  for (const auto& [k, v] : r.port->details()) {
    if (k == "rx_packets_per_queue") {
      found = true;
      EXPECT_EQ(v, "q0=1 q1=2 q2=3");
    }
  }
  EXPECT_TRUE(found);
  expect_clean(*r.dev);
}

}  // namespace
}  // namespace vsw::ports::intel::testing
