// tests/unit/intel/intel_tx_test.cc — the transmit half of the descriptor engine
// (ports/intel/tx_ring.cc) against the fake device: zero copy of pool frames, copies of frames
// the device cannot reach (lent or unmapped memory), one RS and one TDT write per batch,
// cleanup only once the device wrote DD back, a full ring, chained frames, ring wrap.
#include <gtest/gtest.h>

#include "ports/intel/ixgbe_regs.h"
#include "tests/unit/intel/intel_test_rig.h"

namespace vsw::ports::intel::testing {
namespace {

namespace x = ixgbe;

void expect_clean(const FakeIntelDevice& d) {
  for (const std::string& v : d.violations()) ADD_FAILURE() << v;
}

const AdvTxDesc* tx_desc(const Rig& r, uint16_t q, uint16_t i) {
  const uint64_t base = uint64_t{r.dev->reg(x::TDBAL(q))} | uint64_t{r.dev->reg(x::TDBAH(q))} << 32;
  return reinterpret_cast<const AdvTxDesc*>(r.dev->to_ptr(base + 16ull * i));
}

TEST(IntelTx, PoolFramesGoByReferenceWithOneRsAndOneDoorbellPerBatch) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  PacketBatch b;
  std::vector<Packet*> sent;
  for (uint8_t i = 0; i < 5; ++i) {
    sent.push_back(pool_packet(*r.pool, make_frame(60 + i, i)));
    b.push(sent.back());
  }
  const size_t doorbells = r.writes_to(x::TDT(0));
  EXPECT_EQ(r.port->tx_burst(0, b), 5);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(r.writes_to(x::TDT(0)), doorbells + 1);
  EXPECT_EQ(r.dev->reg(x::TDT(0)), 5u);
  for (uint16_t i = 0; i < 5; ++i) {
    const AdvTxDesc* d = tx_desc(r, 0, i);
    EXPECT_EQ(d->read.buffer_addr, r.dev->dma_address(sent[i]->data())) << "zero copy";
    EXPECT_EQ(d->read.cmd_type_len & kTxCmdRs, i == 4 ? kTxCmdRs : 0u) << i;
    EXPECT_EQ(d->read.cmd_type_len & 0xFFFF, 60u + i);
    EXPECT_EQ(d->read.cmd_type_len & (kTxCmdEop | kTxCmdIfcs | kTxCmdDext | kTxDtypData),
              kTxCmdEop | kTxCmdIfcs | kTxCmdDext | kTxDtypData);
  }
  EXPECT_EQ(r.port->tx_zero_copy(), 5u);
  EXPECT_EQ(r.port->tx_copied(), 0u);
  const auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 5u);
  for (uint8_t i = 0; i < 5; ++i) EXPECT_EQ(frames[i].bytes, make_frame(60 + i, i));
  EXPECT_EQ(r.port->counters().tx(0).packets.get(), 5u);
  expect_clean(*r.dev);
}

TEST(IntelTx, BuffersComeBackOnlyAfterTheDeviceWroteDdBack) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  const uint32_t avail = r.pool->available();
  PacketBatch b;
  for (uint8_t i = 0; i < 10; ++i) b.push(pool_packet(*r.pool, make_frame(100, i)));
  ASSERT_EQ(r.port->tx_burst(0, b), 10);
  EXPECT_EQ(r.pool->available(), avail - 10) << "held until completion";
  PacketBatch empty;
  r.port->tx_burst(0, empty);
  EXPECT_EQ(r.pool->available(), avail - 10) << "no DD yet";
  EXPECT_EQ(r.port->tx_ring(0).in_flight(), 10);
  ASSERT_EQ(r.dev->consume_tx(0).size(), 10u);
  r.port->tx_burst(0, empty);
  EXPECT_EQ(r.pool->available(), avail) << "cleaned in one chunk";
  EXPECT_EQ(r.port->tx_ring(0).in_flight(), 0);
  expect_clean(*r.dev);
}

TEST(IntelTx, AFullRingDropsTxFullAndUsesAtMostNMinusOne) {
  Rig r;  // 64 descriptors
  ASSERT_TRUE(r.port) << r.error;
  uint16_t sent = 0;
  for (int round = 0; round < 3; ++round) {
    PacketBatch b;
    for (uint8_t i = 0; i < 32; ++i) b.push(pool_packet(*r.pool, make_frame(64, i)));
    sent = static_cast<uint16_t>(sent + r.port->tx_burst(0, b));
  }
  EXPECT_EQ(sent, 63);
  EXPECT_EQ(r.port->counters().tx(0).drops[static_cast<size_t>(DropReason::TxFull)].get(), 33u);
  EXPECT_EQ(r.dev->consume_tx(0).size(), 63u);
  // After completion the ring takes frames again, across the wrap.
  PacketBatch b;
  for (uint8_t i = 0; i < 32; ++i) b.push(pool_packet(*r.pool, make_frame(64, i)));
  EXPECT_EQ(r.port->tx_burst(0, b), 32);
  const auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 32u);
  EXPECT_EQ(frames[31].bytes, make_frame(64, 31));
  expect_clean(*r.dev);
}

TEST(IntelTx, ManyBatchesWrapTheRingAndEveryBufferComesBack) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  const uint32_t avail = r.pool->available();
  size_t got = 0;
  PacketBatch empty;
  for (int round = 0; round < 50; ++round) {
    PacketBatch b;
    for (uint8_t i = 0; i < 7; ++i)
      b.push(pool_packet(*r.pool, make_frame(90, uint8_t(round + i))));
    ASSERT_EQ(r.port->tx_burst(0, b), 7);
    if (round % 3 == 2) {
      for (const TxFrame& f : r.dev->consume_tx(0)) {
        EXPECT_EQ(f.bytes.size(), 90u);
        ++got;
      }
    }
  }
  got += r.dev->consume_tx(0).size();
  r.port->tx_burst(0, empty);
  EXPECT_EQ(got, 350u);
  EXPECT_EQ(r.pool->available(), avail);
  expect_clean(*r.dev);
}

TEST(IntelTx, ChainedFramesTakeADescriptorPerSegmentWithPaylenFirst) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  const auto a = make_frame(1000, 1), c = make_frame(500, 2);
  Packet* head = pool_packet(*r.pool, a);
  Packet* tail = pool_packet(*r.pool, c);
  head->next = tail;
  head->frame_len = 1500;
  PacketBatch b;
  b.push(head);
  ASSERT_EQ(r.port->tx_burst(0, b), 1);
  EXPECT_EQ(tx_desc(r, 0, 0)->read.olinfo_status, 1500u << kTxPaylenShift);
  EXPECT_EQ(tx_desc(r, 0, 0)->read.cmd_type_len & kTxCmdEop, 0u);
  EXPECT_EQ(tx_desc(r, 0, 1)->read.olinfo_status, 0u);
  EXPECT_EQ(tx_desc(r, 0, 1)->read.cmd_type_len & (kTxCmdEop | kTxCmdRs), kTxCmdEop | kTxCmdRs);
  const auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].descriptors, 2);
  std::vector<uint8_t> whole = a;
  whole.insert(whole.end(), c.begin(), c.end());
  EXPECT_EQ(frames[0].bytes, whole);
  expect_clean(*r.dev);
}

// A lending port's frame: memory the device cannot reach, released by the lender's owner.
class Lender final : public BufferOwner {
 public:
  void release(Packet*) noexcept override { ++released; }
  int released = 0;
};

TEST(IntelTx, LentAndUnmappedFramesAreCopiedIntoThePortsPool) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  // An owned frame of a pool the device has not mapped.
  auto other = make_pool(64, "unmapped");
  Packet* unmapped = pool_packet(*other, make_frame(200, 7));
  // A lent frame (memif/vhost-user style): private header, peer memory.
  alignas(64) std::byte peer[256];
  const auto bytes = make_frame(120, 9);
  std::memcpy(peer, bytes.data(), bytes.size());
  Lender lender;
  Packet lent{};
  lent.base = peer;
  lent.owner = &lender;
  lent.buf_len = sizeof peer;
  lent.len = 120;
  lent.frame_len = 120;
  lent.flags = kPacketLent;
  lent.refs.store(1);
  PacketBatch b;
  b.push(unmapped);
  b.push(&lent);
  b.push(pool_packet(*r.pool, make_frame(70, 3)));
  ASSERT_EQ(r.port->tx_burst(0, b), 3);
  EXPECT_EQ(lender.released, 1) << "the lent frame is given back inside the burst";
  EXPECT_EQ(other->available(), other->capacity()) << "the unmapped original too";
  EXPECT_EQ(r.port->tx_copied(), 2u);
  EXPECT_EQ(r.port->tx_zero_copy(), 1u);
  for (uint16_t i = 0; i < 3; ++i)
    EXPECT_NE(r.dev->to_ptr(tx_desc(r, 0, i)->read.buffer_addr), nullptr);
  const auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].bytes, make_frame(200, 7));
  EXPECT_EQ(frames[1].bytes, bytes);
  EXPECT_EQ(frames[2].bytes, make_frame(70, 3));
  bool shown = false;
  for (const auto& [k, v] : r.port->details()) {
    if (k == "tx_copied") {
      shown = true;
      EXPECT_EQ(v, "2");
    }
  }
  EXPECT_TRUE(shown);
  expect_clean(*r.dev);
}

TEST(IntelTx, JumboFramesGoOutAsChainsWithAJumboMtu) {
  IntelOptions o = Rig::small_opts();
  o.mtu = 9000;
  Rig r({}, o);
  ASSERT_TRUE(r.port) << r.error;
  EXPECT_EQ(r.port->mtu(), 9000u);
  // A received 9000-byte frame (a chain of nine 1 KiB segments) sent back out.
  const auto jumbo = make_frame(9000, 5);
  ASSERT_TRUE(r.dev->deliver(0, jumbo));
  PacketBatch b;
  ASSERT_EQ(r.port->rx_burst(0, b), 1);
  ASSERT_EQ(chain_length(b[0]), 9u);
  EXPECT_EQ(r.port->transmit(uint16_t{0}, b), 1);
  const auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].descriptors, 9);
  EXPECT_EQ(frames[0].bytes, jumbo);
  EXPECT_EQ(r.port->tx_zero_copy(), 1u);
  expect_clean(*r.dev);
}

TEST(IntelTx, TransmitThroughThePortPicksTheWorkersQueue) {
  IntelOptions o = Rig::small_opts();
  o.workers = 2;
  Rig r({}, o);
  ASSERT_TRUE(r.port) << r.error;
  PacketBatch b;
  b.push(pool_packet(*r.pool, make_frame(64, 1)));
  EXPECT_EQ(r.port->transmit(uint16_t{1}, b), 1);
  EXPECT_EQ(r.dev->consume_tx(1).size(), 1u);
  EXPECT_EQ(r.dev->consume_tx(0).size(), 0u);
}

}  // namespace
}  // namespace vsw::ports::intel::testing
