// ports/pci/dma_region_table.cc — sorted region array with a last-hit cache (see .h).
#include "ports/pci/dma_region_table.h"

#include <algorithm>

namespace vsw::ports::pci {

DmaRegionTable::DmaRegionTable() { publish({}); }
DmaRegionTable::~DmaRegionTable() = default;

void DmaRegionTable::publish(std::vector<Region> regions) {
  auto snap = std::make_unique<Snapshot>();
  snap->regions = std::move(regions);
  current_.store(snap.get(), std::memory_order_release);
  snapshots_.push_back(std::move(snap));
}

bool DmaRegionTable::contains(const DmaMemory& mem) const {
  const auto& r = current_.load(std::memory_order_relaxed)->regions;
  return std::any_of(r.begin(), r.end(), [&](const Region& x) { return x.mem == &mem; });
}

void DmaRegionTable::insert(const DmaMemory& mem, uint64_t iova) {
  if (contains(mem)) return;
  std::vector<Region> r = current_.load(std::memory_order_relaxed)->regions;
  const auto begin = reinterpret_cast<uintptr_t>(mem.data());
  r.push_back(Region{begin, begin + mem.size(), iova, &mem});
  std::sort(r.begin(), r.end(), [](const Region& a, const Region& b) { return a.begin < b.begin; });
  publish(std::move(r));
}

bool DmaRegionTable::erase(const DmaMemory& mem) {
  std::vector<Region> r = current_.load(std::memory_order_relaxed)->regions;
  const auto it = std::find_if(r.begin(), r.end(), [&](const Region& x) { return x.mem == &mem; });
  if (it == r.end()) return false;
  r.erase(it);
  publish(std::move(r));
  return true;
}

size_t DmaRegionTable::size() const noexcept {
  return current_.load(std::memory_order_relaxed)->regions.size();
}

std::vector<const DmaMemory*> DmaRegionTable::regions() const {
  std::vector<const DmaMemory*> out;
  for (const Region& r : current_.load(std::memory_order_relaxed)->regions) out.push_back(r.mem);
  return out;
}

uint64_t DmaRegionTable::lookup(const void* p) const noexcept {
  const auto& r = current_.load(std::memory_order_acquire)->regions;
  const auto a = reinterpret_cast<uintptr_t>(p);
  const size_t n = r.size();
  size_t i = last_hit_.load(std::memory_order_relaxed);
  if (i >= n || a < r[i].begin || a >= r[i].end) {
    // First region whose begin is above `a`; the one before it is the only candidate.
    size_t lo = 0, hi = n;
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (r[mid].begin <= a) lo = mid + 1;
      else hi = mid;
    }
    if (lo == 0 || a >= r[lo - 1].end) return 0;
    i = lo - 1;
    last_hit_.store(static_cast<uint32_t>(i), std::memory_order_relaxed);
  }
  const Region& hit = r[i];
  if (hit.iova == 0) return hit.mem->iova_of(p);
  return hit.iova + (a - hit.begin);
}

uint64_t DmaRegionTable::window(const DmaMemory& mem) const noexcept {
  for (const Region& r : current_.load(std::memory_order_acquire)->regions) {
    if (r.mem == &mem) return r.iova;
  }
  return 0;
}

}  // namespace vsw::ports::pci
