// Unit tests for the VLAN-aware path of dataplane/bridge (bridge_vlan.cc) and mirrors: every
// mode pair, isolation, exact bytes of pushed/popped/rewritten tags (PCP kept), shared floods to
// mixed ports, `vlan` drops, offload offsets, mirror selection.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/bridge.h"
#include "dataplane/vlan.h"
#include "ports/ring/ring_port.h"
#include "tests/unit/dataplane/test_frames.h"

namespace vsw {
namespace {

using test::mac;
using Bytes = std::vector<uint8_t>;

const MacAddress kBroadcast = MacAddress::from_u64(0xFFFFFFFFFFFF);

VlanConfig access(uint16_t tag) { return VlanConfig{VlanMode::Access, tag, {}}; }
VlanConfig trunk(std::vector<uint16_t> vids = {}) { return VlanConfig{VlanMode::Trunk, 0, vids}; }
VlanConfig native_untagged(uint16_t tag, std::vector<uint16_t> vids = {}) {
  return VlanConfig{VlanMode::NativeUntagged, tag, vids};
}
VlanConfig native_tagged(uint16_t tag, std::vector<uint16_t> vids = {}) {
  return VlanConfig{VlanMode::NativeTagged, tag, vids};
}

// An untagged frame dst <- src, ethertype 0x0800, `payload` bytes of a pattern seeded by `seq`.
Bytes untagged(MacAddress dst, MacAddress src, uint8_t seq, size_t payload = 46) {
  Bytes b(12);
  dst.to_bytes(b.data());
  src.to_bytes(b.data() + 6);
  b.push_back(0x08);
  b.push_back(0x00);
  for (size_t i = 0; i < payload; ++i) b.push_back(static_cast<uint8_t>(seq + i));
  return b;
}

// The same frame with an 802.1Q tag (TPID 0x8100, `tci`) after the source address.
Bytes tagged(const Bytes& plain, uint16_t tci) {
  Bytes b(plain.begin(), plain.begin() + 12);
  b.push_back(0x81);
  b.push_back(0x00);
  b.push_back(static_cast<uint8_t>(tci >> 8));
  b.push_back(static_cast<uint8_t>(tci));
  b.insert(b.end(), plain.begin() + 12, plain.end());
  return b;
}

class BridgeVlanTest : public ::testing::Test {
 protected:
  static constexpr PortId kPorts = 6;

  void SetUp() override {
    auto pool = Mempool::create("test", Mempool::Config{1024, 2048, false});
    ASSERT_TRUE(pool.has_value());
    pool_ = std::move(*pool);
    bridge_ = std::make_unique<Bridge>("br0", Fdb::Config{64, 300, 1}, pool_.get());
    for (PortId i = 0; i < kPorts; ++i) {
      ports_.push_back(std::make_unique<ports::ring::RingPort>("p" + std::to_string(i), i));
    }
  }

  // Publishes the port settings (index = PortId) and mirrors.
  void build(std::array<VlanConfig, kPorts> vlans, std::vector<const Mirror*> mirrors = {}) {
    vlans_ = std::move(vlans);
    std::vector<Topology::PortPlacement> placements;
    for (PortId i = 0; i < kPorts; ++i) {
      placements.push_back({ports_[i].get(), bridge_.get(), &vlans_[i]});
    }
    topo_ = Topology::build(placements, {bridge_.get()}, 1, mirrors);
    view_ = topo_->bridges[0].get();
  }

  Packet* frame(const Bytes& b) {
    Packet* p = nullptr;
    EXPECT_EQ(pool_->alloc(&p, 1), 1);
    std::memcpy(p->data(), b.data(), b.size());
    p->len = static_cast<uint16_t>(b.size());
    p->frame_len = static_cast<uint32_t>(b.size());
    return p;
  }

  // Forwards `frames` received on `in`; returns the frames each port was given, as bytes.
  std::vector<std::vector<Bytes>> send(PortId in, std::vector<Bytes> frames) {
    PacketBatch batch;
    for (const Bytes& f : frames) batch.push(frame(f));
    bridge_->forward(0, in, batch, *view_, *topo_, out_, ports_[in]->counters().rx(0), 0);
    std::vector<std::vector<Bytes>> seen(kPorts);
    out_.flush([&](PortId to, PacketBatch& b) {
      for (Packet* p : b.packets()) {
        EXPECT_EQ(p->next, nullptr);
        seen[to].emplace_back(reinterpret_cast<const uint8_t*>(p->data()),
                              reinterpret_cast<const uint8_t*>(p->data()) + p->len);
        EXPECT_EQ(p->frame_len, p->len);
      }
      b.release_all();
    });
    return seen;
  }

  uint64_t rx_drops(PortId p, DropReason r) {
    return ports_[p]->counters().snapshot().rx_drops[static_cast<size_t>(r)];
  }

  void expect_all_released() { EXPECT_EQ(pool_->available(), pool_->capacity()); }

  std::unique_ptr<Mempool> pool_;
  std::unique_ptr<Bridge> bridge_;
  std::vector<std::unique_ptr<ports::ring::RingPort>> ports_;
  std::array<VlanConfig, kPorts> vlans_;
  std::unique_ptr<Topology> topo_;
  const BridgeView* view_ = nullptr;
  TxBatcher out_;
};

TEST(Vlan, ClassifyCarryAndTagPerMode) {
  const PortVlan a = PortVlan::from(access(10));
  EXPECT_EQ(a.classify(false, 0), 10);
  EXPECT_EQ(a.classify(true, 0), 10);  // priority-tagged
  EXPECT_EQ(a.classify(true, 10), kVlanDrop);
  EXPECT_TRUE(a.carries(10));
  EXPECT_FALSE(a.carries(20));
  EXPECT_FALSE(a.egress_tagged(10));
  const PortVlan t = PortVlan::from(trunk({10, 20}));
  EXPECT_EQ(t.classify(false, 0), kVlanDrop);
  EXPECT_EQ(t.classify(true, 0), kVlanDrop);
  EXPECT_EQ(t.classify(true, 20), 20);
  EXPECT_EQ(t.classify(true, 30), kVlanDrop);
  EXPECT_TRUE(t.egress_tagged(10));
  EXPECT_FALSE(t.carries(30));
  const PortVlan all = PortVlan::from(trunk());
  EXPECT_TRUE(all.carries(4094));
  EXPECT_FALSE(all.carries(0));
  const PortVlan nu = PortVlan::from(native_untagged(10, {20}));
  EXPECT_EQ(nu.classify(false, 0), 10);
  EXPECT_EQ(nu.classify(true, 10), 10);
  EXPECT_EQ(nu.classify(true, 20), 20);
  EXPECT_EQ(nu.classify(true, 30), kVlanDrop);
  EXPECT_FALSE(nu.egress_tagged(10));
  EXPECT_TRUE(nu.egress_tagged(20));
  const PortVlan nt = PortVlan::from(native_tagged(10, {20}));
  EXPECT_TRUE(nt.egress_tagged(10));
  const PortVlan none;
  EXPECT_EQ(none.classify(false, 0), 0);
  EXPECT_EQ(none.classify(true, 99), 99);
  EXPECT_FALSE(none.egress_tagged(0));
  EXPECT_TRUE(none.egress_tagged(99));
}

TEST(Vlan, ConfigValidationAndParsing) {
  EXPECT_TRUE(validate_vlan_config(access(10)));
  EXPECT_FALSE(validate_vlan_config(access(0)));
  EXPECT_FALSE(validate_vlan_config(access(4095)));
  EXPECT_FALSE(validate_vlan_config(VlanConfig{VlanMode::Access, 10, {20}}));
  EXPECT_FALSE(validate_vlan_config(VlanConfig{VlanMode::Trunk, 10, {}}));
  EXPECT_FALSE(validate_vlan_config(trunk({0})));
  EXPECT_FALSE(validate_vlan_config(native_untagged(0)));
  EXPECT_TRUE(validate_vlan_config(native_tagged(5, {6, 7})));
  EXPECT_FALSE(validate_vlan_config(VlanConfig{VlanMode::None, 3, {}}));
  auto l = parse_vid_list("30,10,20,10");
  ASSERT_TRUE(l);
  EXPECT_EQ(*l, (std::vector<uint16_t>{10, 20, 30}));
  EXPECT_EQ(format_vid_list(*l), "10,20,30");
  EXPECT_FALSE(parse_vid_list("10,"));
  EXPECT_FALSE(parse_vid_list("4095"));
  EXPECT_FALSE(parse_vid_list("x"));
  EXPECT_FALSE(parse_vlan_mode("hybrid"));
  EXPECT_EQ(*parse_vlan_mode("native-untagged"), VlanMode::NativeUntagged);
  EXPECT_FALSE(implied_vlan_mode(10, true));
  EXPECT_EQ(*implied_vlan_mode(10, false), VlanMode::Access);
  EXPECT_EQ(*implied_vlan_mode(0, true), VlanMode::Trunk);
}

TEST_F(BridgeVlanTest, AccessPortsOfOneVlanOnlyAndFramesUntouched) {
  build({access(10), access(10), access(20), access(20), trunk({30}), VlanConfig{}});
  const Bytes f = untagged(kBroadcast, mac(1), 1);
  auto seen = send(0, {f});
  EXPECT_EQ(seen[1], std::vector<Bytes>{f});
  for (PortId p : {0, 2, 3, 4}) EXPECT_TRUE(seen[p].empty()) << p;  // no frame crosses VLANs
  EXPECT_EQ(seen[5], std::vector<Bytes>{tagged(f, 10)});  // no VLAN settings: a trunk of all
  seen = send(2, {untagged(kBroadcast, mac(2), 2)});
  EXPECT_EQ(seen[3].size(), 1u);
  EXPECT_TRUE(seen[0].empty() && seen[1].empty());
  expect_all_released();
}

TEST_F(BridgeVlanTest, AccessToTrunkPushesTheTagAndBackPopsIt) {
  build({access(10), trunk({10, 20}), access(20), VlanConfig{}, VlanConfig{}, VlanConfig{}});
  const Bytes f = untagged(mac(2), mac(1), 3);
  auto seen = send(0, {f});
  ASSERT_EQ(seen[1].size(), 1u);
  EXPECT_EQ(seen[1][0], tagged(f, 10));  // TPID 0x8100, PCP 0, DEI 0, VID 10
  EXPECT_EQ(seen[3], std::vector<Bytes>{tagged(f, 10)});  // no VLAN config: trunk of all
  EXPECT_TRUE(seen[2].empty());
  // The reply, tagged with PCP 5 and DEI set, to the learned station: untagged on p0 only.
  const Bytes reply = untagged(mac(1), mac(2), 4);
  seen = send(1, {tagged(reply, 0xB00A)});
  EXPECT_EQ(seen[0], std::vector<Bytes>{reply});
  for (PortId p : {1, 2, 3, 4, 5}) EXPECT_TRUE(seen[p].empty()) << p;
  EXPECT_EQ(bridge_->counters().unicast, 1u);
  expect_all_released();
}

TEST_F(BridgeVlanTest, TrunkToTrunkKeepsPcpAndDei) {
  build({trunk(), trunk({10}), trunk({20}), native_tagged(10), native_untagged(10),
         access(10)});
  const Bytes plain = untagged(kBroadcast, mac(1), 5);
  auto seen = send(0, {tagged(plain, 0xB00A)});  // PCP 5, DEI 1, VID 10
  EXPECT_EQ(seen[1], std::vector<Bytes>{tagged(plain, 0xB00A)});
  EXPECT_TRUE(seen[2].empty());
  EXPECT_EQ(seen[3], std::vector<Bytes>{tagged(plain, 0xB00A)});
  EXPECT_EQ(seen[4], std::vector<Bytes>{plain});  // native VLAN leaves untagged
  EXPECT_EQ(seen[5], std::vector<Bytes>{plain});
  expect_all_released();
}

TEST_F(BridgeVlanTest, NativePortsUntaggedIngressGoesToTheNativeVlan) {
  build({native_untagged(10, {20}), native_tagged(10, {20}), trunk({10, 20}), access(20),
         access(10), VlanConfig{}});
  const Bytes f = untagged(kBroadcast, mac(1), 6);
  auto seen = send(0, {f});
  EXPECT_EQ(seen[1], std::vector<Bytes>{tagged(f, 10)});
  EXPECT_EQ(seen[2], std::vector<Bytes>{tagged(f, 10)});
  EXPECT_TRUE(seen[3].empty());
  EXPECT_EQ(seen[4], std::vector<Bytes>{f});
  // Tagged VLAN 20 into the native-untagged port: leaves p1 and p2 tagged, p3 untagged.
  seen = send(0, {tagged(f, 20)});
  EXPECT_EQ(seen[1], std::vector<Bytes>{tagged(f, 20)});
  EXPECT_EQ(seen[3], std::vector<Bytes>{f});
  EXPECT_TRUE(seen[4].empty());
  expect_all_released();
}

TEST_F(BridgeVlanTest, PriorityTaggedFrameOnAccessPortJoinsTheAccessVlan) {
  build({access(10), trunk({10}), access(10), VlanConfig{}, VlanConfig{}, VlanConfig{}});
  const Bytes plain = untagged(kBroadcast, mac(1), 7);
  auto seen = send(0, {tagged(plain, 0x6000)});  // PCP 3, VID 0
  EXPECT_EQ(seen[1], std::vector<Bytes>{tagged(plain, 0x600A)});  // VID set, PCP kept
  EXPECT_EQ(seen[2], std::vector<Bytes>{plain});
  expect_all_released();
}

TEST_F(BridgeVlanTest, FramesOfVlansAPortDoesNotCarryAreDroppedAsVlan) {
  build({access(10), trunk({10}), VlanConfig{}, VlanConfig{}, VlanConfig{}, VlanConfig{}});
  const Bytes plain = untagged(kBroadcast, mac(1), 8);
  auto seen = send(0, {tagged(plain, 20)});  // tagged on an access port
  seen = send(1, {plain});                   // untagged on a trunk
  seen = send(1, {tagged(plain, 30)});       // a VLAN the trunk does not carry
  seen = send(1, {tagged(plain, 0x2000)});   // priority-tagged on a trunk: untagged
  for (PortId p = 0; p < kPorts; ++p) EXPECT_TRUE(seen[p].empty());
  EXPECT_EQ(rx_drops(0, DropReason::Vlan), 1u);
  EXPECT_EQ(rx_drops(1, DropReason::Vlan), 3u);
  expect_all_released();
}

TEST_F(BridgeVlanTest, SameMacOnTwoVlansIsTwoStations) {
  build({access(10), access(20), access(10), access(20), VlanConfig{}, VlanConfig{}});
  send(0, {untagged(kBroadcast, mac(1), 1)});  // mac1 in VLAN 10 on p0
  send(1, {untagged(kBroadcast, mac(1), 2)});  // mac1 in VLAN 20 on p1
  EXPECT_EQ(bridge_->fdb().lookup(mac(1), 10), 0);
  EXPECT_EQ(bridge_->fdb().lookup(mac(1), 20), 1);
  auto seen = send(3, {untagged(mac(1), mac(3), 3)});
  EXPECT_EQ(seen[1].size(), 1u);
  EXPECT_TRUE(seen[0].empty());
  seen = send(2, {untagged(mac(1), mac(4), 4)});
  EXPECT_EQ(seen[0].size(), 1u);
  EXPECT_TRUE(seen[1].empty());
  expect_all_released();
}

TEST_F(BridgeVlanTest, SharedFloodToMixedPortsLeavesEveryCopyCorrect) {
  build({trunk(), access(10), access(10), trunk({10}), native_tagged(10), native_untagged(10)});
  const Bytes plain = untagged(kBroadcast, mac(1), 9, 200);
  // Several frames of one burst, each flooded to two untagged and three tagged destinations.
  auto seen = send(0, {tagged(plain, 0x200A), tagged(plain, 0x400A)});
  for (PortId p : {1, 2, 5}) EXPECT_EQ(seen[p], (std::vector<Bytes>{plain, plain})) << p;
  for (PortId p : {3, 4}) {
    EXPECT_EQ(seen[p], (std::vector<Bytes>{tagged(plain, 0x200A), tagged(plain, 0x400A)})) << p;
  }
  // Untagged in: pushed copies for the tagged ports, the original for the untagged ones.
  seen = send(1, {plain});
  EXPECT_EQ(seen[0], std::vector<Bytes>{tagged(plain, 10)});
  EXPECT_EQ(seen[2], std::vector<Bytes>{plain});
  EXPECT_EQ(seen[4], std::vector<Bytes>{tagged(plain, 10)});
  expect_all_released();
}

TEST_F(BridgeVlanTest, PushAndPopMoveOffloadOffsets) {
  build({access(10), trunk(), VlanConfig{}, VlanConfig{}, VlanConfig{}, VlanConfig{}});
  // Unicast in both directions (both stations learned first), so each frame is changed in place.
  send(0, {untagged(kBroadcast, mac(1), 1)});
  send(1, {tagged(untagged(kBroadcast, mac(2), 2), 10)});
  PacketBatch batch;
  Packet* p = frame(untagged(mac(2), mac(1), 3, 100));
  p->flags |= kPacketNeedsCsum;
  p->csum_start = 34;
  p->csum_offset = 16;
  p->hdr_len = 54;
  p->gso_type = GsoType::Tcpv4;
  p->gso_size = 10;
  batch.push(p);
  bridge_->forward(0, 0, batch, *view_, *topo_, out_, ports_[0]->counters().rx(0), 0);
  Packet* sent = nullptr;
  out_.flush([&](PortId to, PacketBatch& b) {
    EXPECT_EQ(to, 1);
    sent = b[0];
    b.clear();
  });
  ASSERT_EQ(sent, p);  // in place: the bridge held the only reference
  EXPECT_EQ(sent->csum_start, 38);
  EXPECT_EQ(sent->hdr_len, 58);
  EXPECT_EQ(sent->frame_len, 118u);
  batch.push(sent);
  bridge_->forward(0, 1, batch, *view_, *topo_, out_, ports_[1]->counters().rx(0), 0);
  out_.flush([&](PortId to, PacketBatch& b) {
    EXPECT_EQ(to, 0);
    EXPECT_EQ(b[0]->csum_start, 34);
    EXPECT_EQ(b[0]->hdr_len, 54);
    EXPECT_EQ(b[0]->frame_len, 114u);
    b.release_all();
  });
  expect_all_released();
}

TEST_F(BridgeVlanTest, ASharedFrameIsCopiedNotWritten) {
  build({access(10), trunk(), VlanConfig{}, VlanConfig{}, VlanConfig{}, VlanConfig{}});
  send(1, {tagged(untagged(kBroadcast, mac(2), 2), 10)});
  const Bytes f = untagged(mac(2), mac(1), 3);
  PacketBatch batch;
  Packet* p = frame(f);
  retain_packet(p);  // someone else holds it too
  batch.push(p);
  bridge_->forward(0, 0, batch, *view_, *topo_, out_, ports_[0]->counters().rx(0), 0);
  out_.flush([&](PortId, PacketBatch& b) {
    EXPECT_NE(b[0], p);
    b.release_all();
  });
  EXPECT_EQ(Bytes(reinterpret_cast<uint8_t*>(p->data()),
                  reinterpret_cast<uint8_t*>(p->data()) + p->len),
            f);
  release_packet(p);
  expect_all_released();
}

TEST_F(BridgeVlanTest, MirrorCopiesSelectedFramesToItsOutputPortOnly) {
  Mirror by_src(MirrorConfig{"m1", {"p0"}, {}, {}, "p5"}, bridge_.get(), 5);
  by_src.select_src(0);
  Mirror by_dst(MirrorConfig{"m2", {}, {"p3"}, {20}, "p5"}, bridge_.get(), 5);
  by_dst.select_dst(3);
  by_dst.select_vlan(20);
  build({access(10), access(10), access(20), trunk(), VlanConfig{}, trunk()}, {&by_src, &by_dst});
  EXPECT_TRUE(view_->vlan_aware);
  const Bytes f = untagged(kBroadcast, mac(1), 1);
  auto seen = send(0, {f});  // VLAN 10: selected by m1 (src p0); m2 wants VLAN 20 only
  EXPECT_EQ(seen[1], std::vector<Bytes>{f});
  EXPECT_EQ(seen[3], std::vector<Bytes>{tagged(f, 10)});
  EXPECT_EQ(seen[5], std::vector<Bytes>{tagged(f, 10)});  // the output port's encapsulation
  seen = send(2, {untagged(kBroadcast, mac(2), 2)});  // VLAN 20, sent to p3: m2 selects it
  EXPECT_EQ(seen[5].size(), 1u);
  seen = send(1, {untagged(kBroadcast, mac(3), 3)});  // VLAN 10 from p1, to p0 and p3: none
  EXPECT_TRUE(seen[5].empty());
  // The output port takes no part in forwarding: what it receives is dropped, never learned.
  seen = send(5, {tagged(untagged(kBroadcast, mac(4), 4), 10)});
  for (PortId p = 0; p < kPorts; ++p) EXPECT_TRUE(seen[p].empty());
  EXPECT_EQ(rx_drops(5, DropReason::Vlan), 1u);
  EXPECT_EQ(bridge_->fdb().lookup(mac(4), 10), kNoPort);
  EXPECT_EQ(by_src.counters().packets, 1u);
  EXPECT_EQ(by_src.counters().bytes, f.size());
  EXPECT_EQ(by_dst.counters().packets, 1u);
  EXPECT_EQ(bridge_->counters().mirrored, 2u);
  // Both mirrors select a frame: the output port still gets it once.
  by_dst.select_vlan(10);
  by_dst.select_dst(1);
  seen = send(0, {untagged(kBroadcast, mac(1), 5)});
  EXPECT_EQ(seen[5].size(), 1u);
  expect_all_released();
}

TEST_F(BridgeVlanTest, BridgeWithoutVlanSettingsForwardsTaggedFramesAsTheyAre) {
  build({});
  EXPECT_FALSE(view_->vlan_aware);
  const Bytes f = tagged(untagged(kBroadcast, mac(1), 1), 0x3007);
  auto seen = send(0, {f});
  for (PortId p = 1; p < kPorts; ++p) EXPECT_EQ(seen[p], std::vector<Bytes>{f}) << p;
  expect_all_released();
}

}  // namespace
}  // namespace vsw
