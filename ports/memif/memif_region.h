// ports/memif/memif_region.h — one client memory region mapped into vsw, with bounds checks.
//
// The client owns all shared memory (memif.md §1, §7) and hands it over as a file descriptor in
// ADD_REGION. Before vsw maps it, the descriptor must be a regular file of at least the announced
// size that can no longer shrink (F_SEAL_SHRINK, set by the client or added here): otherwise a
// client could truncate the file under vsw's mapping and make a worker's access fault (SIGBUS),
// which would crash the switch for everyone. Mapped read-write, shared, at most kMaxRegionBytes.
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

class Region {
 public:
  // Control thread. InvalidArgument with a user-readable reason (sent to the client in its
  // DISCONNECT) when the descriptor or size is not acceptable; Io when mmap fails.
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
