// ports/vhost_user/guest_memory.h — a front-end's memory table as the fast path sees it, and
// the two address translations vhost-user needs (vhost-user.md §6):
//   * descriptor addresses are guest-physical (GPA) -> translate();
//   * ring addresses from SET_VRING_ADDR are the front-end's own virtual addresses (QEMU's VA,
//     "user address") -> translate_user().
// A buffer must lie entirely inside one region (64-bit checks, no wrap-around); a buffer that
// straddles two regions is refused (nullptr), as is anything outside every region.
//
// GuestMemory holds views only (no mapping is owned here): the port's Device owns the mappings
// (guest_mapping.h) and publishes the table with them; it never changes while published.
// Threads: built on the control thread; translate*() from any worker, lock-free.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "ports/shm/range.h"

namespace vsw::ports::vhost_user {

// vhost-user.md §6: QEMU sends at most 8 regions in SET_MEM_TABLE (VHOST_MEMORY_MAX_NREGIONS).
constexpr uint32_t kMaxMemRegions = 8;

struct GuestRegion {
  uint64_t gpa = 0;         // guest_phys_addr
  uint64_t size = 0;        // memory_size
  uint64_t user = 0;        // userspace_addr (front-end VA)
  std::byte* host = nullptr;  // where the region's first byte is mapped in vsw
};

class GuestMemory {
 public:
  GuestMemory() = default;
  // Control thread. Regions are used as given (the caller validated them: non-zero sizes, no
  // overlap in GPA space, no u64 wrap-around of gpa + size or user + size).
  GuestMemory(const GuestRegion* regions, uint32_t n) noexcept : count_(n > kMaxMemRegions ? kMaxMemRegions : n) {
    for (uint32_t i = 0; i < count_; ++i) regions_[i] = regions[i];
  }

  // Any thread. Host address of guest-physical [gpa, gpa + len) when it lies inside one region,
  // nullptr otherwise. len 0 is inside a region when gpa is (or is its end).
  std::byte* translate(uint64_t gpa, uint64_t len) const noexcept {
    for (uint32_t i = 0; i < count_; ++i) {
      const GuestRegion& r = regions_[i];
      // Unsigned wrap makes gpa < r.gpa a huge offset, which range_inside refuses.
      if (shm::range_inside(gpa - r.gpa, len, r.size) && gpa >= r.gpa) {
        return r.host + (gpa - r.gpa);
      }
    }
    return nullptr;
  }

  // Any thread. The same for a front-end virtual address (ring addresses).
  std::byte* translate_user(uint64_t uva, uint64_t len) const noexcept {
    for (uint32_t i = 0; i < count_; ++i) {
      const GuestRegion& r = regions_[i];
      if (uva >= r.user && shm::range_inside(uva - r.user, len, r.size)) {
        return r.host + (uva - r.user);
      }
    }
    return nullptr;
  }

  uint32_t size() const noexcept { return count_; }
  const GuestRegion& region(uint32_t i) const noexcept { return regions_[i]; }

 private:
  std::array<GuestRegion, kMaxMemRegions> regions_{};
  uint32_t count_ = 0;
};

}  // namespace vsw::ports::vhost_user
