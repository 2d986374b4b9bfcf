// ports/pci/iova_space.cc — first-fit IOVA allocation above 1 MiB (see iova_space.h).
#include "ports/pci/iova_space.h"

#include <algorithm>

namespace vsw::ports::pci {

IovaSpace::IovaSpace(unsigned address_bits)
    : address_bits_(address_bits), limit_(address_bits >= 64 ? ~0ull : (1ull << address_bits)) {
  reserve(0xfee00000ull, 0xfeefffffull);  // x86 MSI address range, SDM Vol. 3A §11.11.1
}

void IovaSpace::reserve(uint64_t first, uint64_t last) {
  if (last < first) return;
  reserved_[first] = std::max(reserved_[first], last + 1);
}

Result<uint64_t> IovaSpace::allocate(uint64_t bytes) {
  if (bytes == 0) return make_error(Errc::InvalidArgument, "cannot allocate an empty IOVA range");
  const uint64_t len = (bytes + kAlign - 1) & ~(kAlign - 1);
  uint64_t candidate = (kBase + kAlign - 1) & ~(kAlign - 1);
  // Walk allocations and reservations in address order; move the candidate past every range it
  // overlaps until it fits in a gap.
  bool moved = true;
  while (moved) {
    moved = false;
    if (candidate + len < candidate || candidate + len > limit_) {
      return make_error(Errc::ResourceExhausted,
                        "IOVA space exhausted: no free {} MiB below 2^{} for a DMA region",
                        len >> 20, address_bits_);
    }
    for (const auto* ranges : {&used_, &reserved_}) {
      for (const auto& [start, end_or_len] : *ranges) {
        const uint64_t end = ranges == &used_ ? start + end_or_len : end_or_len;
        if (start < candidate + len && candidate < end) {
          candidate = (end + kAlign - 1) & ~(kAlign - 1);
          moved = true;
        }
      }
    }
  }
  used_[candidate] = len;
  return candidate;
}

bool IovaSpace::release(uint64_t iova) { return used_.erase(iova) == 1; }

}  // namespace vsw::ports::pci
