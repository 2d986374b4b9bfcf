// ports/shm/frame_copy.h — the one copy of a frame into a peer's buffer, as the fast loops of
// the shared-memory ports do it (memif tx, vhost-user guest rx): 16..64 bytes (small frames,
// where the per-frame cost shows) as two or four overlapping 16-byte moves without a call;
// anything else memcpy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vsw::ports::shm {

inline void copy_frame_bytes(std::byte* dst, const std::byte* src, uint32_t len) noexcept {
  if (len - 16 <= 64 - 16) {
    __builtin_memcpy(dst, src, 16);
    __builtin_memcpy(dst + len - 16, src + len - 16, 16);
    if (len > 32) {
      __builtin_memcpy(dst + 16, src + 16, 16);
      __builtin_memcpy(dst + len - 32, src + len - 32, 16);
    }
    return;
  }
  std::memcpy(dst, src, len);
}

}  // namespace vsw::ports::shm
