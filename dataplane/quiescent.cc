// dataplane/quiescent.cc — slot management and the grace-period wait.
#include "dataplane/quiescent.h"

#include <time.h>

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
  s->used.store(false, std::memory_order_relaxed);
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
    // acquire: a pass that ended after the snapshot read the old object before its increment.
    while (s.online.load(std::memory_order_acquire) &&
           s.passes.load(std::memory_order_acquire) == seen[i]) {
      timespec nap{0, 20'000};
      nanosleep(&nap, nullptr);
    }
  }
}

}  // namespace vsw
