// common/ether.h — Ethernet addresses and header layouts (IEEE 802.3 §3.1.1).
// MacAddress packs the 48-bit address into the low bits of a uint64_t so the FDB can store
// address and port in one atomic word (dataplane/fdb.h).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace vsw {

class MacAddress {
 public:
  constexpr MacAddress() = default;
  // Bytes in wire order: b[0] is the first octet on the wire.
  static MacAddress from_bytes(const void* wire) noexcept {
    uint64_t v = 0;
    std::memcpy(&v, wire, 6);                   // little-endian host: byte 0 in the low bits
    return MacAddress(__builtin_bswap64(v) >> 16);
  }
  static constexpr MacAddress from_u64(uint64_t v) noexcept { return MacAddress(v & kMask); }
  // Parses "aa:bb:cc:dd:ee:ff" (also '-' separated); nullopt on any other text.
  static std::optional<MacAddress> parse(std::string_view text);

  constexpr uint64_t u64() const noexcept { return v_; }
  void to_bytes(void* wire) const noexcept {
    auto* b = static_cast<uint8_t*>(wire);
    for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(v_ >> (8 * (5 - i)));
  }
  // I/G bit: the least significant bit of the first octet (IEEE 802 §8.2).
  constexpr bool is_multicast() const noexcept { return (v_ >> 40) & 1; }
  constexpr bool is_broadcast() const noexcept { return v_ == kMask; }
  constexpr bool is_zero() const noexcept { return v_ == 0; }
  std::string to_string() const;

  constexpr bool operator==(const MacAddress&) const = default;

 private:
  static constexpr uint64_t kMask = 0xFFFF'FFFF'FFFFull;
  constexpr explicit MacAddress(uint64_t v) : v_(v) {}
  uint64_t v_ = 0;
};

// Wire layout of the Ethernet II header.
struct EtherHeader {
  uint8_t dst[6];
  uint8_t src[6];
  uint16_t ether_type;  // network byte order
};
static_assert(sizeof(EtherHeader) == 14);

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint32_t kEtherHeaderBytes = 14;
constexpr uint32_t kVlanTagBytes = 4;
constexpr uint32_t kEtherMinFrameBytes = 60;  // without FCS

}  // namespace vsw
