// tests/unit/virtio/virtio_device_test.cc — initialisation over the legacy and the modern
// interface, refusals, control commands and teardown (ports/virtio/virtio_net_device.h).
#include "ports/virtio/virtio_net_device.h"

#include <gtest/gtest.h>

#include "tests/unit/virtio/test_rig.h"

namespace vsw::ports::virtio::testing {
namespace {

FakeConfig legacy_cfg(uint64_t features = kLegacyOffer) {
  FakeConfig c;
  c.kind = FakeKind::Legacy;
  c.features = features;
  return c;
}
FakeConfig modern_cfg(uint64_t features = kModernOffer) {
  FakeConfig c;
  c.kind = FakeKind::Modern;
  c.features = features;
  return c;
}

TEST(VirtioDevice, LegacyInitialisationSequence) {
  Rig r(legacy_cfg());
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->interface(), InterfaceKind::Legacy);
  // Fact sheet §4: reset, then cumulative status writes, no FEATURES_OK.
  const std::vector<uint8_t> want = {0x00, 0x01, 0x03, 0x07};
  EXPECT_EQ(r.dev->status_writes(), want);
  EXPECT_EQ(r.dev->driver_features(), r.net->negotiated().features);
  EXPECT_EQ(r.dev->driver_features() >> 32, 0u);
  // Queue 0 (rx) and 1 (tx) were given 4096-aligned rings; the control queue exists.
  EXPECT_NE(r.dev->queue(0).desc, 0u);
  EXPECT_EQ(r.dev->queue(0).desc % 4096, 0u);
  EXPECT_NE(r.dev->queue(1).desc, 0u);
  EXPECT_NE(r.dev->queue(2).desc, 0u);
  EXPECT_EQ(r.net->rx_ring_size(), 256);
  EXPECT_EQ(r.dev->rx_posted(0), 256) << "every rx slot posted before DRIVER_OK";
  EXPECT_EQ(r.net->mac().to_string(), "52:54:00:12:34:56");
  EXPECT_TRUE(r.net->promiscuous());
  ASSERT_EQ(r.dev->commands().size(), 1u);
  EXPECT_EQ(r.dev->commands()[0].cls, ctrl::kClassRx);
  EXPECT_EQ(r.dev->commands()[0].cmd, ctrl::kRxPromisc);
  EXPECT_EQ(r.dev->commands()[0].data, std::vector<uint8_t>{1});
}

TEST(VirtioDevice, LegacyConfigMovesTo24WithMsix) {
  FakeConfig c = legacy_cfg();
  c.msix_enabled = true;
  c.mac = {0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE};
  Rig r(c);
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->mac().to_string(), "02:aa:bb:cc:dd:ee");
}

TEST(VirtioDevice, ModernInitialisationSequence) {
  Rig r(modern_cfg());
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->interface(), InterfaceKind::Modern);
  // virtio 1.1 §3.1.1: ACK, DRIVER, FEATURES_OK, DRIVER_OK, each write cumulative.
  const std::vector<uint8_t> want = {0x00, 0x01, 0x03, 0x0B, 0x0F};
  EXPECT_EQ(r.dev->status_writes(), want);
  EXPECT_EQ(r.dev->driver_features(), r.net->negotiated().features);
  EXPECT_TRUE(r.dev->negotiated(feature::kVersion1));
  EXPECT_TRUE(r.dev->negotiated(feature::kAccessPlatform)) << "bit 33 through the high window";
  auto& q0 = r.dev->queue(0);
  EXPECT_TRUE(q0.enabled);
  EXPECT_EQ(q0.msix_vector, common::kNoVector);
  EXPECT_EQ(q0.size, 256);
  EXPECT_EQ(q0.avail, q0.desc + 16 * 256);
  EXPECT_EQ(q0.used % 4, 0u);
  EXPECT_TRUE(r.dev->queue(1).enabled);
}

TEST(VirtioDevice, ModernQueuesAreShrunkToTheLimit) {
  FakeConfig c = modern_cfg();
  c.queue_size = 4096;
  DeviceOptions o;
  o.max_ring_size = 512;
  Rig r(c, o);
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.dev->queue(0).size, 512);
  EXPECT_EQ(r.net->rx_ring_size(), 512);
}

TEST(VirtioDevice, TransitionalPrefersModernUnlessLegacyAsked) {
  FakeConfig c = modern_cfg();
  c.kind = FakeKind::Transitional;
  c.features = kModernOffer | bit(feature::kAnyLayout);
  {
    Rig r(c);
    ASSERT_TRUE(r.net) << r.error;
    EXPECT_EQ(r.net->interface(), InterfaceKind::Modern);
  }
  DeviceOptions o;
  o.interface = InterfacePreference::Legacy;
  Rig r(c, o);
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->interface(), InterfaceKind::Legacy);
  EXPECT_EQ(r.dev->driver_features() >> 32, 0u);
}

TEST(VirtioDevice, InterfaceTheDeviceLacksIsRefused) {
  DeviceOptions modern;
  modern.interface = InterfacePreference::Modern;
  Rig a(legacy_cfg(), modern);
  EXPECT_FALSE(a.net);
  EXPECT_NE(a.error.find("only the legacy"), std::string::npos) << a.error;
  DeviceOptions legacy;
  legacy.interface = InterfacePreference::Legacy;
  Rig b(modern_cfg(), legacy);
  EXPECT_FALSE(b.net);
  EXPECT_NE(b.error.find("modern-only"), std::string::npos) << b.error;
}

TEST(VirtioDevice, NotVirtioNetIsRefused) {
  FakeConfig c = modern_cfg();
  c.device_id = 0x1042;  // virtio-blk
  Rig r(c);
  EXPECT_FALSE(r.net);
  EXPECT_NE(r.error.find("not a virtio-net device"), std::string::npos) << r.error;
  EXPECT_TRUE(r.dev->status_writes().empty()) << "nothing written to a foreign device";
}

TEST(VirtioDevice, RefusedFeaturesLeaveTheDeviceReset) {
  FakeConfig c = modern_cfg();
  c.accept_features = false;
  Rig r(c);
  ASSERT_FALSE(r.net);
  EXPECT_NE(r.error.find("FEATURES_OK"), std::string::npos) << r.error;
  EXPECT_EQ(r.dev->status(), 0);
  EXPECT_EQ(r.dev->mapped_regions(), 0u);
}

TEST(VirtioDevice, MissingRequiredFeatureLeavesTheDeviceReset) {
  Rig r(modern_cfg(kModernOffer & ~bit(feature::kVersion1)));
  ASSERT_FALSE(r.net);
  EXPECT_NE(r.error.find("VERSION_1"), std::string::npos) << r.error;
  EXPECT_EQ(r.dev->status(), 0);
  EXPECT_EQ(r.pool->available(), r.pool->capacity());
}

TEST(VirtioDevice, UioWithoutPhysicalAddressesIsRefusedClearly) {
  FakeConfig c = legacy_cfg();
  c.path = pci::AccessPath::Uio;
  Rig r(c);
  ASSERT_FALSE(r.net);
  EXPECT_NE(r.error.find("hugepages"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("driver=vfio"), std::string::npos) << r.error;
  EXPECT_TRUE(r.dev->status_writes().empty()) << "refused before the device was touched";
  EXPECT_EQ(r.dev->mapped_regions(), 0u);
}

TEST(VirtioDevice, MultiQueueSetsPairsThroughTheControlQueue) {
  FakeConfig c = modern_cfg();
  c.max_pairs = 4;
  DeviceOptions o;
  o.workers = 3;
  Rig r(c, o);
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->queue_pairs(), 3);
  for (uint16_t q = 0; q < 6; ++q) EXPECT_TRUE(r.dev->queue(q).enabled) << q;
  EXPECT_FALSE(r.dev->queue(6).enabled) << "pair 3 is left alone";
  EXPECT_TRUE(r.dev->queue(8).enabled) << "control queue at 2 x max_virtqueue_pairs";
  ASSERT_EQ(r.dev->commands().size(), 2u);
  const ControlCommand& mq = r.dev->commands()[1];
  EXPECT_EQ(mq.cls, ctrl::kClassMq);
  EXPECT_EQ(mq.cmd, ctrl::kMqVqPairsSet);
  EXPECT_EQ(mq.data, (std::vector<uint8_t>{3, 0}));
  for (uint16_t p = 0; p < 3; ++p) EXPECT_EQ(r.dev->rx_posted(p), 256) << p;
}

TEST(VirtioDevice, SingleQueueSendsNoPairsCommand) {
  FakeConfig c = modern_cfg();
  c.max_pairs = 4;
  DeviceOptions o;
  o.queues = 1;
  Rig r(c, o);
  ASSERT_TRUE(r.net) << r.error;
  ASSERT_EQ(r.dev->commands().size(), 1u);
  EXPECT_EQ(r.dev->commands()[0].cls, ctrl::kClassRx);
}

TEST(VirtioDevice, ControlCommandRefusedIsAnError) {
  FakeConfig c = modern_cfg();
  c.ctrl_ack = ctrl::kAckErr;
  Rig r(c);
  ASSERT_FALSE(r.net);
  EXPECT_NE(r.error.find("refused control command"), std::string::npos) << r.error;
  EXPECT_EQ(r.dev->status(), 0);
  EXPECT_EQ(r.pool->available(), r.pool->capacity()) << "prefilled buffers given back";
}

TEST(VirtioDevice, LinkFollowsTheConfigStatus) {
  Rig r(modern_cfg());
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->read_link(), LinkState::Up);
  r.dev->set_net_status(0);
  EXPECT_EQ(r.net->read_link(), LinkState::Down);
  EXPECT_FALSE(r.net->failed());
  r.dev->set_status_bits(status::kDeviceNeedsReset);
  EXPECT_TRUE(r.net->failed());
}

TEST(VirtioDevice, WithoutStatusFeatureLinkIsUp) {
  Rig r(modern_cfg(kModernOffer & ~bit(feature::kStatus)));
  ASSERT_TRUE(r.net) << r.error;
  r.dev->set_net_status(0);
  EXPECT_EQ(r.net->read_link(), LinkState::Up);
}

TEST(VirtioDevice, TeardownResetsAndGivesEveryBufferBack) {
  for (FakeConfig c : {legacy_cfg(), modern_cfg()}) {
    Rig r(c);
    ASSERT_TRUE(r.net) << r.error;
    const uint32_t start = r.pool->capacity();
    EXPECT_EQ(r.pool->available(), start - 256) << "one buffer per rx slot";
    // Frames in flight on tx (not completed) and frames delivered but not received.
    PacketBatch b;
    for (int i = 0; i < 5; ++i) b.push(pool_packet(*r.pool, make_frame(100, 1)));
    EXPECT_EQ(r.net->tx(0).transmit(b, *std::make_unique<QueueCounters>()), 5);
    ASSERT_TRUE(r.dev->deliver(0, make_frame(60, 2)));
    EXPECT_EQ(r.dev->mapped_regions(), 2u) << "pool and ring memory";
    const unsigned resets = r.dev->resets();
    r.net.reset();
    EXPECT_EQ(r.dev->resets(), resets + 1);
    EXPECT_EQ(r.dev->status(), 0);
    EXPECT_EQ(r.dev->mapped_regions(), 0u);
    EXPECT_EQ(r.pool->available(), start);
  }
}

// Adaptive polling's MSI-X routing: rx virtqueue 2k to vector k, nothing else moved off
// NO_VECTOR; the legacy interface keeps MSI-X off (its register block would move).
TEST(VirtioDevice, ReceiveQueuesAreRoutedToOneVectorEach) {
  FakeConfig c = modern_cfg();
  c.max_pairs = 4;
  DeviceOptions o;
  o.workers = 2;
  Rig r(c, o);
  ASSERT_TRUE(r.net) << r.error;
  for (uint16_t q = 0; q < 4; ++q) EXPECT_EQ(r.dev->queue(q).msix_vector, common::kNoVector) << q;
  ASSERT_TRUE(r.net->route_rx_to_vectors());
  EXPECT_EQ(r.dev->queue(0).msix_vector, 0);
  EXPECT_EQ(r.dev->queue(2).msix_vector, 1);
  EXPECT_EQ(r.dev->queue(1).msix_vector, common::kNoVector) << "transmit stays polled";
  EXPECT_EQ(r.dev->queue(3).msix_vector, common::kNoVector);

  FakeConfig l = modern_cfg();
  l.kind = FakeKind::Legacy;
  l.features = kLegacyOffer;
  Rig legacy(l);
  ASSERT_TRUE(legacy.net) << legacy.error;
  EXPECT_FALSE(legacy.net->route_rx_to_vectors());
}

}  // namespace
}  // namespace vsw::ports::virtio::testing
