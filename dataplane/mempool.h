// dataplane/mempool.h — fixed-size packet buffers with per-thread caches.
//
// Design: one DmaMemory region cut into `buffers` slots of `buffer_bytes`; each slot starts with
// its Packet header (dataplane/packet.h). Free slots live on a shared LIFO stack guarded by a
// SpinLock, and each worker thread has a private cache of up to 2 * kBurst pointers that refills
// from and spills to the stack kBurst at a time: the lock is taken at most once per 32 buffers,
// never per packet. Threads that did not bind a cache slot (control thread, tests) go straight to
// the shared stack.
//
// When empty: alloc() returns fewer buffers than asked; the caller counts DropReason::NoBuffer.
// Nothing on the fast path ever allocates heap memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spin_lock.h"
#include "dataplane/dma_memory.h"
#include "dataplane/packet.h"

namespace vsw {

class Mempool final : public BufferOwner {
 public:
  struct Config {
    uint32_t buffers = 16384;
    uint32_t buffer_bytes = 2048;  // power of two, 512..65536; a 2 MiB hugepage holds whole buffers
    bool hugepages = true;
  };
  static constexpr uint16_t kBurst = 32;
  static constexpr unsigned kMaxThreadCaches = 64;

  static Result<std::unique_ptr<Mempool>> create(std::string name, const Config& cfg);
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;
  ~Mempool();

  // Gives the calling thread cache slot `slot` (< kMaxThreadCaches) for every mempool. Each slot
  // must be used by one thread at a time; workers bind their worker index at start.
  static void bind_thread_cache(unsigned slot) noexcept;
  // The calling thread stops using its slot: the buffers parked in it, in every mempool, go back
  // to the shared stacks (so other threads can allocate them). Call before the thread ends.
  static void unbind_thread_cache() noexcept;

  // --- any thread, never blocks for long -------------------------------------------------------
  // Fills out[0..n) with fresh buffers (refs = 1, data_off = kDefaultDataOffset, len = 0,
  // frame_len = 0, next = nullptr, in_port = kNoPort); returns how many it could get.
  uint16_t alloc(Packet** out, uint16_t n) noexcept;
  void release(Packet* p) noexcept override;

  // --- any thread ----------------------------------------------------------------------------------
  const std::string& name() const noexcept { return name_; }
  uint32_t capacity() const noexcept { return cfg_.buffers; }
  uint32_t buffer_bytes() const noexcept { return cfg_.buffer_bytes; }
  // Largest frame one buffer holds.
  uint32_t data_room() const noexcept { return cfg_.buffer_bytes - kDefaultDataOffset; }
  // Approximate: buffers on the shared stack plus those parked in thread caches.
  uint32_t available() const noexcept;
  bool hugepage_backed() const noexcept { return memory_->hugepage_backed(); }
  bool physical_iova() const noexcept { return memory_->physical_iova(); }
  // The region holding every buffer: what a PCI port maps for its device's DMA (ports/pci/).
  const DmaMemory& memory() const noexcept { return *memory_; }
  // True when `p` is one of this pool's headers (used by tests and debug checks).
  bool owns(const Packet* p) const noexcept;

 private:
  struct alignas(64) ThreadCache {
    uint32_t count = 0;
    Packet* slots[2 * kBurst];
  };

  Mempool(std::string name, const Config& cfg, std::unique_ptr<DmaMemory> memory);
  void push_shared(Packet* const* pkts, uint32_t n) noexcept;
  void flush_cache(unsigned slot) noexcept;
  uint32_t pop_shared(Packet** out, uint32_t n) noexcept;
  static void reset(Packet* p) noexcept;

  std::string name_;
  Config cfg_;
  std::unique_ptr<DmaMemory> memory_;
  SpinLock lock_;
  std::vector<Packet*> stack_;  // capacity reserved at creation; never grows after
  uint32_t stack_top_ = 0;
  std::unique_ptr<ThreadCache[]> caches_;
};

}  // namespace vsw
