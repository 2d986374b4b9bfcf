// tests/unit/vhost_user/guest_tx_queue_test.cc — GuestTxQueue (ports/vhost_user/guest_tx_queue.h)
// against the in-process fake driver: frames lent from guest memory, every layout of the
// virtio-net header, chains, indirect tables, offload metadata, copies, used ring publication,
// resync and stop, and every violation.
#include "ports/vhost_user/guest_tx_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "dataplane/mempool.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"
#include "tests/unit/vhost_user/fake_guest.h"

namespace vsw::ports::vhost_user {
namespace {

using test::FakeGuest;
using test::test_frame;
using test::with_vnet_hdr;
using virtio::kDescFlagIndirect;
using virtio::kDescFlagNext;
using virtio::kDescFlagWrite;

constexpr PortId kPort = 3;

std::vector<uint8_t> bytes_of(const Packet* f) {
  std::vector<uint8_t> out;
  for (const Packet* p = f; p != nullptr; p = p->next) {
    const auto* b = reinterpret_cast<const uint8_t*>(p->data());
    out.insert(out.end(), b, b + p->len);
  }
  return out;
}

class GuestTxQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Mempool::Config mc;
    mc.buffers = 2048;
    mc.buffer_bytes = 2048;
    mc.hugepages = false;
    auto p = Mempool::create("vhost-tx-test", mc);
    ASSERT_TRUE(p.has_value());
    pool_ = std::move(p.value());
  }
  void start(uint16_t size = 256, bool indirect = true) {
    guest_ = std::make_unique<FakeGuest>(size);
    cfg_ = guest_->config();
    cfg_.indirect = indirect;
    cfg_.port = kPort;
    cfg_.pool = pool_.get();
    cfg_.host_csum = cfg_.host_tso4 = cfg_.host_tso6 = cfg_.host_ecn = true;
    restart();
  }
  void restart() { ASSERT_TRUE(q_.start(&guest_->memory(), cfg_).has_value()); }
  uint16_t receive() {
    v_ = Violation::None;
    return q_.receive(batch_, c_, v_);
  }
  void release_all() { batch_.release_all(); }
  uint64_t drops(DropReason r) const { return c_.drops[static_cast<size_t>(r)].get(); }
  bool in_guest(const Packet* p) const {
    const std::byte* b = guest_->region_base(0);
    return p->data() >= b && p->data() < b + guest_->half_bytes();
  }

  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<FakeGuest> guest_;
  QueueConfig cfg_;
  GuestTxQueue q_;
  PacketBatch batch_;
  QueueCounters c_;
  Violation v_ = Violation::None;
};

TEST_F(GuestTxQueueTest, OneDescriptorFramesAreLentWithoutCopy) {
  start();
  std::vector<std::vector<uint8_t>> frames;
  for (int i = 0; i < 5; ++i) {
    frames.push_back(test_frame(60 + i * 100, static_cast<uint8_t>(i)));
    const auto buf = with_vnet_hdr(frames.back());
    guest_->post(guest_->chain(buf, {static_cast<uint32_t>(buf.size())}));
  }
  ASSERT_EQ(receive(), 5);
  EXPECT_EQ(v_, Violation::None);
  for (int i = 0; i < 5; ++i) {
    const Packet* p = batch_[static_cast<uint16_t>(i)];
    EXPECT_TRUE(p->is_lent());
    EXPECT_TRUE(in_guest(p)) << "zero copy: the frame stays in guest memory";
    EXPECT_EQ(p->in_port, kPort);
    EXPECT_EQ(p->next, nullptr);
    EXPECT_FALSE(p->has_offload());
    EXPECT_EQ(p->frame_len, frames[i].size());
    EXPECT_EQ(bytes_of(p), frames[i]);
  }
  EXPECT_EQ(q_.outstanding(), 5u);
  EXPECT_EQ(c_.packets.get(), 5u);
  // Nothing goes back while vsw holds the buffers.
  EXPECT_EQ(guest_->used_idx(), 0);
  EXPECT_EQ(receive(), 0);
  EXPECT_EQ(guest_->used_idx(), 0);
  release_all();
  EXPECT_EQ(q_.outstanding(), 0u);
  EXPECT_EQ(receive(), 0);  // the next poll publishes them
  EXPECT_EQ(guest_->used_idx(), 5);
  for (uint16_t i = 0; i < 5; ++i) {
    EXPECT_EQ(guest_->used_elem(i).id, i);
    EXPECT_EQ(guest_->used_elem(i).len, 0u);
  }
}

TEST_F(GuestTxQueueTest, HeaderInItsOwnDescriptor) {
  start();
  const auto f = test_frame(1514);
  guest_->post(guest_->chain(with_vnet_hdr(f), {12, 1514}));
  ASSERT_EQ(receive(), 1);
  EXPECT_EQ(batch_[0]->next, nullptr) << "the data descriptor is the whole frame";
  EXPECT_TRUE(in_guest(batch_[0]));
  EXPECT_EQ(bytes_of(batch_[0]), f);
  release_all();
}

TEST_F(GuestTxQueueTest, HeaderSplitOverTwoDescriptorsAndLegacyTenByteHeader) {
  start();
  cfg_.hdr_len = 10;
  restart();
  const auto f = test_frame(200);
  guest_->post(guest_->chain(with_vnet_hdr(f, 10), {4, 6 + 200}));
  guest_->post(guest_->chain(with_vnet_hdr(f, 10), {3, 4, 3, 200}));
  ASSERT_EQ(receive(), 2);
  EXPECT_EQ(bytes_of(batch_[0]), f);
  EXPECT_EQ(bytes_of(batch_[1]), f);
  release_all();
}

TEST_F(GuestTxQueueTest, ChainIsLentAsPacketChain) {
  start();
  const auto f = test_frame(3000);
  guest_->post(guest_->chain(with_vnet_hdr(f), {12 + 1000, 1000, 1000}));
  ASSERT_EQ(receive(), 1);
  const Packet* p = batch_[0];
  EXPECT_EQ(chain_length(p), 3u);
  EXPECT_EQ(p->frame_len, 3000u);
  for (const Packet* s = p; s != nullptr; s = s->next) EXPECT_TRUE(in_guest(s));
  EXPECT_EQ(bytes_of(p), f);
  EXPECT_EQ(q_.outstanding(), 3u);
  EXPECT_EQ(q_.free_chain_headers(), GuestTxQueue::kChainHeaders - 2);
  release_all();
  EXPECT_EQ(q_.outstanding(), 0u);
  EXPECT_EQ(q_.free_chain_headers(), GuestTxQueue::kChainHeaders);
  receive();
  EXPECT_EQ(guest_->used_idx(), 1);
}

TEST_F(GuestTxQueueTest, ShortFirstSegmentGetsItsHeadersCopied) {
  start();
  const auto f = test_frame(1000);
  guest_->post(guest_->chain(with_vnet_hdr(f), {12 + 20, 30, 950}));
  ASSERT_EQ(receive(), 1);
  const Packet* p = batch_[0];
  EXPECT_TRUE(pool_->owns(p)) << "head copied into a mempool buffer";
  EXPECT_TRUE(p->is_lent()) << "the rest is still lent";
  EXPECT_EQ(p->len, kHeadCopyBytes);
  EXPECT_EQ(bytes_of(p), f);
  EXPECT_EQ(q_.outstanding(), 1u);  // the 950-byte rest, from the middle of its descriptor
  release_all();
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(GuestTxQueueTest, SmallFrameInPiecesIsCopiedWhole) {
  start();
  const auto f = test_frame(100);
  guest_->post(guest_->chain(with_vnet_hdr(f), {12 + 14, 40, 46}));
  ASSERT_EQ(receive(), 1);
  EXPECT_TRUE(pool_->owns(batch_[0]));
  EXPECT_FALSE(batch_[0]->is_lent()) << "nothing of it is guest memory";
  EXPECT_EQ(bytes_of(batch_[0]), f);
  EXPECT_EQ(q_.outstanding(), 0u);
  release_all();
  EXPECT_EQ(guest_->used_idx(), 1) << "published at once: nothing lent";
}

TEST_F(GuestTxQueueTest, IndirectTable) {
  start();
  const auto f = test_frame(1514);
  guest_->post(guest_->indirect(with_vnet_hdr(f), {12, 800, 714}));
  ASSERT_EQ(receive(), 1);
  EXPECT_EQ(chain_length(batch_[0]), 2u);
  EXPECT_EQ(bytes_of(batch_[0]), f);
  release_all();
}

TEST_F(GuestTxQueueTest, TwoEntryIndirectTableIsLentWhole) {
  start();
  const auto f = test_frame(300);
  guest_->post(guest_->indirect(with_vnet_hdr(f), {12, 300}));
  guest_->post(guest_->indirect(with_vnet_hdr(f), {12, 300}));
  ASSERT_EQ(receive(), 2);
  for (uint16_t i = 0; i < 2; ++i) {
    EXPECT_EQ(batch_[i]->next, nullptr);
    EXPECT_TRUE(in_guest(batch_[i]));
    EXPECT_EQ(bytes_of(batch_[i]), f);
  }
  release_all();
  receive();
  EXPECT_EQ(guest_->used_idx(), 2);
}

TEST_F(GuestTxQueueTest, HeaderInItsOwnDescriptorWithAChecksumOffload) {
  start();
  const auto f = test_frame(300);
  guest_->post(guest_->chain(with_vnet_hdr(f, 12, vnet::kVnetFlagNeedsCsum, 0, 0, 34, 16), {12, 300}));
  guest_->post(guest_->indirect(with_vnet_hdr(f, 12, vnet::kVnetFlagNeedsCsum, 0, 0, 34, 6), {12, 300}));
  guest_->post(guest_->chain(with_vnet_hdr(f), {12, 300}));
  ASSERT_EQ(receive(), 3);
  EXPECT_TRUE(batch_[0]->needs_csum());
  EXPECT_EQ(batch_[0]->csum_start, 34);
  EXPECT_EQ(batch_[0]->csum_offset, 16);
  EXPECT_EQ(batch_[1]->csum_offset, 6);
  EXPECT_FALSE(batch_[2]->has_offload());
  release_all();
  receive();
  // The slot headers that carried offloads are plain again for the fast loop's next lap.
  for (int i = 0; i < 3; ++i) guest_->post(guest_->chain(with_vnet_hdr(f), {12 + 300}));
  ASSERT_EQ(receive(), 3);
  for (uint16_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(batch_[i]->has_offload()) << i;
    EXPECT_TRUE(batch_[i]->is_lent());
  }
  release_all();
}

TEST_F(GuestTxQueueTest, TsoSuperFrameArrivesWithGsoMetadata) {
  start();
  const test::BuiltFrame b = test::build_frame({.payload = 60000, .checksums = false});
  const auto& f = b.bytes;
  const auto buf = with_vnet_hdr(f, 12, vnet::kVnetFlagNeedsCsum, vnet::kVnetGsoTcpv4, 1448,
                                 static_cast<uint16_t>(b.l4), 16, static_cast<uint16_t>(b.hdr_len()));
  // As Linux sends it: header alone, the linear part, then 4 KiB page fragments.
  std::vector<uint32_t> pieces = {12, 200};
  for (size_t left = f.size() - 200; left != 0;) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(4096, left));
    pieces.push_back(n);
    left -= n;
  }
  guest_->post(guest_->chain(buf, pieces));
  ASSERT_EQ(receive(), 1);
  const Packet* p = batch_[0];
  EXPECT_EQ(p->gso_type, GsoType::Tcpv4);
  EXPECT_EQ(p->gso_size, 1448);
  EXPECT_EQ(p->hdr_len, b.hdr_len());
  EXPECT_TRUE(p->needs_csum());
  EXPECT_EQ(p->csum_start, b.l4);
  EXPECT_EQ(p->csum_offset, 16);
  EXPECT_TRUE(pool_->owns(p)) << "a super-frame's headers are parsed on a copy";
  EXPECT_TRUE(p->is_lent());
  EXPECT_EQ(p->frame_len, f.size());
  EXPECT_EQ(bytes_of(p), f);
  release_all();
  EXPECT_EQ(q_.outstanding(), 0u);
}

TEST_F(GuestTxQueueTest, OffloadsNotNegotiatedOrInvalidAreDropped) {
  start();
  cfg_.host_csum = cfg_.host_tso4 = false;
  restart();
  const auto f = test_frame(200);
  guest_->post(guest_->chain(with_vnet_hdr(f, 12, vnet::kVnetFlagNeedsCsum, 0, 0, 34, 16), {212}));
  guest_->post(guest_->chain(with_vnet_hdr(f, 12, 0, vnet::kVnetGsoUdp, 1000), {212}));  // UFO
  cfg_.host_csum = true;
  EXPECT_EQ(receive(), 0);
  EXPECT_EQ(drops(DropReason::Invalid), 2u);
  EXPECT_EQ(v_, Violation::None);
  restart();
  // Negotiated but inconsistent: the checksum field outside the frame.
  guest_->post(guest_->chain(with_vnet_hdr(f, 12, vnet::kVnetFlagNeedsCsum, 0, 0, 199, 16), {212}));
  EXPECT_EQ(receive(), 0);
  EXPECT_EQ(drops(DropReason::Invalid), 3u);
  EXPECT_EQ(guest_->used_idx(), 3) << "dropped chains go back at once";
}

TEST_F(GuestTxQueueTest, RuntsAndOversizeFramesAreDropped) {
  start();
  guest_->post(guest_->chain(with_vnet_hdr({}), {12}));                       // header only
  guest_->post(guest_->chain(with_vnet_hdr(test_frame(13)), {25}));           // under 14
  guest_->post(guest_->chain(with_vnet_hdr(test_frame(40000)), {12 + 40000, 30000}));  // > 64 KiB
  const auto ok = test_frame(64);
  guest_->post(guest_->chain(with_vnet_hdr(ok), {76}));
  ASSERT_EQ(receive(), 1);
  EXPECT_EQ(bytes_of(batch_[0]), ok);
  EXPECT_EQ(drops(DropReason::Invalid), 3u);
  release_all();
  receive();
  EXPECT_EQ(guest_->used_idx(), 4);
}

TEST_F(GuestTxQueueTest, GuestRewritingADescriptorAfterTheReadDoesNotChangeTheFrame) {
  start();
  const auto f = test_frame(500);
  const uint16_t head = guest_->chain(with_vnet_hdr(f), {512});
  guest_->post(head);
  ASSERT_EQ(receive(), 1);
  const std::byte* data = batch_[0]->data();
  // The guest points the descriptor elsewhere (outside its memory) and changes the length.
  guest_->set_desc(head, 0xdead0000, 0xFFFFFFFF, kDescFlagNext, 77);
  EXPECT_EQ(batch_[0]->data(), data);
  EXPECT_EQ(batch_[0]->len, 500);
  EXPECT_EQ(bytes_of(batch_[0]), f);
  release_all();
  EXPECT_EQ(receive(), 0);
  EXPECT_EQ(v_, Violation::None);
  EXPECT_EQ(guest_->used_elem(0).id, head);
}

TEST_F(GuestTxQueueTest, ChainHeadersExhaustedFallsBackToCopies) {
  start(256);
  // Frames of 128 pieces (an indirect table each): 127 chain headers per frame.
  const auto f = test_frame(64 + 127 * 64);
  std::vector<uint32_t> pieces(128, 64);
  pieces[0] = 12 + 64;
  const uint32_t frames = GuestTxQueue::kChainHeaders / 127 + 1;  // the last one cannot be lent
  for (uint32_t i = 0; i < frames; ++i) guest_->post(guest_->indirect(with_vnet_hdr(f), pieces));
  ASSERT_EQ(receive(), frames);
  for (uint32_t i = 0; i < frames; ++i) EXPECT_EQ(bytes_of(batch_[static_cast<uint16_t>(i)]), f);
  const Packet* last = batch_[static_cast<uint16_t>(frames - 1)];
  EXPECT_FALSE(in_guest(last->next)) << "the tail of the last frame is a copy";
  EXPECT_TRUE(in_guest(last)) << "its head is still lent";
  release_all();
  EXPECT_EQ(q_.free_chain_headers(), GuestTxQueue::kChainHeaders);
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(GuestTxQueueTest, NoPoolMeansFramesNeedingACopyAreDroppedNoBuffer) {
  start();
  cfg_.pool = nullptr;
  restart();
  guest_->post(guest_->chain(with_vnet_hdr(test_frame(100)), {12 + 14, 86}));
  EXPECT_EQ(receive(), 0);
  EXPECT_EQ(drops(DropReason::NoBuffer), 1u);
}

TEST_F(GuestTxQueueTest, StartResynchronisesFromTheUsedRing) {
  start();
  guest_->used()->idx = 7;
  guest_->avail()->idx = 7;
  cfg_.last_avail = 3;  // what a restarted back-end was told
  restart();
  EXPECT_TRUE(q_.resynced());
  EXPECT_EQ(q_.last_avail(), 7);
  EXPECT_EQ(q_.last_used(), 7);
  guest_->post(guest_->chain(with_vnet_hdr(test_frame(64)), {76}));
  EXPECT_EQ(receive(), 1);
  release_all();
  cfg_.last_avail = 8;
  EXPECT_EQ(q_.stop(), 8);
  restart();
  EXPECT_FALSE(q_.resynced());
}

TEST_F(GuestTxQueueTest, StopPublishesTakenEntriesAndReturnsTheIndex) {
  start();
  for (int i = 0; i < 3; ++i) guest_->post(guest_->chain(with_vnet_hdr(test_frame(64)), {76}));
  ASSERT_EQ(receive(), 3);
  release_all();
  EXPECT_EQ(guest_->used_idx(), 0);
  EXPECT_EQ(q_.stop(), 3);
  EXPECT_EQ(guest_->used_idx(), 3);
  EXPECT_EQ(q_.stop(), 3) << "idempotent";
  EXPECT_FALSE(q_.started());
  GuestTxQueue fresh;
  EXPECT_EQ(fresh.stop(), 0);
}

TEST_F(GuestTxQueueTest, StartRefusesBadConfigs) {
  start();
  QueueConfig c = cfg_;
  c.size = 100;
  EXPECT_FALSE(q_.start(&guest_->memory(), c).has_value());
  c = cfg_;
  c.hdr_len = 11;
  EXPECT_FALSE(q_.start(&guest_->memory(), c).has_value());
  c = cfg_;
  c.desc = reinterpret_cast<VringDesc*>(reinterpret_cast<std::byte*>(c.desc) + 8);
  EXPECT_FALSE(q_.start(&guest_->memory(), c).has_value());
  c = cfg_;
  c.used = nullptr;
  EXPECT_FALSE(q_.start(&guest_->memory(), c).has_value());
}

// --- violations ---------------------------------------------------------------------------------
class GuestTxViolationTest : public GuestTxQueueTest {
 protected:
  void expect(Violation want) {
    const uint64_t before = drops(DropReason::Invalid);
    EXPECT_EQ(receive(), 0);
    EXPECT_EQ(v_, want) << violation_text(v_);
    EXPECT_EQ(drops(DropReason::Invalid), before + 1);
    EXPECT_EQ(guest_->used_idx(), 0) << "nothing published for a broken chain";
  }
};

TEST_F(GuestTxViolationTest, AvailIndexMovedMoreThanTheRingSize) {
  start(64);
  guest_->avail()->idx = 65;
  expect(Violation::BadAvailIndex);
}

TEST_F(GuestTxViolationTest, AvailIndexMovedBackBehindTakenEntries) {
  start(64);
  for (int i = 0; i < 4; ++i) guest_->post(guest_->chain(with_vnet_hdr(test_frame(64)), {76}));
  ASSERT_EQ(receive(), 4);
  guest_->avail()->idx = 2;  // held frames still in use
  const uint16_t n = receive();
  EXPECT_EQ(n, 0);
  EXPECT_EQ(v_, Violation::BadAvailIndex);
  release_all();
}

TEST_F(GuestTxViolationTest, HeadOutOfRange) {
  start(64);
  guest_->post(64);
  expect(Violation::BadHead);
}

TEST_F(GuestTxViolationTest, BufferOutsideGuestMemory) {
  start();
  guest_->set_desc(0, 0x1000, 100, 0, 0);
  guest_->post(0);
  expect(Violation::BadDescriptor);
}

TEST_F(GuestTxViolationTest, BufferStraddlingTwoRegions) {
  start();
  // Contiguous in guest-physical space, not in vsw's: must be refused.
  guest_->set_desc(0, guest_->region1_gpa() - 50, 100, 0, 0);
  guest_->post(0);
  expect(Violation::BadDescriptor);
}

TEST_F(GuestTxViolationTest, AddressWrapsAround) {
  start();
  guest_->set_desc(0, ~uint64_t{0} - 10, 100, 0, 0);
  guest_->post(0);
  expect(Violation::BadDescriptor);
}

TEST_F(GuestTxViolationTest, DescriptorLoop) {
  start(16);
  const uint64_t b = guest_->alloc(100);
  guest_->set_desc(0, b, 20, kDescFlagNext, 1);
  guest_->set_desc(1, b, 20, kDescFlagNext, 0);
  guest_->post(0);
  expect(Violation::BadChain);
}

TEST_F(GuestTxViolationTest, NextOutOfRange) {
  start(16);
  guest_->set_desc(0, guest_->alloc(100), 20, kDescFlagNext, 16);
  guest_->post(0);
  expect(Violation::BadChain);
}

TEST_F(GuestTxViolationTest, ZeroLengthLoopIsStillALoop) {
  start(16);
  guest_->set_desc(3, 0, 0, kDescFlagNext, 3);
  guest_->post(3);
  expect(Violation::BadChain);
}

TEST_F(GuestTxViolationTest, IndirectNotNegotiated) {
  start(64, /*indirect=*/false);
  guest_->post(guest_->indirect(with_vnet_hdr(test_frame(64)), {76}));
  expect(Violation::BadIndirect);
}

TEST_F(GuestTxViolationTest, IndirectWithNext) {
  start();
  const uint16_t head = guest_->indirect(with_vnet_hdr(test_frame(64)), {76});
  guest_->desc()[head].flags |= kDescFlagNext;
  guest_->post(head);
  expect(Violation::BadIndirect);
}

TEST_F(GuestTxViolationTest, IndirectLengthNotAMultipleOf16) {
  start();
  const uint16_t head = guest_->indirect(with_vnet_hdr(test_frame(64)), {76});
  guest_->desc()[head].len = 24;
  guest_->post(head);
  expect(Violation::BadIndirect);
}

TEST_F(GuestTxViolationTest, IndirectTableLargerThanTheRing) {
  start(16);
  const uint16_t head = guest_->indirect(with_vnet_hdr(test_frame(64)), {76});
  guest_->desc()[head].len = 17 * 16;
  guest_->post(head);
  expect(Violation::BadIndirect);
}

TEST_F(GuestTxViolationTest, IndirectTableOutsideMemory) {
  start();
  guest_->set_desc(0, guest_->region1_gpa() + guest_->half_bytes() - 16, 32, kDescFlagIndirect, 0);
  guest_->post(0);
  expect(Violation::BadDescriptor);
}

TEST_F(GuestTxViolationTest, NestedIndirect) {
  start();
  const uint16_t head = guest_->indirect(with_vnet_hdr(test_frame(64)), {12, 64});
  auto* table = reinterpret_cast<VringDesc*>(guest_->host(guest_->desc()[head].addr));
  table[1].flags = kDescFlagIndirect;
  guest_->post(head);
  expect(Violation::BadIndirect);
}

TEST_F(GuestTxViolationTest, IndirectAfterDirectDescriptors) {
  start();
  const uint16_t inner = guest_->indirect(with_vnet_hdr(test_frame(64)), {76});
  guest_->set_desc(100, guest_->alloc(12), 12, kDescFlagNext, inner);
  guest_->post(100);
  expect(Violation::BadIndirect);
}

TEST_F(GuestTxViolationTest, IndirectLoop) {
  start();
  const uint16_t head = guest_->indirect(with_vnet_hdr(test_frame(64)), {12, 64});
  auto* table = reinterpret_cast<VringDesc*>(guest_->host(guest_->desc()[head].addr));
  table[1].flags = kDescFlagNext;
  table[1].next = 0;
  guest_->post(head);
  expect(Violation::BadChain);
}

TEST_F(GuestTxViolationTest, HeaderDescriptorThenDataOutsideMemory) {
  start();
  guest_->set_desc(0, guest_->alloc(12), 12, kDescFlagNext, 1);
  guest_->set_desc(1, 0x20, 64, 0, 0);
  guest_->post(0);
  expect(Violation::BadDescriptor);
}

TEST_F(GuestTxViolationTest, TwoEntryIndirectTableWithAWritableEntry) {
  start();
  guest_->post(guest_->indirect(with_vnet_hdr(test_frame(64)), {12, 64}, kDescFlagWrite));
  expect(Violation::BadDirection);
}

TEST_F(GuestTxViolationTest, WritableDescriptorOnTheTxRing) {
  start();
  guest_->post(guest_->chain(with_vnet_hdr(test_frame(64)), {76}, kDescFlagWrite));
  expect(Violation::BadDirection);
}

TEST_F(GuestTxViolationTest, FramesBeforeTheViolationAreDelivered) {
  start();
  guest_->post(guest_->chain(with_vnet_hdr(test_frame(64)), {76}));
  guest_->post(200 + 0 * 1);  // a head whose descriptor points nowhere
  guest_->set_desc(200, 0x10, 64, 0, 0);
  EXPECT_EQ(receive(), 1);
  EXPECT_EQ(v_, Violation::BadDescriptor);
  EXPECT_EQ(q_.last_avail(), 1) << "the broken entry is not taken";
  release_all();
  EXPECT_EQ(q_.stop(), 1);
  EXPECT_EQ(guest_->used_idx(), 1);
}

TEST(VhostViolation, EveryViolationHasAText) {
  for (auto v : {Violation::None, Violation::BadAvailIndex, Violation::BadHead,
                 Violation::BadDescriptor, Violation::BadChain, Violation::BadIndirect,
                 Violation::BadDirection}) {
    EXPECT_NE(violation_text(v), "unknown");
  }
}

// Adaptive polling: before its worker sleeps the queue asks for a kick for the next entry and
// says whether anything already waits; waking suppresses kicks again.
TEST_F(GuestTxQueueTest, KicksAreRequestedOnlyWhileTheWorkerSleeps) {
  for (const bool event_idx : {false, true}) {
    SCOPED_TRACE(event_idx ? "EVENT_IDX" : "NO_NOTIFY flag");
    start();
    cfg_.event_idx = event_idx;
    cfg_.kick_fd = 42;
    restart();
    EXPECT_EQ(q_.kick_fd(), 42);
    auto suppressed = [&] {
      return event_idx ? guest_->avail_event() == static_cast<uint16_t>(q_.last_avail() - 1)
                       : guest_->used()->flags == virtio::kUsedFlagNoNotify;
    };
    auto requested = [&] {
      return event_idx ? guest_->avail_event() == q_.last_avail() : guest_->used()->flags == 0;
    };
    EXPECT_TRUE(suppressed()) << "polling: no kicks";
    EXPECT_TRUE(q_.enable_kicks()) << "nothing waits: the worker may sleep";
    EXPECT_TRUE(requested());
    q_.disable_kicks(false);
    EXPECT_TRUE(suppressed());

    // A frame posted before the request was seen: the worker must not sleep.
    const auto buf = with_vnet_hdr(test_frame(60));
    guest_->post(guest_->chain(buf, {static_cast<uint32_t>(buf.size())}));
    EXPECT_FALSE(q_.enable_kicks());
    q_.disable_kicks(false);
    ASSERT_EQ(receive(), 1);
    release_all();
    // Taken and released but not yet given back: the next poll has work (the used index).
    EXPECT_FALSE(q_.enable_kicks());
    q_.disable_kicks(false);
    EXPECT_EQ(receive(), 0);
    EXPECT_EQ(guest_->used_idx(), 1);
    EXPECT_TRUE(q_.enable_kicks());
    EXPECT_TRUE(requested()) << "the kick asked for is the next entry's";
    q_.disable_kicks(false);
    EXPECT_TRUE(suppressed());
  }
}

TEST_F(GuestTxQueueTest, NoKickFdMeansNoWakeUpSource) {
  start();
  EXPECT_EQ(q_.kick_fd(), -1);
}

}  // namespace
}  // namespace vsw::ports::vhost_user
