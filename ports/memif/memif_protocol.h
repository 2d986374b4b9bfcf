// ports/memif/memif_protocol.h — memif protocol v2 constants and wire/shared-memory layouts.
//
// This header is shared by the server side (ports/memif/memif_port.*) and the client library
// (ports/memif/client/). It only describes bytes; nothing here touches a socket or a mapping.
// Facts are restated from the fact sheet shared/specs/memif.md (protocol v2, as spoken by DPDK
// 22.11 net_memif and VPP/libmemif); section numbers below refer to it.
//
// Shared memory, copy-mode layout as created by a client (memif.md §7):
//
//   region 0
//   +----------------+-----+----------------+----------------+-----+----------------------------+
//   | C2S ring 0     | ... | C2S ring n-1   | S2C ring 0     | ... | buffers (bsize each)        |
//   | hdr 128 B +    |     |                |                |     | ring r slot j at            |
//   | 16 B * 2^log2  |     |                |                |     | (r * 2^log2 + j) * bsize    |
//   +----------------+-----+----------------+----------------+-----+----------------------------+
//
// A server must never assume this layout: rings are found through ADD_RING (region, offset) and
// buffers through each descriptor's (region, offset), which zero-copy clients point anywhere.
//
// Ring header (memif.md §7, 64-byte cache lines):
//
//   0      4      6      8                        64     66                        128
//   +------+------+------+-------- pad ----------+------+-------- pad ------------+-- desc[] --
//   |cookie|flags | head |                       | tail |                          | 16 B each
//   +------+------+------+-----------------------+------+--------------------------+-----------
//   head: written by the client only; tail: written by the server only (both ring types).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace vsw::ports::memif {

static_assert(std::endian::native == std::endian::little, "memif fields are little-endian");

// --- constants (memif.md §3) ------------------------------------------------------------------
constexpr uint32_t kCookie = 0x3E31F20;
constexpr uint16_t kVersion = 0x0200;  // major 2 << 8 | minor 0
constexpr size_t kMsgBytes = 128;
constexpr size_t kNameBytes = 32;
constexpr size_t kSecretBytes = 24;
constexpr size_t kReasonBytes = 96;
constexpr uint8_t kMaxLog2RingSize = 14;
constexpr uint32_t kMaxRegions = 256;
constexpr uint32_t kMaxRingsPerDirection = 256;
constexpr uint32_t kDefaultBufferBytes = 2048;
constexpr uint8_t kDefaultLog2RingSize = 10;
constexpr uint8_t kModeEthernet = 0;
constexpr uint16_t kAddRingFlagC2S = 1 << 0;  // ADD_RING.flags bit 0: client -> server ring
constexpr uint16_t kDescFlagNext = 1 << 0;    // desc.flags bit 0: frame continues in next slot
constexpr uint16_t kRingFlagMaskInt = 1 << 0;  // ring.flags bit 0: consumer polls, no eventfd

enum class RingType : uint8_t { C2S = 0, S2C = 1 };

// --- message types (memif.md §4) ------------------------------------------------------------
enum class MsgType : uint16_t {
  None = 0,
  Ack = 1,
  Hello = 2,
  Init = 3,
  AddRegion = 4,
  AddRing = 5,
  Connect = 6,
  Connected = 7,
  Disconnect = 8,
};

// --- message layouts (memif.md §5): packed, little-endian, 128 bytes each ----------------------
// Every message is a 2-byte type followed by its body; unused bytes are zero. These structs are
// copied to and from the 128-byte buffer with memcpy, never overlaid on a received buffer.
#pragma pack(push, 1)
struct WireHello {
  uint16_t type;
  char name[kNameBytes];
  uint16_t min_version;
  uint16_t max_version;
  uint16_t max_region;        // highest region index accepted
  uint16_t max_s2c_ring;      // highest S2C (M2S) ring index accepted
  uint16_t max_c2s_ring;      // highest C2S (S2M) ring index accepted
  uint8_t max_log2_ring_size;
};
struct WireInit {
  uint16_t type;
  uint16_t version;
  uint32_t id;
  uint8_t mode;
  char secret[kSecretBytes];
  char name[kNameBytes];
};
struct WireAddRegion {
  uint16_t type;
  uint16_t index;
  uint64_t size;
};
struct WireAddRing {
  uint16_t type;
  uint16_t flags;
  uint16_t index;
  uint16_t region;
  uint32_t offset;
  uint8_t log2_ring_size;
  uint16_t private_hdr_size;
};
struct WireConnect {  // also CONNECTED
  uint16_t type;
  char if_name[kNameBytes];
};
struct WireDisconnect {
  uint16_t type;
  uint32_t code;
  char reason[kReasonBytes];
};
#pragma pack(pop)

// memif.md §5 offsets.
static_assert(offsetof(WireHello, name) == 2 && offsetof(WireHello, min_version) == 34 &&
              offsetof(WireHello, max_version) == 36 && offsetof(WireHello, max_region) == 38 &&
              offsetof(WireHello, max_s2c_ring) == 40 && offsetof(WireHello, max_c2s_ring) == 42 &&
              offsetof(WireHello, max_log2_ring_size) == 44 && sizeof(WireHello) == 45);
static_assert(offsetof(WireInit, version) == 2 && offsetof(WireInit, id) == 4 &&
              offsetof(WireInit, mode) == 8 && offsetof(WireInit, secret) == 9 &&
              offsetof(WireInit, name) == 33 && sizeof(WireInit) == 65);
static_assert(offsetof(WireAddRegion, index) == 2 && offsetof(WireAddRegion, size) == 4 &&
              sizeof(WireAddRegion) == 12);
static_assert(offsetof(WireAddRing, flags) == 2 && offsetof(WireAddRing, index) == 4 &&
              offsetof(WireAddRing, region) == 6 && offsetof(WireAddRing, offset) == 8 &&
              offsetof(WireAddRing, log2_ring_size) == 12 &&
              offsetof(WireAddRing, private_hdr_size) == 13 && sizeof(WireAddRing) == 15);
static_assert(offsetof(WireConnect, if_name) == 2 && sizeof(WireConnect) == 34);
static_assert(offsetof(WireDisconnect, code) == 2 && offsetof(WireDisconnect, reason) == 6 &&
              sizeof(WireDisconnect) == 102);

// --- shared memory: ring header and descriptor (memif.md §7) ----------------------------------
// Overlaid on mapped client memory. head, tail and flags are accessed atomically because the
// other process writes them concurrently; descriptors are read once into a local copy (see
// load_desc) so a peer changing them concurrently cannot make vsw use an unchecked value.
struct RingHeader {
  uint32_t cookie;               // kCookie, written by the client at init
  std::atomic<uint16_t> flags;   // kRingFlagMaskInt, written by the ring's consumer
  std::atomic<uint16_t> head;    // written by the client only
  uint8_t pad0[56];
  std::atomic<uint16_t> tail;    // written by the server only
  uint8_t pad1[62];
};
static_assert(std::atomic<uint16_t>::is_always_lock_free, "shared-memory indices need lock-free");
static_assert(sizeof(std::atomic<uint16_t>) == 2);
static_assert(offsetof(RingHeader, cookie) == 0 && offsetof(RingHeader, flags) == 4 &&
              offsetof(RingHeader, head) == 6 && offsetof(RingHeader, tail) == 64 &&
              sizeof(RingHeader) == 128);

struct Desc {
  uint16_t flags;     // kDescFlagNext
  uint16_t region;    // region index of the buffer
  uint32_t length;    // bytes of data (producer); buffer capacity (on S2C refill, by the client)
  uint32_t offset;    // buffer offset from the region start
  uint32_t metadata;  // unused in ethernet mode
};
static_assert(offsetof(Desc, flags) == 0 && offsetof(Desc, region) == 2 &&
              offsetof(Desc, length) == 4 && offsetof(Desc, offset) == 8 &&
              offsetof(Desc, metadata) == 12 && sizeof(Desc) == 16);

// Bytes one ring occupies in its region: header plus 2^log2 descriptors (memif.md §7).
constexpr uint64_t ring_bytes(uint8_t log2_size) noexcept {
  return sizeof(RingHeader) + sizeof(Desc) * (uint64_t{1} << log2_size);
}

// Reads a descriptor exactly once (two relaxed 8-byte loads), so every later check and use sees
// the same values even while the peer rewrites the slot (memif.md §10: no TOCTOU).
// Requires 8-byte alignment, which ADD_RING validation guarantees (ring offset % 8 == 0).
inline Desc load_desc(const Desc* d) noexcept {
  const auto* w = reinterpret_cast<const uint64_t*>(d);
  const uint64_t lo = __atomic_load_n(&w[0], __ATOMIC_RELAXED);
  const uint64_t hi = __atomic_load_n(&w[1], __ATOMIC_RELAXED);
  Desc out;
  out.flags = static_cast<uint16_t>(lo);
  out.region = static_cast<uint16_t>(lo >> 16);
  out.length = static_cast<uint32_t>(lo >> 32);
  out.offset = static_cast<uint32_t>(hi);
  out.metadata = static_cast<uint32_t>(hi >> 32);
  return out;
}

}  // namespace vsw::ports::memif
