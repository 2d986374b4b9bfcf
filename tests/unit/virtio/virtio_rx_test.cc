// tests/unit/virtio/virtio_rx_test.cc — receive: frames from the device's used ring, mergeable
// chains, bad lengths, offload headers and the batched refill (ports/virtio/rx_queue.h).
#include "ports/virtio/rx_queue.h"

#include <gtest/gtest.h>

#include "ports/vnet/virtio_net_hdr.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"
#include "tests/unit/virtio/test_rig.h"

namespace vsw::ports::virtio::testing {
namespace {

struct RxCase {
  FakeKind kind;
  uint64_t features;
  const char* name;
};

class VirtioRx : public ::testing::TestWithParam<RxCase> {};

TEST_P(VirtioRx, FramesArriveWithTheirBytesAndThePortId) {
  Rig r(cfg(GetParam().kind, GetParam().features));
  ASSERT_TRUE(r.net) << r.error;
  std::vector<std::vector<uint8_t>> sent;
  for (uint8_t i = 0; i < 40; ++i) {
    sent.push_back(make_frame(60 + i * 30, i));
    ASSERT_TRUE(r.dev->deliver(0, sent.back()));
  }
  QueueCounters c;
  PacketBatch b;
  EXPECT_EQ(r.net->rx(0).receive(b, c), 32) << "one burst takes at most 32";
  PacketBatch b2;
  EXPECT_EQ(r.net->rx(0).receive(b2, c), 8);
  for (uint16_t i = 0; i < 40; ++i) {
    Packet* p = i < 32 ? b[i] : b2[static_cast<uint16_t>(i - 32)];
    EXPECT_EQ(packet_bytes(p), sent[i]) << i;
    EXPECT_EQ(p->frame_len, sent[i].size());
    EXPECT_EQ(p->in_port, 7);
    EXPECT_EQ(p->next, nullptr);
  }
  EXPECT_EQ(c.packets.get(), 40u);
  b.release_all();
  b2.release_all();
  EXPECT_EQ(r.dev->rx_posted(0), r.net->rx(0).slots() - 8)
      << "32 slots refilled as one batch; 8 wait for a full batch";
}

INSTANTIATE_TEST_SUITE_P(
    Interfaces, VirtioRx,
    ::testing::Values(
        RxCase{FakeKind::Modern, kModernOffer, "modern"},
        RxCase{FakeKind::Legacy, kLegacyOffer, "legacy_any_layout"},
        // Legacy without ANY_LAYOUT: the header has a descriptor of its own (fact sheet §6).
        RxCase{FakeKind::Legacy, bit(feature::kMac) | bit(feature::kStatus), "legacy_split"},
        RxCase{FakeKind::Modern, bit(feature::kVersion1), "modern_minimal"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(VirtioRxLegacySplit, HeaderDescriptorIsSeparate) {
  Rig r(cfg(FakeKind::Legacy, bit(feature::kMac)));
  ASSERT_TRUE(r.net) << r.error;
  EXPECT_EQ(r.net->rx(0).slots(), 128) << "two descriptors per buffer";
  EXPECT_EQ(r.dev->rx_posted(0), 128);
  const auto* d = r.dev->ptr<const VringDesc>(r.dev->queue(0).desc);
  EXPECT_EQ(d[0].len, 10u);
  EXPECT_EQ(d[0].flags, kDescFlagWrite | kDescFlagNext);
  EXPECT_EQ(d[1].addr, d[0].addr + 10);
  const uint64_t pool_iova = r.dev->dma_address(r.pool->memory().data());
  EXPECT_EQ((d[0].addr - pool_iova) % 2048, 128u - 10) << "the header lies right before data()";
}

TEST(VirtioRxRefill, OneDoorbellPerBatchAndOnlyWhenAsked) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  const uint64_t after_prefill = r.dev->queue(0).notifies;
  EXPECT_EQ(after_prefill, 1u) << "the whole prefill is published with one doorbell";
  QueueCounters c;
  // 31 frames: fewer free slots than a refill batch, nothing is reposted yet.
  for (int i = 0; i < 31; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 1)));
  PacketBatch b;
  EXPECT_EQ(r.net->rx(0).receive(b, c), 31);
  b.release_all();
  EXPECT_EQ(r.dev->rx_posted(0), 256 - 31);
  EXPECT_EQ(r.dev->queue(0).notifies, after_prefill);
  // Two more: 33 free, one batch of 32 goes back, one doorbell.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 1)));
  EXPECT_EQ(r.net->rx(0).receive(b, c), 2);
  b.release_all();
  EXPECT_EQ(r.dev->rx_posted(0), 256 - 1);
  EXPECT_EQ(r.dev->queue(0).notifies, after_prefill + 1);
  // The device polls (EVENT_IDX avail_event far ahead): refills ring no doorbell.
  r.dev->set_polling(0, true);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 1)));
  for (int k = 0; k < 2; ++k) {
    EXPECT_GT(r.net->rx(0).receive(b, c), 0);
    b.release_all();
  }
  EXPECT_EQ(r.dev->queue(0).notifies, after_prefill + 1);
  EXPECT_EQ(r.dev->queue(0).interrupts, 0u) << "used_event kept out of reach";
}

TEST(VirtioRxRefill, NoNotifyFlagWithoutEventIdx) {
  Rig r(cfg(FakeKind::Modern, kModernOffer & ~bit(feature::kRingEventIdx)));
  ASSERT_TRUE(r.net) << r.error;
  r.dev->set_polling(0, true);
  const uint64_t before = r.dev->queue(0).notifies;
  QueueCounters c;
  PacketBatch b;
  for (int i = 0; i < 32; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 1)));
  EXPECT_EQ(r.net->rx(0).receive(b, c), 32);
  b.release_all();
  EXPECT_EQ(r.dev->rx_posted(0), 256);
  EXPECT_EQ(r.dev->queue(0).notifies, before);
  EXPECT_EQ(r.dev->queue(0).interrupts, 0u) << "NO_INTERRUPT set";
}

TEST(VirtioRxMergeable, LongFrameBecomesAChain) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  const auto big = make_frame(5000, 3);  // 1920-byte buffers (+12 header): three buffers
  ASSERT_TRUE(r.dev->deliver(0, big));
  ASSERT_TRUE(r.dev->deliver(0, make_frame(100, 4)));
  QueueCounters c;
  PacketBatch b;
  ASSERT_EQ(r.net->rx(0).receive(b, c), 2);
  EXPECT_EQ(chain_length(b[0]), 3u);
  EXPECT_EQ(b[0]->frame_len, 5000u);
  EXPECT_EQ(packet_bytes(b[0]), big);
  EXPECT_EQ(packet_bytes(b[1]), make_frame(100, 4));
  EXPECT_EQ(c.bytes.get(), 5100u);
  b.release_all();
  EXPECT_EQ(r.pool->available(), r.pool->capacity() - 256 + 4) << "4 slots wait for a refill";
}

TEST(VirtioRxMergeable, IncompleteFrameWaitsForItsBuffers) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  // First buffer of a frame announcing num_buffers = 2, the second not yet used.
  auto* d = r.dev->ptr<const VringDesc>(r.dev->queue(0).desc);
  const auto* avail = r.dev->ptr<const VringAvail>(r.dev->queue(0).avail);
  const uint16_t head = avail->ring[0];
  auto* hdr = r.dev->ptr<uint8_t>(d[head].addr);
  std::memset(hdr, 0, 12);
  hdr[10] = 2;
  ASSERT_TRUE(r.dev->return_rx_raw(0, 12 + 1000));
  QueueCounters c;
  PacketBatch b;
  EXPECT_EQ(r.net->rx(0).receive(b, c), 0);
  ASSERT_TRUE(r.dev->return_rx_raw(0, 500));
  EXPECT_EQ(r.net->rx(0).receive(b, c), 1);
  EXPECT_EQ(b[0]->frame_len, 1500u);
  b.release_all();
}

TEST(VirtioRxBadInput, BadLengthsAreCountedAndBuffersRecycled) {
  Rig r(cfg(FakeKind::Modern, kModernOffer & ~bit(feature::kMrgRxbuf)));
  ASSERT_TRUE(r.net) << r.error;
  const uint32_t start = r.pool->available();
  ASSERT_TRUE(r.dev->return_rx_raw(0, 5));          // shorter than the header
  ASSERT_TRUE(r.dev->return_rx_raw(0, 100000));     // longer than the buffer
  ASSERT_TRUE(r.dev->return_rx_raw(0, 12 + 10));    // shorter than an Ethernet header
  ASSERT_TRUE(r.dev->deliver(0, make_frame(80, 9)));
  r.dev->push_used_raw(0, 9999, 100);               // an id never posted
  QueueCounters c;
  PacketBatch b;
  EXPECT_EQ(r.net->rx(0).receive(b, c), 1);
  EXPECT_EQ(packet_bytes(b[0]), make_frame(80, 9));
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::Invalid)].get(), 4u);
  b.release_all();
  EXPECT_EQ(r.pool->available(), start + 4) << "every buffer went back to the pool";
  EXPECT_EQ(r.dev->rx_posted(0), 256 - 4) << "4 free slots: less than a refill batch";
}

TEST(VirtioRxBadInput, NumBuffersOutOfRange) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  auto* d = r.dev->ptr<const VringDesc>(r.dev->queue(0).desc);
  const auto* avail = r.dev->ptr<const VringAvail>(r.dev->queue(0).avail);
  auto* hdr = r.dev->ptr<uint8_t>(d[avail->ring[0]].addr);
  std::memset(hdr, 0, 12);  // num_buffers 0
  ASSERT_TRUE(r.dev->return_rx_raw(0, 200));
  QueueCounters c;
  PacketBatch b;
  EXPECT_EQ(r.net->rx(0).receive(b, c), 0);
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
}

TEST(VirtioRxOffload, HeaderImportedOntoThePacket) {
  Rig r(cfg(FakeKind::Modern, kModernOffer));
  ASSERT_TRUE(r.net) << r.error;
  // A TCP super-frame with a partial checksum (GUEST_TSO4 + GUEST_CSUM).
  const test::BuiltFrame f = test::build_frame({.payload = 6000});
  const vnet::VirtioNetHdr h{vnet::kVnetFlagNeedsCsum, vnet::kVnetGsoTcpv4, 54, 1448,
                             static_cast<uint16_t>(f.l4), 16};
  ASSERT_TRUE(r.dev->deliver(0, f.bytes, h));
  // A frame whose checksum the device verified.
  const test::BuiltFrame g = test::build_frame({.l4 = 17, .payload = 100});
  ASSERT_TRUE(r.dev->deliver(0, g.bytes, {vnet::kVnetFlagDataValid, 0, 0, 0, 0, 0}));
  // An inconsistent header: checksum field beyond the frame.
  ASSERT_TRUE(r.dev->deliver(0, g.bytes, {vnet::kVnetFlagNeedsCsum, 0, 0, 0, 4000, 16}));
  QueueCounters c;
  PacketBatch b;
  ASSERT_EQ(r.net->rx(0).receive(b, c), 2);
  EXPECT_EQ(b[0]->gso_type, GsoType::Tcpv4);
  EXPECT_EQ(b[0]->gso_size, 1448);
  EXPECT_TRUE(b[0]->needs_csum());
  EXPECT_EQ(b[0]->csum_start, f.l4);
  EXPECT_EQ(b[0]->hdr_len, f.hdr_len());
  EXPECT_GT(chain_length(b[0]), 1u);
  EXPECT_NE(b[1]->flags & kPacketCsumValid, 0);
  EXPECT_FALSE(b[1]->has_offload());
  EXPECT_EQ(c.drops[static_cast<size_t>(DropReason::Invalid)].get(), 1u);
  b.release_all();
}

TEST(VirtioRxPool, EmptyPoolIsCountedAndRetried) {
  Rig r(cfg(FakeKind::Modern, kModernOffer), {}, 256 + 64);
  ASSERT_TRUE(r.net) << r.error;
  // Hold every remaining pool buffer.
  std::vector<Packet*> held(64);
  ASSERT_EQ(r.pool->alloc(held.data(), 32), 32);
  ASSERT_EQ(r.pool->alloc(held.data() + 32, 32), 32);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 1)));
  QueueCounters c;
  PacketBatch b;
  EXPECT_EQ(r.net->rx(0).receive(b, c), 32);
  EXPECT_EQ(r.net->rx(0).no_buffer_events(), 1u);
  EXPECT_EQ(r.dev->rx_posted(0), 256 - 40);
  for (Packet* p : held) release_packet(p);
  b.release_all();
  PacketBatch b2;
  EXPECT_EQ(r.net->rx(0).receive(b2, c), 8);
  b2.release_all();
  EXPECT_EQ(r.dev->rx_posted(0), 256 - 8) << "the refill caught up once buffers came back";
}

// Adaptive polling: the rx queue asks for an interrupt only while its worker sleeps, and
// refuses the sleep when the device used an entry first (both suppression schemes).
TEST(VirtioRxInterrupts, RequestedOnlyAroundTheWorkersSleep) {
  for (const bool event_idx : {true, false}) {
    SCOPED_TRACE(event_idx ? "EVENT_IDX" : "NO_INTERRUPT flag");
    const uint64_t offer =
        event_idx ? kModernOffer : kModernOffer & ~bit(feature::kRingEventIdx);
    Rig r(cfg(FakeKind::Modern, offer));
    ASSERT_TRUE(r.net) << r.error;
    RxQueue& rx = r.net->rx(0);
    QueueCounters c;
    PacketBatch b;
    ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 1)));
    EXPECT_EQ(r.dev->queue(0).interrupts, 0u) << "polling: interrupts off";
    EXPECT_FALSE(rx.enable_interrupts()) << "a frame waits: no sleep";
    rx.disable_interrupts();
    ASSERT_EQ(rx.receive(b, c), 1);
    b.release_all();
    ASSERT_TRUE(rx.enable_interrupts()) << "nothing pending: the worker may sleep";
    ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 2)));
    EXPECT_EQ(r.dev->queue(0).interrupts, 1u) << "the next used entry interrupts";
    rx.disable_interrupts();
    ASSERT_EQ(rx.receive(b, c), 1);
    b.release_all();
    ASSERT_TRUE(r.dev->deliver(0, make_frame(64, 3)));
    EXPECT_EQ(r.dev->queue(0).interrupts, 1u) << "awake again: interrupts off";
    ASSERT_EQ(rx.receive(b, c), 1);
    b.release_all();
  }
}

}  // namespace
}  // namespace vsw::ports::virtio::testing
