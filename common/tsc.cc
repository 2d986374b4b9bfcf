// common/tsc.cc — TSC calibration against CLOCK_MONOTONIC.
#include "common/tsc.h"

#include <time.h>

namespace vsw {

namespace {
uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t calibrate() noexcept {
  const uint64_t t0 = monotonic_ns();
  const uint64_t c0 = rdtsc();
  timespec req{0, 20'000'000};
  nanosleep(&req, nullptr);
  const uint64_t t1 = monotonic_ns();
  const uint64_t c1 = rdtsc();
  const uint64_t dt = t1 > t0 ? t1 - t0 : 1;
  return (c1 - c0) * 1'000'000'000ull / dt;
}
}  // namespace

uint64_t tsc_hz() noexcept {
  static const uint64_t hz = calibrate();
  return hz;
}

}  // namespace vsw
