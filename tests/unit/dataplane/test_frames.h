// tests/unit/dataplane/test_frames.h — building and checking Ethernet frames in unit tests.
#pragma once

#include <cstring>
#include <string>

#include "common/ether.h"
#include "dataplane/mempool.h"

namespace vsw::test {

inline MacAddress mac(uint64_t v) { return MacAddress::from_u64(0x020000000000ull | v); }

// A frame dst <- src with `len` bytes; bytes after the header carry `seq` then a pattern.
inline Packet* make_frame(Mempool& pool, MacAddress dst, MacAddress src, uint32_t seq,
                          uint16_t len = 64) {
  Packet* p = nullptr;
  if (pool.alloc(&p, 1) != 1) return nullptr;
  std::byte* d = p->data();
  dst.to_bytes(d);
  src.to_bytes(d + 6);
  d[12] = std::byte{0x08};
  d[13] = std::byte{0x00};
  std::memcpy(d + 14, &seq, sizeof(seq));
  for (uint16_t i = 18; i < len; ++i) d[i] = static_cast<std::byte>((seq + i) & 0xff);
  p->len = len;
  p->frame_len = len;
  return p;
}

inline uint32_t frame_seq(const Packet* p) {
  uint32_t seq = 0;
  std::memcpy(&seq, p->data() + 14, sizeof(seq));
  return seq;
}

inline bool frame_intact(const Packet* p) {
  const uint32_t seq = frame_seq(p);
  for (uint16_t i = 18; i < p->len; ++i) {
    if (p->data()[i] != static_cast<std::byte>((seq + i) & 0xff)) return false;
  }
  return true;
}

inline MacAddress frame_src(const Packet* p) { return MacAddress::from_bytes(p->data() + 6); }

}  // namespace vsw::test
