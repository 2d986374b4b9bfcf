// tests/unit/dataplane/offload_through_switch_test.cc — offload metadata through a real Switch
// (worker thread, bridge, flooding): a super-frame entering one port reaches a port that takes
// super-frames whole, metadata intact, and a port that does not as MTU-sized segments with
// valid checksums — segmented at egress only, and the flooded original never written.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "dataplane/switch.h"
#include "ports/ring/ring_port.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw {
namespace {

using ports::ring::RingPort;
using test::Bytes;

template <class Pred>
bool wait_for(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

Bytes bytes_of(const Packet& p) {
  Bytes b;
  for (const Packet* s = &p; s != nullptr; s = s->next) {
    const auto* d = reinterpret_cast<const uint8_t*>(s->data());
    b.insert(b.end(), d, d + s->len);
  }
  return b;
}

class OffloadThroughSwitch : public ::testing::Test {
 protected:
  void SetUp() override {
    SwitchConfig cfg;
    cfg.workers = 1;
    cfg.pool = Mempool::Config{4096, 2048, false};
    cfg.poll_mode = PollMode::Adaptive;
    auto sw = Switch::create(cfg);
    ASSERT_TRUE(sw.has_value()) << sw.error().message;
    sw_ = std::move(*sw);
    ASSERT_TRUE(sw_->start().has_value());
    ASSERT_TRUE(sw_->add_bridge("br0", {}).has_value());
    in_ = add("in", OffloadCaps::kernel());
    whole_ = add("whole", OffloadCaps::kernel());
    plain_ = add("plain", OffloadCaps{});
  }
  RingPort* add(const std::string& name, const OffloadCaps& caps) {
    RingPort* raw = nullptr;
    EXPECT_TRUE(sw_->add_port("br0", name, [&](PortId id) -> Result<std::unique_ptr<Port>> {
      auto p = std::make_unique<RingPort>(name, id, 4096, kDefaultMtu, &sw_->mempool(), caps);
      raw = p.get();
      return std::unique_ptr<Port>(std::move(p));
    }));
    return raw;
  }
  std::vector<Packet*> drain(RingPort& p, size_t n) {
    std::vector<Packet*> out(n + 64);
    size_t got = 0;
    EXPECT_TRUE(wait_for([&] {
      got += p.drain(out.data() + got, static_cast<uint32_t>(out.size() - got));
      return got >= n;
    }));
    out.resize(got);
    return out;
  }
  std::unique_ptr<Switch> sw_;
  RingPort* in_ = nullptr;
  RingPort* whole_ = nullptr;
  RingPort* plain_ = nullptr;
};

TEST_F(OffloadThroughSwitch, SuperFrameIsFloodedWholeAndSegmentedOnlyWhereNeeded) {
  // An unknown destination: flooded to "whole" (takes TSO) and "plain" (does not).
  const test::FrameSpec spec{.payload = 30000, .seed = 11};
  const test::BuiltFrame f = test::build_frame(spec);
  Packet* first = nullptr;
  Packet* last = nullptr;
  for (size_t off = 0; off < f.bytes.size();) {
    Packet* s = nullptr;
    ASSERT_EQ(sw_->mempool().alloc(&s, 1), 1);
    const size_t len = std::min<size_t>(f.bytes.size() - off, sw_->mempool().data_room());
    std::memcpy(s->data(), f.bytes.data() + off, len);
    s->len = static_cast<uint16_t>(len);
    (last != nullptr ? last->next : first) = s;
    last = s;
    off += len;
  }
  first->frame_len = static_cast<uint32_t>(f.bytes.size());
  first->gso_type = GsoType::Tcpv4;
  first->gso_size = 1448;
  first->hdr_len = static_cast<uint16_t>(f.hdr_len());
  ASSERT_EQ(in_->inject(&first, 1), 1u);

  const auto whole = drain(*whole_, 1);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0]->gso_type, GsoType::Tcpv4) << "metadata went through the bridge";
  EXPECT_EQ(whole[0]->gso_size, 1448);
  EXPECT_EQ(whole[0]->hdr_len, f.hdr_len());
  EXPECT_EQ(bytes_of(*whole[0]), f.bytes) << "the shared super-frame was not written";

  const size_t n = (spec.payload + 1447) / 1448;
  const auto segs = drain(*plain_, n);
  ASSERT_EQ(segs.size(), n);
  Bytes payload;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Bytes g = bytes_of(*segs[i]);
    EXPECT_FALSE(segs[i]->has_offload());
    EXPECT_LE(g.size(), kDefaultMtu + 18u);
    EXPECT_TRUE(test::ref_ipv4_header_ok(g, f.l3)) << i;
    EXPECT_TRUE(test::ref_l4_checksum_ok(g, f.l3, f.l4, g.size(), false, 6)) << i;
    payload.insert(payload.end(), g.begin() + static_cast<long>(f.hdr_len()), g.end());
  }
  ASSERT_EQ(payload.size(), spec.payload);
  for (size_t i = 0; i < payload.size(); ++i) ASSERT_EQ(payload[i], test::payload_byte(i, 11));
  const auto st = sw_->port("in");
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->stats.rx_packets, 1u) << "one frame on the bridge, not 21";
  for (Packet* p : whole) release_packet(p);
  for (Packet* p : segs) release_packet(p);
}

}  // namespace
}  // namespace vsw
