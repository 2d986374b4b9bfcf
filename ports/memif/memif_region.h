// ports/memif/memif_region.h — one client memory region mapped into vsw, with bounds checks.
//
// The client owns all shared memory (memif.md §1, §7) and hands it over as a file descriptor in
// ADD_REGION. Before vsw maps it, the descriptor must be a regular file of at least the announced
// size that can no longer shrink (F_SEAL_SHRINK, set by the client or added here): otherwise a
// client could truncate the file under vsw's mapping and make a worker's access fault (SIGBUS),
// which would crash the switch for everyone. Mapped read-write, shared, at most kMaxRegionBytes.
//
// Address space: every mapped region counts against a process-wide ceiling over all sessions of
// all sockets (default kDefaultTotalMappedBytes in at most kDefaultTotalMappedRegions mappings),
// so hostile clients cannot exhaust vsw's address space or its kernel mapping count
// (vm.max_map_count, 65530 by default), after which any allocation of the daemon fails. Each
// client also has its own ceiling, enforced by its Session (memif_session.h).
//
// Threads: created and destroyed on the control thread; base()/size()/contains() are read by
// workers through the published Connection.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "ports/memif/unique_fd.h"

namespace vsw::ports::memif {

constexpr uint64_t kMaxRegionBytes = uint64_t{64} << 30;
// Defaults of the process-wide ceiling: 256 GiB is 64 clients of the largest default-buffer
// interface (64 rings each way, 16384 slots, 2 KiB buffers: about 4 GiB each) and 0.2 % of the
// 128 TiB x86-64 user address space; 16384 mappings leave three quarters of vm.max_map_count.
constexpr uint64_t kDefaultTotalMappedBytes = uint64_t{256} << 30;
constexpr uint32_t kDefaultTotalMappedRegions = 16384;

struct MappedUsage {
  uint64_t bytes = 0;
  uint32_t regions = 0;
};
// Control thread: what every Region alive maps right now, and the process-wide ceiling.
MappedUsage mapped_usage() noexcept;
MappedUsage total_mapped_limits() noexcept;
void set_total_mapped_limits(MappedUsage limits) noexcept;

class Region {
 public:
  // Control thread. InvalidArgument with a user-readable reason (sent to the client in its
  // DISCONNECT) when the descriptor or size is not acceptable; ResourceExhausted when the region
  // would take the process past total_mapped_limits(); Io when mmap fails (e.g. ENOMEM).
  static Result<Region> map(UniqueFd fd, uint64_t size);

  Region() = default;
  ~Region();
  Region(Region&& o) noexcept;
  Region& operator=(Region&& o) noexcept;
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  std::byte* base() const noexcept { return base_; }
  uint64_t size() const noexcept { return size_; }
  // True when [offset, offset + len) lies inside the region (computed without overflow).
  bool contains(uint64_t offset, uint64_t len) const noexcept {
    return offset <= size_ && len <= size_ - offset;
  }

 private:
  Region(UniqueFd fd, std::byte* base, uint64_t size) noexcept
      : fd_(std::move(fd)), base_(base), size_(size) {}
  void unmap() noexcept;

  UniqueFd fd_;
  std::byte* base_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace vsw::ports::memif
