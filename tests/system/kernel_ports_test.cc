// tests/system/kernel_ports_test.cc — tap and afpacket ports against a real kernel (root only).
//
// The whole program first moves into a private network namespace (unshare(CLONE_NEWNET)), so
// every veth, tap and address it creates is invisible to the host and vanishes with the process;
// the named namespaces it adds (vswk<pid>*) are deleted by Cleanup guards even when a test fails.
//
//   raw AF_PACKET socket -- veth B ==== veth A -- AfPacketPort      (inject / receive, byte-exact)
//   raw AF_PACKET socket -- tap T  ============== TapPort           (the same through a tap)
//   ns1 TCP -- veth ==== veth -- AfPacketPort ⇄ forwarder ⇄ port -- veth ==== veth -- ns2 TCP
//
// The last picture is the real offload case: ns1 keeps TSO and checksum offload on, so the ingress
// port receives 64 KiB GSO super-frames with partial checksums; they cross vsw whole (chains of
// buffers with their offload metadata) and the egress kernel port hands them on as they are.
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "dataplane/mempool.h"
#include "ports/afpacket/afpacket_port.h"
#include "dataplane/offload/checksum.h"
#include "ports/vnet/virtio_net_hdr.h"
#include "ports/tap/netdev.h"
#include "ports/tap/tap_port.h"
#include "tests/system/kernel_test_support.h"
#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw::ports {
namespace {

using namespace vsw::test::kernel;  // NOLINT: test helpers
using afpacket::AfPacketConfig;
using afpacket::AfPacketPort;
using tap::TapConfig;
using tap::TapPort;
using test::Bytes;
using vnet::VirtioNetHdr;

class PrivateNetns : public ::testing::Environment {
 public:
  void SetUp() override {
    if (::geteuid() != 0) return;
    remove_stale_namespaces();
    if (::unshare(CLONE_NEWNET) != 0) {
      std::perror("unshare(CLONE_NEWNET)");
      std::abort();  // never run these tests in the host's namespace
    }
    // No IPv6 autoconfiguration chatter on the test links.
    write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
    write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
    run("ip link set lo up");
  }
};
[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new PrivateNetns);

// --- fixture -------------------------------------------------------------------------------------

class KernelPorts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates veth pairs, taps, namespaces)";
    pool_ = make_pool(8192);
  }

  static std::unique_ptr<Mempool> make_pool(uint32_t buffers) {
    auto p = Mempool::create("kp", {.buffers = buffers, .buffer_bytes = 2048, .hugepages = false});
    EXPECT_TRUE(p.has_value());
    return p ? std::move(*p) : nullptr;
  }

  // veth pair `a` <-> `b` in the test namespace, `b` up (the port brings `a` up).
  void add_veth(const std::string& a, const std::string& b) {
    ASSERT_EQ(run("ip link add " + a + " type veth peer name " + b), 0);
    cleanup_.add("ip link del " + a);
    ASSERT_EQ(run("ip link set " + b + " up"), 0);
  }

  std::unique_ptr<AfPacketPort> attach(const std::string& ifname, PortId id,
                                       AfPacketConfig cfg = {}, Mempool* pool = nullptr) {
    cfg.ifname = ifname;
    auto r = AfPacketPort::open("afp-" + ifname, id, cfg, pool ? *pool : *pool_);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    if (!r) return nullptr;
    auto port = std::move(*r);
    EXPECT_TRUE(wait_for([&] { return port->link_state() == LinkState::Up; }, 3000));
    return port;
  }

  std::unique_ptr<TapPort> make_tap(const std::string& ifname, PortId id, TapConfig cfg = {},
                                    Mempool* pool = nullptr) {
    cfg.ifname = ifname;
    auto r = TapPort::open("tap-" + ifname, id, cfg, pool ? *pool : *pool_);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? std::move(*r) : nullptr;
  }

  void transmit_all(Port& port, const std::vector<Bytes>& frames) {
    PacketBatch b;
    for (const Bytes& f : frames) {
      Packet* p = to_packet(*pool_, f);
      ASSERT_NE(p, nullptr);
      b.push(p);
      if (b.room() == 0) port.transmit(0, b);
    }
    if (!b.empty()) port.transmit(0, b);
  }

  Cleanup cleanup_;  // destroyed after the ports below (declared first)
  boost::asio::io_context io_;
  std::unique_ptr<Mempool> pool_;
};

// --- afpacket ---------------------------------------------------------------------------------------

TEST_F(KernelPorts, AfpacketReceivesInjectedFramesByteExact) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  auto port = attach(a, 7);
  ASSERT_TRUE(port);
  RawSocket peer(b, false);
  ASSERT_TRUE(peer.ok());
  const auto frames = mixed_frames(100);
  for (const Bytes& f : frames) ASSERT_TRUE(peer.send(f));
  const auto got = poll_rx(*port, frames.size(), 3000, is_test_frame);
  ASSERT_EQ(got.size(), frames.size());
  uint64_t bytes = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(got[i], frames[i]) << "frame " << i;
    bytes += frames[i].size();
  }
  const PortStats s = port->counters().snapshot();
  EXPECT_GE(s.rx_packets, frames.size());
  EXPECT_GE(s.rx_bytes, bytes);
  EXPECT_EQ(drops(s, true, DropReason::Invalid), 0u);
  EXPECT_EQ(drops(s, true, DropReason::NoBuffer), 0u);

  bool has_ifname = false;
  for (const auto& [k, v] : port->details()) has_ifname = has_ifname || (k == "ifname" && v == a);
  EXPECT_TRUE(has_ifname);
  // PACKET_MR_PROMISC raises the promiscuity count (not the IFF_PROMISC flag SIOCGIFFLAGS shows).
  EXPECT_EQ(run("ip -d link show " + a + " | grep -q 'promiscuity 1'"), 0);
  port.reset();
  EXPECT_EQ(run("ip -d link show " + a + " | grep -q 'promiscuity 0'"), 0);
}

TEST_F(KernelPorts, AfpacketTransmitsFramesByteExact) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  auto port = attach(a, 7);
  ASSERT_TRUE(port);
  RawSocket peer(b, false);
  ASSERT_TRUE(peer.ok());
  const auto frames = mixed_frames(100);
  transmit_all(*port, frames);
  const auto got = peer.collect(frames.size(), 3000, is_test_frame);
  ASSERT_EQ(got.size(), frames.size());
  uint64_t bytes = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(got[i], frames[i]) << "frame " << i;
    bytes += frames[i].size();
  }
  const PortStats s = port->counters().snapshot();
  EXPECT_EQ(s.tx_packets, frames.size());
  EXPECT_EQ(s.tx_bytes, bytes);
  // Our own transmissions never come back into the rx ring (PACKET_IGNORE_OUTGOING).
  EXPECT_TRUE(poll_rx(*port, 1, 200, is_test_frame).empty());
}

TEST_F(KernelPorts, AfpacketDropsOversizeAndCountsTxFull) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  // 14 tx slots: two 512 KiB blocks of seven super-frame-sized slots.
  auto port = attach(a, 7, {.ifname = "", .mtu = 1000, .rx_frames = 112, .tx_frames = 14});
  ASSERT_TRUE(port);
  EXPECT_EQ(port->mtu(), 1000u);
  RawSocket peer(b, false);
  transmit_all(*port, {test_frame(1000 + 18 + 1, 1), test_frame(1000 + 18, 2)});
  PortStats s = port->counters().snapshot();
  EXPECT_EQ(drops(s, false, DropReason::Mtu), 1u);
  EXPECT_EQ(s.tx_packets, 1u);
  // Once the peer saw the frame its slot is free again (veth orphans the skb on transmit).
  ASSERT_EQ(peer.collect(1, 3000, is_test_frame).size(), 1u);
  // One batch of 32 into a 14-slot ring: slots are only handed back after the batch's sendto().
  std::vector<Bytes> burst;
  for (uint32_t i = 0; i < 32; ++i) burst.push_back(test_frame(200, 100 + i));
  transmit_all(*port, burst);
  s = port->counters().snapshot();
  EXPECT_EQ(s.tx_packets, 1u + 14u);
  EXPECT_EQ(drops(s, false, DropReason::TxFull), 18u);
}

TEST_F(KernelPorts, AfpacketReinsertsVlanTags) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  auto port = attach(a, 7);
  ASSERT_TRUE(port);
  RawSocket peer(b, false);
  // The receiving kernel moves the outer tag into skb metadata (TP_STATUS_VLAN_VALID); the port
  // must hand the frame to vsw exactly as it was on the wire.
  const std::vector<Bytes> frames = {test_frame(100, 1, 0x8100, 0x0064),
                                     test_frame(1400, 2, 0x8100, 0xE00A),
                                     test_frame(200, 3, 0x88A8, 0x0123)};
  for (const Bytes& f : frames) ASSERT_TRUE(peer.send(f));
  const auto got = poll_rx(*port, frames.size(), 3000, is_test_frame);
  ASSERT_EQ(got.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(got[i], frames[i]) << "frame " << i;
}

// A checksum-partial frame: TCP checksum field holds the folded pseudo-header sum.
Bytes partial_of(const test::BuiltFrame& f, bool v6, uint8_t proto) {
  Bytes p = f.bytes;
  const Bytes ph =
      test::ref_pseudo_header(p, f.l3, v6, proto, static_cast<uint32_t>(p.size() - f.l4));
  test::wr16(p, f.l4 + (proto == 6 ? 16 : 6), test::ref_ones_sum(ph.data(), ph.size()));
  return p;
}

VirtioNetHdr vnet_for(const test::BuiltFrame& f, uint8_t gso_type, uint16_t gso_size,
                      uint8_t proto) {
  VirtioNetHdr h{};
  h.flags = vnet::kVnetFlagNeedsCsum;
  h.gso_type = gso_type;
  h.hdr_len = static_cast<uint16_t>(f.hdr_len());
  h.gso_size = gso_size;
  h.csum_start = static_cast<uint16_t>(f.l4);
  h.csum_offset = proto == 6 ? 16 : 6;
  return h;
}

TEST_F(KernelPorts, AfpacketCarriesPartialChecksumsAsMetadata) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  auto port = attach(a, 7);
  ASSERT_TRUE(port);
  RawSocket peer(b, true);
  ASSERT_TRUE(peer.ok());
  std::vector<test::BuiltFrame> sent;
  std::vector<Bytes> partial;
  for (bool v6 : {false, true}) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
      const test::BuiltFrame f =
          test::build_frame({.ipv6 = v6, .l4 = proto, .payload = 501, .seed = proto});
      partial.push_back(partial_of(f, v6, proto));
      ASSERT_TRUE(peer.send_vnet(vnet_for(f, vnet::kVnetGsoNone, 0, proto), partial.back()));
      sent.push_back(f);
    }
  }
  const auto is_ip = [](const Bytes& f) { return f.size() > 14 && (f[12] == 0x08 || f[12] == 0x86); };
  std::vector<OffloadMeta> meta;
  const auto got = poll_rx(*port, sent.size(), 3000, is_ip, nullptr, &meta);
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE("frame " + std::to_string(i));
    // Carried as it came: the checksum is completed only at an egress that needs it.
    EXPECT_EQ(got[i], partial[i]);
    EXPECT_NE(meta[i].flags & kPacketNeedsCsum, 0);
    EXPECT_EQ(meta[i].csum_start, sent[i].l4);
    Bytes done = got[i];
    ASSERT_TRUE(offload::complete_partial_checksum(
        {reinterpret_cast<std::byte*>(done.data()), done.size()}, meta[i].csum_start,
        meta[i].csum_offset));
    EXPECT_EQ(done, sent[i].bytes) << "the metadata completes to the right checksum";
  }
}

// Checks that `segs` are the MSS-sized segments of the super-frame `f` (spec `s`).
void expect_segments(const test::BuiltFrame& f, const test::FrameSpec& s,
                     const std::vector<Bytes>& segs, size_t mss) {
  ASSERT_EQ(segs.size(), (s.payload + mss - 1) / mss);
  Bytes payload;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Bytes& g = segs[i];
    SCOPED_TRACE("segment " + std::to_string(i));
    ASSERT_GT(g.size(), f.hdr_len());
    EXPECT_EQ(g.size() - f.hdr_len(), std::min(mss, s.payload - i * mss));
    if (!s.ipv6) {
      EXPECT_TRUE(test::ref_ipv4_header_ok(g, f.l3));
      EXPECT_EQ(test::rd16(g, f.l3 + 2), g.size() - f.l3);
      EXPECT_EQ(test::rd16(g, f.l3 + 4), uint16_t(s.ip_id + i));
    } else {
      EXPECT_EQ(test::rd16(g, f.l3 + 4), g.size() - f.l3 - 40);
    }
    EXPECT_TRUE(test::ref_l4_checksum_ok(g, f.l3, f.l4, g.size(), s.ipv6, s.l4));
    if (s.l4 == 6) {
      EXPECT_EQ(test::rd32(g, f.l4 + 4), uint32_t(s.seq + i * mss));
      const bool last = i + 1 == segs.size();
      EXPECT_EQ(g[f.l4 + 13] & 0x09, last ? (s.tcp_flags & 0x09) : 0);
      EXPECT_EQ(g[f.l4 + 13] & 0x80, i == 0 ? (s.tcp_flags & 0x80) : 0);
    } else {
      EXPECT_EQ(test::rd16(g, f.l4 + 4), g.size() - f.l4);
    }
    payload.insert(payload.end(), g.begin() + long(f.hdr_len()), g.end());
  }
  ASSERT_EQ(payload.size(), s.payload);
  for (size_t i = 0; i < s.payload; ++i) ASSERT_EQ(payload[i], test::payload_byte(i, s.seed));
}

bool is_ip_port_12345(const Bytes& f) {
  if (f.size() < 60) return false;
  const size_t l3 = 14;
  size_t l4 = 0;
  if (f[12] == 0x08 && f[13] == 0x00) l4 = l3 + (f[l3] & 0x0F) * 4u;
  if (f[12] == 0x86 && f[13] == 0xDD) l4 = l3 + 40;
  return l4 != 0 && l4 + 2 <= f.size() && test::rd16(f, l4) == 12345;
}

TEST_F(KernelPorts, AfpacketKeepsGsoSuperFramesWholeBothWays) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  auto port = attach(a, 7);
  ASSERT_TRUE(port);
  RawSocket peer(b, true);
  ASSERT_TRUE(peer.ok());
  struct Case {
    test::FrameSpec spec;
    uint8_t gso_type;
    GsoType type;
    uint16_t mss;
  };
  const std::vector<Case> cases = {
      {{.tcp_flags = 0x99, .seq = 0xFFFFF000u, .payload = 20000, .seed = 3},
       vnet::kVnetGsoTcpv4, GsoType::Tcpv4, 1448},
      {{.tcp_option_bytes = 12, .payload = 30001, .seed = 5}, vnet::kVnetGsoTcpv4,
       GsoType::Tcpv4, 1436},
      {{.ipv6 = true, .tcp_flags = 0x19, .payload = 64000, .seed = 7}, vnet::kVnetGsoTcpv6,
       GsoType::Tcpv6, 1428},
      {{.l4 = 17, .payload = 5000, .seed = 9}, vnet::kVnetGsoUdpL4, GsoType::UdpL4, 1200},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE("gso_type " + std::to_string(c.gso_type) + " payload " +
                 std::to_string(c.spec.payload));
    const test::BuiltFrame f = test::build_frame(c.spec);
    const Bytes partial = partial_of(f, c.spec.ipv6, c.spec.l4);
    ASSERT_TRUE(peer.send_vnet(vnet_for(f, c.gso_type, c.mss, c.spec.l4), partial));
    // In: one frame, the whole super-frame, with its GSO metadata.
    std::vector<OffloadMeta> meta;
    const auto got = poll_rx(*port, 1, 3000, is_ip_port_12345, nullptr, &meta);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], partial);
    EXPECT_EQ(meta[0].gso_type, c.type);
    EXPECT_EQ(meta[0].gso_size, c.mss);
    EXPECT_EQ(meta[0].hdr_len, f.hdr_len());
    // Out again: the kernel on the other side gets it as a super-frame too.
    PacketBatch out;
    Packet* p = to_packet_chain(*pool_, partial);
    ASSERT_NE(p, nullptr);
    p->gso_type = c.type;
    p->gso_size = c.mss;
    p->hdr_len = meta[0].hdr_len;
    p->flags |= kPacketNeedsCsum;
    p->csum_start = meta[0].csum_start;
    p->csum_offset = meta[0].csum_offset;
    out.push(p);
    EXPECT_EQ(port->transmit(0, out), 1u);
    const auto back = peer.collect_vnet(1, 3000, is_ip_port_12345);
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].first.gso_type & ~vnet::kVnetGsoEcn, c.gso_type);
    EXPECT_EQ(back[0].first.gso_size, c.mss);
    EXPECT_EQ(back[0].second.size(), partial.size());
    EXPECT_TRUE(std::equal(back[0].second.begin() + long(f.hdr_len()), back[0].second.end(),
                           partial.begin() + long(f.hdr_len())))
        << "payload unchanged";
  }
  const PortStats s = port->counters().snapshot();
  EXPECT_EQ(drops(s, true, DropReason::Invalid), 0u);
  EXPECT_EQ(drops(s, true, DropReason::NoBuffer), 0u);
  EXPECT_EQ(s.tx_packets, cases.size());
}

TEST_F(KernelPorts, AfpacketLendsRingSlotsAndReturnsThemOnRelease) {
  const std::string a = prefix() + "a", b = prefix() + "b";
  add_veth(a, b);
  auto small = make_pool(64);
  ASSERT_TRUE(small);
  // Seven rx slots, and not one free buffer in the pool: frames are received in place.
  auto port = attach(a, 7, {.ifname = "", .mtu = 0, .rx_frames = 7}, small.get());
  ASSERT_TRUE(port);
  RawSocket peer(b, true);
  std::vector<Packet*> held(64);
  ASSERT_EQ(small->alloc(held.data(), 32) + small->alloc(held.data() + 32, 32), 64);
  const test::FrameSpec spec{.payload = 20000};
  const test::BuiltFrame f = test::build_frame(spec);
  const Bytes partial = partial_of(f, false, 6);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(peer.send_vnet(vnet_for(f, vnet::kVnetGsoTcpv4, 1448, 6), partial));
  }
  PacketBatch lent;
  ASSERT_TRUE(wait_for([&] {
    port->rx_burst(0, lent);
    return lent.size() == 3;
  }, 3000));
  for (Packet* p : lent.packets()) {
    EXPECT_TRUE(p->is_lent());
    EXPECT_FALSE(p->is_dma_capable());
    EXPECT_EQ(p->next, nullptr) << "the whole super-frame in its slot";
    EXPECT_EQ(frame_bytes(*p), partial);
  }
  EXPECT_EQ(small->available(), 0u) << "no buffer was needed";
  lent.release_all();
  // The slots went back to the kernel: many more frames than the ring has slots get through.
  RawSocket plain(b, false);
  for (uint32_t round = 0; round < 5; ++round) {
    for (uint32_t i = 0; i < 5; ++i) ASSERT_TRUE(plain.send(test_frame(100, round * 5 + i)));
    EXPECT_EQ(poll_rx(*port, 5, 3000, is_test_frame).size(), 5u) << "round " << round;
  }
  EXPECT_EQ(drops(port->counters().snapshot(), true, DropReason::NoBuffer), 0u);
  for (Packet* p : held) release_packet(p);
}

TEST_F(KernelPorts, AfpacketMissingInterfaceIsNotFound) {
  auto r = AfPacketPort::open("x", 1, {.ifname = prefix() + "zz"}, *pool_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::NotFound);
}

// --- tap --------------------------------------------------------------------------------------------

TEST_F(KernelPorts, TapInterfaceLivesExactlyAsLongAsThePort) {
  const std::string t = prefix() + "t";
  {
    auto port = make_tap(t, 3, {.ifname = "", .mtu = 1400});
    ASSERT_TRUE(port);
    EXPECT_TRUE(netdev::exists(t));
    auto mtu = netdev::mtu(t);
    ASSERT_TRUE(mtu);
    EXPECT_EQ(*mtu, 1400u);
    EXPECT_EQ(port->mtu(), 1400u);
    EXPECT_EQ(port->link_state(), LinkState::Up);
    auto again = TapPort::open("dup", 4, {.ifname = t}, *pool_);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, Errc::AlreadyExists);
    EXPECT_NE(again.error().message.find(t), std::string::npos);
  }
  EXPECT_FALSE(netdev::exists(t));
  auto down = make_tap(t, 3, {.ifname = "", .mtu = kDefaultMtu, .up = false});
  ASSERT_TRUE(down);
  EXPECT_EQ(down->link_state(), LinkState::Down);
}

TEST_F(KernelPorts, TapReceivesAndTransmitsByteExact) {
  const std::string t = prefix() + "t";
  auto port = make_tap(t, 3);
  ASSERT_TRUE(port);
  RawSocket kernel_side(t, false);
  ASSERT_TRUE(kernel_side.ok());
  // Kernel -> tap -> rx_burst.
  const auto frames = mixed_frames(50);
  for (const Bytes& f : frames) ASSERT_TRUE(kernel_side.send(f));
  const auto got = poll_rx(*port, frames.size(), 3000, is_test_frame);
  ASSERT_EQ(got.size(), frames.size());
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_EQ(got[i], frames[i]) << "rx frame " << i;
  // tx_burst -> tap -> kernel.
  const auto out = mixed_frames(60);
  transmit_all(*port, out);
  const auto seen = kernel_side.collect(out.size(), 3000, is_test_frame);
  ASSERT_EQ(seen.size(), out.size());
  uint64_t bytes = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(seen[i], out[i]) << "tx frame " << i;
    bytes += out[i].size();
  }
  const PortStats s = port->counters().snapshot();
  EXPECT_GE(s.rx_packets, frames.size());
  EXPECT_EQ(s.tx_packets, out.size());
  EXPECT_EQ(s.tx_bytes, bytes);
  EXPECT_EQ(drops(s, false, DropReason::TxFull), 0u);
}

TEST_F(KernelPorts, TapCountsNoBufferAndTxToADownInterface) {
  const std::string t = prefix() + "t";
  auto small = make_pool(64);
  auto port = make_tap(t, 3, {}, small.get());
  ASSERT_TRUE(port);
  RawSocket kernel_side(t, false);
  std::vector<Packet*> held(64);
  ASSERT_EQ(small->alloc(held.data(), 32) + small->alloc(held.data() + 32, 32), 64);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(kernel_side.send(test_frame(80, i)));
  EXPECT_TRUE(wait_for([&] {
    PacketBatch bt;
    port->rx_burst(0, bt);
    bt.release_all();
    return drops(port->counters().snapshot(), true, DropReason::NoBuffer) >= 4;
  }, 3000));
  for (Packet* p : held) release_packet(p);

  ASSERT_EQ(run("ip link set " + t + " down"), 0);
  PacketBatch b;
  for (uint32_t i = 0; i < 3; ++i) b.push(to_packet(*small, test_frame(100, i)));
  EXPECT_EQ(port->transmit(0, b), 0);
  EXPECT_EQ(drops(port->counters().snapshot(), false, DropReason::TxFull), 3u);
  EXPECT_EQ(small->available(), 64u);
}

TEST_F(KernelPorts, TcpCrossesTwoAfpacketPortsWithOffloadsOn) {
  const std::string n1 = prefix() + "n1", n2 = prefix() + "n2";
  const std::string o1 = prefix() + "o1", o2 = prefix() + "o2";
  add_ns_with_veth(cleanup_, n1, "eth0", o1, "10.77.0.1/24", "fd77::1/64");
  add_ns_with_veth(cleanup_, n2, "eth0", o2, "10.77.0.2/24", "fd77::2/64");
  ASSERT_TRUE(tso_on(n1, "eth0")) << "the test needs TSO on to exercise GSO handling";
  auto p1 = attach(o1, 1);
  auto p2 = attach(o2, 2);
  ASSERT_TRUE(p1 && p2);
  Forwarder fwd(*p1, *p2);
  constexpr size_t kBytes = 8u << 20;
  EXPECT_EQ(tcp_transfer(n1, n2, false, "10.77.0.2", kBytes), kBytes);
  // p1 received the data (ACKs come back through p2): super-frames stay whole, so far fewer
  // frames than MTU-sized segments would be.
  const PortStats s1 = p1->counters().snapshot();
  EXPECT_GT(s1.rx_bytes, kBytes);
  EXPECT_LT(s1.rx_packets, kBytes / 1500 / 2) << "GSO super-frames were passed through, not cut";
  EXPECT_EQ(tcp_transfer(n2, n1, true, "fd77::1", kBytes), kBytes);
  EXPECT_EQ(drops(p1->counters().snapshot(), true, DropReason::Invalid), 0u);
}

TEST_F(KernelPorts, TcpCrossesTapAndAfpacketPorts) {
  const std::string n1 = prefix() + "n1", n2 = prefix() + "n2";
  const std::string t = prefix() + "t", o2 = prefix() + "o2";
  ASSERT_EQ(run("ip netns add " + n1), 0);
  cleanup_.add("ip netns del " + n1);
  add_ns_with_veth(cleanup_, n2, "eth0", o2, "10.78.0.2/24", "fd78::2/64");
  auto tap = make_tap(t, 1);
  ASSERT_TRUE(tap);
  // A tap can be moved into a namespace after vsw configured it; its fd stays attached.
  const std::string in = "ip netns exec " + n1 + " ";
  ASSERT_EQ(run("ip link set " + t + " netns " + n1), 0);
  ASSERT_EQ(run(in + "ip addr add 10.78.0.1/24 dev " + t), 0);
  ASSERT_EQ(run(in + "ip addr add fd78::1/64 dev " + t + " nodad"), 0);
  ASSERT_EQ(run(in + "ip link set " + t + " up"), 0);
  auto p2 = attach(o2, 2);
  ASSERT_TRUE(p2);
  Forwarder fwd(*tap, *p2);
  constexpr size_t kBytes = 4u << 20;
  EXPECT_EQ(tcp_transfer(n1, n2, false, "10.78.0.2", kBytes), kBytes);
  EXPECT_EQ(tcp_transfer(n2, n1, true, "fd78::1", kBytes), kBytes);
}

}  // namespace
}  // namespace vsw::ports
