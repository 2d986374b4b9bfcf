// tests/unit/ports/vnet_metadata_test.cc — the virtio-net header from a peer checked and turned
// into Packet offload metadata, and back (ports/vnet/vnet_metadata.h).
#include "ports/vnet/vnet_metadata.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "tests/unit/dataplane/offload/test_ip_frames.h"

namespace vsw::ports::vnet {
namespace {

class VnetMetadataTest : public ::testing::Test {
 protected:
  Packet& frame(const test::Bytes& b) {
    bytes_ = b;
    pkt_ = std::make_unique<Packet>();
    pkt_->base = reinterpret_cast<std::byte*>(bytes_.data());
    pkt_->len = static_cast<uint16_t>(bytes_.size());
    pkt_->frame_len = static_cast<uint32_t>(bytes_.size());
    return *pkt_;
  }
  test::Bytes bytes_;
  std::unique_ptr<Packet> pkt_;
};

TEST_F(VnetMetadataTest, TcpSuperFrameWithPartialChecksum) {
  const test::BuiltFrame f = test::build_frame({.tcp_option_bytes = 12, .payload = 30000});
  Packet& p = frame(f.bytes);
  VirtioNetHdr h{kVnetFlagNeedsCsum, kVnetGsoTcpv4 | kVnetGsoEcn, 9999 /* ignored */, 1448,
                 static_cast<uint16_t>(f.l4), 16};
  ASSERT_EQ(import_vnet(h, p), ImportStatus::Ok);
  EXPECT_EQ(p.gso_type, GsoType::Tcpv4);
  EXPECT_EQ(p.gso_size, 1448);
  EXPECT_EQ(p.hdr_len, f.hdr_len()) << "parsed from the frame, not the peer's hint";
  EXPECT_TRUE(p.needs_csum());
  EXPECT_NE(p.flags & kPacketGsoEcn, 0);
  EXPECT_EQ(p.csum_start, f.l4);
  EXPECT_EQ(p.csum_offset, 16);
  const VirtioNetHdr back = export_vnet(p);
  EXPECT_EQ(back.flags, kVnetFlagNeedsCsum);
  EXPECT_EQ(back.gso_type, kVnetGsoTcpv4 | kVnetGsoEcn);
  EXPECT_EQ(back.gso_size, 1448);
  EXPECT_EQ(back.hdr_len, f.hdr_len());
  EXPECT_EQ(back.csum_start, f.l4);
  EXPECT_EQ(back.csum_offset, 16);
}

TEST_F(VnetMetadataTest, OrdinaryFramesAndVerifiedChecksums) {
  const test::BuiltFrame f = test::build_frame({.l4 = 17, .payload = 100});
  Packet& p = frame(f.bytes);
  ASSERT_EQ(import_vnet(VirtioNetHdr{}, p), ImportStatus::Ok);
  EXPECT_FALSE(p.has_offload());
  const VirtioNetHdr zero = export_vnet(p);
  const VirtioNetHdr none{};
  EXPECT_EQ(std::memcmp(&zero, &none, sizeof zero), 0) << "all zero: nothing to do";
  ASSERT_EQ(import_vnet(VirtioNetHdr{kVnetFlagDataValid, 0, 0, 0, 0, 0}, p), ImportStatus::Ok);
  EXPECT_FALSE(p.has_offload());
  EXPECT_EQ(export_vnet(p).flags, kVnetFlagDataValid);
}

TEST_F(VnetMetadataTest, InconsistentHeadersAreRefused) {
  const test::BuiltFrame v4 = test::build_frame({.payload = 3000});
  // Checksum field beyond the frame.
  Packet& p = frame(v4.bytes);
  EXPECT_EQ(import_vnet(VirtioNetHdr{kVnetFlagNeedsCsum, 0, 0, 0,
                                     static_cast<uint16_t>(v4.bytes.size() - 1), 0}, p),
            ImportStatus::Invalid);
  EXPECT_FALSE(p.has_offload()) << "left cleared";
  EXPECT_EQ(import_vnet(VirtioNetHdr{kVnetFlagNeedsCsum, 0, 0, 0, 34, 0xFFFF}, p),
            ImportStatus::Invalid);
  // GSO type contradicting the headers, and gso_size 0.
  EXPECT_EQ(import_vnet(VirtioNetHdr{0, kVnetGsoTcpv6, 0, 1448, 0, 0}, p), ImportStatus::Invalid);
  EXPECT_EQ(import_vnet(VirtioNetHdr{0, kVnetGsoUdpL4, 0, 1448, 0, 0}, p), ImportStatus::Invalid);
  EXPECT_EQ(import_vnet(VirtioNetHdr{0, kVnetGsoTcpv4, 0, 0, 0, 0}, p), ImportStatus::Invalid);
  // UFO and unknown types: vsw cannot segment them.
  EXPECT_EQ(import_vnet(VirtioNetHdr{0, kVnetGsoUdp, 0, 1448, 0, 0}, p), ImportStatus::Unsupported);
  EXPECT_EQ(import_vnet(VirtioNetHdr{0, 9, 0, 1448, 0, 0}, p), ImportStatus::Unsupported);
  // A super-frame whose headers are not in the first segment.
  Packet& q = frame(v4.bytes);
  q.len = 40;
  EXPECT_EQ(import_vnet(VirtioNetHdr{0, kVnetGsoTcpv4, 0, 1448, 0, 0}, q), ImportStatus::Invalid);
}

}  // namespace
}  // namespace vsw::ports::vnet
