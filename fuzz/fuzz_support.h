// fuzz/fuzz_support.h — what every libFuzzer target in fuzz/ shares: a reader that turns the
// fuzzer's bytes into values (never failing: past the end it yields zeros), and FUZZ_CHECK, an
// invariant check that reports the broken rule and aborts, which libFuzzer records as a crash
// and saves the input for (docs/fuzzing.md).
//
// Header-only, test code: not linked into vswitchd.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include <fmt/format.h>

#include "common/log.h"

// Aborts with the failed condition and a formatted explanation. Used for the invariants a
// target checks beyond "does not crash"; the sanitizers cover memory errors and UB.
#define FUZZ_CHECK(cond, ...)                                                         \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: invariant broken: %s: %s\n", __FILE__, __LINE__, \
                   #cond, fmt::format(__VA_ARGS__).c_str());                          \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

namespace vsw::fuzz {

// Loggers built and silenced: a fuzzer runs millions of inputs that vsw would log as refused.
// VSW_FUZZ_LOG=<spec> (e.g. "debug") turns them on to see why an input is refused.
inline void init_logs() {
  log::init();
  const char* spec = std::getenv("VSW_FUZZ_LOG");
  (void)log::set_levels(spec != nullptr ? spec : "off");
}

// Consumes the fuzzer's input front to back.
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) noexcept : p_(data), left_(size) {}

  bool empty() const noexcept { return left_ == 0; }
  size_t remaining() const noexcept { return left_; }

  uint8_t u8() noexcept {
    if (left_ == 0) return 0;
    --left_;
    return *p_++;
  }
  uint16_t u16() noexcept {  // little-endian, like the memif wire format
    const uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  uint32_t u32() noexcept {
    const uint32_t lo = u16();
    return lo | (static_cast<uint32_t>(u16()) << 16);
  }
  // Copies up to out.size() bytes; the rest of `out` is zero-filled.
  void fill(std::span<std::byte> out) noexcept {
    const size_t n = out.size() < left_ ? out.size() : left_;
    if (n != 0) std::memcpy(out.data(), p_, n);
    if (n < out.size()) std::memset(out.data() + n, 0, out.size() - n);
    p_ += n;
    left_ -= n;
  }
  // The next `n` bytes (fewer at the end of the input) without copying.
  std::span<const uint8_t> take(size_t n) noexcept {
    if (n > left_) n = left_;
    std::span<const uint8_t> out(p_, n);
    p_ += n;
    left_ -= n;
    return out;
  }
  std::span<const uint8_t> rest() noexcept { return take(left_); }

 private:
  const uint8_t* p_;
  size_t left_;
};

}  // namespace vsw::fuzz
