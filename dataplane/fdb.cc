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
  slots_ = std::make_unique<Slot[]>(size);
  seen_ = std::make_unique<std::atomic<uint64_t>[]>(size);
  for (uint64_t i = 0; i < size; ++i) {
    slots_[i].key.store(kEmpty, std::memory_order_relaxed);
    slots_[i].port.store(kNoPort, std::memory_order_relaxed);
    seen_[i].store(0, std::memory_order_relaxed);
  }
}

size_t Fdb::home(uint64_t key) const noexcept { return mix(key) & mask_; }

Fdb::Probe Fdb::probe(uint64_t key) const noexcept {
  Probe pr;
  const size_t h = home(key);
  for (uint32_t k = 0; k < kProbe; ++k) {
    const size_t i = (h + k) & mask_;
    const uint64_t w = slots_[i].key.load(std::memory_order_acquire);
    if (w == kEmpty || w == kDeleted) {
      if (pr.free_slot == kNone) pr.free_slot = i;
      if (w == kEmpty) break;  // entries never sit beyond an empty slot of their window
      continue;
    }
    if (w == key) {
      pr.match = i;
      break;
    }
  }
  return pr;
}

Fdb::Learn Fdb::learn(MacAddress src, PortId port, uint64_t now, uint16_t vlan) noexcept {
  if (src.is_multicast() || src.is_zero()) return Learn::Ignored;
  const uint64_t key = make_key(src, vlan);
  for (;;) {
    const Probe pr = probe(key);
    if (pr.match != kNone) {
      Slot& s = slots_[pr.match];
      uint32_t have = s.port.load(std::memory_order_acquire);
      if (have == port) {
        // Refresh at most once per second of ticks: keeps the line clean across workers.
        if (now - seen_[pr.match].load(std::memory_order_relaxed) >= cfg_.ticks_per_second) {
          seen_[pr.match].store(now, std::memory_order_relaxed);
        }
        return Learn::Refreshed;
      }
      if (s.port.compare_exchange_strong(have, port, std::memory_order_acq_rel)) {
        seen_[pr.match].store(now, std::memory_order_relaxed);
        if (s.key.load(std::memory_order_acquire) != key) continue;  // freed meanwhile: again
        moved_.fetch_add(1, std::memory_order_relaxed);
        return Learn::Moved;
      }
      continue;  // lost a race with another worker
    }
    if (pr.free_slot == kNone || count_.load(std::memory_order_relaxed) >= cfg_.max_entries) {
      full_drops_.fetch_add(1, std::memory_order_relaxed);
      return Learn::TableFull;
    }
    const Learn r = insert(key, port, now, pr.free_slot);
    if (r != kRetry) return r;
  }
}

// The slow half of learn(): store a new key into `slot` (found free by the probe), then make
// sure the table holds it exactly once and where lookups can reach it.
//
// Two workers may insert the same key at once into different slots (the control thread freed a
// slot of the window between their probes), and the control thread may turn a deleted slot in
// front of this one back into an empty one (reclaim()), which would hide the entry. So after
// the store, the whole window is read again: an empty slot in front of ours, or an earlier copy,
// withdraws ours (and the caller starts again from the probe); a later copy is erased. The store
// and the reads are seq_cst, as are the other side's (the other inserter's, or reclaim()'s
// store then reads): of two such store-then-read sequences at least one sees the other's store
// (C++20 [atomics.order] p4), so two copies, or a hidden entry, cannot both go unnoticed.
// The port is stored (release) before the key is published, so whoever reads the key reads
// this port or a later one.
Fdb::Learn Fdb::insert(uint64_t key, PortId port, uint64_t now, size_t slot) noexcept {
  uint64_t expected = slots_[slot].key.load(std::memory_order_relaxed);
  if (expected != kEmpty && expected != kDeleted) return kRetry;  // taken meanwhile
  seen_[slot].store(now, std::memory_order_relaxed);
  slots_[slot].port.store(port, std::memory_order_release);
  if (!slots_[slot].key.compare_exchange_strong(expected, key, std::memory_order_seq_cst)) {
    return kRetry;  // another inserter won this slot: rescan, so the key is stored once
  }
  count_.fetch_add(1, std::memory_order_relaxed);
  const size_t h = home(key);
  bool keep = true;
  bool before = true;  // walking the slots in front of ours
  for (uint32_t k = 0; k < kProbe; ++k) {
    const size_t i = (h + k) & mask_;
    if (i == slot) {
      before = false;
      continue;
    }
    const uint64_t w = slots_[i].key.load(std::memory_order_seq_cst);
    if (before) {
      // Hidden behind an empty slot, or not the first copy: withdraw ours.
      if (w == kEmpty || w == key) keep = false;
    } else if (w == key) {
      erase_slot(i, key);  // a later copy: ours, in front of it, is the one lookups find
    }
  }
  if (!keep) {
    erase_slot(slot, key);
    return kRetry;
  }
  learned_.fetch_add(1, std::memory_order_relaxed);
  return Learn::Learned;
}

PortId Fdb::lookup(MacAddress dst, uint16_t vlan) const noexcept {
  const uint64_t key = make_key(dst, vlan);
  const size_t h = home(key);
  for (uint32_t k = 0; k < kProbe; ++k) {
    const Slot& s = slots_[(h + k) & mask_];
    const uint64_t w = s.key.load(std::memory_order_acquire);
    if (w == kEmpty) return kNoPort;
    if (w != key) continue;
    const uint32_t port = s.port.load(std::memory_order_acquire);
    // The slot may have been freed and taken by another station between the two loads.
    if (s.key.load(std::memory_order_relaxed) != key) return kNoPort;  // flood, as for a miss
    return static_cast<PortId>(port);
  }
  return kNoPort;
}

bool Fdb::erase_slot(size_t i, uint64_t expected) noexcept {
  if (!slots_[i].key.compare_exchange_strong(expected, kDeleted, std::memory_order_seq_cst)) {
    return false;
  }
  count_.fetch_sub(1, std::memory_order_relaxed);
  return true;
}

// True when a lookup may have to walk through slot t to reach an entry: some entry in the next
// kProbe - 1 slots has its home at or before t (t lies in [home, slot) of its window).
bool Fdb::covered(size_t t) const noexcept {
  for (uint32_t d = 1; d < kProbe; ++d) {
    const size_t s = (t + d) & mask_;
    const uint64_t w = slots_[s].key.load(std::memory_order_seq_cst);
    if (w == kEmpty || w == kDeleted) continue;
    if (((s - home(w)) & mask_) >= d) return true;
  }
  return false;
}

// Turns deleted slots back into empty ones where no entry lies behind them, keeping the
// invariant "entries never sit beyond an empty slot of their window" that lets lookups stop at
// the first empty slot. Learners may be inserting at the same time: a slot is emptied only after
// a check that nothing needs it, and checked again after emptying (an insert behind it may have
// raced the first check; that inserter's own check in insert() sees either the empty slot or,
// here, we see its entry and put the deleted marker back).
uint32_t Fdb::reclaim() noexcept {
  uint32_t freed = 0;
  for (size_t t = 0; t <= mask_; ++t) {
    if (slots_[t].key.load(std::memory_order_relaxed) != kDeleted || covered(t)) continue;
    uint64_t w = kDeleted;
    if (!slots_[t].key.compare_exchange_strong(w, kEmpty, std::memory_order_seq_cst)) continue;
    if (covered(t)) {
      w = kEmpty;  // fails only when a learner has just taken the slot: fine as well
      slots_[t].key.compare_exchange_strong(w, kDeleted, std::memory_order_seq_cst);
      continue;
    }
    ++freed;
  }
  return freed;
}

uint32_t Fdb::expire(uint64_t now) {
  const uint64_t limit = aging_ticks_.load(std::memory_order_relaxed);
  uint32_t removed = 0;
  bool deleted = false;
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].key.load(std::memory_order_acquire);
    if (w == kEmpty) continue;
    if (w == kDeleted) {
      deleted = true;  // left by an earlier pass (covered then) or by a withdrawn insert
      continue;
    }
    const uint64_t seen = seen_[i].load(std::memory_order_relaxed);
    if (now > seen && now - seen >= limit && erase_slot(i, w)) ++removed;
  }
  aged_.fetch_add(removed, std::memory_order_relaxed);
  if (removed != 0 || deleted) reclaim();
  return removed;
}

void Fdb::flush() {
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].key.load(std::memory_order_acquire);
    if (w != kEmpty && w != kDeleted) erase_slot(i, w);
  }
  reclaim();
}

void Fdb::flush_port(PortId port) {
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].key.load(std::memory_order_acquire);
    if (w != kEmpty && w != kDeleted && slots_[i].port.load(std::memory_order_acquire) == port) {
      erase_slot(i, w);
    }
  }
  reclaim();
}

std::vector<FdbEntry> Fdb::snapshot() const {
  std::vector<FdbEntry> out;
  for (size_t i = 0; i <= mask_; ++i) {
    const uint64_t w = slots_[i].key.load(std::memory_order_acquire);
    if (w == kEmpty || w == kDeleted) continue;
    out.push_back(FdbEntry{key_mac(w), key_vlan(w),
                           static_cast<PortId>(slots_[i].port.load(std::memory_order_acquire)),
                           seen_[i].load(std::memory_order_relaxed)});
  }
  std::sort(out.begin(), out.end(), [](const FdbEntry& a, const FdbEntry& b) {
    return a.vlan != b.vlan ? a.vlan < b.vlan : a.mac.u64() < b.mac.u64();
  });
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
