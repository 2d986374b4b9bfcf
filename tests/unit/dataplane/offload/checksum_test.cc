// tests/unit/dataplane/offload/checksum_test.cc — dataplane/offload/checksum.h against RFC examples and an
// independent byte-pair reference (test_frames.h).
#include "dataplane/offload/checksum.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw::offload {
namespace {

using test::Bytes;

TEST(Checksum, MatchesRfc1071NumericalExample) {
  // RFC 1071 §3: 0001 + f203 + f4f5 + f6f7 folds to ddf2.
  const Bytes b = {0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7};
  EXPECT_EQ(fold(sum_bytes(test::as_span(b))), 0xDDF2);
  EXPECT_EQ(finish(sum_bytes(test::as_span(b))), static_cast<uint16_t>(~0xDDF2));
}

TEST(Checksum, MatchesReferenceForEveryLengthAndContent) {
  std::mt19937 rng(7);
  for (size_t len = 0; len < 300; ++len) {
    for (int round = 0; round < 4; ++round) {
      Bytes b(len);
      for (auto& x : b) x = static_cast<uint8_t>(round == 0 ? 0xFF : rng());
      ASSERT_EQ(fold(sum_bytes(test::as_span(b))), test::ref_ones_sum(b.data(), b.size()))
          << "len=" << len << " round=" << round;
    }
  }
}

TEST(Checksum, LargeAllOnesBufferDoesNotOverflow) {
  const Bytes b(65536, 0xFF);
  EXPECT_EQ(fold(sum_bytes(test::as_span(b))), test::ref_ones_sum(b.data(), b.size()));
}

TEST(Checksum, SumsOfEvenSplitsAddUp) {
  std::mt19937 rng(3);
  Bytes b(1001);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  for (size_t cut = 0; cut <= b.size(); cut += 2) {
    auto s = test::as_span(b);
    const uint32_t parts = sum_bytes(s.subspan(cut), sum_bytes(s.first(cut)));
    ASSERT_EQ(fold(parts), test::ref_ones_sum(b.data(), b.size())) << "cut=" << cut;
  }
}

TEST(Checksum, Ipv4HeaderChecksumOfKnownHeader) {
  // A common textbook header: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7.
  Bytes h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
             0x12, 0x34, 0xC0, 0xA8, 0x00, 0x01, 0xC0, 0xA8, 0x00, 0xC7};
  set_ipv4_header_checksum(test::as_writable(h).data(), 20);
  EXPECT_EQ(test::rd16(h, 10), 0xB861);
  EXPECT_TRUE(test::ref_ipv4_header_ok(h, 0));
}

TEST(Checksum, PseudoHeaderSumsMatchReference) {
  for (bool v6 : {false, true}) {
    test::FrameSpec s;
    s.ipv6 = v6;
    const test::BuiltFrame f = test::build_frame(s);
    const uint32_t l4_len = static_cast<uint32_t>(f.bytes.size() - f.l4);
    const Bytes ref = test::ref_pseudo_header(f.bytes, f.l3, v6, 6, l4_len);
    const std::byte* ip = test::as_span(f.bytes).data() + f.l3;
    const uint32_t got = v6 ? pseudo_header_sum_ipv6(ip, 6, l4_len)
                            : pseudo_header_sum_ipv4(ip, 6, l4_len);
    EXPECT_EQ(fold(got), test::ref_ones_sum(ref.data(), ref.size())) << "ipv6=" << v6;
  }
}

// Turns a frame with a valid L4 checksum into what a CHECKSUM_PARTIAL sender hands over: the
// checksum field holds the folded pseudo-header sum (not complemented).
Bytes make_partial(const test::BuiltFrame& f, bool v6, uint8_t proto, size_t csum_field) {
  Bytes p = f.bytes;
  const Bytes ph =
      test::ref_pseudo_header(p, f.l3, v6, proto, static_cast<uint32_t>(p.size() - f.l4));
  test::wr16(p, csum_field, test::ref_ones_sum(ph.data(), ph.size()));
  return p;
}

TEST(Checksum, CompletesPartialTcpAndUdpChecksums) {
  for (bool v6 : {false, true}) {
    for (uint8_t proto : {uint8_t{6}, uint8_t{17}}) {
      for (int tags : {0, 1}) {
        test::FrameSpec s;
        s.ipv6 = v6;
        s.l4 = proto;
        s.vlan_tags = tags;
        s.payload = 333;  // odd: exercises the padded final byte
        const test::BuiltFrame f = test::build_frame(s);
        const size_t field = f.l4 + (proto == 6 ? 16 : 6);
        Bytes p = make_partial(f, v6, proto, field);
        ASSERT_TRUE(complete_partial_checksum(test::as_writable(p), static_cast<uint32_t>(f.l4),
                                              static_cast<uint32_t>(field - f.l4)));
        EXPECT_EQ(p, f.bytes) << "v6=" << v6 << " proto=" << int(proto) << " tags=" << tags;
        EXPECT_TRUE(test::ref_l4_checksum_ok(p, f.l3, f.l4, p.size(), v6, proto));
      }
    }
  }
}

TEST(Checksum, PartialChecksumOfZeroIsStoredAsAllOnes) {
  // Region FF FF [00 00]: the sum is 0xFFFF, its complement 0, which UDP cannot send.
  Bytes b = {0xFF, 0xFF, 0x00, 0x00};
  ASSERT_TRUE(complete_partial_checksum(test::as_writable(b), 0, 2));
  EXPECT_EQ(test::rd16(b, 2), 0xFFFF);
}

TEST(Checksum, PartialChecksumRejectsFieldsOutsideTheFrame) {
  Bytes b(64, 0);
  const Bytes before = b;
  EXPECT_FALSE(complete_partial_checksum(test::as_writable(b), 65, 0));
  EXPECT_FALSE(complete_partial_checksum(test::as_writable(b), 60, 3));
  EXPECT_FALSE(complete_partial_checksum(test::as_writable(b), 0, 63));
  EXPECT_FALSE(complete_partial_checksum(test::as_writable(b), 0xFFFF, 0xFFFF));
  EXPECT_EQ(b, before);
  EXPECT_TRUE(complete_partial_checksum(test::as_writable(b), 60, 2));  // last two bytes
}

}  // namespace
}  // namespace vsw::offload
