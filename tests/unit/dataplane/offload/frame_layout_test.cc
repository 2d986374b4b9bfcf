// tests/unit/dataplane/offload/frame_layout_test.cc — header walking in dataplane/offload/frame_layout.h.
#include "dataplane/offload/frame_layout.h"

#include <gtest/gtest.h>

#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw::offload {
namespace {

ParseStatus parse(const test::Bytes& b, FrameLayout& l) { return parse_frame(test::as_span(b), l); }

TEST(FrameLayout, Ipv4Tcp) {
  const test::BuiltFrame f = test::build_frame({});
  FrameLayout l;
  ASSERT_EQ(parse(f.bytes, l), ParseStatus::Ok);
  EXPECT_FALSE(l.ipv6);
  EXPECT_EQ(l.l3_off, 14u);
  EXPECT_EQ(l.l4_off, 34u);
  EXPECT_EQ(l.l4_hdr_len, 20u);
  EXPECT_EQ(l.l4_proto, kIpProtoTcp);
  EXPECT_EQ(l.ip_end, f.bytes.size());
}

TEST(FrameLayout, Ipv4OptionsTcpOptionsAndTwoVlanTags) {
  test::FrameSpec s;
  s.ip_option_bytes = 12;
  s.tcp_option_bytes = 12;
  s.vlan_tags = 2;
  const test::BuiltFrame f = test::build_frame(s);
  FrameLayout l;
  ASSERT_EQ(parse(f.bytes, l), ParseStatus::Ok);
  EXPECT_EQ(l.l3_off, 22u);
  EXPECT_EQ(l.l4_off, 22u + 32u);
  EXPECT_EQ(l.l4_hdr_len, 32u);
}

TEST(FrameLayout, Ipv6WithDestinationOptionsAndUdp) {
  test::FrameSpec s;
  s.ipv6 = true;
  s.ipv6_dest_opts = true;
  s.l4 = 17;
  s.vlan_tags = 1;
  const test::BuiltFrame f = test::build_frame(s);
  FrameLayout l;
  ASSERT_EQ(parse(f.bytes, l), ParseStatus::Ok);
  EXPECT_TRUE(l.ipv6);
  EXPECT_EQ(l.l3_off, 18u);
  EXPECT_EQ(l.l4_off, 18u + 48u);
  EXPECT_EQ(l.l4_proto, kIpProtoUdp);
  EXPECT_EQ(l.l4_hdr_len, 8u);
}

TEST(FrameLayout, EthernetPaddingIsNotPartOfTheDatagram) {
  test::BuiltFrame f = test::build_frame({.payload = 2});
  f.bytes.resize(f.bytes.size() + 4, 0);  // short frame padded to the minimum size
  FrameLayout l;
  ASSERT_EQ(parse(f.bytes, l), ParseStatus::Ok);
  EXPECT_EQ(l.ip_end, f.bytes.size() - 4);
}

TEST(FrameLayout, NonIpAndFragmentsAreUnsupported) {
  FrameLayout l;
  EXPECT_EQ(parse(test::build_frame({.ether_type_override = 0x0806}).bytes, l),
            ParseStatus::Unsupported);
  EXPECT_EQ(parse(test::build_frame({.ip_frag = 0x2000}).bytes, l), ParseStatus::Unsupported);
  EXPECT_EQ(parse(test::build_frame({.ip_frag = 0x0010}).bytes, l), ParseStatus::Unsupported);
  test::BuiltFrame icmp = test::build_frame({});
  icmp.bytes[14 + 9] = 1;
  EXPECT_EQ(parse(icmp.bytes, l), ParseStatus::Unsupported);
  test::BuiltFrame frag6 = test::build_frame({.ipv6 = true});
  frag6.bytes[14 + 6] = 44;  // IPv6 fragment header
  EXPECT_EQ(parse(frag6.bytes, l), ParseStatus::Unsupported);
}

TEST(FrameLayout, TruncatedOrInconsistentHeadersAreInvalid) {
  FrameLayout l;
  const test::BuiltFrame f = test::build_frame({});
  for (size_t n : {0, 13, 20, 33, 40, 53}) {
    test::Bytes cut(f.bytes.begin(), f.bytes.begin() + static_cast<long>(n));
    EXPECT_NE(parse(cut, l), ParseStatus::Ok) << "n=" << n;
  }
  test::Bytes longer = f.bytes;
  test::wr16(longer, 16, static_cast<uint16_t>(longer.size()));  // total length beyond the frame
  EXPECT_EQ(parse(longer, l), ParseStatus::Invalid);
  test::Bytes ihl = f.bytes;
  ihl[14] = 0x44;  // IHL 16 bytes
  EXPECT_EQ(parse(ihl, l), ParseStatus::Invalid);
  test::Bytes doff = f.bytes;
  doff[34 + 12] = 0x40;  // TCP data offset 16 bytes
  EXPECT_EQ(parse(doff, l), ParseStatus::Invalid);
  test::Bytes doff_big = f.bytes;
  doff_big[34 + 12] = 0xF0;  // 60 bytes, more than the segment holds with a tiny payload
  test::Bytes small(doff_big.begin(), doff_big.begin() + 34 + 40);
  test::wr16(small, 16, 60);
  EXPECT_EQ(parse(small, l), ParseStatus::Invalid);
  test::Bytes v6 = test::build_frame({.ipv6 = true}).bytes;
  test::wr16(v6, 18, 0xFFFF);  // payload length beyond the frame
  EXPECT_EQ(parse(v6, l), ParseStatus::Invalid);
  test::Bytes ver = f.bytes;
  ver[14] = 0x65;
  EXPECT_EQ(parse(ver, l), ParseStatus::Invalid);
}

TEST(FrameLayout, Ipv6ExtensionHeaderRunningPastTheDatagramIsInvalid) {
  test::Bytes b = test::build_frame({.ipv6 = true, .ipv6_dest_opts = true, .payload = 0}).bytes;
  b[14 + 40 + 1] = 200;  // Hdr Ext Len far beyond the payload
  FrameLayout l;
  EXPECT_EQ(parse(b, l), ParseStatus::Invalid);
}

}  // namespace
}  // namespace vsw::offload
