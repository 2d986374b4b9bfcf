// dataplane/quiescent.cc — slot management and the grace-period wait.
#include "dataplane/quiescent.h"

#include <time.h>
#include <unistd.h>

namespace vsw {

QuiescentDomain::Slot* QuiescentDomain::register_thread() noexcept {
  std::lock_guard guard(register_mu_);
  for (Slot& s : slots_) {
    if (!s.used.load(std::memory_order_relaxed)) {
      s.used.store(true, std::memory_order_relaxed);
      s.online.store(false, std::memory_order_seq_cst);
      return &s;
    }
  }
  return nullptr;
}

void QuiescentDomain::unregister_thread(Slot* s) noexcept {
  std::lock_guard guard(register_mu_);
  s->online.store(false, std::memory_order_seq_cst);
  s->doorbell.store(-1, std::memory_order_relaxed);
  s->used.store(false, std::memory_order_relaxed);
}

void QuiescentDomain::ring(const Slot& s) noexcept {
  const int fd = s.doorbell.load(std::memory_order_acquire);
  if (fd < 0) return;
  const uint64_t one = 1;
  // eventfd(2): an 8-byte write adds to the count; it fails only at the (unreachable) maximum.
  (void)!::write(fd, &one, sizeof(one));
}

void QuiescentDomain::wake_sleepers() const noexcept {
  for (const Slot& s : slots_) {
    if (s.online.load(std::memory_order_acquire)) ring(s);
  }
}

void QuiescentDomain::synchronize() const noexcept {
  // The caller's unpublishing store comes before this call; the slot loads below must not be
  // satisfied before it is visible to the workers (a store followed by a load of another location
  // may otherwise be reordered). Pairs with the fence in quiescent()/set_online(): quiescent.h.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::array<uint64_t, kMaxSlots> seen{};
  for (unsigned i = 0; i < kMaxSlots; ++i) seen[i] = slots_[i].passes.load(std::memory_order_acquire);
  for (unsigned i = 0; i < kMaxSlots; ++i) {
    const Slot& s = slots_[i];
    // A worker asleep while online (worker.h, adaptive polling) passes no quiescent point until
    // something wakes it: ring it once. A spurious ring (it was about to pass one anyway) costs
    // it one early wake-up.
    if (s.online.load(std::memory_order_acquire) &&
        s.passes.load(std::memory_order_acquire) == seen[i]) {
      ring(s);
    }
  }
  for (unsigned i = 0; i < kMaxSlots; ++i) {
    const Slot& s = slots_[i];
    // acquire: a pass that ended after the snapshot read the old object before its increment.
    while (s.online.load(std::memory_order_acquire) &&
           s.passes.load(std::memory_order_acquire) == seen[i]) {
      timespec nap{0, 20'000};
      nanosleep(&nap, nullptr);
    }
  }
}

}  // namespace vsw
