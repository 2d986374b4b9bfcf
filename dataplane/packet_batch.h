// dataplane/packet_batch.h — up to 32 frames moving together through the fast path.
// A batch holds Packet pointers only; it owns one reference of each until it hands them on
// (tx_burst) or drops them (release_all). clear() forgets without releasing.
#pragma once

#include <array>
#include <cstdint>
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
  Packet* operator[](uint16_t i) const noexcept { return pkts_[i]; }
  std::span<Packet* const> packets() const noexcept { return {pkts_.data(), n_}; }
  Packet** data() noexcept { return pkts_.data(); }
  // Sets the size after a driver filled data()[size()..n) directly.
  void set_size(uint16_t n) noexcept {
    VSW_ASSERT(n <= kMax);
    n_ = n;
  }
  void clear() noexcept { n_ = 0; }
  void release_all() noexcept {
    for (uint16_t i = 0; i < n_; ++i) release_packet(pkts_[i]);
    n_ = 0;
  }

 private:
  std::array<Packet*, kMax> pkts_{};
  uint16_t n_ = 0;
};

}  // namespace vsw
