// tests/models/ixgbe_model_test.cc — the 82599 model driven by register sequences (ModelDriver):
// the datasheet's order passes without violations, each broken rule is detected, and the
// receive/transmit engines, statistics, filtering and RSS behave as the datasheet says.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <thread>

#include "tests/models/model_driver.h"
#include "tests/models/model_pci_device.h"
#include "tests/models/model_report.h"
#include "tests/models/toeplitz.h"

namespace vsw::tests::models {
namespace {

using namespace ixgbe;

constexpr std::array<uint8_t, 6> kMac = ModelPciDevice::kDefaultMac;

std::vector<uint8_t> udp_frame(std::array<uint8_t, 6> dst, std::array<uint8_t, 4> sip,
                               std::array<uint8_t, 4> dip, uint16_t sport, uint16_t dport,
                               size_t payload = 18) {
  std::vector<uint8_t> f(42 + payload, 0);
  std::copy(dst.begin(), dst.end(), f.begin());
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::copy(src, src + 6, f.begin() + 6);
  f[12] = 0x08;
  f[14] = 0x45;
  const uint16_t tot = static_cast<uint16_t>(28 + payload);
  f[16] = static_cast<uint8_t>(tot >> 8);
  f[17] = static_cast<uint8_t>(tot);
  f[22] = 64;
  f[23] = 17;
  std::copy(sip.begin(), sip.end(), f.begin() + 26);
  std::copy(dip.begin(), dip.end(), f.begin() + 30);
  f[34] = static_cast<uint8_t>(sport >> 8);
  f[35] = static_cast<uint8_t>(sport);
  f[36] = static_cast<uint8_t>(dport >> 8);
  f[37] = static_cast<uint8_t>(dport);
  for (size_t i = 0; i < payload; ++i) f[42 + i] = static_cast<uint8_t>(i * 7 + 1);
  return f;
}

bool has_violation(const IxgbeModel& m, const std::string& needle) {
  for (const std::string& v : m.violations()) {
    if (v.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string all(const IxgbeModel& m) {
  std::string s;
  for (const std::string& v : m.violations()) s += v + "\n";
  return s;
}

struct Rig {
  explicit Rig(unsigned queues = 1, uint32_t ring = 64, uint32_t buf_kib = 2)
      : drv(dev, queues, ring, buf_kib) {}
  ModelPciDevice dev;
  ModelDriver drv;
  IxgbeModel& model() { return dev.model(); }
};

// --- the datasheet order is accepted
// ---------------------------------------------------------------
TEST(IxgbeModel, DatasheetInitOrderHasNoViolations) {
  Rig r(4);
  r.drv.init_all();
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
  EXPECT_EQ(r.drv.rd(reg::LINKS) & (bit::LINKS_UP | bit::LINKS_SPEED_10G),
            bit::LINKS_UP | bit::LINKS_SPEED_10G);
}

TEST(IxgbeModel, PciIdentityAndBar) {
  ModelPciDevice dev;
  EXPECT_EQ(dev.vendor_id(), 0x8086);
  EXPECT_EQ(dev.device_id(), 0x10FB);
  EXPECT_EQ(*dev.config16(0), 0x8086);
  EXPECT_EQ(*dev.config16(2), 0x10FB);
  auto bar = dev.bar(0);
  ASSERT_TRUE(bar.has_value());
  EXPECT_EQ((*bar)->size(), 128u * 1024);
  EXPECT_EQ((*bar)->mapped(), nullptr);
  EXPECT_FALSE(dev.bar(2).has_value());
}

TEST(IxgbeModel, ResetSelfClearsAndLoadsDefaults) {
  Rig r;
  r.drv.wr(reg::SRRCTL_ALIAS0, 0x02000004);
  r.drv.wr(reg::CTRL, bit::CTRL_RST | bit::CTRL_LNK_RST);
  EXPECT_NE(r.drv.rd(reg::CTRL) & bit::CTRL_RST, 0u);  // in progress right after the write
  ASSERT_TRUE(r.drv.wait(reg::CTRL, bit::CTRL_RST | bit::CTRL_LNK_RST, 0));
  ASSERT_TRUE(r.drv.wait(reg::EEC, bit::EEC_ARD, bit::EEC_ARD));
  ASSERT_TRUE(r.drv.wait(reg::RDRXCTL, bit::RDRXCTL_DMAIDONE, bit::RDRXCTL_DMAIDONE));
  EXPECT_EQ(r.drv.rd(reg::SRRCTL_ALIAS0), bit::SRRCTL_RESET);            // 2 KiB again
  EXPECT_EQ(r.drv.rd(reg::RXQ_LOW + reg::Q_SRRCTL), bit::SRRCTL_RESET);  // same register
  EXPECT_EQ(r.drv.rd(reg::RAL0), 0x00211b02u);
  EXPECT_EQ(r.drv.rd(reg::RAL0 + 4), 0x9982u | bit::RAH_AV);
  EXPECT_EQ(r.drv.rd(reg::RAL_LEGACY0), r.drv.rd(reg::RAL0));
  EXPECT_NE(r.drv.rd(reg::DCA_RXCTRL_ALIAS0) & bit::DCA_RXCTRL_BIT12, 0u);
  EXPECT_EQ(r.drv.rd(reg::LINKS) & bit::LINKS_UP, 0u);  // no link before AN_RESTART
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

TEST(IxgbeModel, LinkComesUpAfterAnRestartAndCanBeDropped) {
  Rig r;
  r.drv.reset();
  EXPECT_EQ(r.drv.rd(reg::LINKS) & bit::LINKS_UP, 0u);
  r.drv.init_link();
  ASSERT_TRUE(r.drv.wait(reg::LINKS, bit::LINKS_UP, bit::LINKS_UP));
  EXPECT_EQ(r.drv.rd(reg::AUTOC) & bit::AUTOC_AN_RESTART, 0u);  // self-clearing
  r.model().set_link(false);
  EXPECT_EQ(r.drv.rd(reg::LINKS) & bit::LINKS_UP, 0u);
}

TEST(IxgbeModel, InterruptCauseReadToClearAndMaskSetClear) {
  Rig r;
  r.drv.reset();
  r.drv.wr(reg::EICS, 0x5);
  EXPECT_EQ(r.drv.rd(reg::EICR), 0x5u);
  EXPECT_EQ(r.drv.rd(reg::EICR), 0u);
  r.drv.wr(reg::EIMS, 0xF0);
  r.drv.wr(reg::EIMS, 0x0F);
  EXPECT_EQ(r.drv.rd(reg::EIMS), 0xFFu);
  r.drv.wr(reg::EIMC, 0x3C);
  EXPECT_EQ(r.drv.rd(reg::EIMS), 0xC3u);
}

// --- MSI-X (§7.3) -------------------------------------------------------------------------------
bool readable(int fd) {
  uint64_t v;
  return ::read(fd, &v, sizeof v) == sizeof v;  // non-blocking: consumes the count
}

// MSI-X as vsw's driver sets it up: GPIE, IVAR rx queue q -> vector q, EIAC, EIAM_EX, masked.
void program_msix(Rig& r, unsigned vectors) {
  r.drv.wr(reg::GPIE, bit::GPIE_MSIX_MODE | bit::GPIE_EIAME | bit::GPIE_PBA_SUPPORT);
  for (unsigned q = 0; q < vectors; ++q) {
    const uint32_t off = reg::IVAR0 + 4 * (q / 2);
    r.drv.wr(off, r.drv.rd(off) | (bit::IVAR_ALLOC_VAL | q) << (16 * (q % 2)));
  }
  const uint32_t mask = (1u << vectors) - 1;
  r.drv.wr(reg::EIAC, mask);
  r.drv.wr(reg::EIAM_EX0, mask);
}

TEST(IxgbeModelMsix, FrameSignalsItsQueuesVectorOnceWhileUnmasked) {
  Rig r(2);
  r.drv.init_all();
  auto fds = r.dev.msix_eventfds(2);
  ASSERT_TRUE(fds) << fds.error().message;
  program_msix(r, 2);
  const auto frame = udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2);
  // masked: the cause is recorded, no message
  ASSERT_EQ(r.model().receive(frame), RxOutcome::Delivered);
  EXPECT_FALSE(readable((*fds)[0]));
  EXPECT_EQ(r.drv.rd(reg::EICR) & 1u, 1u);  // read-to-clear
  // unmasked: one message, then EIAC clears the cause and EIAM_EX masks the vector
  r.drv.wr(reg::EIMS, 0x1);
  ASSERT_EQ(r.model().receive(frame), RxOutcome::Delivered);
  EXPECT_TRUE(readable((*fds)[0]));
  EXPECT_FALSE(readable((*fds)[1]));
  EXPECT_EQ(r.model().peek(reg::EICR) & 1u, 0u) << "auto-cleared";
  EXPECT_EQ(r.model().peek(reg::EIMS) & 1u, 0u) << "auto-masked";
  ASSERT_EQ(r.model().receive(frame), RxOutcome::Delivered);
  EXPECT_FALSE(readable((*fds)[0])) << "masked after its message";
  // a pending cause fires when the vector is unmasked
  r.drv.wr(reg::EIMS, 0x1);
  EXPECT_TRUE(readable((*fds)[0]));
  EXPECT_EQ(r.model().counters().msix_messages[0], 2u);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

TEST(IxgbeModelMsixStrict, IvarVectorBeyondThoseAllocatedIsAViolation) {
  Rig r;
  r.drv.init_all();
  ASSERT_TRUE(r.dev.msix_eventfds(2));
  r.drv.wr(reg::GPIE, bit::GPIE_MSIX_MODE | bit::GPIE_PBA_SUPPORT);
  r.drv.wr(reg::IVAR0 + 4, bit::IVAR_ALLOC_VAL | 1);  // rx queue 2 -> vector 1: fine
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
  r.drv.wr(reg::IVAR0 + 4, (bit::IVAR_ALLOC_VAL | 2) << 16);  // rx queue 3 -> vector 2
  EXPECT_TRUE(has_violation(r.model(), "IVAR maps a cause")) << all(r.model());
  EXPECT_TRUE(has_violation(r.model(), "IVAR(1) rx queue 3 -> vector 2")) << all(r.model());
}

TEST(IxgbeModelMsixStrict, IvarInMsixModeWithoutVectorsIsAViolation) {
  Rig r;
  r.drv.init_all();
  r.drv.wr(reg::GPIE, bit::GPIE_MSIX_MODE | bit::GPIE_PBA_SUPPORT);
  r.drv.wr(reg::IVAR0, bit::IVAR_ALLOC_VAL);
  EXPECT_TRUE(has_violation(r.model(), "IVAR maps a cause")) << all(r.model());
}

TEST(IxgbeModelMsixStrict, EimsBeforeGpieMsixModeIsAViolation) {
  Rig r;
  r.drv.init_all();
  ASSERT_TRUE(r.dev.msix_eventfds(1));
  r.drv.wr(reg::EIMS, 0x1);
  EXPECT_TRUE(has_violation(r.model(), "before GPIE.MSIX_MODE")) << all(r.model());
}

TEST(IxgbeModelMsixStrict, EimsOfAVectorNotGivenIsAViolation) {
  Rig r;
  r.drv.init_all();
  ASSERT_TRUE(r.dev.msix_eventfds(2));
  r.drv.wr(reg::GPIE, bit::GPIE_MSIX_MODE | bit::GPIE_PBA_SUPPORT);
  r.drv.wr(reg::EIMS, 0x3);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
  r.drv.wr(reg::EIMS, 0x4);
  EXPECT_TRUE(has_violation(r.model(), "EIMS unmasks an MSI-X vector the function was not given"))
      << all(r.model());
}

TEST(IxgbeModelMsixStrict, MsixModeWithoutPbaSupportIsAViolation) {
  Rig r;
  r.drv.init_all();
  r.drv.wr(reg::GPIE, bit::GPIE_MSIX_MODE);
  EXPECT_TRUE(has_violation(r.model(), "without GPIE.PBA_SUPPORT")) << all(r.model());
}

TEST(IxgbeModelMsix, WithoutMsixEimsIsPlainMaskState) {
  // Legacy/MSI use (no vectors given): EIMS writes are no violation and send nothing.
  Rig r;
  r.drv.init_all();
  r.drv.wr(reg::EIMS, 0xFFFF);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

// --- order rules ---------------------------------------------------------------------------------
TEST(IxgbeModelStrict, AccessDuringResetIsAViolation) {
  Rig r;
  r.drv.wr(reg::CTRL, bit::CTRL_RST);
  r.drv.wr(reg::EIMC, 0x7FFFFFFF);  // too early: the reset is still running
  EXPECT_TRUE(has_violation(r.model(), "while CTRL.RST is in progress")) << all(r.model());
}

TEST(IxgbeModelStrict, RxEnableBeforeDmaInitDoneIsAViolation) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.wr(reg::CTRL, bit::CTRL_RST | bit::CTRL_LNK_RST);
  ASSERT_TRUE(r.drv.wait(reg::CTRL, bit::CTRL_RST, 0));
  // EEC.ARD / RDRXCTL.DMAIDONE never polled.
  r.drv.init_rx();
  EXPECT_TRUE(has_violation(r.model(), "before EEC.ARD and RDRXCTL.DMAIDONE")) << all(r.model());
}

TEST(IxgbeModelStrict, QueueEnableWithoutResetIsAViolation) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.init_rx();
  EXPECT_TRUE(has_violation(r.model(), "before the global reset")) << all(r.model());
}

TEST(IxgbeModelStrict, QueueEnableBeforeRingProgrammedIsAViolation) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.wr(reg::RXQ_LOW + reg::Q_SRRCTL, 2 | bit::SRRCTL_DESCTYPE_ADV_ONEBUF);
  r.drv.wr(reg::RXQ_LOW + reg::Q_DCA, 0);
  r.drv.wr(reg::RXQ_LOW + reg::Q_CTL, bit::RXDCTL_ENABLE);
  EXPECT_TRUE(has_violation(r.model(), "before its ring base and length were programmed"))
      << all(r.model());
  EXPECT_EQ(r.drv.rd(reg::RXQ_LOW + reg::Q_CTL) & bit::RXDCTL_ENABLE, 0u);  // stays off
}

TEST(IxgbeModelStrict, TxEnableBeforeTransmitEnableIsAViolation) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  const uint64_t base = r.drv.iova(r.drv.tx_ring(0));
  r.drv.wr(reg::TXQ + reg::Q_BAL, static_cast<uint32_t>(base));
  r.drv.wr(reg::TXQ + reg::Q_BAH, static_cast<uint32_t>(base >> 32));
  r.drv.wr(reg::TXQ + reg::Q_LEN, 64 * 16);
  r.drv.wr(reg::TXQ + reg::Q_CTL, bit::TXDCTL_ENABLE);
  EXPECT_TRUE(has_violation(r.model(), "TXDCTL.ENABLE before DMATXCTL.TE")) << all(r.model());
}

TEST(IxgbeModelStrict, HeadWriteWhileEnabledIsAViolation) {
  Rig r;
  r.drv.init_all();
  ASSERT_EQ(r.model().violation_count(), 0u) << all(r.model());
  r.drv.wr(reg::RXQ_LOW + reg::Q_HEAD, 0);
  EXPECT_TRUE(has_violation(r.model(), "RDH written while the queue is enabled"));
  r.drv.wr(reg::TXQ + reg::Q_HEAD, 0);
  EXPECT_TRUE(has_violation(r.model(), "TDH written while the queue is enabled"));
  r.drv.wr(reg::RXQ_LOW + reg::Q_LEN, 128);
  EXPECT_TRUE(has_violation(r.model(), "rx ring registers written while RXDCTL.ENABLE"));
}

TEST(IxgbeModelStrict, TailGivenBeforeTheQueueIsEnabledIsAViolation) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.init_rx();
  r.drv.wr(reg::RXQ_LOW + reg::Q_TAIL, r.drv.ring() - 1);  // before RXDCTL.ENABLE
  EXPECT_TRUE(has_violation(r.model(), "RDT moved before the rx queue was enabled"))
      << all(r.model());
}

TEST(IxgbeModelStrict, TailBeyondRingAndLengthNotMultipleOf128) {
  Rig r;
  r.drv.init_all();
  r.drv.wr(reg::RXQ_LOW + reg::Q_TAIL, 64);
  EXPECT_TRUE(has_violation(r.model(), "RDT beyond the ring"));
  r.drv.wr(reg::TXQ + reg::Q_TAIL, 100);
  EXPECT_TRUE(has_violation(r.model(), "TDT beyond the ring"));
  r.drv.wr(reg::RXQ_LOW + 0x40 * 5 + reg::Q_LEN, 100);
  EXPECT_TRUE(has_violation(r.model(), "RDLEN must be a multiple of 128"));
  r.drv.wr(reg::TXQ + 0x40 * 5 + reg::Q_LEN, 16);
  EXPECT_TRUE(has_violation(r.model(), "TDLEN must be a multiple of 128"));
}

TEST(IxgbeModelStrict, ReservedBitsAreViolations) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.wr(reg::SRRCTL_ALIAS0 + 4, 0x02000002u | (1u << 30));
  EXPECT_TRUE(has_violation(r.model(), "SRRCTL reserved bits"));
  r.drv.wr(reg::TXQ + reg::Q_CTL, 1u << 7);
  EXPECT_TRUE(has_violation(r.model(), "TXDCTL reserved bits"));
  r.drv.wr(reg::FCTRL, 1u << 20);
  EXPECT_TRUE(has_violation(r.model(), "FCTRL reserved bits"));
  r.drv.wr(reg::RXCTRL, 1u << 4);
  EXPECT_TRUE(has_violation(r.model(), "RXCTRL reserved bits"));
  r.drv.wr(reg::RETA0, 0x00000011);
  EXPECT_TRUE(has_violation(r.model(), "RETA entry beyond the 16 RSS queues"));
}

TEST(IxgbeModelStrict, DcaRxctrlBit12MustBeClearedBeforeEnable) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.init_rx();
  r.drv.wr(reg::RXQ_LOW + reg::Q_DCA, bit::DCA_RXCTRL_BIT12);  // undo the clearing
  r.drv.start_rx(0);
  EXPECT_TRUE(has_violation(r.model(), "DCA_RXCTRL bit 12")) << all(r.model());
}

TEST(IxgbeModelStrict, NarrowUnalignedAndOutOfBarAccesses) {
  Rig r;
  auto* bar = *r.dev.bar(0);
  (void)bar->read16(reg::STATUS);
  EXPECT_TRUE(has_violation(r.model(), "8/16-bit or unaligned"));
  Rig r2;
  auto* bar2 = *r2.dev.bar(0);
  bar2->write8(reg::CTRL, 1);
  EXPECT_TRUE(has_violation(r2.model(), "8/16-bit or unaligned"));
  Rig r3;
  (void)(*r3.dev.bar(0))->read32(reg::STATUS + 2);
  EXPECT_TRUE(has_violation(r3.model(), "8/16-bit or unaligned"));
  Rig r4;
  (void)(*r4.dev.bar(0))->read32(kBar0Size);
  EXPECT_TRUE(has_violation(r4.model(), "outside BAR 0"));
}

TEST(IxgbeModelStrict, DmaWithoutBusMasteringIsRefused) {
  Rig r;
  r.drv.init_all();
  r.drv.enable_bus_master(false);
  EXPECT_EQ(r.model().receive(udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2)),
            RxOutcome::DmaError);
  EXPECT_TRUE(has_violation(r.model(), "bus mastering disabled"));
}

TEST(IxgbeModelStrict, BufferOutsideMappedMemoryIsAViolation) {
  Rig r;
  r.drv.init_all();
  const uint64_t bogus =
      reinterpret_cast<uintptr_t>(r.drv.rx_buffer(0, 0));  // a pointer, not an IOVA
  std::memcpy(r.drv.rx_ring(0), &bogus, 8);
  EXPECT_EQ(r.model().receive(udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2)),
            RxOutcome::DmaError);
  EXPECT_TRUE(has_violation(r.model(), "outside mapped DMA memory")) << all(r.model());
}

TEST(IxgbeModelStrict, RingOutsideMappedMemoryIsAViolation) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.init_rx();
  r.drv.wr(reg::RXQ_LOW + reg::Q_BAH, 0x7);  // somewhere unmapped
  r.drv.wr(reg::RXQ_LOW + reg::Q_CTL, bit::RXDCTL_ENABLE);
  EXPECT_TRUE(has_violation(r.model(), "descriptor ring outside mapped DMA memory"))
      << all(r.model());
}

// --- receive ------------------------------------------------------------------------------------
TEST(IxgbeModelRx, FrameLandsInBufferWithWriteBackAndCounters) {
  Rig r;
  r.drv.init_all();
  (void)r.drv.rd(reg::GPRC);
  const auto f = udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1000, 2000, 100);
  ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered);
  const std::byte* d = r.drv.rx_ring(0);
  uint32_t status;
  uint16_t len, pkt_info;
  std::memcpy(&status, d + 8, 4);
  std::memcpy(&len, d + 12, 2);
  std::memcpy(&pkt_info, d, 2);
  EXPECT_EQ(status & (desc::RX_DD | desc::RX_EOP), desc::RX_DD | desc::RX_EOP);
  EXPECT_EQ(len, f.size());
  EXPECT_EQ(pkt_info & 0xFFF0, desc::PT_IPV4 | desc::PT_UDP);
  auto got = r.drv.receive(0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, f);
  EXPECT_EQ(r.drv.rd(reg::GPRC), 1u);
  EXPECT_EQ(r.drv.rd(reg::GPRC), 0u);  // clear on read
  EXPECT_EQ(r.drv.rd(reg::QPRC0), 1u);
  EXPECT_EQ(r.drv.rd(reg::GORCL), f.size() + 4);  // octets include the FCS
  EXPECT_EQ(r.drv.rd(reg::GORCH), 0u);
  EXPECT_EQ(r.drv.rd(reg::GORCL), 0u);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

TEST(IxgbeModelRx, ShortFrameIsPaddedToTheEthernetMinimum) {
  Rig r;
  r.drv.init_all();
  auto f = udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2, 0);  // 42 bytes
  ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered);
  auto got = r.drv.receive(0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->size(), 60u);
  EXPECT_TRUE(std::equal(f.begin(), f.end(), got->begin()));
}

TEST(IxgbeModelRx, JumboFrameSpansDescriptorsWithEopOnTheLast) {
  Rig r(1, 64, 2);
  r.drv.init_all();
  const auto f = udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2, 5000);
  ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered);
  for (uint32_t i = 0; i < 3; ++i) {
    uint32_t status;
    std::memcpy(&status, r.drv.rx_ring(0) + 16 * i + 8, 4);
    EXPECT_EQ(status & desc::RX_DD, desc::RX_DD) << i;
    EXPECT_EQ((status & desc::RX_EOP) != 0, i == 2) << i;
  }
  auto got = r.drv.receive(0);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, f);
  EXPECT_EQ(r.model().counters().rx_multi_descriptor, 1u);
}

TEST(IxgbeModelRx, TooLongWithoutJumboEnableCountsRlec) {
  Rig r;
  r.drv.init_all();
  r.drv.wr(reg::HLREG0, r.drv.rd(reg::HLREG0) & ~bit::HLREG0_JUMBOEN);
  EXPECT_EQ(r.model().receive(udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2, 1500)),
            RxOutcome::TooLong);
  EXPECT_EQ(r.drv.rd(reg::RLEC), 1u);
}

TEST(IxgbeModelRx, NoFreeDescriptorsCountsMissedPackets) {
  Rig r(1, 8);
  r.drv.init_all();
  (void)r.drv.rd(reg::MPC0);
  const auto f = udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2);
  // RDT = N-1: seven descriptors belong to the hardware.
  for (int i = 0; i < 7; ++i) ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered) << i;
  EXPECT_EQ(r.model().receive(f), RxOutcome::Missed);
  EXPECT_EQ(r.model().receive(f), RxOutcome::Missed);
  EXPECT_EQ(r.drv.rd(reg::MPC0), 2u);
  EXPECT_EQ(r.drv.rd(reg::MPC0), 0u);
  ASSERT_TRUE(r.drv.receive(0).has_value());  // gives one back
  EXPECT_EQ(r.model().receive(f), RxOutcome::Delivered);
}

TEST(IxgbeModelRx, WithoutDropEnableTheFrameWaits) {
  Rig r(1, 8);
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.init_link();
  r.drv.init_rx();
  r.drv.wr(reg::RXQ_LOW + reg::Q_SRRCTL, 2 | bit::SRRCTL_DESCTYPE_ADV_ONEBUF);  // no DROP_EN
  r.drv.init_tx();
  r.drv.start_rx(0);
  r.drv.wr(reg::FCTRL, r.drv.rd(reg::FCTRL) | bit::FCTRL_UPE);
  ASSERT_TRUE(r.drv.wait(reg::LINKS, bit::LINKS_UP, bit::LINKS_UP));
  const auto f = udp_frame(kMac, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2);
  for (int i = 0; i < 7; ++i) ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered) << i;
  EXPECT_EQ(r.model().receive(f), RxOutcome::Stalled);
  EXPECT_EQ(r.drv.rd(reg::MPC0), 0u);
}

TEST(IxgbeModelRx, DestinationFiltering) {
  Rig r;
  r.drv.enable_bus_master();
  r.drv.reset();
  r.drv.init_link();
  r.drv.init_rx();  // BAM only, no UPE/MPE
  r.drv.init_tx();
  r.drv.start_rx(0);
  ASSERT_TRUE(r.drv.wait(reg::LINKS, bit::LINKS_UP, bit::LINKS_UP));
  auto& m = r.model();
  EXPECT_EQ(m.receive(udp_frame(kMac, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)), RxOutcome::Delivered);
  EXPECT_EQ(m.receive(udp_frame({0x02, 9, 9, 9, 9, 9}, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)),
            RxOutcome::Filtered);
  EXPECT_EQ(
      m.receive(udp_frame({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)),
      RxOutcome::Delivered);
  EXPECT_EQ(m.receive(udp_frame({0x01, 0, 0x5e, 0, 0, 1}, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)),
            RxOutcome::Filtered);
  // A second receive address (RAL/RAH(1) with AV) is matched too.
  r.drv.wr(reg::RAL0 + 8, 0x09090902);
  r.drv.wr(reg::RAL0 + 12, 0x0909 | bit::RAH_AV);
  EXPECT_EQ(m.receive(udp_frame({0x02, 9, 9, 9, 9, 9}, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)),
            RxOutcome::Delivered);
  r.drv.wr(reg::FCTRL, r.drv.rd(reg::FCTRL) | bit::FCTRL_UPE | bit::FCTRL_MPE);
  EXPECT_EQ(m.receive(udp_frame({0x02, 7, 7, 7, 7, 7}, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)),
            RxOutcome::Delivered);
  EXPECT_EQ(m.receive(udp_frame({0x01, 0, 0x5e, 0, 0, 1}, {1, 1, 1, 1}, {2, 2, 2, 2}, 1, 2)),
            RxOutcome::Delivered);
  EXPECT_EQ(m.violation_count(), 0u) << all(m);
}

TEST(IxgbeModelRx, RssQueueIsRetaOfTheToeplitzHash) {
  Rig r(4);
  r.drv.init_all();
  r.drv.set_rss(kMicrosoftRssKey, bit::MRQC_IPV4 | bit::MRQC_IPV4_TCP | bit::MRQC_IPV4_UDP);
  std::set<uint16_t> used;
  for (uint16_t port = 5000; port < 5032; ++port) {
    const std::array<uint8_t, 4> sip = {10, 1, 0, 1}, dip = {10, 1, 0, 2};
    const auto f = udp_frame(kMac, sip, dip, port, 9);
    ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered);
    const uint8_t tuple[12] = {sip[0],
                               sip[1],
                               sip[2],
                               sip[3],
                               dip[0],
                               dip[1],
                               dip[2],
                               dip[3],
                               static_cast<uint8_t>(port >> 8),
                               static_cast<uint8_t>(port),
                               0,
                               9};
    const uint32_t h = toeplitz_hash(kMicrosoftRssKey, tuple);
    const uint16_t want = (h & 0x7F) % 4;  // ModelDriver's round-robin RETA
    EXPECT_EQ(r.model().last_rss_hash(), h);
    EXPECT_EQ(r.model().last_rx_queue(), want) << "port " << port;
    used.insert(want);
    auto got = r.drv.receive(want);
    ASSERT_TRUE(got.has_value()) << "queue " << want;
    EXPECT_EQ(*got, f);
  }
  EXPECT_GE(used.size(), 2u);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

TEST(IxgbeModelRx, ReportKeepsTheRssProgrammingAcrossTheDriversFinalReset) {
  Rig r(2);
  r.drv.init_all();
  r.drv.set_rss(kMicrosoftRssKey, bit::MRQC_IPV4 | bit::MRQC_IPV4_UDP);
  r.drv.reset();  // a driver resets the NIC on its way out
  EXPECT_EQ(r.drv.rd(reg::MRQC), 0u);
  const RssProgramming p = r.model().rss_programming();
  EXPECT_EQ(p.key, kMicrosoftRssKey);
  EXPECT_EQ(p.reta[3], 1u);
  const std::string json = model_report_json(r.model());
  EXPECT_NE(json.find("6d5a56da255b0ec2"), std::string::npos) << json;
  EXPECT_NE(json.find("\"violations\": []"), std::string::npos) << json;
}

TEST(IxgbeModelRx, RssHashAndTypeInTheDescriptor) {
  Rig r(1);
  r.drv.init_all();
  r.drv.set_rss(kMicrosoftRssKey, bit::MRQC_IPV4 | bit::MRQC_IPV4_UDP);
  // Microsoft's first vector as UDP: same 4-tuple input as TCP.
  const auto f = udp_frame(kMac, {66, 9, 149, 187}, {161, 142, 100, 80}, 2794, 1766);
  ASSERT_EQ(r.model().receive(f), RxOutcome::Delivered);
  uint32_t hash;
  uint16_t pkt_info;
  std::memcpy(&hash, r.drv.rx_ring(0) + 4, 4);
  std::memcpy(&pkt_info, r.drv.rx_ring(0), 2);
  EXPECT_EQ(hash, 0x51ccc178u);
  EXPECT_EQ(pkt_info & 0xF, desc::RSS_UDP_IPV4);
}

// --- transmit -----------------------------------------------------------------------------------
TEST(IxgbeModelTx, FramesLeaveWithDoneWriteBackAndCounters) {
  Rig r(2);
  r.drv.init_all();
  (void)r.drv.rd(reg::GPTC);
  const auto f = udp_frame({2, 2, 2, 2, 2, 2}, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2, 200);
  r.drv.send(1, f);
  r.drv.send(1, f, 3);  // one frame in three descriptors
  std::vector<std::vector<uint8_t>> out;
  EXPECT_EQ(r.model().transmit(out), 2u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], f);
  EXPECT_EQ(out[1], f);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_TRUE(r.drv.tx_descriptor_done(1, i)) << i;
  EXPECT_EQ(r.drv.rd(reg::TXQ + 0x40 + reg::Q_HEAD), 4u);
  EXPECT_EQ(r.drv.rd(reg::GPTC), 2u);
  EXPECT_EQ(r.drv.rd(reg::QPTC0 + 0x40), 2u);
  EXPECT_EQ(r.drv.rd(reg::GOTCL), 2 * (f.size() + 4));
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

TEST(IxgbeModelTx, ShortFramesArePaddedAndBadPaylenIsAViolation) {
  Rig r;
  r.drv.init_all();
  const auto f = udp_frame({2, 2, 2, 2, 2, 2}, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2, 0);
  r.drv.send(0, f);
  std::vector<std::vector<uint8_t>> out;
  ASSERT_EQ(r.model().transmit(out), 1u);
  EXPECT_EQ(out[0].size(), 60u);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
  // PAYLEN (olinfo bits 31:14) must be the frame length.
  r.drv.send(0, f);
  uint32_t olinfo = 7u << desc::TX_PAYLEN_SHIFT;
  std::memcpy(r.drv.tx_ring(0) + 16 + 12, &olinfo, 4);
  out.clear();
  r.model().transmit(out);
  EXPECT_TRUE(has_violation(r.model(), "PAYLEN differs"));
}

TEST(IxgbeModelTx, EngineOnTapThreadTransmitsOnDoorbell) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a tap";
  Rig r;
  const std::string name = "vswmdl" + std::to_string(getpid() % 100000);
  ASSERT_TRUE(r.dev.attach_tap(name).has_value());
  r.drv.init_all();
  const auto f = udp_frame({2, 2, 2, 2, 2, 2}, {10, 0, 0, 1}, {10, 0, 0, 2}, 1, 2, 64);
  r.drv.send(0, f);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!r.drv.tx_descriptor_done(0, 0) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  EXPECT_TRUE(r.drv.tx_descriptor_done(0, 0));
  EXPECT_EQ(r.model().counters().tx_frames, 1u);
  EXPECT_EQ(r.model().violation_count(), 0u) << all(r.model());
}

}  // namespace
}  // namespace vsw::tests::models
