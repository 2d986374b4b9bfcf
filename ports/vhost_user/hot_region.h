// ports/vhost_user/hot_region.h — the guest memory region the previous buffer was found in, kept
// by a fast loop in locals so that the common case (a guest's buffers all in one region) costs
// one subtraction and two compares instead of a walk over the region table.
//
// The check is GuestMemory::translate's: [addr, addr + len) inside one region, computed without
// overflow (a region never wraps around 2^64: the session refuses such tables, guest_memory.h).
// A miss looks the address up in the whole table and, when found, makes that region hot.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ports/vhost_user/guest_memory.h"

namespace vsw::ports::vhost_user {

struct HotRegion {
  // Not in the table's order: a fast loop holds gpa and size in two general registers, and
  // adjacent fields invite the compiler to pack them into one vector register instead.
  uint64_t gpa = 0;
  std::byte* host = nullptr;
  uint64_t size = 0;  // 0: nothing cached (only a zero-length buffer at 0 would match, and
                      // nullptr + 0 is then returned: a miss for the caller)

  // Host address of [addr, addr + len), or nullptr. Inline, on a copy held in locals: the
  // lookup on a miss returns the new region by value, so the copy never has its address taken
  // (stores into Packet headers or guest memory would otherwise force it to be reloaded).
  std::byte* translate(const GuestMemory& mem, uint64_t addr, uint64_t len) noexcept {
    uint64_t off = addr - gpa;  // huge when addr < gpa
    if (off <= size && len <= size - off) [[likely]] return host + off;
    const HotRegion r = find(mem, addr, len);
    if (r.host == nullptr) return nullptr;
    *this = r;
    off = addr - gpa;
    return host + off;
  }

  // The region holding all of [addr, addr + len), or an empty one.
  [[gnu::noinline]] static HotRegion find(const GuestMemory& mem, uint64_t addr,
                                          uint64_t len) noexcept {
    for (uint32_t i = 0; i < mem.size(); ++i) {
      const GuestRegion& r = mem.region(i);
      const uint64_t off = addr - r.gpa;
      if (addr >= r.gpa && off <= r.size && len <= r.size - off) {
        return HotRegion{r.gpa, r.host, r.size};
      }
    }
    return HotRegion{};
  }
};

}  // namespace vsw::ports::vhost_user
