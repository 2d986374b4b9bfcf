// ports/memif/memif_region.cc — validating and mapping a client's region (memif.md §7, §10).
#include "ports/memif/memif_region.h"

#include <utility>

namespace vsw::ports::memif {

Result<Region> Region::map(UniqueFd fd, uint64_t size) {
  if (!fd) return make_error(Errc::InvalidArgument, "missing region fd");
  if (size == 0 || size > kMaxRegionBytes) {
    return make_error(Errc::InvalidArgument, "region size {} out of range", size);
  }
  auto m = shm::PeerMapping::map(std::move(fd), 0, size, shm::SealRule::Required);
  if (!m) return std::move(m).error();
  return Region(std::move(*m));
}

}  // namespace vsw::ports::memif
