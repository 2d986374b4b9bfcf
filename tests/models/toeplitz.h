// tests/models/toeplitz.h — the Toeplitz hash RSS uses (Microsoft "RSS hashing functions";
// 82599 datasheet §7.1.2.8.1): for each input bit, most significant bit of input[0] first, XOR
// the 32 key bits that start at that bit's position into the result when the bit is 1.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace vsw::tests::models {

constexpr size_t kRssKeyBytes = 40;
using RssKey = std::array<uint8_t, kRssKeyBytes>;

// Hash of `input` (at most kRssKeyBytes - 4 = 36 bytes: the IPv6 4-tuple) under `key`.
uint32_t toeplitz_hash(const RssKey& key, std::span<const uint8_t> input) noexcept;

// The key Microsoft's verification table uses (and many drivers' default).
constexpr RssKey kMicrosoftRssKey = {0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
                                     0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
                                     0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
                                     0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

}  // namespace vsw::tests::models
