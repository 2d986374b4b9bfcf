// tests/unit/virtio/feature_negotiation_test.cc — which offered bits the driver takes
// (ports/virtio/feature_negotiation.h).
#include "ports/virtio/feature_negotiation.h"

#include <gtest/gtest.h>

#include "ports/virtio/virtio_regs.h"
#include "tests/unit/virtio/test_rig.h"

namespace vsw::ports::virtio::testing {
namespace {

NegotiationRequest req(InterfaceKind k, uint64_t offered) {
  NegotiationRequest r;
  r.kind = k;
  r.offered = offered;
  return r;
}

TEST(VirtioNegotiation, ModernTakesWhatVswUsesAndNothingElse) {
  auto n = negotiate(req(InterfaceKind::Modern, kModernOffer | bit(feature::kRingPacked)));
  ASSERT_TRUE(n.has_value()) << n.error().message;
  for (unsigned b : {feature::kVersion1, feature::kAccessPlatform, feature::kMac,
                     feature::kStatus, feature::kMrgRxbuf, feature::kCtrlVq, feature::kCtrlRx,
                     feature::kMq, feature::kRingEventIdx, feature::kCsum, feature::kGuestCsum,
                     feature::kHostTso4, feature::kHostTso6, feature::kGuestTso4,
                     feature::kGuestTso6}) {
    EXPECT_TRUE(n->has(b)) << "bit " << b;
  }
  EXPECT_FALSE(n->has(feature::kRingPacked));
  EXPECT_FALSE(n->has(feature::kRingIndirectDesc));
  EXPECT_EQ(n->hdr_len, 12);
  EXPECT_TRUE(n->any_layout());
  const OffloadCaps c = n->tx_caps(64);
  EXPECT_TRUE(c.partial_csum && c.tso4 && c.tso6 && c.gso_ecn);
  EXPECT_FALSE(c.uso);
  EXPECT_EQ(c.max_segments, 64);
}

TEST(VirtioNegotiation, ModernWithoutVersion1IsRefused) {
  auto n = negotiate(req(InterfaceKind::Modern, kModernOffer & ~bit(feature::kVersion1)));
  ASSERT_FALSE(n.has_value());
  EXPECT_NE(n.error().message.find("VERSION_1"), std::string::npos);
}

TEST(VirtioNegotiation, LegacyStaysIn32BitsAndUsesAnyLayout) {
  auto n = negotiate(req(InterfaceKind::Legacy, kLegacyOffer));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->features >> 32, 0u);
  EXPECT_TRUE(n->has(feature::kAnyLayout));
  EXPECT_FALSE(n->has(feature::kNotifyOnEmpty));
  EXPECT_EQ(n->hdr_len, 12) << "MRG_RXBUF adds num_buffers";
  auto plain = negotiate(req(InterfaceKind::Legacy, bit(feature::kMac)));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->hdr_len, 10);
  EXPECT_FALSE(plain->any_layout());
  EXPECT_EQ(plain->ctrl_queue, 2);
}

TEST(VirtioNegotiation, DependenciesAreRespected) {
  // HOST_TSO without CSUM, GUEST_TSO without MRG_RXBUF, CTRL_RX and MQ without CTRL_VQ.
  const uint64_t offer = bit(feature::kVersion1) | bit(feature::kHostTso4) |
                         bit(feature::kGuestCsum) | bit(feature::kGuestTso4) |
                         bit(feature::kCtrlRx) | bit(feature::kMq);
  auto n = negotiate(req(InterfaceKind::Modern, offer));
  ASSERT_TRUE(n.has_value());
  EXPECT_FALSE(n->has(feature::kHostTso4));
  EXPECT_FALSE(n->has(feature::kGuestTso4));
  EXPECT_TRUE(n->has(feature::kGuestCsum));
  EXPECT_FALSE(n->has(feature::kCtrlRx));
  EXPECT_FALSE(n->has(feature::kMq));
}

TEST(VirtioNegotiation, OffloadsOffTakesNoChecksumOrTsoBits) {
  NegotiationRequest r = req(InterfaceKind::Modern, kModernOffer);
  r.offloads = false;
  auto n = negotiate(r);
  ASSERT_TRUE(n.has_value());
  for (unsigned b : {feature::kCsum, feature::kGuestCsum, feature::kHostTso4,
                     feature::kGuestTso6, feature::kHostEcn}) {
    EXPECT_FALSE(n->has(b)) << "bit " << b;
  }
  EXPECT_TRUE(n->has(feature::kMrgRxbuf));
}

TEST(VirtioNegotiation, QueuePairsFollowWorkersAndTheDevice) {
  NegotiationRequest r = req(InterfaceKind::Modern, kModernOffer);
  r.max_virtqueue_pairs = 4;
  r.workers = 2;
  auto n = negotiate(r);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->queue_pairs, 2);
  EXPECT_EQ(n->ctrl_queue, 8) << "control queue after every pair the device has";
  r.workers = 8;
  EXPECT_EQ(negotiate(r)->queue_pairs, 4) << "capped by max_virtqueue_pairs";
  r.queues = 3;
  EXPECT_EQ(negotiate(r)->queue_pairs, 3);
  r.queues = 5;
  auto too_many = negotiate(r);
  ASSERT_FALSE(too_many.has_value());
  EXPECT_EQ(too_many.error().code, Errc::InvalidArgument);
  NegotiationRequest no_mq = req(InterfaceKind::Modern, kModernOffer & ~bit(feature::kMq));
  no_mq.queues = 2;
  auto refused = negotiate(no_mq);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("MQ"), std::string::npos);
  no_mq.queues = 0;
  no_mq.workers = 4;
  EXPECT_EQ(negotiate(no_mq)->queue_pairs, 1) << "no MQ: one pair whatever the workers";
}

TEST(VirtioNegotiation, FeatureNamesForDetails) {
  EXPECT_EQ(feature_names(bit(feature::kMac) | bit(feature::kVersion1)), "mac version_1");
  EXPECT_EQ(feature_names(0), "");
}

}  // namespace
}  // namespace vsw::ports::virtio::testing
