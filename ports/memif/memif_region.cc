// ports/memif/memif_region.cc — validating and mapping a client's region (memif.md §7, §10).
#include "ports/memif/memif_region.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <algorithm>
#include <utility>

namespace vsw::ports::memif {

namespace {
// The control thread only (regions are mapped and unmapped there).
MappedUsage g_usage;
MappedUsage g_limits{kDefaultTotalMappedBytes, kDefaultTotalMappedRegions};
}  // namespace

MappedUsage mapped_usage() noexcept { return g_usage; }
MappedUsage total_mapped_limits() noexcept { return g_limits; }
void set_total_mapped_limits(MappedUsage limits) noexcept { g_limits = limits; }

Result<Region> Region::map(UniqueFd fd, uint64_t size) {
  if (!fd) return make_error(Errc::InvalidArgument, "missing region fd");
  if (size == 0 || size > kMaxRegionBytes) {
    return make_error(Errc::InvalidArgument, "region size {} out of range", size);
  }
  const uint64_t room = g_limits.bytes - std::min(g_usage.bytes, g_limits.bytes);
  if (g_usage.regions >= g_limits.regions || size > room) {
    return make_error(Errc::ResourceExhausted,
                      "vsw maps too much client memory (total limit {} MiB in {} regions)",
                      g_limits.bytes >> 20, g_limits.regions);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(Errc::InvalidArgument, "region fd is not a memory file");
  }
  if (static_cast<uint64_t>(st.st_size) < size) {
    return make_error(Errc::InvalidArgument, "region file smaller than region size");
  }
  // memif.md §7: clients seal their memfd against shrinking; insist on it (or add the seal).
  const int seals = ::fcntl(fd.get(), F_GET_SEALS);
  if (seals < 0 ||
      ((seals & F_SEAL_SHRINK) == 0 && ::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK) != 0)) {
    return make_error(Errc::InvalidArgument, "region fd must be a memfd sealed against shrinking");
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) {
    return make_sys_error(Errc::Io, errno, "cannot map region");
  }
  g_usage.bytes += size;
  ++g_usage.regions;
  return Region(std::move(fd), static_cast<std::byte*>(p), size);
}

Region::~Region() { unmap(); }

Region::Region(Region&& o) noexcept
    : fd_(std::move(o.fd_)),
      base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

Region& Region::operator=(Region&& o) noexcept {
  if (this != &o) {
    unmap();
    fd_ = std::move(o.fd_);
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void Region::unmap() noexcept {
  if (base_ != nullptr) {
    ::munmap(base_, size_);
    g_usage.bytes -= size_;
    --g_usage.regions;
  }
  base_ = nullptr;
  size_ = 0;
}

}  // namespace vsw::ports::memif
