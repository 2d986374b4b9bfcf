// tests/unit/memif/pktgen_frame_test.cc — vsw-pktgen's frames: what the generator builds the
// checker accepts, and any corruption, truncation or foreign frame is told apart.
#include <vector>

#include <gtest/gtest.h>

#include "bench/pktgen/frame_gen.h"

namespace vsw::pktgen {
namespace {

FrameSpec spec(uint32_t size, uint32_t flows = 4) {
  return FrameSpec{MacAddress::from_u64(0x020000000001), MacAddress::from_u64(0x020000000002),
                   size, flows, false};
}

TEST(PktgenFrame, BuiltFramesParseWithTheirSequenceAndFlow) {
  for (uint32_t size : {60u, 64u, 1500u, 9000u}) {
    const FrameGen gen(spec(size));
    std::vector<std::byte> f(size);
    for (uint64_t seq : {0ull, 1ull, 255ull, 256ull, 123456789ull}) {
      gen.build(seq, f.data());
      const Parsed p = gen.parse(f);
      EXPECT_EQ(p.verdict, Verdict::Ok) << size << " " << seq;
      EXPECT_EQ(p.seq, seq);
      EXPECT_EQ(p.flow, seq % 4);
    }
  }
}

TEST(PktgenFrame, AnyFlippedByteIsCorruption) {
  const FrameGen gen(spec(128));
  std::vector<std::byte> f(128);
  gen.build(42, f.data());
  for (size_t i = kHeaderOffset; i < f.size(); ++i) {
    auto g = f;
    g[i] ^= std::byte{0x01};
    EXPECT_EQ(gen.parse(g).verdict, Verdict::Corrupt) << i;
  }
}

TEST(PktgenFrame, TruncatedFrameIsCorruption) {
  const FrameGen gen(spec(200));
  std::vector<std::byte> f(200);
  gen.build(7, f.data());
  f.resize(150);
  EXPECT_EQ(gen.parse(f).verdict, Verdict::Corrupt);
}

TEST(PktgenFrame, StalePayloadFromAnotherSequenceIsCorruption) {
  const FrameGen gen(spec(100));
  std::vector<std::byte> a(100), b(100);
  gen.build(1, a.data());
  gen.build(2, b.data());
  std::copy(b.begin() + kPayloadOffset, b.end(), a.begin() + kPayloadOffset);
  EXPECT_EQ(gen.parse(a).verdict, Verdict::Corrupt);
}

TEST(PktgenFrame, ForeignFramesAreOther) {
  const FrameGen gen(spec(64));
  std::vector<std::byte> f(64);
  FrameGen::announce(MacAddress::from_u64(0x020000000009), f.data());
  EXPECT_EQ(gen.parse(f).verdict, Verdict::Other);
  EXPECT_EQ(gen.parse(std::span<const std::byte>(f.data(), 20)).verdict, Verdict::Other);
}

TEST(PktgenFrame, FlowsVaryIpv4SourceAndUdpPort) {
  const FrameGen gen(spec(64, 3));
  std::vector<std::byte> f0(64), f1(64);
  gen.build(0, f0.data());
  gen.build(1, f1.data());
  EXPECT_NE(f0[29], f1[29]);  // IPv4 source, last byte
  EXPECT_NE(f0[35], f1[35]);  // UDP source port, low byte
  EXPECT_EQ(f0[12], std::byte{0x08});
}

}  // namespace
}  // namespace vsw::pktgen
