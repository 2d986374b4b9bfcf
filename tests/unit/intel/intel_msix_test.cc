// tests/unit/intel/intel_msix_test.cc — MSI-X receive wake-ups (ports/intel/: NicLayer::
// enable_msix, IntelPort::enable_rx_wakeup / disable_rx_wakeup) on the fake NIC: the registers
// each family's setup writes (82599 datasheet §7.3 / §8.2.3.5; 82576 §7.3 / §8.8), arming and
// disarming one vector, the re-check that refuses to sleep over a waiting frame, draining the
// eventfd, and the reason port-show gives when the device refuses the vectors (uio's "none"
// is checked in tests/vm/test_igb.py, where uio can run).
#include <gtest/gtest.h>
#include <unistd.h>

#include "ports/intel/igb_regs.h"
#include "ports/intel/ixgbe_regs.h"
#include "tests/unit/intel/intel_test_rig.h"

namespace vsw::ports::intel::testing {
namespace {

namespace x = ixgbe;
namespace g = igb;

FakeIntelConfig msix_cfg(NicFamily family, uint16_t vectors = 16) {
  FakeIntelConfig c;
  c.family = family;
  c.msix_vectors = vectors;
  return c;
}

IntelOptions rx_queues(uint16_t n) {
  IntelOptions o = Rig::small_opts();
  o.rx_queues = n;
  return o;
}

std::string detail(const IntelPort& p, const std::string& key) {
  for (const auto& [k, v] : p.details()) {
    if (k == key) return v;
  }
  return "<missing>";
}

// The writes to `off` after index `from` in the device's write log.
std::vector<uint32_t> writes_after(const FakeIntelDevice& d, size_t from, uint32_t off) {
  std::vector<uint32_t> out;
  for (size_t i = from; i < d.writes().size(); ++i) {
    if (d.writes()[i].first == off) out.push_back(d.writes()[i].second);
  }
  return out;
}

TEST(IntelMsix, Ixgbe82599ProgramsOneVectorPerRxQueueAllMasked) {
  Rig r(msix_cfg(NicFamily::Ixgbe82599), rx_queues(3));
  ASSERT_TRUE(r.port) << r.error;
  const FakeIntelDevice& d = *r.dev;
  EXPECT_EQ(detail(*r.port, "rx_wakeup"), "msix (3 vectors, one per receive queue)");
  EXPECT_EQ(d.reg(x::GPIE), x::kGpieMsixMode | x::kGpieEiame | x::kGpiePbaSupport);
  // IVAR(0): rx queue 0 in bits 7:0, rx queue 1 in bits 23:16; IVAR(1): rx queue 2.
  EXPECT_EQ(d.reg(x::IVAR(0)), 0x00810080u);
  EXPECT_EQ(d.reg(x::IVAR(1)), 0x00000082u);
  for (uint16_t q = 0; q < 3; ++q) EXPECT_EQ(d.reg(x::EITR(q)), 0x28u) << q;  // 10 us
  EXPECT_EQ(d.reg(x::EIAC), 0x7u);
  EXPECT_EQ(d.reg(x::EIAM_EX0), 0x7u);
  // GPIE before the mapping, the mapping before the masks; nothing unmasked at the end.
  const long gpie = d.first_write(x::GPIE, x::kGpieMsixMode, x::kGpieMsixMode);
  ASSERT_GE(gpie, 0);
  EXPECT_LT(gpie, d.first_write(x::IVAR(0), 0x80, 0x80));
  EXPECT_LT(d.first_write(x::IVAR(0), 0x80, 0x80), d.last_write(x::EIAC));
  EXPECT_GT(d.last_write(x::EIMC), d.last_write(x::EIAM_EX0));
  EXPECT_EQ(d.last_write(x::EIMS), -1) << "no vector unmasked before a worker sleeps";
  for (uint16_t q = 0; q < 3; ++q) EXPECT_GE(r.port->rx_wakeup_fd(q), 0);
  EXPECT_EQ(r.port->rx_wakeup_fd(3), Port::kNoRxWakeup);
}

TEST(IntelMsix, Igb82576ProgramsIvar0LayoutAndMsixModeFirst) {
  Rig r(msix_cfg(NicFamily::Igb82576, 10), rx_queues(2));
  ASSERT_TRUE(r.port) << r.error;
  const FakeIntelDevice& d = *r.dev;
  EXPECT_EQ(detail(*r.port, "rx_wakeup"), "msix (2 vectors, one per receive queue)");
  EXPECT_EQ(d.reg(g::GPIE), g::kGpieMsixMode | g::kGpieEiame | g::kGpiePba);
  // 82576: rx queue q (< 8) in byte 0 of IVAR(q).
  EXPECT_EQ(d.reg(g::IVAR(0)), 0x80u);
  EXPECT_EQ(d.reg(g::IVAR(1)), 0x81u);
  EXPECT_EQ(d.reg(g::EITR(0)), 40u);
  EXPECT_EQ(d.reg(g::EITR(1)), 40u);
  EXPECT_EQ(d.reg(g::EIAC), 0x3u);
  EXPECT_EQ(d.reg(g::EIAM), 0x3u);
  // QEMU's igb model honours EIAC only once GPIE.MSIX_MODE is set: GPIE comes first.
  const long gpie = d.first_write(g::GPIE, g::kGpieMsixMode, g::kGpieMsixMode);
  ASSERT_GE(gpie, 0);
  EXPECT_LT(gpie, d.last_write(g::IVAR(0)));
  EXPECT_LT(gpie, d.last_write(g::EIAC));
  EXPECT_LT(gpie, d.last_write(g::EIAM));
  EXPECT_EQ(d.last_write(g::EIMS), -1);
}

TEST(IntelMsix, Igb82576QueuesFromEightUseByteTwo) {
  // The 82576 RSS limit is 8 queues, so byte 2 is never programmed by vsw; the layout itself:
  EXPECT_EQ(g::ivar_rx_shift(7), 0u);
  EXPECT_EQ(g::ivar_rx_shift(8), 16u);
}

class ArmDisarm : public ::testing::TestWithParam<NicFamily> {};

TEST_P(ArmDisarm, ArmClearsCauseThenUnmasksDisarmMasksAndDrains) {
  const NicFamily fam = GetParam();
  const bool ix = fam == NicFamily::Ixgbe82599;
  const uint32_t eicr = ix ? x::EICR : g::EICR, eims = ix ? x::EIMS : g::EIMS,
                 eimc = ix ? x::EIMC : g::EIMC;
  Rig r(msix_cfg(fam), rx_queues(2));
  ASSERT_TRUE(r.port) << r.error;
  size_t mark = r.dev->writes().size();
  EXPECT_TRUE(r.port->enable_rx_wakeup(1)) << "empty ring: may sleep";
  EXPECT_EQ(writes_after(*r.dev, mark, eicr), std::vector<uint32_t>{0x2});
  EXPECT_EQ(writes_after(*r.dev, mark, eims), std::vector<uint32_t>{0x2});
  // the stale cause is cleared before the vector is unmasked
  EXPECT_LT(r.dev->last_write(eicr), r.dev->last_write(eims));

  // The device's message for vector 1, then the worker wakes.
  const uint64_t one = 1;
  ASSERT_EQ(::write(r.dev->msix_fds()[1], &one, sizeof one), 8);
  mark = r.dev->writes().size();
  r.port->disable_rx_wakeup(1, true);
  EXPECT_EQ(writes_after(*r.dev, mark, eimc), std::vector<uint32_t>{0x2});
  uint64_t left;
  EXPECT_EQ(::read(r.dev->msix_fds()[1], &left, sizeof left), -1) << "eventfd drained";
  EXPECT_EQ(r.port->rx_interrupts(1), 1u);
  EXPECT_EQ(r.port->rx_interrupts(0), 0u);
  EXPECT_EQ(detail(*r.port, "interrupts_per_queue"), "q0=0 q1=1");

  // Not signalled: masked again, nothing read, nothing counted.
  EXPECT_TRUE(r.port->enable_rx_wakeup(0));
  r.port->disable_rx_wakeup(0, false);
  EXPECT_EQ(r.port->rx_interrupts(0), 0u);
}

TEST_P(ArmDisarm, FrameWrittenBackBeforeArmingCancelsTheSleep) {
  Rig r(msix_cfg(GetParam()), rx_queues(2));
  ASSERT_TRUE(r.port) << r.error;
  ASSERT_TRUE(r.dev->deliver(0, make_frame(60, 1)));
  EXPECT_FALSE(r.port->enable_rx_wakeup(0)) << "a frame waits on queue 0";
  EXPECT_TRUE(r.port->enable_rx_wakeup(1)) << "queue 1 is empty";
  r.port->disable_rx_wakeup(0, false);
  r.port->disable_rx_wakeup(1, false);
  PacketBatch b;
  EXPECT_EQ(r.rx(0, b), 1);
  b.release_all();
  EXPECT_TRUE(r.port->enable_rx_wakeup(0)) << "consumed: may sleep now";
  r.port->disable_rx_wakeup(0, false);
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, ArmDisarm,
                         ::testing::Values(NicFamily::Ixgbe82599, NicFamily::Igb82576),
                         [](const auto& info) { return std::string(nic_family_name(info.param)); });

TEST(IntelMsix, DeviceRefusingVectorsLeavesPollingWithTheReason) {
  Rig r(msix_cfg(NicFamily::Ixgbe82599, 1), rx_queues(2));
  ASSERT_TRUE(r.port) << r.error;
  EXPECT_EQ(detail(*r.port, "rx_wakeup"), "none (fake device has 1 MSI-X vectors, 2 needed)");
  EXPECT_EQ(r.port->rx_wakeup_fd(0), Port::kNoRxWakeup);
  EXPECT_EQ(r.dev->last_write(x::GPIE), -1);
  EXPECT_EQ(r.dev->last_write(x::IVAR(0)), -1);
}

}  // namespace
}  // namespace vsw::ports::intel::testing
