// common/tsc.h — the time-stamp counter, the fast path's only clock.
// Workers read it once per batch; tsc_hz() converts to seconds (calibrated once, lazily, against
// CLOCK_MONOTONIC over ~20 ms; the invariant TSC of every x86_64 CPU vsw targets makes it stable).
#pragma once

#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace vsw {

inline uint64_t rdtsc() noexcept {
#if defined(__x86_64__)
  return __rdtsc();
#else
#error "vsw needs an x86_64 time-stamp counter"
#endif
}

// TSC ticks per second; the first call calibrates (thread-safe), later calls are a load.
uint64_t tsc_hz() noexcept;

}  // namespace vsw
