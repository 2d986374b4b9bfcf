// tests/models/toeplitz_test.cc — the Toeplitz hash against Microsoft's RSS verification table
// ("Verifying the RSS Hash Calculation", RSS documentation): the standard 40-byte key and five
// address/port tuples, IPv4-only and IPv4/TCP hashes. Input order: source address, destination
// address, source port, destination port (network byte order).
#include "tests/models/toeplitz.h"

#include <gtest/gtest.h>

namespace vsw::tests::models {
namespace {

struct Vector {
  uint8_t dst[4];
  uint16_t dst_port;
  uint8_t src[4];
  uint16_t src_port;
  uint32_t ipv4;
  uint32_t ipv4_tcp;
};

constexpr Vector kVectors[] = {
    {{161, 142, 100, 80}, 1766, {66, 9, 149, 187}, 2794, 0x323e8fc2, 0x51ccc178},
    {{65, 69, 140, 83}, 4739, {199, 92, 111, 2}, 14230, 0xd718262a, 0xc626b0ea},
    {{12, 22, 207, 184}, 38024, {24, 19, 198, 95}, 12898, 0xd2d0a5de, 0x5c2b394a},
    {{209, 142, 163, 6}, 2217, {38, 27, 205, 30}, 48228, 0x82989176, 0xafc7327f},
    {{202, 188, 127, 2}, 1303, {153, 39, 163, 191}, 44251, 0x5d1809c5, 0x10e828a2},
};

TEST(Toeplitz, MicrosoftVerificationVectors) {
  for (const Vector& v : kVectors) {
    const uint8_t in[12] = {v.src[0],
                            v.src[1],
                            v.src[2],
                            v.src[3],
                            v.dst[0],
                            v.dst[1],
                            v.dst[2],
                            v.dst[3],
                            static_cast<uint8_t>(v.src_port >> 8),
                            static_cast<uint8_t>(v.src_port),
                            static_cast<uint8_t>(v.dst_port >> 8),
                            static_cast<uint8_t>(v.dst_port)};
    EXPECT_EQ(toeplitz_hash(kMicrosoftRssKey, std::span<const uint8_t>(in, 8)), v.ipv4)
        << "IPv4 " << int(v.src[0]) << "." << int(v.src[1]) << "...";
    EXPECT_EQ(toeplitz_hash(kMicrosoftRssKey, std::span<const uint8_t>(in, 12)), v.ipv4_tcp)
        << "IPv4/TCP " << int(v.src[0]) << "." << int(v.src[1]) << "...";
  }
}

TEST(Toeplitz, EmptyInputHashesToZeroAndKeyMatters) {
  EXPECT_EQ(toeplitz_hash(kMicrosoftRssKey, {}), 0u);
  const uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  RssKey other = kMicrosoftRssKey;
  other[5] ^= 0x01;
  EXPECT_NE(toeplitz_hash(kMicrosoftRssKey, in), toeplitz_hash(other, in));
}

}  // namespace
}  // namespace vsw::tests::models
