// dataplane/packet_batch.h — up to 32 frames moving together through the fast path.
// A batch holds Packet pointers only; it owns one reference of each until it hands them on
// (tx_burst) or drops them (release_all). clear() forgets without releasing.
//
// release_all() returns runs of consecutive packets that have the same owner, one segment and
// no other reference (refs == 1) with one BufferOwner::release_bulk() call per run: a memif
// port's burst of lent frames goes back in one step instead of one virtual call per frame.
// Chained or shared (refs > 1) packets take release_packet(), one at a time.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "common/assert.h"
#include "dataplane/packet.h"

namespace vsw {

class PacketBatch {
 public:
  static constexpr uint16_t kMax = 32;

  uint16_t size() const noexcept { return n_; }
  bool empty() const noexcept { return n_ == 0; }
  uint16_t room() const noexcept { return kMax - n_; }
  // Debug-checked: callers never push into a full batch by construction.
  void push(Packet* p) noexcept {
    VSW_ASSERT(n_ < kMax);
    pkts_[n_++] = p;
  }
  // push() of pkts[0..n) in order; debug-checked like push().
  void append(Packet* const* pkts, uint16_t n) noexcept {
    VSW_ASSERT(n <= room());
    // One block copy (a run is typically the whole burst) instead of a load and store per
    // pointer; pkts never overlaps this batch's own array.
    std::memcpy(pkts_.data() + n_, pkts, n * sizeof(Packet*));
    n_ = static_cast<uint16_t>(n_ + n);
  }
  Packet* operator[](uint16_t i) const noexcept { return pkts_[i]; }
  std::span<Packet* const> packets() const noexcept { return {pkts_.data(), n_}; }
  Packet** data() noexcept { return pkts_.data(); }
  // Sets the size after a driver filled data()[size()..n) directly.
  void set_size(uint16_t n) noexcept {
    VSW_ASSERT(n <= kMax);
    n_ = n;
  }
  void clear() noexcept { n_ = 0; }
  // release_all() for a batch the caller already found to be sole segments of `owner` (every
  // packet: next == nullptr, owner == `owner`, refs == 1; sole_segment_bits() == 0 for each):
  // one release_bulk() call, no per-packet test (the caller's contract; an empty batch is fine).
  void release_sole_segments(BufferOwner* owner) noexcept {
    const uint16_t n = n_;
    n_ = 0;
    if (n == 0) return;
    owner->release_bulk(pkts_.data(), n);
  }
  // Zero when `p`, known to be one segment (next == nullptr), belongs to `owner` and nobody else
  // holds it: what a loop that already tested next ORs together to call
  // release_sole_segments() instead of release_all().
  static uintptr_t sole_segment_bits(const Packet* p, const BufferOwner* owner) noexcept {
    return (reinterpret_cast<uintptr_t>(p->owner) ^ reinterpret_cast<uintptr_t>(owner)) |
           (p->refs.load(std::memory_order_relaxed) ^ 1u);
  }
  // Drops every reference the batch holds (see the top of the file) and empties it.
  void release_all() noexcept {
    Packet* const* it = pkts_.data();
    Packet* const* const end = it + n_;
    n_ = 0;
    while (it != end) {
      Packet* const p = *it;
      BufferOwner* const owner = p->owner;
      if (!is_sole_segment(p, owner)) {
        release_packet(p);
        ++it;
        continue;
      }
      Packet* const* run_end = it + 1;
      while (run_end != end && is_sole_segment(*run_end, owner)) ++run_end;
      owner->release_bulk(it, static_cast<uint16_t>(run_end - it));
      it = run_end;
    }
  }

 private:
  // One segment of `owner`, held by nobody else: release_packet() would hand it to
  // owner->release() with nothing else to do. One branch for the three conditions.
  static bool is_sole_segment(const Packet* p, const BufferOwner* owner) noexcept {
    return (reinterpret_cast<uintptr_t>(p->next) |
            (reinterpret_cast<uintptr_t>(p->owner) ^ reinterpret_cast<uintptr_t>(owner)) |
            (p->refs.load(std::memory_order_relaxed) ^ 1u)) == 0;
  }

  std::array<Packet*, kMax> pkts_{};
  uint16_t n_ = 0;
};

}  // namespace vsw
