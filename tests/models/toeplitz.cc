// tests/models/toeplitz.cc — bit-serial Toeplitz hash (see toeplitz.h).
#include "tests/models/toeplitz.h"

namespace vsw::tests::models {

uint32_t toeplitz_hash(const RssKey& key, std::span<const uint8_t> input) noexcept {
  // `window` holds the 32 key bits starting at the current input bit; `next` feeds key bits in.
  uint32_t window =
      (uint32_t{key[0]} << 24) | (uint32_t{key[1]} << 16) | (uint32_t{key[2]} << 8) | key[3];
  uint32_t result = 0;
  for (size_t i = 0; i < input.size() && i + 4 < key.size() + 1; ++i) {
    const uint8_t next = i + 4 < key.size() ? key[i + 4] : 0;
    for (int b = 7; b >= 0; --b) {
      if ((input[i] >> b) & 1u) result ^= window;
      window = (window << 1) | ((next >> b) & 1u);
    }
  }
  return result;
}

}  // namespace vsw::tests::models
