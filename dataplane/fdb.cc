// dataplane/fdb.cc — lock-free learning and lookup; aging and flushing on the control thread.
#include "dataplane/fdb.h"

#include <algorithm>
#include <bit>

namespace vsw {

namespace {
// A 64-bit mix (the finaliser of MurmurHash3's fmix64, a public-domain constant set) spreads
// vendor-prefix-heavy MACs over the whole table.
inline uint64_t mix(uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdull;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ull;
  k ^= k >> 33;
  return k;
}
}  // namespace

Fdb::Fdb(const Config& cfg) : cfg_(cfg), aging_ticks_(cfg.aging_ticks) {
  const uint64_t want = std::max<uint64_t>(2ull * std::max<uint32_t>(cfg.max_entries, 1), kProbe);
  const uint64_t size = std::bit_ceil(want);
  mask_ = size - 1;
  slots_ = std::make_unique<std::atomic<uint64_t>[]>(size);
  seen_ = std::make_unique<std::atomic<uint64_t>[]>(size);
  for (uint64_t i = 0; i < size; ++i) {
    slots_[i].store(kEmpty, std::memory_order_relaxed);
    seen_[i].store(0, std::memory_order_relaxed);
  }
}

size_t Fdb::home(MacAddress mac) const noexcept { return mix(mac.u64()) & mask_; }

Fdb::Probe Fdb::probe(MacAddress mac) const noexcept {
  Probe pr;
  const size_t h = home(mac);
  for (uint32_t k = 0; k < kProbe; ++k) {
    const size_t i = (h + k) & mask_;
    const uint64_t w = slots_[i].load(std::memory_order_acquire);
    if (w == kEmpty || w == kDeleted) {
      if (pr.free_slot == kNone) pr.free_slot = i;
      if (w == kEmpty) break;  // entries never sit beyond an empty slot of their window
      continue;
    }
    if (mac_bits(w) == mac.u64()) {
      pr.match = i;
      pr.word = w;
      break;
    }
  }
  return pr;
}

Fdb::Learn Fdb::learn(MacAddress src, PortId port, uint64_t now) noexcept {
  if (src.is_multicast() || src.is_zero()) return Learn::Ignored;
  const uint64_t want = pack(src, port);
  for (;;) {
    const Probe pr = probe(src);
    if (pr.match != kNone) {
      if (pr.word == want) {
        // Refresh at most once per second of ticks: keeps the line clean across workers.
        if (now - seen_[pr.match].load(std::memory_order_relaxed) >= cfg_.ticks_per_second) {
          seen_[pr.match].store(now, std::memory_order_relaxed);
        }
        return Learn::Refreshed;
      }
      uint64_t w = pr.word;
      if (slots_[pr.match].compare_exchange_strong(w, want, std::memory_order_acq_rel)) {
        seen_[pr.match].store(now, std::memory_order_relaxed);
        moved_.fetch_add(1, std::memory_order_relaxed);
        return Learn::Moved;
      }
      continue;  // lost a race with another worker or the control thread
    }
    if (pr.free_slot == kNone || count_.load(std::memory_order_relaxed) >= cfg_.max_entries) {
      full_drops_.fetch_add(1, std::memory_order_relaxed);
      return Learn::TableFull;
    }
    uint64_t expected = slots_[pr.free_slot].load(std::memory_order_relaxed);
    if (expected != kEmpty && expected != kDeleted) continue;  // taken meanwhile
    seen_[pr.free_slot].store(now, std::memory_order_relaxed);
    if (!slots_[pr.free_slot].compare_exchange_strong(expected, want, std::memory_order_acq_rel)) {
      continue;  // another inserter won this slot: rescan, so the MAC is stored once
    }
    count_.fetch_add(1, std::memory_order_relaxed);
    // A concurrent insert of the same MAC into an earlier slot (freed by the control thread in
    // between) is possible; the earlier copy wins and this one is withdrawn.
    const Probe again = probe(src);
    if (again.match != pr.free_slot) {
      erase_slot(pr.free_slot, want);
      return Learn::Refreshed;
    }
    learned_.fetch_add(1, std::memory_order_relaxed);
    return Learn::Learned;
  }
}

PortId Fdb::lookup(MacAddress dst) const noexcept {
  const size_t h = home(dst);
  for (uint32_t k = 0; k < kProbe; ++k) {
    const uint64_t w = slots_[(h + k) & mask_].load(std::memory_order_acquire);
    if (w == kEmpty) return kNoPort;
    if (w != kDeleted && mac_bits(w) == dst.u64()) return static_cast<PortId>(w & 0xFFFF);
  }
  return kNoPort;
}

bool Fdb::erase_slot(size_t i, uint64_t expected) noexcept {
  if (!slots_[i].compare_exchange_strong(expected, kDeleted, std::memory_order_acq_rel)) return false;
  count_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

uint32_t Fdb::expire(uint64_t now) {
  const uint64_t limit = aging_ticks_.load(std::memory_order_relaxed);
  uint32_t removed = 0;
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].load(std::memory_order_acquire);
    if (w == kEmpty || w == kDeleted) continue;
    const uint64_t seen = seen_[i].load(std::memory_order_relaxed);
    if (now > seen && now - seen >= limit && erase_slot(i, w)) ++removed;
  }
  aged_.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

void Fdb::flush() {
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].load(std::memory_order_acquire);
    if (w != kEmpty && w != kDeleted) erase_slot(i, w);
  }
}

void Fdb::flush_port(PortId port) {
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].load(std::memory_order_acquire);
    if (w != kEmpty && w != kDeleted && (w & 0xFFFF) == port) erase_slot(i, w);
  }
}

std::vector<FdbEntry> Fdb::snapshot() const {
  std::vector<FdbEntry> out;
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].load(std::memory_order_acquire);
    if (w == kEmpty || w == kDeleted) continue;
    out.push_back(FdbEntry{MacAddress::from_u64(mac_bits(w)), static_cast<PortId>(w & 0xFFFF),
                           seen_[i].load(std::memory_order_relaxed)});
  }
  std::sort(out.begin(), out.end(),
            [](const FdbEntry& a, const FdbEntry& b) { return a.mac.u64() < b.mac.u64(); });
  return out;
}

FdbStats Fdb::stats() const noexcept {
  FdbStats s;
  s.entries = count_.load(std::memory_order_relaxed);
  s.max_entries = cfg_.max_entries;
  s.learned = learned_.load(std::memory_order_relaxed);
  s.moved = moved_.load(std::memory_order_relaxed);
  s.aged = aged_.load(std::memory_order_relaxed);
  s.full_drops = full_drops_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace vsw
