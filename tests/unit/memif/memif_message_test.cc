// tests/unit/memif/memif_message_test.cc — memif control message codec (memif.md §5), including
// hostile field contents.
#include <cstring>

#include <gtest/gtest.h>

#include "ports/memif/memif_message.h"

namespace vsw::ports::memif {
namespace {

TEST(MemifMessage, HelloRoundTripsAtSpecOffsets) {
  HelloMsg h;
  h.name = "vsw";
  h.max_region = 255;
  h.max_c2s_ring = 3;
  h.max_s2c_ring = 2;
  h.max_log2_ring_size = 14;
  const MsgBuffer b = encode(h);
  EXPECT_EQ(msg_type(b), MsgType::Hello);
  EXPECT_EQ(static_cast<uint8_t>(b[0]), 2);
  EXPECT_EQ(std::memcmp(b.data() + 2, "vsw", 3), 0);
  EXPECT_EQ(static_cast<uint8_t>(b[34]), 0x00);  // min_version 0x0200, little-endian
  EXPECT_EQ(static_cast<uint8_t>(b[35]), 0x02);
  EXPECT_EQ(static_cast<uint8_t>(b[38]), 255);   // max_region
  EXPECT_EQ(static_cast<uint8_t>(b[40]), 2);     // max_s2c_ring
  EXPECT_EQ(static_cast<uint8_t>(b[42]), 3);     // max_c2s_ring
  EXPECT_EQ(static_cast<uint8_t>(b[44]), 14);
  const HelloMsg d = decode_hello(b);
  EXPECT_EQ(d.name, "vsw");
  EXPECT_EQ(d.max_c2s_ring, 3);
  EXPECT_EQ(d.max_s2c_ring, 2);
  EXPECT_EQ(d.max_log2_ring_size, 14);
  for (size_t i = 45; i < kMsgBytes; ++i) EXPECT_EQ(static_cast<uint8_t>(b[i]), 0) << i;
}

TEST(MemifMessage, InitRoundTrips) {
  InitMsg m;
  m.id = 0xDEADBEEF;
  m.secret = "s3cret";
  m.name = "testpmd";
  const MsgBuffer b = encode(m);
  EXPECT_EQ(msg_type(b), MsgType::Init);
  uint32_t id;
  std::memcpy(&id, b.data() + 4, 4);
  EXPECT_EQ(id, 0xDEADBEEF);
  const InitMsg d = decode_init(b);
  EXPECT_EQ(d.version, kVersion);
  EXPECT_EQ(d.id, 0xDEADBEEF);
  EXPECT_EQ(d.mode, 0);
  EXPECT_EQ(d.secret, "s3cret");
  EXPECT_EQ(d.name, "testpmd");
}

TEST(MemifMessage, AddRegionAndRingRoundTrip) {
  const MsgBuffer r = encode(AddRegionMsg{3, (uint64_t{5} << 32) | 7});
  const AddRegionMsg rd = decode_add_region(r);
  EXPECT_EQ(rd.index, 3);
  EXPECT_EQ(rd.size, (uint64_t{5} << 32) | 7);
  AddRingMsg ring;
  ring.flags = kAddRingFlagC2S;
  ring.index = 1;
  ring.region = 2;
  ring.offset = 0x12345678;
  ring.log2_ring_size = 10;
  const MsgBuffer b = encode(ring);
  EXPECT_EQ(static_cast<uint8_t>(b[12]), 10);
  const AddRingMsg d = decode_add_ring(b);
  EXPECT_EQ(d.type(), RingType::C2S);
  EXPECT_EQ(d.index, 1);
  EXPECT_EQ(d.region, 2);
  EXPECT_EQ(d.offset, 0x12345678u);
  EXPECT_EQ(d.private_hdr_size, 0);
  ring.flags = 0;
  EXPECT_EQ(decode_add_ring(encode(ring)).type(), RingType::S2C);
}

TEST(MemifMessage, ConnectAndDisconnect) {
  const MsgBuffer c = encode_connect(ConnectMsg{"net_memif0"});
  EXPECT_EQ(msg_type(c), MsgType::Connect);
  EXPECT_EQ(decode_connect(c).if_name, "net_memif0");
  EXPECT_EQ(msg_type(encode_connected(ConnectMsg{"app1"})), MsgType::Connected);
  const MsgBuffer d = encode(DisconnectMsg{7, "ID not found"});
  EXPECT_EQ(decode_disconnect(d).code, 7u);
  EXPECT_EQ(decode_disconnect(d).reason, "ID not found");
  EXPECT_EQ(msg_type(encode_ack()), MsgType::Ack);
}

TEST(MemifMessage, UnterminatedAndBinaryNamesAreSanitised) {
  MsgBuffer b{};
  const uint16_t t = static_cast<uint16_t>(MsgType::Connect);
  std::memcpy(b.data(), &t, 2);
  for (size_t i = 2; i < kMsgBytes; ++i) b[i] = std::byte{'A'};  // no NUL anywhere
  b[3] = std::byte{0x07};
  b[4] = std::byte{0xff};
  const ConnectMsg c = decode_connect(b);
  EXPECT_EQ(c.if_name.size(), kNameBytes);  // stops at the field width
  EXPECT_EQ(c.if_name[1], '?');
  EXPECT_EQ(c.if_name[2], '?');
}

TEST(MemifMessage, LongStringsAreTruncatedToTheField) {
  const std::string long_name(100, 'x');
  const MsgBuffer b = encode_connect(ConnectMsg{long_name});
  EXPECT_EQ(decode_connect(b).if_name, std::string(kNameBytes, 'x'));
  const MsgBuffer d = encode(DisconnectMsg{0, std::string(200, 'r')});
  EXPECT_EQ(decode_disconnect(d).reason.size(), kReasonBytes);
}

TEST(MemifMessage, UnknownTypeIsReportedAsIs) {
  MsgBuffer b{};
  b[0] = std::byte{0x99};
  EXPECT_EQ(static_cast<uint16_t>(msg_type(b)), 0x99);
  EXPECT_EQ(msg_type_name(msg_type(b)), "unknown");
}

TEST(MemifMessage, SecretComparison) {
  EXPECT_TRUE(secret_matches("abc", "abc"));
  EXPECT_FALSE(secret_matches("abc", "abd"));
  EXPECT_FALSE(secret_matches("ab", "abc"));
  EXPECT_FALSE(secret_matches("", "abc"));
  EXPECT_TRUE(secret_matches("", ""));
  InitMsg m;
  m.secret = std::string("a\x01z", 3);
  EXPECT_EQ(decode_init(encode(m)).secret, std::string("a\x01z", 3));  // raw, not sanitised
}

}  // namespace
}  // namespace vsw::ports::memif
