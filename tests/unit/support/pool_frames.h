// tests/unit/support/pool_frames.h — frames and pool buffers for the PCI drivers' unit tests
// (tests/unit/virtio/, tests/unit/intel/): an ordinary-memory mempool, a recognisable frame, a
// pool buffer holding given bytes, and the bytes of a (chained) Packet read back.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/mempool.h"

namespace vsw::test {

// 2048-byte buffers in ordinary memory (the fake devices map it like an IOMMU would).
inline std::unique_ptr<Mempool> make_pool(uint32_t buffers, const char* name) {
  Mempool::Config c;
  c.buffers = buffers;
  c.buffer_bytes = 2048;
  c.hugepages = false;
  auto p = Mempool::create(name, c);
  EXPECT_TRUE(p.has_value());
  return std::move(*p);
}

// `len` bytes from `seed`, a unicast destination first.
inline std::vector<uint8_t> make_frame(size_t len, uint8_t seed) {
  std::vector<uint8_t> f(len);
  for (size_t i = 0; i < len; ++i) f[i] = static_cast<uint8_t>(seed + i * 7);
  f[0] = 0x02;  // unicast destination
  return f;
}

// Every segment's bytes, in order.
inline std::vector<uint8_t> packet_bytes(const Packet* p) {
  std::vector<uint8_t> out;
  for (; p != nullptr; p = p->next) {
    const auto* d = reinterpret_cast<const uint8_t*>(p->data());
    out.insert(out.end(), d, d + p->len);
  }
  return out;
}

// A pool buffer holding `bytes` (one segment).
inline Packet* pool_packet(Mempool& pool, const std::vector<uint8_t>& bytes) {
  Packet* p = nullptr;
  EXPECT_EQ(pool.alloc(&p, 1), 1);
  std::memcpy(p->data(), bytes.data(), bytes.size());
  p->len = static_cast<uint16_t>(bytes.size());
  p->frame_len = p->len;
  return p;
}

}  // namespace vsw::test
