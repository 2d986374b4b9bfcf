// tests/unit/virtio/virtio_tx_test.cc — transmit: chains posted by reference, reclaim on
// completion, notify suppression, zero copy versus copy, header export (ports/virtio/tx_queue.h),
// and the port's counters and details (ports/virtio/virtio_port.h).
#include "ports/virtio/tx_queue.h"

#include <gtest/gtest.h>

#include <map>

#include "ports/virtio/virtio_port.h"
#include "ports/vnet/virtio_net_hdr.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"
#include "tests/unit/virtio/test_rig.h"

namespace vsw::ports::virtio::testing {
namespace {

// A lent frame (memif/vhost-user style): peer memory, vsw-private header, its own owner.
struct Lender final : BufferOwner {
  void release(Packet*) noexcept override { ++released; }
  int released = 0;
};

TEST(VirtioTx, FramesReachTheDeviceAndAreReleasedOnCompletion) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  const uint32_t start = r.pool->available();
  QueueCounters c;
  PacketBatch b;
  for (uint8_t i = 0; i < 10; ++i) b.push(pool_packet(*r.pool, make_frame(60 + i, i)));
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 10);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(r.net->tx(0).in_flight(), 10) << "header in headroom + ANY_LAYOUT: one descriptor";
  EXPECT_EQ(r.pool->available(), start - 10) << "held until the device completes them";
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 10u);
  for (uint8_t i = 0; i < 10; ++i) {
    EXPECT_EQ(frames[i].bytes, make_frame(60 + i, i));
    EXPECT_EQ(frames[i].descriptors, 1);
  }
  EXPECT_EQ(r.pool->available(), start - 10) << "completion is seen at the next transmit";
  r.net->tx(0).reclaim(c);
  EXPECT_EQ(r.pool->available(), start);
  EXPECT_EQ(r.net->tx(0).in_flight(), 0);
  EXPECT_EQ(c.packets.get(), 10u);
  EXPECT_EQ(r.net->tx(0).zero_copy(), 10u);
  EXPECT_EQ(r.net->tx(0).copied(), 0u);
}

TEST(VirtioTx, LegacyWithoutAnyLayoutSplitsTheHeader) {
  Rig r(cfg(FakeKind::Legacy, bit(feature::kMac)));
  ASSERT_TRUE(r.net) << r.error;
  QueueCounters c;
  PacketBatch b;
  b.push(pool_packet(*r.pool, make_frame(100, 5)));
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 1);
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].descriptors, 2);
  EXPECT_EQ(frames[0].bytes, make_frame(100, 5));
  const auto* d = r.dev->ptr<const VringDesc>(r.dev->queue(1).desc);
  const auto* avail = r.dev->ptr<const VringAvail>(r.dev->queue(1).avail);
  EXPECT_EQ(d[avail->ring[0]].len, 10u) << "10-byte legacy header alone in the first descriptor";
}

TEST(VirtioTx, ChainsAndFullRing) {
  FakeConfig f = cfg(FakeKind::Modern, kModernOffer);
  f.queue_size = 16;
  Rig r(f);
  ASSERT_TRUE(r.net) << r.error;
  QueueCounters c;
  PacketBatch b;
  // A three-segment frame, then singles until the 16 descriptors run out.
  Packet* segs[3];
  for (auto& s : segs) s = pool_packet(*r.pool, make_frame(500, 1));
  segs[0]->next = segs[1];
  segs[1]->next = segs[2];
  segs[0]->frame_len = 1500;
  b.push(segs[0]);
  for (int i = 0; i < 15; ++i) b.push(pool_packet(*r.pool, make_frame(64, 2)));
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 14) << "3 + 13 descriptors";
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::TxFull)].get(), 2u);
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 14u);
  EXPECT_EQ(frames[0].bytes.size(), 1500u);
  EXPECT_EQ(frames[0].descriptors, 3);
  // Completed chains free their descriptors for the next batch.
  b.push(pool_packet(*r.pool, make_frame(64, 3)));
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 1);
  EXPECT_EQ(r.net->tx(0).in_flight(), 1);
}

TEST(VirtioTx, OneDoorbellPerBatchAndNoneWhileTheDevicePolls) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  QueueCounters c;
  auto send = [&](int n) {
    PacketBatch b;
    for (int i = 0; i < n; ++i) b.push(pool_packet(*r.pool, make_frame(64, 1)));
    return r.net->tx(0).transmit(b, c);
  };
  EXPECT_EQ(send(32), 32);
  EXPECT_EQ(r.dev->queue(1).notifies, 1u);
  r.dev->consume_tx(0);   // the device caught up and waits: asks for the next entry
  EXPECT_EQ(send(5), 5);
  EXPECT_EQ(r.dev->queue(1).notifies, 2u);
  EXPECT_EQ(send(5), 5) << "the device has not looked yet: entry 37 was already announced";
  EXPECT_EQ(r.dev->queue(1).notifies, 2u);
  r.dev->consume_tx(0);
  r.dev->set_polling(1, true);
  EXPECT_EQ(send(20), 20);
  EXPECT_EQ(r.dev->queue(1).notifies, 2u) << "EVENT_IDX avail_event out of reach";
  EXPECT_EQ(r.dev->queue(1).interrupts, 0u);
  EXPECT_EQ(r.net->tx(0).notifies(), 2u);
}

TEST(VirtioTx, NoNotifyFlagWithoutEventIdx) {
  Rig r(cfg(FakeKind::Legacy, kLegacyOffer & ~bit(feature::kRingEventIdx)));
  ASSERT_TRUE(r.net) << r.error;
  QueueCounters c;
  PacketBatch b;
  for (int i = 0; i < 4; ++i) b.push(pool_packet(*r.pool, make_frame(64, 1)));
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 4);
  EXPECT_EQ(r.dev->queue(1).notifies, 1u);
  r.dev->set_polling(1, true);
  for (int i = 0; i < 4; ++i) b.push(pool_packet(*r.pool, make_frame(64, 1)));
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 4);
  EXPECT_EQ(r.dev->queue(1).notifies, 1u);
}

TEST(VirtioTx, LentAndUnreachableFramesAreCopiedOwnedOnesAreNot) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  auto other = make_pool(64);  // a pool the device has not mapped
  QueueCounters c;
  PacketBatch b;
  // Lent: peer memory with a private header.
  std::vector<uint8_t> peer = make_frame(300, 7);
  Lender lender;
  Packet lent{};
  lent.base = reinterpret_cast<std::byte*>(peer.data());
  lent.owner = &lender;
  lent.len = 300;
  lent.frame_len = 300;
  lent.flags = kPacketLent;
  lent.refs.store(1);
  b.push(&lent);
  b.push(pool_packet(*other, make_frame(200, 8)));
  b.push(pool_packet(*r.pool, make_frame(100, 9)));
  const uint32_t other_start = other->available();
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 3);
  EXPECT_EQ(lender.released, 1) << "lent reference dropped inside the burst";
  EXPECT_EQ(other->available(), other_start + 1) << "unreachable frame copied and released";
  EXPECT_EQ(r.net->tx(0).copied(), 2u);
  EXPECT_EQ(r.net->tx(0).zero_copy(), 1u);
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].bytes, make_frame(300, 7));
  EXPECT_EQ(frames[1].bytes, make_frame(200, 8));
  EXPECT_EQ(frames[2].bytes, make_frame(100, 9));
}

TEST(VirtioTx, SharedFramesKeepTheirHeadroom) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  QueueCounters c;
  Packet* p = pool_packet(*r.pool, make_frame(120, 4));
  p->flags = kPacketNeedsCsum;
  p->csum_start = 34;
  p->csum_offset = 16;
  std::memset(p->data() - 12, 0xAB, 12);
  retain_packet(p);  // flooded: a second port holds it too
  PacketBatch b;
  b.push(p);
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 1);
  for (int i = 1; i <= 12; ++i) {
    EXPECT_EQ(static_cast<uint8_t>(p->data()[-i]), 0xAB) << "headroom written at " << -i;
  }
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].descriptors, 2) << "header from a slot of ring memory";
  EXPECT_EQ(frames[0].hdr.flags, vnet::kVnetFlagNeedsCsum);
  EXPECT_EQ(frames[0].hdr.csum_start, 34);
  EXPECT_EQ(frames[0].bytes, make_frame(120, 4));
  r.net->tx(0).reclaim(c);
  EXPECT_EQ(p->refs.load(), 1) << "only the device's reference was dropped";
  release_packet(p);
}

TEST(VirtioTx, FrameWithoutHeadroomGetsAHeaderSlot) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  Packet* p = pool_packet(*r.pool, make_frame(90, 6));
  // Data moved to right after the Packet header: no headroom left for the 12-byte header.
  std::memmove(p->base + sizeof(Packet), p->data(), 90);
  p->data_off = sizeof(Packet);
  QueueCounters c;
  PacketBatch b;
  b.push(p);
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 1);
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].descriptors, 2);
  EXPECT_EQ(frames[0].bytes, make_frame(90, 6));
  EXPECT_EQ(p->owner, r.pool.get()) << "the Packet header itself was not overwritten";
}

TEST(VirtioTx, SuperFrameHeaderIsExported) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  const test::BuiltFrame f = test::build_frame({.payload = 1000});
  Packet* p = pool_packet(*r.pool, f.bytes);
  p->flags = kPacketNeedsCsum;
  p->gso_type = GsoType::Tcpv4;
  p->gso_size = 500;
  p->hdr_len = static_cast<uint16_t>(f.hdr_len());
  p->csum_start = static_cast<uint16_t>(f.l4);
  p->csum_offset = 16;
  QueueCounters c;
  PacketBatch b;
  b.push(p);
  EXPECT_EQ(r.net->tx(0).transmit(b, c), 1);
  auto frames = r.dev->consume_tx(0);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].hdr.gso_type, vnet::kVnetGsoTcpv4);
  EXPECT_EQ(frames[0].hdr.gso_size, 500);
  EXPECT_EQ(frames[0].hdr.hdr_len, f.hdr_len());
  EXPECT_EQ(frames[0].hdr.flags, vnet::kVnetFlagNeedsCsum);
  EXPECT_EQ(frames[0].descriptors, 1) << "header in the headroom of a frame held alone";
}

// --- the port ------------------------------------------------------------------------------------

std::map<std::string, std::string> details_of(const Port& p) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : p.details()) m[k] = v;
  return m;
}

TEST(VirtioPortTest, ZeroCopyBetweenTwoPortsAndDetails) {
  auto pool = make_pool();
  auto a_dev = std::make_unique<FakeVirtioDevice>(cfg(FakeKind::Modern, kModernOffer));
  auto b_dev = std::make_unique<FakeVirtioDevice>(cfg(FakeKind::Legacy, kLegacyOffer));
  FakeVirtioDevice* a_fake = a_dev.get();
  FakeVirtioDevice* b_fake = b_dev.get();
  auto a = VirtioPort::open("a", 1, std::move(a_dev), *pool, {});
  auto b = VirtioPort::open("b", 2, std::move(b_dev), *pool, {});
  ASSERT_TRUE(a.has_value()) << a.error().message;
  ASSERT_TRUE(b.has_value()) << b.error().message;
  // Offloads the device takes are advertised to Port::transmit.
  EXPECT_TRUE((*a)->offload_caps().tso4);
  EXPECT_TRUE((*a)->offload_caps().partial_csum);

  // Frames received on a, sent on b: the very same buffers reach b's device.
  for (uint8_t i = 0; i < 8; ++i) ASSERT_TRUE(a_fake->deliver(0, make_frame(200, i)));
  PacketBatch batch;
  ASSERT_EQ((*a)->rx_burst(0, batch), 8);
  std::vector<const std::byte*> rx_data;
  for (Packet* p : batch.packets()) rx_data.push_back(p->data());
  EXPECT_EQ((*b)->transmit(0, batch), 8);
  auto frames = b_fake->peek_tx(0);
  ASSERT_EQ(frames.size(), 8u);
  const auto* d = b_fake->ptr<const VringDesc>(b_fake->queue(1).desc);
  const auto* avail = b_fake->ptr<const VringAvail>(b_fake->queue(1).avail);
  for (uint16_t i = 0; i < 8; ++i) {
    EXPECT_EQ(frames[i].bytes, make_frame(200, static_cast<uint8_t>(i)));
    // Header in the headroom: the descriptor starts 12 bytes before the received data.
    EXPECT_EQ(b_fake->to_ptr(d[avail->ring[i]].addr) + 12, rx_data[i])
        << "frame " << i << " was not sent by reference";
  }
  auto det = details_of(**b);
  EXPECT_EQ(det["tx_zero_copy"], "8");
  EXPECT_EQ(det["tx_copied"], "0");
  EXPECT_EQ(det["interface"], "legacy");
  EXPECT_EQ(det["driver"], "vfio");
  EXPECT_EQ(det["pci"], "0000:00:04.0");
  EXPECT_EQ(det["queues"], "1");
  EXPECT_EQ(det["rx_ring_size"], "256");
  EXPECT_EQ(det["mac"], "52:54:00:12:34:56");
  EXPECT_NE(det["feature_names"].find("mrg_rxbuf"), std::string::npos);
  auto adet = details_of(**a);
  EXPECT_EQ(adet["interface"], "modern");
  EXPECT_NE(adet["feature_names"].find("access_platform"), std::string::npos);
  EXPECT_EQ((*a)->counters().snapshot().rx_packets, 8u);
  EXPECT_EQ((*b)->counters().snapshot().tx_packets, 8u);

  // Link state through housekeeping.
  EXPECT_EQ((*a)->link_state(), LinkState::Up);
  a_fake->set_net_status(0);
  (*a)->housekeeping();
  EXPECT_EQ((*a)->link_state(), LinkState::Down);

  // Teardown with frames still in b's tx ring and buffers in both rx rings.
  a->reset();
  b->reset();
  EXPECT_EQ(pool->available(), pool->capacity());
}

}  // namespace
}  // namespace vsw::ports::virtio::testing
