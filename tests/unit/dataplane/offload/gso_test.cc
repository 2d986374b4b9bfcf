// tests/unit/dataplane/offload/gso_test.cc — software segmentation (dataplane/offload/gso.h), every segment
// checked field by field and with the independent reference checksum of test_frames.h.
#include "dataplane/offload/gso.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw::offload {
namespace {

using test::Bytes;

constexpr uint32_t kRoom = 1920;  // Mempool::data_room() with 2048-byte buffers

std::vector<Bytes> segment_all(const Bytes& frame, GsoType type, uint16_t gso_size,
                               uint32_t max_len, GsoStatus* status = nullptr) {
  GsoPlan plan;
  const GsoStatus st = plan_gso(test::as_span(frame), type, gso_size, max_len, plan);
  if (status != nullptr) *status = st;
  std::vector<Bytes> out;
  if (st != GsoStatus::Ok) return out;
  for (uint32_t i = 0; i < plan.segments; ++i) {
    Bytes seg(max_len, 0xEE);
    const uint32_t len = build_segment(plan, test::as_span(frame), i, test::as_writable(seg));
    EXPECT_EQ(len, segment_len(plan, i));
    seg.resize(len);
    out.push_back(std::move(seg));
  }
  return out;
}

// Checks `segs` against the super-frame `f` built from `s`, with `mss` payload bytes per segment.
void expect_valid_segments(const test::BuiltFrame& f, const test::FrameSpec& s,
                           const std::vector<Bytes>& segs, size_t mss) {
  const size_t hdr = f.hdr_len();
  const size_t expected = s.payload == 0 ? 1 : (s.payload + mss - 1) / mss;
  ASSERT_EQ(segs.size(), expected);
  Bytes payload;
  for (size_t i = 0; i < segs.size(); ++i) {
    SCOPED_TRACE("segment " + std::to_string(i));
    const Bytes& g = segs[i];
    const size_t chunk = std::min(mss, s.payload - std::min(s.payload, i * mss));
    ASSERT_EQ(g.size(), hdr + chunk);
    // L2 header (with VLAN tags) copied unchanged.
    EXPECT_TRUE(std::equal(g.begin(), g.begin() + static_cast<long>(f.l3), f.bytes.begin()));
    if (s.ipv6) {
      EXPECT_EQ(test::rd16(g, f.l3 + 4), g.size() - f.l3 - 40);
      EXPECT_TRUE(std::equal(g.begin() + static_cast<long>(f.l3 + 6),
                             g.begin() + static_cast<long>(f.l4),
                             f.bytes.begin() + static_cast<long>(f.l3 + 6)));
    } else {
      EXPECT_EQ(test::rd16(g, f.l3 + 2), g.size() - f.l3);
      EXPECT_EQ(test::rd16(g, f.l3 + 4), static_cast<uint16_t>(s.ip_id + i));
      EXPECT_EQ(test::rd16(g, f.l3 + 6), s.ip_frag);
      EXPECT_TRUE(test::ref_ipv4_header_ok(g, f.l3));
      EXPECT_TRUE(std::equal(g.begin() + static_cast<long>(f.l3 + 12),
                             g.begin() + static_cast<long>(f.l4),
                             f.bytes.begin() + static_cast<long>(f.l3 + 12)));
    }
    if (s.l4 == 6) {
      EXPECT_EQ(test::rd32(g, f.l4 + 4), static_cast<uint32_t>(s.seq + i * mss));
      uint8_t flags = s.tcp_flags;
      if (i + 1 < segs.size()) flags &= static_cast<uint8_t>(~0x09);  // FIN, PSH: last only
      if (i != 0) flags &= static_cast<uint8_t>(~0x80);               // CWR: first only
      EXPECT_EQ(g[f.l4 + 13], flags);
      // Ports, ack, data offset, window, urgent pointer and options are unchanged.
      EXPECT_EQ(test::rd32(g, f.l4), test::rd32(f.bytes, f.l4));
      EXPECT_EQ(test::rd32(g, f.l4 + 8), test::rd32(f.bytes, f.l4 + 8));
      EXPECT_EQ(g[f.l4 + 12], f.bytes[f.l4 + 12]);
      EXPECT_EQ(test::rd16(g, f.l4 + 14), test::rd16(f.bytes, f.l4 + 14));
      EXPECT_TRUE(std::equal(g.begin() + static_cast<long>(f.l4 + 18),
                             g.begin() + static_cast<long>(hdr),
                             f.bytes.begin() + static_cast<long>(f.l4 + 18)));
    } else {
      EXPECT_EQ(test::rd16(g, f.l4 + 4), g.size() - f.l4);
      EXPECT_NE(test::rd16(g, f.l4 + 6), 0);
    }
    EXPECT_TRUE(test::ref_l4_checksum_ok(g, f.l3, f.l4, g.size(), s.ipv6, s.l4));
    payload.insert(payload.end(), g.begin() + static_cast<long>(hdr), g.end());
  }
  ASSERT_EQ(payload.size(), s.payload);
  for (size_t i = 0; i < s.payload; ++i) {
    ASSERT_EQ(payload[i], test::payload_byte(i, s.seed)) << "payload byte " << i;
  }
}

void run_case(const test::FrameSpec& s, GsoType type, uint16_t gso_size, uint32_t max_len,
              size_t expected_mss) {
  const test::BuiltFrame f = test::build_frame(s);
  GsoStatus st;
  const auto segs = segment_all(f.bytes, type, gso_size, max_len, &st);
  ASSERT_EQ(st, GsoStatus::Ok);
  expect_valid_segments(f, s, segs, expected_mss);
}

TEST(Gso, Ipv4TcpLastSegmentShort) {
  run_case({.payload = 4000}, GsoType::Tcpv4, 1448, kRoom, 1448);
}

TEST(Gso, Ipv4TcpExactMultipleOfMss) {
  run_case({.payload = 2 * 1448}, GsoType::Tcpv4, 1448, kRoom, 1448);
}

TEST(Gso, Ipv4OptionsTcpOptionsAndVlan) {
  test::FrameSpec s{.vlan_tags = 1, .ip_option_bytes = 12, .tcp_option_bytes = 12};
  s.payload = 5000;
  run_case(s, GsoType::Tcpv4, 1436, kRoom, 1436);
}

TEST(Gso, Ipv6TcpFullSizedSuperFrame) {
  run_case({.ipv6 = true, .payload = 64000}, GsoType::Tcpv6, 1428, kRoom, 1428);
}

TEST(Gso, Ipv6ExtensionHeaderAndTwoVlanTags) {
  run_case({.ipv6 = true, .vlan_tags = 2, .ipv6_dest_opts = true, .payload = 9001},
           GsoType::Tcpv6, 1000, kRoom, 1000);
}

TEST(Gso, FinPshOnlyOnLastCwrOnlyOnFirst) {
  // CWR | ACK | PSH | FIN, with the ECN flag on gso_type.
  run_case({.tcp_flags = 0x99, .payload = 3500}, GsoType::Tcpv4, 1200, kRoom, 1200);
  run_case({.ipv6 = true, .tcp_flags = 0x99, .payload = 3500}, GsoType::Tcpv6, 1200, kRoom, 1200);
}

TEST(Gso, SequenceNumberAndIpIdWrapAround) {
  run_case({.seq = 0xFFFFFC00u, .ip_id = 0xFFFE, .payload = 6000}, GsoType::Tcpv4, 1448, kRoom,
           1448);
}

TEST(Gso, PayloadSmallerThanMssGivesTheSameFrame) {
  const test::BuiltFrame f = test::build_frame({.tcp_flags = 0x19, .payload = 700});
  const auto segs = segment_all(f.bytes, GsoType::Tcpv4, 1448, kRoom);
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0], f.bytes);
}

TEST(Gso, HeaderOnlySuperFrameGivesOneSegment) {
  run_case({.payload = 0}, GsoType::Tcpv4, 1448, kRoom, 1448);
}

TEST(Gso, MssShrinksToFitTheBuffer) {
  // 9000-byte MTU sender: gso_size 8948 does not fit a 1920-byte buffer; TCP may use a smaller MSS.
  const test::FrameSpec s{.payload = 20000};
  const test::BuiltFrame f = test::build_frame(s);
  run_case(s, GsoType::Tcpv4, 8948, kRoom, kRoom - f.hdr_len());
}

TEST(Gso, InputChecksumsAreIgnoredAndRecomputed) {
  // A GSO sender leaves only a pseudo-header seed (or anything) in the checksum fields.
  run_case({.payload = 3000, .checksums = false}, GsoType::Tcpv4, 1448, kRoom, 1448);
  run_case({.ipv6 = true, .payload = 3000, .checksums = false}, GsoType::Tcpv6, 1448, kRoom, 1448);
}

TEST(Gso, EthernetPaddingAfterTheDatagramIsDropped) {
  test::FrameSpec s{.payload = 3000};
  test::BuiltFrame f = test::build_frame(s);
  f.bytes.resize(f.bytes.size() + 6, 0xAB);
  expect_valid_segments(f, s, segment_all(f.bytes, GsoType::Tcpv4, 1448, kRoom), 1448);
}

TEST(Gso, UdpL4SegmentationIpv4AndIpv6) {
  run_case({.l4 = 17, .payload = 3000}, GsoType::UdpL4, 1000, kRoom, 1000);
  run_case({.l4 = 17, .payload = 2500}, GsoType::UdpL4, 1000, kRoom, 1000);
  run_case({.ipv6 = true, .l4 = 17, .payload = 4321}, GsoType::UdpL4, 1200, kRoom, 1200);
}

TEST(Gso, UdpDatagramTooBigForABufferIsRefused) {
  const test::BuiltFrame f = test::build_frame({.l4 = 17, .payload = 6000});
  GsoStatus st;
  EXPECT_TRUE(segment_all(f.bytes, GsoType::UdpL4, 1900, kRoom, &st).empty());
  EXPECT_EQ(st, GsoStatus::TooBig);
}

TEST(Gso, UnsupportedAndInconsistentRequestsAreRefused) {
  GsoPlan plan;
  const Bytes v4 = test::build_frame({.payload = 3000}).bytes;
  const Bytes v6 = test::build_frame({.ipv6 = true, .payload = 3000}).bytes;
  const Bytes udp = test::build_frame({.l4 = 17, .payload = 3000}).bytes;
  EXPECT_EQ(plan_gso(test::as_span(udp), static_cast<GsoType>(9), 1000, kRoom, plan), GsoStatus::Unsupported);
  EXPECT_EQ(plan_gso(test::as_span(v4), GsoType::None, 1000, kRoom, plan), GsoStatus::Unsupported);
  EXPECT_EQ(plan_gso(test::as_span(v4), static_cast<GsoType>(0x7F), 1000, kRoom, plan), GsoStatus::Unsupported);
  EXPECT_EQ(plan_gso(test::as_span(v6), GsoType::Tcpv4, 1000, kRoom, plan), GsoStatus::Invalid);
  EXPECT_EQ(plan_gso(test::as_span(v4), GsoType::Tcpv6, 1000, kRoom, plan), GsoStatus::Invalid);
  EXPECT_EQ(plan_gso(test::as_span(udp), GsoType::Tcpv4, 1000, kRoom, plan), GsoStatus::Invalid);
  EXPECT_EQ(plan_gso(test::as_span(v4), GsoType::UdpL4, 1000, kRoom, plan), GsoStatus::Invalid);
  EXPECT_EQ(plan_gso(test::as_span(v4), GsoType::Tcpv4, 0, kRoom, plan), GsoStatus::Invalid);
  EXPECT_EQ(plan_gso(test::as_span(v4), GsoType::Tcpv4, 1000, 54, plan), GsoStatus::TooBig);
  const Bytes truncated(v4.begin(), v4.end() - 10);
  EXPECT_EQ(plan_gso(test::as_span(truncated), GsoType::Tcpv4, 1000, kRoom, plan),
            GsoStatus::Invalid);
  const Bytes frag = test::build_frame({.ip_frag = 0x2000, .payload = 3000}).bytes;
  EXPECT_EQ(plan_gso(test::as_span(frag), GsoType::Tcpv4, 1000, kRoom, plan),
            GsoStatus::Unsupported);
  const Bytes arp = test::build_frame({.ether_type_override = 0x0806}).bytes;
  EXPECT_EQ(plan_gso(test::as_span(arp), GsoType::Tcpv4, 1000, kRoom, plan),
            GsoStatus::Unsupported);
}

TEST(Gso, BuildSegmentRefusesAShortOutputBuffer) {
  const Bytes f = test::build_frame({.payload = 3000}).bytes;
  GsoPlan plan;
  ASSERT_EQ(plan_gso(test::as_span(f), GsoType::Tcpv4, 1448, kRoom, plan), GsoStatus::Ok);
  Bytes small(segment_len(plan, 0) - 1, 0x5A);
  EXPECT_EQ(build_segment(plan, test::as_span(f), 0, test::as_writable(small)), 0u);
  EXPECT_TRUE(std::all_of(small.begin(), small.end(), [](uint8_t b) { return b == 0x5A; }));
  Bytes big(kRoom);
  EXPECT_EQ(build_segment(plan, test::as_span(f), plan.segments, test::as_writable(big)), 0u);
}

TEST(Gso, RandomShapesAllVerify) {
  std::mt19937 rng(2024);
  for (int iter = 0; iter < 300; ++iter) {
    test::FrameSpec s;
    s.ipv6 = rng() % 2;
    s.l4 = rng() % 4 == 0 ? 17 : 6;
    s.vlan_tags = static_cast<int>(rng() % 3);
    s.ip_option_bytes = s.ipv6 ? 0 : 4 * (rng() % 11);
    s.ipv6_dest_opts = s.ipv6 && rng() % 2;
    s.tcp_option_bytes = 4 * (rng() % 11);
    s.tcp_flags = static_cast<uint8_t>(rng() & 0xFF);
    s.seq = static_cast<uint32_t>(rng());
    s.ip_id = static_cast<uint16_t>(rng());
    s.payload = rng() % 64000;
    s.seed = static_cast<uint8_t>(rng());
    s.checksums = rng() % 2;
    const uint16_t gso = static_cast<uint16_t>(500 + rng() % 8500);
    const GsoType type = s.l4 == 17 ? GsoType::UdpL4 : (s.ipv6 ? GsoType::Tcpv6 : GsoType::Tcpv4);
    const test::BuiltFrame f = test::build_frame(s);
    SCOPED_TRACE("iteration " + std::to_string(iter));
    GsoStatus st;
    const auto segs = segment_all(f.bytes, type, gso, kRoom, &st);
    if (s.l4 == 17 && f.hdr_len() + gso > kRoom) {
      EXPECT_EQ(st, GsoStatus::TooBig);
      continue;
    }
    ASSERT_EQ(st, GsoStatus::Ok);
    const size_t mss = std::min<size_t>(gso, kRoom - f.hdr_len());
    expect_valid_segments(f, s, segs, mss);
  }
}

TEST(Gso, HostileBytesNeverReadOrWriteOutOfBounds) {
  // Random garbage, random truncations of valid frames and random gso fields: whatever the
  // status, building every planned segment stays inside the buffers (run under ASan in CI).
  std::mt19937 rng(99);
  const Bytes good = test::build_frame({.ipv6 = false, .payload = 5000}).bytes;
  for (int iter = 0; iter < 5000; ++iter) {
    Bytes f;
    if (iter % 2 == 0) {
      f.assign(good.begin(), good.begin() + static_cast<long>(rng() % good.size()));
      for (int k = 0; k < 3 && !f.empty(); ++k) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    } else {
      f.resize(rng() % 200);
      for (auto& b : f) b = static_cast<uint8_t>(rng());
      if (f.size() > 14) {
        f[12] = 0x08;
        f[13] = 0x00;
        f[14] = 0x45;
      }
    }
    GsoPlan plan;
    const auto type = static_cast<GsoType>(rng() % 6);
    const uint16_t gso = static_cast<uint16_t>(rng() % 3000);
    if (plan_gso(test::as_span(f), type, gso, kRoom, plan) != GsoStatus::Ok) continue;
    ASSERT_GE(plan.segments, 1u);
    ASSERT_LE(plan.hdr_len + plan.payload_len, f.size());
    for (uint32_t i = 0; i < plan.segments; ++i) {
      Bytes out(segment_len(plan, i));
      ASSERT_LE(out.size(), kRoom);
      ASSERT_EQ(build_segment(plan, test::as_span(f), i, test::as_writable(out)), out.size());
    }
  }
}

TEST(Gso, ChainedSuperFrameGivesTheSameSegmentsAsAContiguousOne) {
  // The payload spread over buffers of odd sizes, headers in the first: segments are identical.
  const test::FrameSpec s{.tcp_option_bytes = 12, .payload = 20000, .seed = 4};
  const test::BuiltFrame f = test::build_frame(s);
  const auto* bytes = reinterpret_cast<const std::byte*>(f.bytes.data());
  const uint32_t cuts[] = {static_cast<uint32_t>(f.hdr_len() + 7), 1, 999, 1920, 3, 5000};
  std::vector<Packet> segs(16);
  uint32_t off = 0;
  size_t n = 0;
  for (; off < f.bytes.size(); ++n) {
    const uint32_t len = std::min<uint32_t>(n < std::size(cuts) ? cuts[n] : 1920,
                                            static_cast<uint32_t>(f.bytes.size()) - off);
    segs[n].base = const_cast<std::byte*>(bytes + off);
    segs[n].len = static_cast<uint16_t>(len);
    if (n > 0) segs[n - 1].next = &segs[n];
    off += len;
  }
  segs[0].frame_len = off;
  const std::span<const std::byte> head(bytes, segs[0].len);
  GsoPlan plan;
  ASSERT_EQ(plan_gso(head, off, GsoType::Tcpv4, 1448, kRoom, plan), GsoStatus::Ok);
  const auto expected = segment_all(f.bytes, GsoType::Tcpv4, 1448, kRoom);
  ASSERT_EQ(plan.segments, expected.size());
  ChainReader payload(segs[0]);
  ASSERT_TRUE(payload.skip(plan.hdr_len));
  for (uint32_t i = 0; i < plan.segments; ++i) {
    Bytes out(kRoom);
    const uint32_t len = build_segment(plan, head, payload, i, test::as_writable(out));
    out.resize(len);
    EXPECT_EQ(out, expected[i]) << "segment " << i;
  }
  // Headers beyond the first segment are refused rather than read across buffers.
  EXPECT_EQ(plan_gso(head.first(40), off, GsoType::Tcpv4, 1448, kRoom, plan), GsoStatus::Invalid);
}

}  // namespace
}  // namespace vsw::offload
