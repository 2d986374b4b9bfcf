// ports/shm/peer_mapping.cc — validating and mapping a peer's memory file.
#include "ports/shm/peer_mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <algorithm>
#include <utility>

namespace vsw::ports::shm {

namespace {
// The control thread only (mappings are made and dropped there).
MappedUsage g_usage;
MappedUsage g_limits{kDefaultTotalMappedBytes, kDefaultTotalMappedRegions};

constexpr long kHugetlbfsMagic = 0x958458f6;  // linux/magic.h HUGETLBFS_MAGIC

bool on_hugetlbfs(int fd) noexcept {
  struct statfs fs{};
  return ::fstatfs(fd, &fs) == 0 && fs.f_type == kHugetlbfsMagic;
}

// F_SEAL_SHRINK present, or added now.
bool sealed_against_shrink(int fd) noexcept {
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) return false;
  return (seals & F_SEAL_SHRINK) != 0 || ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) == 0;
}
}  // namespace

MappedUsage mapped_usage() noexcept { return g_usage; }
MappedUsage total_mapped_limits() noexcept { return g_limits; }
void set_total_mapped_limits(MappedUsage limits) noexcept { g_limits = limits; }

Result<PeerMapping> PeerMapping::map(UniqueFd fd, uint64_t offset, uint64_t size,
                                     SealRule rule) {
  if (!fd) return make_error(Errc::InvalidArgument, "missing memory fd");
  if (size == 0) return make_error(Errc::InvalidArgument, "memory size 0");
  if (offset > UINT64_MAX - size) {
    return make_error(Errc::InvalidArgument, "memory offset {} + size {} overflows", offset, size);
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(Errc::InvalidArgument, "memory fd is not a memory file");
  }
  if (static_cast<uint64_t>(st.st_size) < offset + size) {
    return make_error(Errc::InvalidArgument, "memory file smaller than the region ({} < {} bytes)",
                      static_cast<uint64_t>(st.st_size), offset + size);
  }
  if (!sealed_against_shrink(fd.get()) &&
      !(rule == SealRule::HugetlbExempt && on_hugetlbfs(fd.get()))) {
    return make_error(Errc::InvalidArgument, "memory fd must be a memfd sealed against shrinking{}",
                      rule == SealRule::HugetlbExempt ? " (or a hugetlbfs file)" : "");
  }
  // Mapped from file offset 0 up to the range's end rounded to the file's block size (the
  // hugepage size on hugetlbfs, where mmap offsets and lengths must be hugepage multiples).
  const uint64_t block = st.st_blksize > 0 ? static_cast<uint64_t>(st.st_blksize) : 4096;
  const uint64_t end = offset + size;
  if (end > UINT64_MAX - block) return make_error(Errc::InvalidArgument, "memory range too large");
  const uint64_t map_len = (end + block - 1) / block * block;
  const uint64_t room = g_limits.bytes - std::min(g_usage.bytes, g_limits.bytes);
  if (g_usage.regions >= g_limits.regions || map_len > room) {
    return make_error(Errc::ResourceExhausted,
                      "vsw maps too much peer memory (total limit {} MiB in {} mappings)",
                      g_limits.bytes >> 20, g_limits.regions);
  }
  void* p = ::mmap(nullptr, map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (p == MAP_FAILED) return make_sys_error(Errc::Io, errno, "cannot map peer memory");
  g_usage.bytes += map_len;
  ++g_usage.regions;
  auto* m = static_cast<std::byte*>(p);
  return PeerMapping(std::move(fd), m, map_len, m + offset, size);
}

PeerMapping::PeerMapping(UniqueFd fd, std::byte* map, uint64_t map_len, std::byte* base,
                         uint64_t size) noexcept
    : fd_(std::move(fd)), map_(map), map_len_(map_len), base_(base), size_(size) {}

PeerMapping::~PeerMapping() { unmap(); }

PeerMapping::PeerMapping(PeerMapping&& o) noexcept
    : fd_(std::move(o.fd_)),
      map_(std::exchange(o.map_, nullptr)),
      map_len_(std::exchange(o.map_len_, 0)),
      base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

PeerMapping& PeerMapping::operator=(PeerMapping&& o) noexcept {
  if (this != &o) {
    unmap();
    fd_ = std::move(o.fd_);
    map_ = std::exchange(o.map_, nullptr);
    map_len_ = std::exchange(o.map_len_, 0);
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

void PeerMapping::unmap() noexcept {
  if (map_ != nullptr) {
    ::munmap(map_, map_len_);
    g_usage.bytes -= map_len_;
    --g_usage.regions;
  }
  map_ = nullptr;
  map_len_ = 0;
  base_ = nullptr;
  size_ = 0;
}

}  // namespace vsw::ports::shm
