// bench/pktgen/frame_gen.h — the frames vsw-pktgen sends and how it checks what it receives.
//
// Frame layout (size = 60..9000 bytes, without FCS):
//
//   0        14          34       42                    58                         size
//   +--------+-----------+--------+---------------------+----------------------------+
//   | Ether  | IPv4 (20) | UDP(8) | PktgenHeader (16)   | pattern[(seq & 255) + i]    |
//   +--------+-----------+--------+---------------------+----------------------------+
//
// Flow f (0..flows-1) varies the IPv4 source address (10.0.0.1 + f), the UDP source port
// (1024 + f % 60000) and, with vary_mac, the low bytes of the source MAC. Every frame carries a
// 64-bit sequence number; its check word covers (seq, flow, size) and the payload is a fixed
// pattern shifted by the sequence number, so a receiver finds loss and reordering (sequence
// numbers), truncation (IP length vs frame length) and corruption (check word, pattern) with a
// header check and one memcmp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/ether.h"

namespace vsw::pktgen {

constexpr uint32_t kMinFrame = 60;
constexpr uint32_t kMaxFrame = 9000;
constexpr uint16_t kMagic = 0x5657;           // "VW"
constexpr uint16_t kAnnounceEtherType = 0x88B5;  // IEEE local experimental: MAC announcements
constexpr size_t kHeaderOffset = 42;           // Ethernet + IPv4 + UDP

#pragma pack(push, 1)
struct PktgenHeader {
  uint16_t magic;
  uint16_t flow;
  uint32_t check;
  uint64_t seq;
};
#pragma pack(pop)
static_assert(sizeof(PktgenHeader) == 16);
constexpr size_t kPayloadOffset = kHeaderOffset + sizeof(PktgenHeader);
static_assert(kPayloadOffset <= kMinFrame);

struct FrameSpec {
  MacAddress src;
  MacAddress dst;
  uint32_t size = 60;
  uint32_t flows = 1;
  bool vary_mac = false;
};

enum class Verdict : uint8_t { Ok, Other, Corrupt };

struct Parsed {
  Verdict verdict = Verdict::Other;
  uint64_t seq = 0;
  uint16_t flow = 0;
};

class FrameGen {
 public:
  explicit FrameGen(const FrameSpec& spec);

  uint32_t size() const noexcept { return spec_.size; }
  // Writes the frame with sequence number `seq` (flow seq % flows) into `out` (size() bytes).
  void build(uint64_t seq, std::byte* out) const noexcept;
  // Checks a received frame (contiguous bytes).
  Parsed parse(std::span<const std::byte> frame) const noexcept;
  // A 60-byte broadcast frame from `mac`, so that a learning switch knows where `mac` lives.
  static void announce(MacAddress mac, std::byte* out) noexcept;

 private:
  uint32_t check_word(uint64_t seq, uint16_t flow, uint32_t size) const noexcept;

  FrameSpec spec_;
  std::vector<std::byte> templates_;  // one 42-byte header block per flow
  std::vector<std::byte> pattern_;    // kMaxFrame + 256 bytes
};

}  // namespace vsw::pktgen
