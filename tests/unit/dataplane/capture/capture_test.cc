// tests/unit/dataplane/capture/capture_test.cc — Capture: spec checks and libpcap's filter
// errors, the BPF filter run on frames, snaplen and original length across chained buffers,
// ring-full drops counted per capture, and captures on a running Switch over ring ports (rx and
// tx hooks, detach, the capture limit, a deleted port).
#include "dataplane/capture/capture.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstring>
#include <vector>

#include "dataplane/switch.h"
#include "ports/ring/ring_port.h"
#include "tests/unit/dataplane/test_frames.h"

namespace vsw {
namespace {

using ports::ring::RingPort;

// A frame of `len` bytes: Ethernet + IPv4 + UDP to `dst_port`, then a counting payload.
std::vector<std::byte> udp_frame(uint32_t len, uint16_t dst_port) {
  std::vector<std::byte> f(len);
  for (uint32_t i = 0; i < len; ++i) f[i] = static_cast<std::byte>(i & 0xFF);
  auto put = [&](size_t at, std::initializer_list<int> bytes) {
    for (int b : bytes) f[at++] = static_cast<std::byte>(b);
  };
  put(12, {0x08, 0x00});                       // IPv4
  const int ip_len = static_cast<int>(len) - 14;
  put(14, {0x45, 0x00, ip_len >> 8, ip_len & 0xFF, 0, 0, 0, 0, 64, 17});  // proto UDP
  put(20, {0x40, 0x00});                       // DF, offset 0
  put(34, {0x30, 0x39, dst_port >> 8, dst_port & 0xFF});  // ports
  return f;
}

// Packet headers over caller-owned bytes, cut into segments of `seg` bytes (a chain when the
// frame is longer).
struct Chain {
  std::unique_ptr<Packet[]> segs;
  uint32_t count;
  Chain(std::vector<std::byte>& frame, uint32_t seg) {
    const uint32_t n = static_cast<uint32_t>((frame.size() + seg - 1) / seg);
    segs = std::make_unique<Packet[]>(n);
    count = n;
    for (uint32_t i = 0; i < n; ++i) {
      Packet& p = segs[i];
      p.base = frame.data() + i * seg;
      p.data_off = 0;
      p.len = static_cast<uint16_t>(std::min<size_t>(seg, frame.size() - i * seg));
      p.next = i + 1 < n ? &segs[i + 1] : nullptr;
      p.frame_len = static_cast<uint32_t>(frame.size());
      p.refs.store(1);
    }
  }
  Packet* head() { return &segs[0]; }
};

std::vector<std::vector<std::byte>> drain(Capture& c, std::vector<CaptureRecordHeader>* hdrs) {
  std::vector<std::vector<std::byte>> out;
  CaptureRecordHeader h;
  const std::byte* data;
  while (c.ring(0).peek(h, data)) {
    out.emplace_back(data, data + h.cap_len);
    if (hdrs) hdrs->push_back(h);
    c.ring(0).pop(h);
  }
  return out;
}

TEST(CaptureFilter, BadExpressionGivesLibpcapsMessage) {
  auto r = compile_capture_filter("udp port", 65535);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  EXPECT_NE(r.error().message.find("bad filter 'udp port'"), std::string::npos);
  EXPECT_NE(r.error().message.find("syntax error"), std::string::npos) << r.error().message;
  EXPECT_FALSE(compile_capture_filter("udp port 70000", 65535)) << "port out of range";
  EXPECT_FALSE(compile_capture_filter(std::string(5000, 'x'), 65535));
  EXPECT_FALSE(compile_capture_filter(std::string("udp\0x", 5), 65535));
  EXPECT_TRUE(compile_capture_filter("udp and dst port 4000", 65535));
}

TEST(Capture, SpecIsChecked) {
  EXPECT_FALSE(Capture::create({"p", CaptureDirection::Both, 0, ""}, 1));
  EXPECT_FALSE(Capture::create({"p", CaptureDirection::Both, 65536, ""}, 1));
  EXPECT_FALSE(Capture::create({"p", CaptureDirection::Both, 100, "not a filter ("}, 1));
  EXPECT_TRUE(Capture::create({"p", CaptureDirection::Both, 1, ""}, 1));
  EXPECT_TRUE(Capture::create({"p", CaptureDirection::Both, 65535, "  "}, 1));
}

TEST(Capture, FilterSelectsInTheWorker) {
  auto c = Capture::create({"p", CaptureDirection::Rx, 65535, "udp dst port 4000"}, 1);
  ASSERT_TRUE(c);
  std::vector<std::vector<std::byte>> frames;
  std::vector<Chain> chains;
  frames.reserve(8);
  chains.reserve(8);
  for (int i = 0; i < 8; ++i) frames.push_back(udp_frame(100, i % 2 == 0 ? 4000 : 4001));
  std::vector<Packet*> pkts;
  for (auto& f : frames) pkts.push_back(chains.emplace_back(f, 2048).head());
  (*c)->copy_burst(0, pkts.data(), static_cast<uint16_t>(pkts.size()));
  std::vector<CaptureRecordHeader> hdrs;
  auto got = drain(**c, &hdrs);
  ASSERT_EQ(got.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i], frames[2 * i]);
    EXPECT_EQ(hdrs[i].orig_len, 100u);
    EXPECT_GT(hdrs[i].ts_ns, uint64_t{1'600'000'000} * 1'000'000'000) << "real time in ns";
  }
  const CaptureStats s = (*c)->stats();
  EXPECT_EQ(s.matched, 4u);
  EXPECT_EQ(s.copied, 4u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(Capture, SnaplenAcrossChainedBuffers) {
  // A 5000-byte frame in segments of 700: snaplen 1500 takes two whole segments and part of a
  // third; the original length is the whole frame's.
  auto c = Capture::create({"p", CaptureDirection::Rx, 1500, "udp"}, 1);
  ASSERT_TRUE(c);
  auto frame = udp_frame(5000, 4000);
  Chain chain(frame, 700);
  ASSERT_EQ(chain.count, 8u);
  Packet* p = chain.head();
  (*c)->copy_burst(0, &p, 1);
  std::vector<CaptureRecordHeader> hdrs;
  auto got = drain(**c, &hdrs);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(hdrs[0].orig_len, 5000u);
  EXPECT_EQ(hdrs[0].cap_len, 1500u);
  EXPECT_TRUE(std::equal(got[0].begin(), got[0].end(), frame.begin()));

  // Headers split across the first two segments (20-byte segments): the filter still sees them.
  auto small = udp_frame(90, 4000);
  Chain tiny(small, 20);
  Packet* q = tiny.head();
  (*c)->copy_burst(0, &q, 1);
  got = drain(**c, nullptr);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], small);
  // A chained frame the filter rejects leaves nothing behind.
  auto other = udp_frame(90, 4000);
  other[23] = std::byte{6};  // TCP
  Chain rejected(other, 20);
  Packet* r = rejected.head();
  (*c)->copy_burst(0, &r, 1);
  EXPECT_TRUE(drain(**c, nullptr).empty());
  EXPECT_EQ((*c)->stats().matched, 2u);
}

TEST(Capture, FullRingCountsDropsNotLosses) {
  auto c = Capture::create({"p", CaptureDirection::Rx, 65535, ""}, 2, 4096);
  ASSERT_TRUE(c);
  EXPECT_EQ((*c)->spec().snaplen, (*c)->ring(0).max_record()) << "snaplen fits the ring";
  auto frame = udp_frame(1000, 4000);
  std::vector<Chain> chains;
  chains.reserve(10);
  std::vector<Packet*> pkts;
  for (int i = 0; i < 10; ++i) pkts.push_back(chains.emplace_back(frame, 2048).head());
  (*c)->copy_burst(1, pkts.data(), 10);  // worker 1's ring holds 4 of these
  const CaptureStats s = (*c)->stats();
  EXPECT_EQ(s.matched, 10u);
  EXPECT_EQ(s.copied, 4u);
  EXPECT_EQ(s.dropped, 6u);
  for (Packet* p : pkts) EXPECT_EQ(p->refs.load(), 1) << "frames are only read";
  (*c)->copy_burst(7, pkts.data(), 10);  // no such worker: ignored
  EXPECT_EQ((*c)->stats().matched, 10u);
}

class CaptureThroughSwitch : public ::testing::Test {
 protected:
  void SetUp() override {
    SwitchConfig cfg;
    cfg.workers = 1;
    cfg.pool = Mempool::Config{4096, 2048, false};
    auto sw = Switch::create(cfg);
    ASSERT_TRUE(sw);
    sw_ = std::move(*sw);
    ASSERT_TRUE(sw_->add_bridge("br0", {}));
    a_ = add_ring("a");
    b_ = add_ring("b");
    ASSERT_TRUE(sw_->start());
  }
  RingPort* add_ring(const std::string& name) {
    RingPort* raw = nullptr;
    EXPECT_TRUE(sw_->add_port("br0", name, [&](PortId id) -> Result<std::unique_ptr<Port>> {
      auto p = std::make_unique<RingPort>(name, id, 4096);
      raw = p.get();
      return std::unique_ptr<Port>(std::move(p));
    }));
    return raw;
  }
  // Injects `n` broadcast frames into `from` and waits until `to` transmitted them.
  void send(RingPort* from, RingPort* to, uint64_t src, uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      Packet* p = test::make_frame(sw_->mempool(), MacAddress::from_u64(0xFFFFFFFFFFFF),
                                   test::mac(src), i);
      ASSERT_NE(p, nullptr);
      ASSERT_EQ(from->inject(&p, 1), 1u);
    }
    uint32_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    Packet* pkts[32];
    while (got < n && std::chrono::steady_clock::now() < deadline) {
      const uint32_t k = to->drain(pkts, 32);
      for (uint32_t i = 0; i < k; ++i) release_packet(pkts[i]);
      got += k;
    }
    ASSERT_EQ(got, n);
  }
  static size_t records(Capture& c) {
    size_t n = 0;
    CaptureRecordHeader h;
    const std::byte* data;
    for (uint16_t w = 0; w < c.workers(); ++w) {
      while (c.ring(w).peek(h, data)) {
        c.ring(w).pop(h);
        ++n;
      }
    }
    return n;
  }
  std::unique_ptr<Switch> sw_;
  RingPort* a_ = nullptr;
  RingPort* b_ = nullptr;
};

TEST_F(CaptureThroughSwitch, RxBeforeTheBridgeTxInTransmit) {
  auto rx_a = sw_->attach_capture({"a", CaptureDirection::Rx, 100, ""});
  auto tx_a = sw_->attach_capture({"a", CaptureDirection::Tx, 100, ""});
  auto both_b = sw_->attach_capture({"b", CaptureDirection::Both, 100, ""});
  ASSERT_TRUE(rx_a && tx_a && both_b);
  send(a_, b_, 1, 10);  // rx on a, tx on b
  send(b_, a_, 2, 3);   // rx on b, tx on a
  EXPECT_EQ(records(**rx_a), 10u);
  EXPECT_EQ(records(**tx_a), 3u);
  EXPECT_EQ(records(**both_b), 13u);
  EXPECT_EQ(sw_->captures().size(), 3u);
  EXPECT_EQ(sw_->captures()[2].stats.copied, 13u);
  sw_->detach_capture(rx_a->get());
  send(a_, b_, 1, 5);
  EXPECT_EQ(records(**rx_a), 0u) << "a detached capture copies nothing";
  EXPECT_EQ(records(**both_b), 5u);
}

TEST_F(CaptureThroughSwitch, LimitsAndDeletedPort) {
  EXPECT_EQ(sw_->attach_capture({"nosuch", CaptureDirection::Both, 100, ""}).error().code,
            Errc::NotFound);
  EXPECT_EQ(sw_->attach_capture({"a", CaptureDirection::Both, 100, "udp port"}).error().code,
            Errc::InvalidArgument);
  std::vector<std::shared_ptr<Capture>> running;
  for (uint32_t i = 0; i < CaptureRegistry::kMaxCaptures; ++i) {
    auto c = sw_->attach_capture({"a", CaptureDirection::Rx, 100, ""});
    ASSERT_TRUE(c) << i;
    running.push_back(*c);
  }
  auto over = sw_->attach_capture({"b", CaptureDirection::Rx, 100, ""});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, Errc::ResourceExhausted);
  sw_->detach_capture(running[0].get());
  sw_->detach_capture(running[0].get());  // idempotent
  EXPECT_EQ(sw_->captures().size(), CaptureRegistry::kMaxCaptures - 1);
  ASSERT_TRUE(sw_->del_port("a"));
  EXPECT_TRUE(sw_->captures().empty());
  EXPECT_EQ(running[1]->end_reason(), CaptureEnd::PortDeleted);
  EXPECT_EQ(running[0]->end_reason(), CaptureEnd::None) << "detached before: not ended by it";
}

}  // namespace
}  // namespace vsw
