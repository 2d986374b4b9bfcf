// tests/unit/intel/intel_bringup_test.cc — what each family's bring-up leaves in the registers
// (ports/intel/ixgbe_layer.cc, igb_layer.cc), in which order the steps that depend on each
// other happen, link state and hardware statistics from housekeeping, and what the destructor
// gives back.
#include <gtest/gtest.h>

#include "ports/intel/igb_regs.h"
#include "ports/intel/ixgbe_regs.h"
#include "tests/unit/intel/intel_test_rig.h"

namespace vsw::ports::intel::testing {
namespace {

namespace x = ixgbe;
namespace g = igb;

FakeIntelConfig igb_cfg() {
  FakeIntelConfig c;
  c.family = NicFamily::Igb82576;
  return c;
}

IntelOptions queues(uint16_t rx, uint16_t workers) {
  IntelOptions o = Rig::small_opts();
  o.rx_queues = rx;
  o.workers = workers;
  return o;
}

TEST(IntelBringUp, Ixgbe82599RegistersEndUpProgrammed) {
  Rig r({}, queues(4, 2));
  ASSERT_TRUE(r.port) << r.error;
  FakeIntelDevice& d = *r.dev;
  EXPECT_TRUE(d.violations().empty()) << d.violations().front();
  EXPECT_EQ(d.command() & 0x4, 0x4) << "bus mastering";
  EXPECT_EQ(d.resets(), 1u);
  EXPECT_EQ(r.port->mac().to_string(), "00:1b:21:0a:0b:0c");
  EXPECT_EQ(r.port->rx_queue_count(), 4);
  EXPECT_EQ(r.port->tx_queue_count(), 2);
  EXPECT_EQ(r.port->type(), "ixgbe");
  EXPECT_EQ(r.port->link_state(), LinkState::Up);

  EXPECT_EQ(d.reg(x::RXCTRL) & x::kRxctrlRxen, x::kRxctrlRxen);
  EXPECT_EQ(d.reg(x::RXPBSIZE(0)), 0x00020000u);
  EXPECT_EQ(d.reg(x::TXPBSIZE(0)), 0x0000A000u);
  EXPECT_EQ(d.reg(x::DTXMXSZRQ), 0xFFFFu);
  EXPECT_EQ(d.reg(x::RTTDCS) & x::kRttdcsArbdis, 0u);
  const uint32_t hl = d.reg(x::HLREG0);
  EXPECT_EQ(hl & (x::kHlreg0RxCrcStrp | x::kHlreg0TxCrcEn | x::kHlreg0TxPadEn | x::kHlreg0JumboEn),
            x::kHlreg0RxCrcStrp | x::kHlreg0TxCrcEn | x::kHlreg0TxPadEn | x::kHlreg0JumboEn);
  EXPECT_EQ(d.reg(x::RDRXCTL) & x::kRdrxctlCrcStrip, x::kRdrxctlCrcStrip);
  EXPECT_EQ(d.reg(x::FCTRL), x::kFctrlBam | x::kFctrlUpe | x::kFctrlMpe);
  EXPECT_EQ(d.reg(x::CTRL_EXT) & x::kCtrlExtNsDis, x::kCtrlExtNsDis);
  EXPECT_EQ(d.reg(x::DMATXCTL), x::kDmatxctlTe);
  EXPECT_EQ(d.reg(x::AUTOC) & (x::kAutocLmsMask | x::kAutoc10GPmaPmdMask), x::kAutocLms10GSerial);
  for (uint16_t q = 0; q < 4; ++q) {
    SCOPED_TRACE(q);
    const uint64_t base = uint64_t{d.reg(x::RDBAL(q))} | uint64_t{d.reg(x::RDBAH(q))} << 32;
    EXPECT_NE(d.to_ptr(base), nullptr);
    EXPECT_EQ(base % 128, 0u);
    EXPECT_EQ(d.reg(x::RDLEN(q)), 64u * 16);
    // 2 KiB pool buffers: 1920 bytes of data room hold one 1 KiB device buffer.
    EXPECT_EQ(d.reg(x::SRRCTL(q)), x::kSrrctlAdvOneBuf | x::kSrrctlDropEn | 1u);
    EXPECT_EQ(d.reg(x::RXDCTL(q)) & x::kRxdctlEnable, x::kRxdctlEnable);
    EXPECT_EQ(d.reg(x::DCA_RXCTRL(q)) & x::kDcaRxctrlBit12, 0u);
    EXPECT_EQ(d.reg(x::RDH(q)), 0u);
    EXPECT_EQ(d.reg(x::RDT(q)), 63u) << "all but one descriptor given to the device";
  }
  for (uint16_t q = 0; q < 2; ++q) {
    EXPECT_NE(d.to_ptr(uint64_t{d.reg(x::TDBAL(q))} | uint64_t{d.reg(x::TDBAH(q))} << 32), nullptr);
    EXPECT_EQ(d.reg(x::TDLEN(q)), 64u * 16);
    EXPECT_EQ(d.reg(x::TXDCTL(q)), x::kTxdctlEnable | 36u | 8u << 8 | 4u << 16);
    EXPECT_EQ(d.reg(x::TDT(q)), 0u);
  }
  EXPECT_EQ(d.reg(x::TXDCTL(2)), 0u) << "one tx queue per worker";
  // RSS: key, round-robin table over 4 queues, MRQC RSS with the hash fields, PCSD.
  EXPECT_EQ(d.reg(x::RSSRK(0)), 0xda565a6du);
  EXPECT_EQ(d.reg(x::RSSRK(9)), 0xfa01acbeu);
  for (uint16_t i = 0; i < 32; ++i) EXPECT_EQ(d.reg(x::RETA(i)), 0x03020100u) << i;
  EXPECT_EQ(d.reg(x::MRQC), x::kMrqcRss | x::kMrqcHashFields);
  EXPECT_EQ(d.reg(x::RXCSUM) & x::kRxcsumPcsd, x::kRxcsumPcsd);
}

TEST(IntelBringUp, Ixgbe82599StepsComeInDatasheetOrder) {
  Rig r({}, queues(2, 2));
  ASSERT_TRUE(r.port) << r.error;
  const FakeIntelDevice& d = *r.dev;
  const long eimc = d.first_write(x::EIMC, ~0u, x::kEimcAll);
  const long reset = d.first_write(x::CTRL, x::kCtrlRst, x::kCtrlRst);
  const long autoc = d.first_write(x::AUTOC, x::kAutocAnRestart, x::kAutocAnRestart);
  const long rxen_off = d.first_write(x::RXCTRL, x::kRxctrlRxen, 0);
  const long rdlen = d.last_write(x::RDLEN(1));
  const long srrctl = d.last_write(x::SRRCTL(1));
  const long ns_dis = d.first_write(x::CTRL_EXT, x::kCtrlExtNsDis, x::kCtrlExtNsDis);
  const long rxen = d.first_write(x::RXCTRL, x::kRxctrlRxen, x::kRxctrlRxen);
  const long tdlen = d.last_write(x::TDLEN(1));
  const long te = d.first_write(x::DMATXCTL, x::kDmatxctlTe, x::kDmatxctlTe);
  const long rxq = d.first_write(x::RXDCTL(0), x::kRxdctlEnable, x::kRxdctlEnable);
  const long rdt = d.last_write(x::RDT(0));
  const long txq = d.first_write(x::TXDCTL(0), x::kTxdctlEnable, x::kTxdctlEnable);
  const long promisc = d.first_write(x::FCTRL, x::kFctrlUpe, x::kFctrlUpe);
  for (long i : {eimc, reset, autoc, rxen_off, rdlen, srrctl, ns_dis, rxen, tdlen, te, rxq, rdt,
                 txq, promisc}) {
    ASSERT_GE(i, 0);
  }
  EXPECT_LT(eimc, reset);      // §4.6.3.1 interrupts off first
  EXPECT_LT(reset, autoc);     // link after the reset
  EXPECT_LT(rxen_off, rdlen);  // §4.6.7: receive off while rings are programmed
  EXPECT_LT(srrctl, rxen);
  EXPECT_LT(rdlen, ns_dis);
  EXPECT_LT(ns_dis, rxen);  // RXEN is the last step of receive init
  EXPECT_LT(rxen, tdlen);   // §4.6.8 after §4.6.7
  EXPECT_LT(tdlen, te);
  EXPECT_LT(te, rxq);   // queues enabled after DMA init
  EXPECT_LT(rxq, rdt);  // RDT = N - 1 once the queue is on
  EXPECT_LT(rdt, txq);
  EXPECT_LT(txq, promisc);
}

TEST(IntelBringUp, Igb82576RegistersEndUpProgrammed) {
  Rig r(igb_cfg(), queues(2, 3));
  ASSERT_TRUE(r.port) << r.error;
  FakeIntelDevice& d = *r.dev;
  EXPECT_TRUE(d.violations().empty()) << d.violations().front();
  EXPECT_EQ(r.port->type(), "igb");
  EXPECT_EQ(r.port->rx_queue_count(), 2);
  EXPECT_EQ(r.port->tx_queue_count(), 3);
  EXPECT_EQ(r.port->link_state(), LinkState::Up) << "link needs the PHY autoneg restart";
  EXPECT_EQ(d.reg(g::RCTL),
            g::kRctlEn | g::kRctlBam | g::kRctlSecrc | g::kRctlLpe | g::kRctlUpe | g::kRctlMpe);
  EXPECT_EQ(d.reg(g::TCTL) & (g::kTctlEn | g::kTctlPsp), g::kTctlEn | g::kTctlPsp);
  EXPECT_EQ(d.reg(g::CTRL) & g::kCtrlSlu, g::kCtrlSlu);
  EXPECT_EQ(d.reg(g::RLPML), 9728u);
  for (uint16_t q = 0; q < 2; ++q) {
    SCOPED_TRACE(q);
    EXPECT_EQ(d.reg(g::RDLEN(q)), 64u * 16);
    EXPECT_EQ(d.reg(g::SRRCTL(q)), g::kSrrctlAdvOneBuf | g::kSrrctlDropEn | 1u);
    EXPECT_EQ(d.reg(g::RXDCTL(q)), g::kRxdctlEnable | g::kRxdctlThresholds);
    EXPECT_EQ(d.reg(g::RDT(q)), 63u);
  }
  for (uint16_t q = 0; q < 3; ++q) {
    EXPECT_EQ(d.reg(g::TDLEN(q)), 64u * 16);
    EXPECT_EQ(d.reg(g::TXDCTL(q)), g::kTxdctlEnable | g::kTxdctlThresholds);
  }
  // RSS as QEMU's model needs it: MRQC RSS_MQ and RXCSUM.PCSD.
  EXPECT_EQ(d.reg(g::MRQC), g::kMrqcRssMq | g::kMrqcHashFields);
  EXPECT_EQ(d.reg(g::RXCSUM) & g::kRxcsumPcsd, g::kRxcsumPcsd);
  EXPECT_EQ(d.reg(g::RETA(0)), 0x01000100u);
  EXPECT_EQ(d.reg(g::RSSRK(0)), 0xda565a6du);
  // Receive turned on last, after every queue was enabled and given its descriptors.
  EXPECT_LT(d.last_write(g::RDT(1)), d.first_write(g::RCTL, g::kRctlEn, g::kRctlEn));
  EXPECT_LT(d.first_write(g::CTRL, g::kCtrlRst, g::kCtrlRst), d.first_write(g::MDIC, 0, 0));
}

TEST(IntelBringUp, OneQueueMeansNoRss) {
  Rig r(igb_cfg(), queues(0, 1));
  ASSERT_TRUE(r.port) << r.error;
  EXPECT_EQ(r.dev->reg(g::MRQC), 0u);
  EXPECT_EQ(r.dev->reg(g::SRRCTL(0)), g::kSrrctlAdvOneBuf | 1u);
  EXPECT_EQ(r.port->rx_queue_count(), 1);
}

TEST(IntelBringUp, DefaultRxQueuesFollowWorkersUpToTheRssLimit) {
  Rig r(igb_cfg(), queues(0, 12));
  ASSERT_TRUE(r.port) << r.error;
  EXPECT_EQ(r.port->rx_queue_count(), 8);
  EXPECT_EQ(r.port->tx_queue_count(), 12);
}

TEST(IntelBringUp, RefusesWhatTheFamilyCannotDo) {
  Rig too_many(igb_cfg(), queues(9, 1));
  EXPECT_FALSE(too_many.port);
  EXPECT_NE(too_many.error.find("rx-queues=9"), std::string::npos) << too_many.error;
  IntelOptions odd = Rig::small_opts();
  odd.ring_size = 100;
  Rig bad_ring({}, odd);
  EXPECT_FALSE(bad_ring.port);
  EXPECT_NE(bad_ring.error.find("power of two"), std::string::npos) << bad_ring.error;
}

TEST(IntelBringUp, AQueueThatNeverEnablesIsAnErrorAndEverythingIsGivenBack) {
  FakeIntelConfig c;
  c.queues_enable = false;
  Rig r(c);
  EXPECT_FALSE(r.port);
  EXPECT_NE(r.error.find("RXDCTL(0).ENABLE"), std::string::npos) << r.error;
  EXPECT_EQ(r.dev->mapped_regions(), 0u);
  EXPECT_EQ(r.pool->available(), r.pool->capacity());
  EXPECT_EQ(r.dev->resets(), 2u) << "reset again on the way out";
}

TEST(IntelBringUp, LinkDownProceedsAndHousekeepingFollowsTheLink) {
  FakeIntelConfig c;
  c.link_up = false;
  Rig r(c);
  ASSERT_TRUE(r.port) << r.error;
  EXPECT_EQ(r.port->link_state(), LinkState::Down);
  r.dev->set_link(true);
  r.port->housekeeping();
  EXPECT_EQ(r.port->link_state(), LinkState::Up);
  r.dev->set_link(false);
  r.port->housekeeping();
  EXPECT_EQ(r.port->link_state(), LinkState::Down);
}

TEST(IntelBringUp, MissedPacketsBecomeNoBufferDrops) {
  Rig r;
  ASSERT_TRUE(r.port) << r.error;
  r.dev->add_missed(7);
  r.port->housekeeping();
  r.dev->add_missed(2);
  r.port->housekeeping();
  const PortStats s = r.port->counters().snapshot();
  EXPECT_EQ(s.rx_drops[static_cast<size_t>(DropReason::NoBuffer)], 9u);
  EXPECT_EQ(r.port->hw_stats().missed, 9u);
  bool found = false;
  for (const auto& [k, v] : r.port->details()) {
    if (k == "hw_missed") {
      found = true;
      EXPECT_EQ(v, "9");
    }
  }
  EXPECT_TRUE(found);
}

TEST(IntelBringUp, DestructorResetsUnmapsAndReturnsEveryBuffer) {
  for (NicFamily f : {NicFamily::Ixgbe82599, NicFamily::Igb82576}) {
    FakeIntelConfig c;
    c.family = f;
    Rig r(c, queues(2, 2));
    ASSERT_TRUE(r.port) << r.error;
    EXPECT_LT(r.pool->available(), r.pool->capacity());
    EXPECT_EQ(r.dev->mapped_regions(), 2u) << "rings and pool";
    // A frame in flight on a tx ring is released too.
    PacketBatch b;
    b.push(pool_packet(*r.pool, make_frame(100, 1)));
    EXPECT_EQ(r.port->tx_burst(0, b), 1);
    r.port.reset();
    EXPECT_EQ(r.dev->resets(), 2u);
    EXPECT_EQ(r.dev->mapped_regions(), 0u);
    EXPECT_EQ(r.pool->available(), r.pool->capacity());
  }
}

}  // namespace
}  // namespace vsw::ports::intel::testing
