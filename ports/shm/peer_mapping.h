// ports/shm/peer_mapping.h — memory a peer shares with vsw by file descriptor, mapped with the
// checks every shared-memory port needs (memif regions, vhost-user guest memory):
//
//   * the descriptor is a regular file (a memfd, a hugetlbfs file) holding the whole range;
//   * it can no longer shrink: a file truncated under vsw's mapping makes the next worker access
//     fault (SIGBUS) and takes the switch down for everyone. A memfd must carry F_SEAL_SHRINK
//     (set by the peer, or added here when the peer allowed sealing). Files that cannot be
//     sealed at all (hugetlbfs, a hugetlb memfd created without MFD_ALLOW_SEALING, as DPDK and
//     QEMU's hugepage back-ends make them) are accepted only where the port type allows it
//     (SealRule::HugetlbExempt), because that is how every hugepage-backed front-end shares
//     memory — the one place a malicious front-end process could still hurt vsw; documented in
//     docs/ports/vhost-user.md;
//   * every mapping counts against one process-wide ceiling over all ports (bytes and number of
//     mappings), so peers flooding regions cannot exhaust vsw's address space or the kernel's
//     mapping count (vm.max_map_count, 65530 by default), after which any allocation fails.
//
// Threads: mapped and unmapped on the control thread; base()/size() read by workers through
// whatever the port publishes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "ports/shm/range.h"
#include "ports/shm/unique_fd.h"

namespace vsw::ports::shm {

// Defaults of the process-wide ceiling: 256 GiB is 64 clients of the largest default-buffer
// memif interface (about 4 GiB each) or 256 VMs of 1 GiB, and 0.2 % of the 128 TiB x86-64 user
// address space; 16384 mappings leave three quarters of vm.max_map_count.
constexpr uint64_t kDefaultTotalMappedBytes = uint64_t{256} << 30;
constexpr uint32_t kDefaultTotalMappedRegions = 16384;

struct MappedUsage {
  uint64_t bytes = 0;
  uint32_t regions = 0;
};
// Control thread: what every PeerMapping alive maps right now, and the process-wide ceiling.
MappedUsage mapped_usage() noexcept;
MappedUsage total_mapped_limits() noexcept;
void set_total_mapped_limits(MappedUsage limits) noexcept;

enum class SealRule : uint8_t {
  Required,       // the file must be (or become) sealed against shrinking
  HugetlbExempt,  // the same, except for hugetlbfs-backed files, which cannot be sealed
};

class PeerMapping {
 public:
  // Control thread. Maps bytes [offset, offset + size) of the peer's file read-write, shared.
  // InvalidArgument with a peer-readable reason when the descriptor, range or seals are not
  // acceptable; ResourceExhausted past total_mapped_limits(); Io when mmap fails.
  static Result<PeerMapping> map(UniqueFd fd, uint64_t offset, uint64_t size, SealRule rule);

  PeerMapping() = default;
  ~PeerMapping();
  PeerMapping(PeerMapping&& o) noexcept;
  PeerMapping& operator=(PeerMapping&& o) noexcept;
  PeerMapping(const PeerMapping&) = delete;
  PeerMapping& operator=(const PeerMapping&) = delete;

  // The first byte of the requested range and its length.
  std::byte* base() const noexcept { return base_; }
  uint64_t size() const noexcept { return size_; }
  bool contains(uint64_t offset, uint64_t len) const noexcept {
    return range_inside(offset, len, size_);
  }

 private:
  PeerMapping(UniqueFd fd, std::byte* map, uint64_t map_len, std::byte* base,
              uint64_t size) noexcept;
  void unmap() noexcept;

  UniqueFd fd_;
  std::byte* map_ = nullptr;  // what mmap returned (file offset 0)
  uint64_t map_len_ = 0;
  std::byte* base_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace vsw::ports::shm
