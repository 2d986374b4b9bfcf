// ports/tap/buffer_stash.h — a per-rx-queue handful of mempool buffers kept between polls.
//
// Kernel-facing ports do not know how many frames wait before they read them, so allocating a
// burst of buffers up front and returning the unused ones on every (often empty) poll would cost
// two mempool round trips per poll. The stash keeps up to one burst of fresh buffers instead: it
// refills from the pool at most once per rx_burst, 32 at a time (Mempool::alloc), and a buffer
// that was not needed (the kernel had nothing more) goes back into the stash, not the pool.
//
// Threads: owned by one rx queue, used only by the worker polling it (and destroyed by the control
// thread after the port left the topology). Not copyable. Never allocates heap memory.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/mempool.h"
#include "dataplane/packet.h"
#include "dataplane/packet_batch.h"

namespace vsw::ports {

class BufferStash {
 public:
  static constexpr uint16_t kCapacity = PacketBatch::kMax;

  explicit BufferStash(Mempool& pool) noexcept : pool_(pool) {}
  ~BufferStash() {
    for (uint16_t i = 0; i < n_; ++i) release_packet(slots_[i]);
  }
  BufferStash(const BufferStash&) = delete;
  BufferStash& operator=(const BufferStash&) = delete;

  // Tops the stash up to kCapacity with one Mempool::alloc call; may get fewer (pool empty).
  void refill() noexcept {
    if (n_ < kCapacity) n_ += pool_.alloc(slots_.data() + n_, kCapacity - n_);
  }
  // A fresh buffer (refs 1, default data offset, len 0), or nullptr when the stash is empty.
  Packet* take() noexcept { return n_ != 0 ? slots_[--n_] : nullptr; }
  // Returns an untouched-as-far-as-the-pool-cares buffer (refs 1, no chain) for later use.
  void put_back(Packet* p) noexcept {
    if (n_ < kCapacity) {
      slots_[n_++] = p;
    } else {
      release_packet(p);
    }
  }
  uint16_t size() const noexcept { return n_; }
  Mempool& pool() noexcept { return pool_; }

 private:
  Mempool& pool_;
  std::array<Packet*, kCapacity> slots_{};
  uint16_t n_ = 0;
};

}  // namespace vsw::ports
