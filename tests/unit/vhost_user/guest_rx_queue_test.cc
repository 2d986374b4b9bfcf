// tests/unit/vhost_user/guest_rx_queue_test.cc — GuestRxQueue (ports/vhost_user/guest_rx_queue.h)
// against the in-process fake driver: frames copied behind the virtio-net header, mergeable and
// non-mergeable buffers, offloads to the guest and the round trip from a guest's tx ring,
// running out of buffers, violations, resync and stop.
#include "ports/vhost_user/guest_rx_queue.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/mempool.h"
#include "ports/vhost_user/guest_tx_queue.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"
#include "tests/unit/vhost_user/fake_guest.h"

namespace vsw::ports::vhost_user {
namespace {

using test::FakeGuest;
using test::test_frame;
using test::with_vnet_hdr;
using virtio::kDescFlagWrite;

class GuestRxQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Mempool::Config mc;
    mc.buffers = 1024;
    mc.buffer_bytes = 2048;
    mc.hugepages = false;
    auto p = Mempool::create("vhost-rx-test", mc);
    ASSERT_TRUE(p.has_value());
    pool_ = std::move(p.value());
  }
  void start(uint16_t size = 256, bool mrg = true) {
    guest_ = std::make_unique<FakeGuest>(size);
    cfg_ = guest_->config();
    cfg_.mrg_rxbuf = mrg;
    cfg_.indirect = true;
    restart();
  }
  void restart() { ASSERT_TRUE(q_.start(&guest_->memory(), cfg_).has_value()); }
  // A frame in mempool buffers of at most `seg` bytes each.
  Packet* owned(const std::vector<uint8_t>& f, uint32_t seg = 1920) {
    Packet* first = nullptr;
    Packet* last = nullptr;
    for (size_t off = 0; off < f.size(); off += seg) {
      Packet* p = nullptr;
      EXPECT_EQ(pool_->alloc(&p, 1), 1);
      p->len = static_cast<uint16_t>(std::min<size_t>(seg, f.size() - off));
      std::memcpy(p->data(), f.data() + off, p->len);
      (last == nullptr ? first : last->next) = p;
      last = p;
    }
    first->frame_len = static_cast<uint32_t>(f.size());
    return first;
  }
  uint16_t send(std::initializer_list<Packet*> pkts) {
    PacketBatch b;
    for (Packet* p : pkts) b.push(p);
    v_ = Violation::None;
    const uint16_t n = q_.transmit(b, c_, v_);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(pool_->available(), pool_->capacity()) << "every reference taken";
    return n;
  }
  uint16_t post_buffer(uint32_t len) {
    const uint16_t head = guest_->chain({}, {len}, kDescFlagWrite);
    guest_->post(head);
    return head;
  }
  uint64_t drops(DropReason r) const { return c_.drops[static_cast<size_t>(r)].get(); }
  static uint16_t num_buffers(const std::vector<uint8_t>& hdr) {
    uint16_t n;
    std::memcpy(&n, &hdr[10], 2);
    return n;
  }

  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<FakeGuest> guest_;
  QueueConfig cfg_;
  GuestRxQueue q_;
  QueueCounters c_;
  Violation v_ = Violation::None;
};

TEST_F(GuestRxQueueTest, FramesAreCopiedBehindAZeroHeader) {
  start();
  const uint16_t h0 = post_buffer(2048);
  const uint16_t h1 = post_buffer(2048);
  const auto f0 = test_frame(64), f1 = test_frame(1514, 9);
  EXPECT_EQ(send({owned(f0), owned(f1)}), 2);
  EXPECT_EQ(guest_->used_idx(), 2);
  EXPECT_EQ(guest_->used_elem(0).id, h0);
  EXPECT_EQ(guest_->used_elem(0).len, 12u + 64);
  EXPECT_EQ(guest_->used_elem(1).id, h1);
  EXPECT_EQ(guest_->used_elem(1).len, 12u + 1514);
  auto got = guest_->read_chain(h1, 12 + 1514);
  EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.begin() + 10), std::vector<uint8_t>(10, 0));
  EXPECT_EQ(num_buffers(got), 1);
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + 12, got.end()), f1);
  auto expected = with_vnet_hdr(f0);
  expected[10] = 1;  // num_buffers
  EXPECT_EQ(guest_->read_chain(h0, 76), expected);
  EXPECT_EQ(c_.packets.get(), 2u);
  EXPECT_EQ(c_.bytes.get(), 64u + 1514);
}

TEST_F(GuestRxQueueTest, LegacyTenByteHeader) {
  start(64, false);
  cfg_.hdr_len = 10;
  restart();
  const uint16_t h = post_buffer(200);
  const auto f = test_frame(100);
  EXPECT_EQ(send({owned(f)}), 1);
  EXPECT_EQ(guest_->used_elem(0).len, 110u);
  EXPECT_EQ(guest_->read_chain(h, 110), with_vnet_hdr(f, 10));
}

TEST_F(GuestRxQueueTest, MergeableFrameSpansBuffers) {
  start();
  const uint16_t a = post_buffer(1536), b = post_buffer(1536), c = post_buffer(1536);
  const auto f = test_frame(3000);
  EXPECT_EQ(send({owned(f, 700)}), 1);
  EXPECT_EQ(guest_->used_idx(), 2);
  EXPECT_EQ(guest_->used_elem(0).id, a);
  EXPECT_EQ(guest_->used_elem(0).len, 1536u);
  EXPECT_EQ(guest_->used_elem(1).id, b);
  EXPECT_EQ(guest_->used_elem(1).len, 12u + 3000 - 1536);
  std::vector<uint8_t> got = guest_->read_chain(a, 1536);
  const std::vector<uint8_t> rest = guest_->read_chain(b, 12 + 3000 - 1536);
  got.insert(got.end(), rest.begin(), rest.end());
  EXPECT_EQ(num_buffers(got), 2);
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + 12, got.end()), f);
  (void)c;
}

TEST_F(GuestRxQueueTest, NonMergeableFrameMustFitOneChain) {
  start(64, false);
  const uint16_t small = post_buffer(1000);
  const auto big = test_frame(1500), ok = test_frame(900);
  EXPECT_EQ(send({owned(big), owned(ok)}), 1);
  EXPECT_EQ(drops(DropReason::Mtu), 1u);
  EXPECT_EQ(guest_->used_idx(), 1);
  EXPECT_EQ(guest_->used_elem(0).id, small) << "the chain stayed for the next frame";
  const auto got = guest_->read_chain(small, 912);
  EXPECT_EQ(num_buffers(got), 1);
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + 12, got.end()), ok);
}

TEST_F(GuestRxQueueTest, NonMergeableChainWithHeaderInItsOwnDescriptor) {
  start(64, false);
  // Linux "big packets": the header alone, then page-sized pieces.
  const uint16_t head = guest_->chain({}, {12, 4096, 4096, 4096}, kDescFlagWrite);
  guest_->post(head);
  const auto f = test_frame(9000);
  EXPECT_EQ(send({owned(f)}), 1);
  EXPECT_EQ(guest_->used_elem(0).len, 9012u);
  const auto got = guest_->read_chain(head, 9012);
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + 12, got.end()), f);
}

TEST_F(GuestRxQueueTest, IndirectRxBuffers) {
  start(64, false);
  const uint16_t head = guest_->indirect({}, {12, 1600}, kDescFlagWrite);
  guest_->post(head);
  const auto f = test_frame(1514);
  EXPECT_EQ(send({owned(f)}), 1);
  EXPECT_EQ(guest_->used_elem(0).len, 1526u);
  auto* table = reinterpret_cast<VringDesc*>(guest_->host(guest_->desc()[head].addr));
  EXPECT_EQ(std::memcmp(guest_->host(table[1].addr), f.data(), f.size()), 0);
}

TEST_F(GuestRxQueueTest, NoBuffersMeansTxFull) {
  start();
  post_buffer(2048);
  EXPECT_EQ(send({owned(test_frame(64)), owned(test_frame(64)), owned(test_frame(64))}), 1);
  EXPECT_EQ(drops(DropReason::TxFull), 2u);
  // A mergeable frame that would need more buffers than posted publishes nothing of itself.
  post_buffer(1000);
  EXPECT_EQ(send({owned(test_frame(3000))}), 0);
  EXPECT_EQ(drops(DropReason::TxFull), 3u);
  EXPECT_EQ(guest_->used_idx(), 1);
  EXPECT_EQ(q_.last_avail(), 1);
}

TEST_F(GuestRxQueueTest, OffloadsTheGuestDidNotAcceptAreDropped) {
  start();
  for (int i = 0; i < 4; ++i) post_buffer(2048);
  Packet* gso = owned(test_frame(1000));
  gso->gso_type = GsoType::Tcpv4;
  gso->gso_size = 500;
  Packet* csum = owned(test_frame(1000));
  csum->flags |= kPacketNeedsCsum;
  csum->csum_start = 34;
  csum->csum_offset = 16;
  Packet* valid = owned(test_frame(100));
  valid->flags |= kPacketCsumValid;
  EXPECT_EQ(send({gso, csum, valid}), 1);
  EXPECT_EQ(drops(DropReason::Mtu), 1u);
  EXPECT_EQ(drops(DropReason::Invalid), 1u);
  const auto got = guest_->read_chain(guest_->used_elem(0).id, 112);
  EXPECT_EQ(got[0], 0) << "DATA_VALID only with GUEST_CSUM";
}

TEST_F(GuestRxQueueTest, ChecksumOffloadsReachAGuestThatAcceptsThem) {
  start();
  cfg_.guest_csum = true;
  restart();
  const uint16_t h0 = post_buffer(2048), h1 = post_buffer(2048);
  Packet* csum = owned(test_frame(1000));
  csum->flags |= kPacketNeedsCsum;
  csum->csum_start = 34;
  csum->csum_offset = 16;
  Packet* valid = owned(test_frame(100));
  valid->flags |= kPacketCsumValid;
  EXPECT_EQ(send({csum, valid}), 2);
  const auto a = guest_->read_chain(h0, 12);
  EXPECT_EQ(a[0], vnet::kVnetFlagNeedsCsum);
  uint16_t start_off, offset;
  std::memcpy(&start_off, &a[6], 2);
  std::memcpy(&offset, &a[8], 2);
  EXPECT_EQ(start_off, 34);
  EXPECT_EQ(offset, 16);
  EXPECT_EQ(guest_->read_chain(h1, 12)[0], vnet::kVnetFlagDataValid);
}

// A TSO super-frame from one guest's tx ring to another guest's rx ring: no segmentation, the
// offload metadata carried across in the two virtio-net headers.
TEST_F(GuestRxQueueTest, TsoSuperFrameRoundTripBetweenTwoGuests) {
  FakeGuest sender(256);
  QueueConfig tx_cfg = sender.config();
  tx_cfg.host_csum = tx_cfg.host_tso4 = true;
  tx_cfg.pool = pool_.get();
  tx_cfg.port = 1;
  GuestTxQueue txq;
  ASSERT_TRUE(txq.start(&sender.memory(), tx_cfg).has_value());
  const test::BuiltFrame b = test::build_frame({.payload = 30000, .checksums = false});
  const auto& f = b.bytes;
  sender.post(sender.chain(with_vnet_hdr(f, 12, vnet::kVnetFlagNeedsCsum, vnet::kVnetGsoTcpv4,
                                         1448, static_cast<uint16_t>(b.l4), 16),
                           {12, 1000, 10000, 10000, static_cast<uint32_t>(f.size() - 21000)}));
  PacketBatch batch;
  QueueCounters tc;
  Violation tv = Violation::None;
  ASSERT_EQ(txq.receive(batch, tc, tv), 1);

  start();
  cfg_.guest_csum = cfg_.guest_tso4 = true;
  restart();
  std::vector<uint16_t> heads;
  for (int i = 0; i < 24; ++i) heads.push_back(post_buffer(1536));
  v_ = Violation::None;
  ASSERT_EQ(q_.transmit(batch, c_, v_), 1);
  EXPECT_EQ(txq.outstanding(), 0u) << "the lent frame went back to the sending guest";
  const uint32_t total = 12 + static_cast<uint32_t>(f.size());
  const uint16_t bufs = static_cast<uint16_t>((total + 1535) / 1536);
  EXPECT_EQ(guest_->used_idx(), bufs);
  std::vector<uint8_t> got;
  for (uint16_t i = 0; i < bufs; ++i) {
    const auto part = guest_->read_chain(heads[i], guest_->used_elem(i).len);
    got.insert(got.end(), part.begin(), part.end());
  }
  ASSERT_EQ(got.size(), total);
  EXPECT_EQ(got[0], vnet::kVnetFlagNeedsCsum);
  EXPECT_EQ(got[1], vnet::kVnetGsoTcpv4);
  uint16_t hdr_len, gso_size, csum_start, csum_offset;
  std::memcpy(&hdr_len, &got[2], 2);
  std::memcpy(&gso_size, &got[4], 2);
  std::memcpy(&csum_start, &got[6], 2);
  std::memcpy(&csum_offset, &got[8], 2);
  EXPECT_EQ(hdr_len, b.hdr_len());
  EXPECT_EQ(gso_size, 1448);
  EXPECT_EQ(csum_start, b.l4);
  EXPECT_EQ(csum_offset, 16);
  EXPECT_EQ(num_buffers(got), bufs);
  EXPECT_EQ(std::vector<uint8_t>(got.begin() + 12, got.end()), f);
  txq.receive(batch, tc, tv);
  EXPECT_EQ(sender.used_idx(), 1);
}

TEST_F(GuestRxQueueTest, SuperFrameToAGuestWithoutTsoIsDropped) {
  start();
  cfg_.guest_csum = true;
  cfg_.guest_tso4 = true;  // but no GUEST_ECN
  restart();
  post_buffer(2048);
  Packet* gso = owned(test_frame(1000));
  gso->gso_type = GsoType::Tcpv6;
  Packet* ecn = owned(test_frame(1000));
  ecn->gso_type = GsoType::Tcpv4;
  ecn->flags |= kPacketGsoEcn;
  EXPECT_EQ(send({gso, ecn}), 0);
  EXPECT_EQ(drops(DropReason::Mtu), 2u);
  EXPECT_EQ(guest_->used_idx(), 0);
}

TEST_F(GuestRxQueueTest, ReadOnlyDescriptorIsAViolationAndNeverWritten) {
  start();
  const uint16_t head = guest_->chain({}, {2048});  // no WRITE flag
  guest_->post(head);
  std::byte* buf = guest_->host(guest_->desc()[head].addr);
  std::memset(buf, 0xAB, 2048);
  EXPECT_EQ(send({owned(test_frame(64)), owned(test_frame(64))}), 0);
  EXPECT_EQ(v_, Violation::BadDirection);
  EXPECT_EQ(drops(DropReason::Invalid), 2u);
  for (int i = 0; i < 2048; ++i) ASSERT_EQ(buf[i], std::byte{0xAB}) << "byte " << i;
  EXPECT_EQ(guest_->used_idx(), 0);
}

TEST_F(GuestRxQueueTest, Violations) {
  start(64);
  guest_->avail()->idx = 65;
  EXPECT_EQ(send({owned(test_frame(64))}), 0);
  EXPECT_EQ(v_, Violation::BadAvailIndex);
  start(64);
  guest_->post(64);
  EXPECT_EQ(send({owned(test_frame(64))}), 0);
  EXPECT_EQ(v_, Violation::BadHead);
  start(64);
  guest_->set_desc(0, guest_->region1_gpa() - 30, 2048, kDescFlagWrite, 0);
  guest_->post(0);
  EXPECT_EQ(send({owned(test_frame(64))}), 0);
  EXPECT_EQ(v_, Violation::BadDescriptor);
  start(64);
  // A loop of 1-byte buffers: 64 descriptors do not hold the frame, the 65th is a repeat.
  guest_->set_desc(0, guest_->alloc(64), 1, kDescFlagWrite | virtio::kDescFlagNext, 0);
  guest_->post(0);
  EXPECT_EQ(send({owned(test_frame(64))}), 0);
  EXPECT_EQ(v_, Violation::BadChain);
  EXPECT_EQ(guest_->used_idx(), 0);
}

TEST_F(GuestRxQueueTest, ResyncAndStop) {
  start();
  guest_->used()->idx = 40;
  guest_->avail()->idx = 40;
  cfg_.last_avail = 0;
  restart();
  EXPECT_TRUE(q_.resynced());
  post_buffer(2048);
  EXPECT_EQ(send({owned(test_frame(64))}), 1);
  EXPECT_EQ(guest_->used_idx(), 41);
  EXPECT_EQ(guest_->used_elem(40).len, 76u);
  EXPECT_EQ(q_.stop(), 41);
  EXPECT_EQ(q_.stop(), 41);
}

}  // namespace
}  // namespace vsw::ports::vhost_user
