// dataplane/offload/bytes.h — unaligned big-endian (network order) loads and stores on frame bytes.
// Frames sit at arbitrary offsets inside buffers, so every header field is read through memcpy,
// which compilers turn into a single (possibly unaligned) load plus a byte swap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vsw::offload {

inline uint16_t load_be16(const std::byte* p) noexcept {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap16(v);
}

inline uint32_t load_be32(const std::byte* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_bswap32(v);
}

inline void store_be16(std::byte* p, uint16_t v) noexcept {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof v);
}

inline void store_be32(std::byte* p, uint32_t v) noexcept {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof v);
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "load_be*/store_be* assume a little-endian host (x86-64, arm64)");

}  // namespace vsw::offload
