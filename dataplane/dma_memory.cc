// dataplane/dma_memory.cc — hugepage allocation and virtual-to-physical translation.
#include "dataplane/dma_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>

#include "common/log.h"

namespace vsw {

namespace {
// Linux Documentation/admin-guide/mm/pagemap.rst: bits 0-54 PFN, bit 63 page present.
constexpr uint64_t kPagemapPfnMask = (1ull << 55) - 1;
constexpr uint64_t kPagemapPresent = 1ull << 63;
}  // namespace

Result<std::unique_ptr<DmaMemory>> DmaMemory::allocate(size_t bytes, bool prefer_hugepages) {
  if (bytes == 0) return make_error(Errc::InvalidArgument, "cannot allocate 0 bytes of DMA memory");
  if (prefer_hugepages) {
    const size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    void* p = mmap(nullptr, rounded, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED, -1, 0);
    if (p != MAP_FAILED) {
      std::unique_ptr<DmaMemory> m(new DmaMemory(static_cast<std::byte*>(p), rounded, true));
      m->resolve_pages();
      return m;
    }
    log::main().info("no hugepages available ({}); packet memory uses ordinary pages",
                     std::strerror(errno));
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  if (p == MAP_FAILED) {
    return make_sys_error(Errc::ResourceExhausted, errno,
                          fmt::format("cannot map {} bytes of packet memory", bytes));
  }
  return std::unique_ptr<DmaMemory>(new DmaMemory(static_cast<std::byte*>(p), bytes, false));
}

DmaMemory::DmaMemory(std::byte* base, size_t bytes, bool huge)
    : base_(base), bytes_(bytes), huge_(huge) {}

DmaMemory::~DmaMemory() { munmap(base_, bytes_); }

void DmaMemory::resolve_pages() {
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const size_t pages = bytes_ / kHugePageBytes;
  auto phys = std::make_unique<uint64_t[]>(pages);
  const long small_page = sysconf(_SC_PAGESIZE);
  bool all_ok = true;
  for (size_t i = 0; i < pages && all_ok; ++i) {
    const auto vaddr = reinterpret_cast<uintptr_t>(base_ + i * kHugePageBytes);
    uint64_t entry = 0;
    const off_t off = static_cast<off_t>(vaddr / small_page * sizeof(entry));
    all_ok = pread(fd, &entry, sizeof(entry), off) == sizeof(entry) &&
             (entry & kPagemapPresent) && (entry & kPagemapPfnMask) != 0;
    phys[i] = (entry & kPagemapPfnMask) * static_cast<uint64_t>(small_page);
  }
  close(fd);
  if (all_ok) {
    page_phys_ = std::move(phys);
    physical_ = true;
  }
}

uint64_t DmaMemory::iova_of(const void* p) const noexcept {
  const auto off = static_cast<size_t>(static_cast<const std::byte*>(p) - base_);
  if (!physical_) return 0;  // ordinary pages: no stable device address
  return page_phys_[off / kHugePageBytes] + off % kHugePageBytes;
}

}  // namespace vsw
