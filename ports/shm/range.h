// ports/shm/range.h — the one bounds check for memory a peer shares with vsw (memif regions,
// vhost-user guest memory): does [offset, offset + len) lie inside an area of `size` bytes?
// Computed without overflow, for any 64-bit values a peer may send.
#pragma once

#include <cstdint>

namespace vsw::ports::shm {

constexpr bool range_inside(uint64_t offset, uint64_t len, uint64_t size) noexcept {
  return offset <= size && len <= size - offset;
}

}  // namespace vsw::ports::shm
