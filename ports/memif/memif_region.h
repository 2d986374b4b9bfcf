// ports/memif/memif_region.h — one client memory region mapped into vsw, with bounds checks.
//
// The client owns all shared memory (memif.md §1, §7) and hands it over as a file descriptor in
// ADD_REGION. The checks and the process-wide ceiling on mapped memory are those of every
// shared-memory port (ports/shm/peer_mapping.h): a regular file of at least the announced size,
// sealed against shrinking (memif.md §7: clients seal their memfd; the seal is added here when
// the client allowed sealing but did not seal). memif adds its own size limit, kMaxRegionBytes,
// and each client has its own ceiling, enforced by its Session (memif_session.h).
//
// Threads: created and destroyed on the control thread; base()/size()/contains() are read by
// workers through the published Connection.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.h"
#include "ports/shm/peer_mapping.h"
#include "ports/shm/unique_fd.h"

namespace vsw::ports::memif {

constexpr uint64_t kMaxRegionBytes = uint64_t{64} << 30;

using shm::MappedUsage;
using shm::mapped_usage;
using shm::set_total_mapped_limits;
using shm::total_mapped_limits;

class Region {
 public:
  // Control thread. InvalidArgument with a user-readable reason (sent to the client in its
  // DISCONNECT) when the descriptor or size is not acceptable; ResourceExhausted when the region
  // would take the process past total_mapped_limits(); Io when mmap fails (e.g. ENOMEM).
  static Result<Region> map(UniqueFd fd, uint64_t size);

  Region() = default;

  std::byte* base() const noexcept { return mapping_.base(); }
  uint64_t size() const noexcept { return mapping_.size(); }
  // True when [offset, offset + len) lies inside the region (computed without overflow).
  bool contains(uint64_t offset, uint64_t len) const noexcept {
    return mapping_.contains(offset, len);
  }

 private:
  explicit Region(shm::PeerMapping m) noexcept : mapping_(std::move(m)) {}
  shm::PeerMapping mapping_;
};

}  // namespace vsw::ports::memif
