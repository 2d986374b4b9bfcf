// tests/unit/dataplane/egress_offload_test.cc — Port::transmit doing in software exactly the
// offloads a destination lacks: super-frames segmented only for ports without TSO (to the
// port's MTU), once per flush when flooded, never writing a shared or lent frame; partial
// checksums completed (also across odd-length chain segments); long chains packed; hostile
// metadata dropped without draining the pool. Every segment is checked with the independent
// reference checksum of test_ip_frames.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/egress_offload.h"
#include "dataplane/mempool.h"
#include "dataplane/offload/checksum.h"
#include "dataplane/port.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw {
namespace {

using test::Bytes;

// Keeps what it is given (owned frames only in these tests) for the test to inspect.
class CapturePort final : public Port {
 public:
  CapturePort(PortId id, uint32_t mtu, const OffloadCaps& caps) : Port("cap", id, mtu) {
    set_offload_caps(caps);
  }
  ~CapturePort() override { clear(); }
  std::string_view type() const noexcept override { return "capture"; }
  uint16_t rx_queue_count() const noexcept override { return 1; }
  uint16_t tx_queue_count() const noexcept override { return 1; }
  uint16_t rx_burst(QueueId, PacketBatch&) noexcept override { return 0; }
  uint16_t tx_burst(QueueId, PacketBatch& batch) noexcept override {
    for (Packet* p : batch.packets()) got.push_back(p);
    const uint16_t n = batch.size();
    batch.clear();
    ++bursts;
    return n;
  }
  LinkState link_state() const noexcept override { return LinkState::Up; }
  uint64_t drops(DropReason r) const { return counters().snapshot().tx_drops[static_cast<size_t>(r)]; }
  void clear() {
    for (Packet* p : got) release_packet(p);
    got.clear();
  }
  std::vector<Packet*> got;
  int bursts = 0;
};

// The bytes of a whole frame, over all its segments.
Bytes bytes_of(const Packet& p) {
  Bytes b;
  for (const Packet* s = &p; s != nullptr; s = s->next) {
    const auto* d = reinterpret_cast<const uint8_t*>(s->data());
    b.insert(b.end(), d, d + s->len);
  }
  return b;
}

class EgressOffloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pool = Mempool::create("egress", Mempool::Config{4096, 2048, false});
    ASSERT_TRUE(pool.has_value());
    pool_ = std::move(*pool);
  }
  // A frame as a chain of buffers: `cut` gives the segment lengths (the rest in whole buffers).
  Packet* chain_of(const Bytes& f, std::vector<uint32_t> cut = {}) {
    Packet* first = nullptr;
    Packet* last = nullptr;
    size_t off = 0;
    size_t k = 0;
    while (off < f.size()) {
      Packet* p = nullptr;
      EXPECT_EQ(pool_->alloc(&p, 1), 1);
      const size_t len = std::min<size_t>(f.size() - off, k < cut.size() ? cut[k] : pool_->data_room());
      std::memcpy(p->data(), f.data() + off, len);
      p->len = static_cast<uint16_t>(len);
      (last != nullptr ? last->next : first) = p;
      last = p;
      off += len;
      ++k;
    }
    first->frame_len = static_cast<uint32_t>(f.size());
    return first;
  }
  Packet* super_frame(const test::BuiltFrame& f, GsoType type, uint16_t gso_size) {
    Packet* p = chain_of(f.bytes);
    p->gso_type = type;
    p->gso_size = gso_size;
    p->hdr_len = static_cast<uint16_t>(f.hdr_len());
    p->flags |= kPacketNeedsCsum;  // as the kernel hands them over
    p->csum_start = static_cast<uint16_t>(f.l4);
    p->csum_offset = 16;
    return p;
  }
  // Turns the valid L4 checksum of `b` into the partial form a kernel hands over (virtio 1.0
  // §5.1.6.2: the field holds the pseudo-header sum, not complemented).
  static void make_partial(Bytes& b, const test::BuiltFrame& f, bool ipv6, uint8_t proto) {
    const size_t field = f.l4 + (proto == 6 ? 16 : 6);
    const auto* ip = reinterpret_cast<const std::byte*>(b.data() + f.l3);
    const uint32_t l4_len = static_cast<uint32_t>(b.size() - f.l4);
    const uint32_t seed = ipv6 ? offload::pseudo_header_sum_ipv6(ip, proto, l4_len)
                               : offload::pseudo_header_sum_ipv4(ip, proto, l4_len);
    test::wr16(b, field, offload::fold(seed));
  }
  uint32_t send(Port& port, std::vector<Packet*> pkts) {
    PacketBatch b;
    for (Packet* p : pkts) b.push(p);
    const uint32_t n = port.transmit(ctx_, b);
    ctx_.end_flush();
    return n;
  }

  std::unique_ptr<Mempool> pool_;
  TxContext ctx_{0, 1, nullptr};
  void use_pool() { ctx_.pool = pool_.get(); }
};

void expect_segments(const std::vector<Packet*>& segs, const test::BuiltFrame& f,
                     const test::FrameSpec& s, size_t mss, uint32_t max_frame) {
  ASSERT_EQ(segs.size(), (s.payload + mss - 1) / mss);
  Bytes payload;
  for (size_t i = 0; i < segs.size(); ++i) {
    SCOPED_TRACE("segment " + std::to_string(i));
    const Packet& p = *segs[i];
    EXPECT_FALSE(p.has_offload()) << "an ordinary frame with a complete checksum";
    EXPECT_LE(p.frame_len, max_frame);
    const Bytes g = bytes_of(p);
    ASSERT_EQ(g.size(), p.frame_len);
    if (!s.ipv6) EXPECT_TRUE(test::ref_ipv4_header_ok(g, f.l3));
    EXPECT_TRUE(test::ref_l4_checksum_ok(g, f.l3, f.l4, g.size(), s.ipv6, s.l4));
    if (s.l4 == 6) EXPECT_EQ(test::rd32(g, f.l4 + 4), static_cast<uint32_t>(s.seq + i * mss));
    payload.insert(payload.end(), g.begin() + static_cast<long>(f.hdr_len()), g.end());
  }
  ASSERT_EQ(payload.size(), s.payload);
  for (size_t i = 0; i < s.payload; ++i) ASSERT_EQ(payload[i], test::payload_byte(i, s.seed)) << i;
}

TEST(PacketOffloadBits, NonZeroExactlyWhenThereIsAnOffload) {
  auto p = std::make_unique<Packet>();
  for (uint32_t flags = 0; flags < 16; ++flags) {
    for (uint8_t type = 0; type < 4; ++type) {
      p->flags = static_cast<uint8_t>(flags);
      p->gso_type = static_cast<GsoType>(type);
      EXPECT_EQ(p->offload_bits() != 0, p->has_offload()) << flags << " " << int(type);
    }
  }
}

TEST_F(EgressOffloadTest, SuperFrameIsSegmentedToTheMtuOfAPortWithoutTso) {
  use_pool();
  CapturePort port(1, 1500, OffloadCaps{});
  const test::FrameSpec s{.payload = 64000, .seed = 3};
  const test::BuiltFrame f = test::build_frame(s);
  EXPECT_EQ(send(port, {super_frame(f, GsoType::Tcpv4, 1448)}), 45u);
  expect_segments(port.got, f, s, 1448, 1518);
  EXPECT_GE(port.bursts, 2) << "45 segments leave in more than one tx burst";
  port.clear();
  EXPECT_EQ(pool_->available(), pool_->capacity()) << "super-frame and segments all released";
}

TEST_F(EgressOffloadTest, SuperFramePassesWholeToAPortWithTso) {
  use_pool();
  CapturePort port(1, 1500, OffloadCaps::kernel());
  const test::BuiltFrame f = test::build_frame({.ipv6 = true, .payload = 30000});
  Packet* p = super_frame(f, GsoType::Tcpv6, 1428);
  const uint32_t free_before = pool_->available();
  EXPECT_EQ(send(port, {p}), 1u);
  ASSERT_EQ(port.got.size(), 1u);
  EXPECT_EQ(port.got[0], p) << "the same frame, not a copy";
  EXPECT_EQ(p->gso_type, GsoType::Tcpv6);
  EXPECT_EQ(p->gso_size, 1428);
  EXPECT_TRUE(p->needs_csum());
  EXPECT_EQ(pool_->available(), free_before) << "no buffer was taken";
}

TEST_F(EgressOffloadTest, SegmentsOfASuperFrameMustFitTheMtuEvenWithTso) {
  use_pool();
  CapturePort port(1, 1000, OffloadCaps::kernel());
  const test::FrameSpec s{.payload = 9000};
  const test::BuiltFrame f = test::build_frame(s);
  send(port, {super_frame(f, GsoType::Tcpv4, 1448)});
  // 54 + 1448 > 1018: the port could not send its segments, so vsw cuts smaller ones.
  expect_segments(port.got, f, s, 1018 - f.hdr_len(), 1018);
}

TEST_F(EgressOffloadTest, FloodedSuperFrameIsCutOnceAndNeverWritten) {
  use_pool();
  CapturePort a(1, 1500, OffloadCaps{});
  CapturePort b(2, 1500, OffloadCaps{});
  CapturePort tso(3, 1500, OffloadCaps::kernel());
  const test::FrameSpec s{.l4 = 17, .payload = 20000, .seed = 9};
  const test::BuiltFrame f = test::build_frame(s);
  Packet* p = super_frame(f, GsoType::UdpL4, 1400);
  p->csum_offset = 6;
  const Bytes original = bytes_of(*p);
  retain_packet(p);
  retain_packet(p);  // flooded to three ports: three references
  PacketBatch ba, bb, bt;
  ba.push(p);
  bb.push(p);
  bt.push(p);
  a.transmit(ctx_, ba);
  b.transmit(ctx_, bb);
  tso.transmit(ctx_, bt);
  ASSERT_EQ(a.got.size(), 15u);
  EXPECT_EQ(a.got, b.got) << "the second port got the first port's segments, by reference";
  ASSERT_EQ(tso.got.size(), 1u);
  EXPECT_EQ(tso.got[0], p);
  EXPECT_EQ(bytes_of(*p), original) << "the shared super-frame was not written";
  EXPECT_EQ(p->gso_type, GsoType::UdpL4);
  ctx_.end_flush();
  expect_segments(a.got, f, s, 1400, 1518);
  a.clear();
  b.clear();
  tso.clear();
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(EgressOffloadTest, PartialChecksumIsCompletedInPlaceWhenHeldAlone) {
  use_pool();
  CapturePort port(1, 1500, OffloadCaps{});
  const test::BuiltFrame f = test::build_frame({.payload = 1000});
  Bytes partial = f.bytes;
  make_partial(partial, f, false, 6);
  Packet* p = chain_of(partial);
  p->flags |= kPacketNeedsCsum;
  p->csum_start = static_cast<uint16_t>(f.l4);
  p->csum_offset = 16;
  send(port, {p});
  ASSERT_EQ(port.got.size(), 1u);
  EXPECT_EQ(port.got[0], p) << "owned and held alone: completed in place";
  EXPECT_FALSE(p->needs_csum());
  EXPECT_EQ(bytes_of(*p), f.bytes) << "the checksum the frame builder computed";
}

TEST_F(EgressOffloadTest, PartialChecksumOfASharedFrameIsCompletedOnACopy) {
  use_pool();
  CapturePort plain(1, 1500, OffloadCaps{});
  CapturePort csum(2, 1500, OffloadCaps::kernel());
  const test::BuiltFrame f = test::build_frame({.ipv6 = true, .l4 = 17, .payload = 1200});
  Bytes partial = f.bytes;
  make_partial(partial, f, true, 17);
  Packet* p = chain_of(partial);
  p->flags |= kPacketNeedsCsum;
  p->csum_start = static_cast<uint16_t>(f.l4);
  p->csum_offset = 6;
  retain_packet(p);
  PacketBatch b1, b2;
  b1.push(p);
  b2.push(p);
  plain.transmit(ctx_, b1);
  csum.transmit(ctx_, b2);
  ASSERT_EQ(plain.got.size(), 1u);
  EXPECT_NE(plain.got[0], p);
  EXPECT_EQ(bytes_of(*plain.got[0]), f.bytes);
  ASSERT_EQ(csum.got.size(), 1u);
  EXPECT_EQ(csum.got[0], p) << "a port that takes partial checksums gets the frame as it is";
  EXPECT_EQ(bytes_of(*p), partial) << "the shared frame was not written";
  EXPECT_TRUE(p->needs_csum());
}

TEST_F(EgressOffloadTest, PartialChecksumAcrossOddLengthSegments) {
  use_pool();
  CapturePort port(1, 9000, OffloadCaps{});
  for (const std::vector<uint32_t>& cut :
       {std::vector<uint32_t>{101, 333, 7, 1}, std::vector<uint32_t>{35, 1}, std::vector<uint32_t>{61, 1, 1, 999}}) {
    const test::BuiltFrame f = test::build_frame({.payload = 3001});
    Bytes partial = f.bytes;
    make_partial(partial, f, false, 6);
    Packet* p = chain_of(partial, cut);
    p->flags |= kPacketNeedsCsum;
    p->csum_start = static_cast<uint16_t>(f.l4);
    p->csum_offset = 16;
    send(port, {p});
    ASSERT_EQ(port.got.size(), 1u);
    EXPECT_EQ(bytes_of(*port.got[0]), f.bytes) << "cut at " << cut[0];
    port.clear();
  }
}

TEST_F(EgressOffloadTest, LentFrameIsCopiedNeverWritten) {
  use_pool();
  struct CountingOwner final : BufferOwner {
    int released = 0;
    void release(Packet*) noexcept override { ++released; }
  } owner;
  const test::BuiltFrame f = test::build_frame({.payload = 500});
  Bytes peer_memory = f.bytes;
  make_partial(peer_memory, f, false, 6);
  const Bytes before = peer_memory;
  Packet lent{};
  lent.base = reinterpret_cast<std::byte*>(peer_memory.data());
  lent.owner = &owner;
  lent.buf_len = lent.len = static_cast<uint16_t>(peer_memory.size());
  lent.frame_len = lent.len;
  lent.refs.store(1);
  lent.flags = kPacketLent | kPacketNeedsCsum;
  lent.csum_start = static_cast<uint16_t>(f.l4);
  lent.csum_offset = 16;
  CapturePort port(1, 1500, OffloadCaps{});
  send(port, {&lent});
  EXPECT_EQ(owner.released, 1) << "the lent frame went back to its owner within the call";
  ASSERT_EQ(port.got.size(), 1u);
  EXPECT_FALSE(port.got[0]->is_lent());
  EXPECT_EQ(bytes_of(*port.got[0]), f.bytes);
  EXPECT_EQ(peer_memory, before) << "the peer's memory was not written";
}

TEST_F(EgressOffloadTest, LongChainsArePackedForAPortWithAChainLimit) {
  use_pool();
  OffloadCaps caps;
  caps.max_segments = 1;
  CapturePort port(1, 1500, caps);
  const test::BuiltFrame f = test::build_frame({.payload = 1400});
  send(port, {chain_of(f.bytes, {100, 100, 100, 100})});
  ASSERT_EQ(port.got.size(), 1u);
  EXPECT_EQ(port.got[0]->next, nullptr);
  EXPECT_EQ(bytes_of(*port.got[0]), f.bytes);
}

TEST_F(EgressOffloadTest, ChainsWithinThePortsLimitPassAsTheyAre) {
  use_pool();
  OffloadCaps caps = OffloadCaps::kernel();
  caps.max_segments = 64;
  CapturePort port(1, 1500, caps);
  const test::BuiltFrame f = test::build_frame({.payload = 60000});
  Packet* p = super_frame(f, GsoType::Tcpv4, 1448);  // 32 buffers: within the limit of 64
  const uint32_t free_before = pool_->available();
  send(port, {p});
  ASSERT_EQ(port.got.size(), 1u);
  EXPECT_EQ(port.got[0], p) << "a super-frame the port can take, not segmented";
  EXPECT_EQ(pool_->available(), free_before);
}

TEST_F(EgressOffloadTest, OversizeAndHostileFramesAreDroppedAndCounted) {
  use_pool();
  CapturePort port(1, 1500, OffloadCaps{});
  const test::BuiltFrame big = test::build_frame({.payload = 1600});
  send(port, {chain_of(big.bytes)});
  EXPECT_EQ(port.drops(DropReason::Mtu), 1u);
  // gso_size 8 on 64000 bytes would be 8000 segments: dropped, the pool is not drained.
  const test::BuiltFrame f = test::build_frame({.payload = 64000});
  send(port, {super_frame(f, GsoType::Tcpv4, 8)});
  EXPECT_EQ(port.drops(DropReason::Invalid), 1u);
  // Metadata that contradicts the headers (IPv6 GSO on an IPv4 frame).
  send(port, {super_frame(f, GsoType::Tcpv6, 1448)});
  EXPECT_EQ(port.drops(DropReason::Invalid), 2u);
  // A UDP datagram that cannot be cut to the MTU.
  const test::BuiltFrame udp = test::build_frame({.l4 = 17, .payload = 6000});
  send(port, {super_frame(udp, GsoType::UdpL4, 3000)});
  EXPECT_EQ(port.drops(DropReason::Mtu), 2u);
  EXPECT_TRUE(port.got.empty());
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

TEST_F(EgressOffloadTest, WithoutAPoolFramesNeedingWorkAreNoBufferDrops) {
  CapturePort port(1, 1500, OffloadCaps{});
  const test::BuiltFrame f = test::build_frame({.payload = 8000});
  send(port, {super_frame(f, GsoType::Tcpv4, 1448)});
  EXPECT_EQ(port.drops(DropReason::NoBuffer), 1u);
  EXPECT_EQ(pool_->available(), pool_->capacity());
}

}  // namespace
}  // namespace vsw
