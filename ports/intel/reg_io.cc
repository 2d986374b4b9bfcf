// ports/intel/reg_io.cc — polling waits on registers.
#include "ports/intel/reg_io.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

namespace vsw::ports::intel {

bool Registers::wait_for(uint32_t off, uint32_t mask, uint32_t want,
                         uint32_t timeout_ms) const noexcept {
  for (uint32_t waited = 0;; ++waited) {
    if ((read(off) & mask) == want) return true;
    if (waited >= timeout_ms) return false;
    sleep_ms(1);
  }
}

Status Registers::enable_and_wait(uint32_t off, uint32_t bit, uint32_t timeout_ms,
                                  std::string_view family, std::string_view what) noexcept {
  set_bits(off, bit);
  if (!wait_for(off, bit, bit, timeout_ms)) return register_timeout(family, what);
  return ok();
}

Error register_timeout(std::string_view family, std::string_view what) {
  return Error{Errc::Unavailable,
               fmt::format("{}: {} did not reach its expected value in time; is this an {} and "
                           "is it powered (D0)?",
                           family, what, family)};
}

void Registers::sleep_ms(uint32_t ms) noexcept {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace vsw::ports::intel
