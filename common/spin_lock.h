// common/spin_lock.h — a test-and-test-and-set lock for sections of a few hundred nanoseconds.
// Used once per batch (never per packet), e.g. where several workers share one tx queue or a
// mempool refills its per-worker cache. Satisfies BasicLockable, so std::lock_guard works.
#pragma once

#include <atomic>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vsw {

class SpinLock {
 public:
  void lock() noexcept {
    for (;;) {
      if (!locked_.exchange(true, std::memory_order_acquire)) return;
      while (locked_.load(std::memory_order_relaxed)) _mm_pause();
    }
  }
  bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace vsw
