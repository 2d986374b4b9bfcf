// common/spsc_ring.h — a bounded single-producer single-consumer ring of trivially copyable items.
// The one lock-free ring of the code base. Capacity is a power of two; head and tail live on
// separate cache lines, and each side caches the other's index to touch the shared line only
// when it must (the Lamport ring with cached indices).
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace vsw {

template <class T>
class SpscRing {
 public:
  explicit SpscRing(uint32_t capacity)
      : size_(std::bit_ceil(capacity < 2 ? 2u : capacity)), mask_(size_ - 1),
        items_(std::make_unique<T[]>(size_)) {}

  uint32_t capacity() const noexcept { return size_; }

  // Producer only. Returns how many of items[0..n) were enqueued.
  uint32_t push(const T* items, uint32_t n) noexcept {
    const uint32_t head = head_.load(std::memory_order_relaxed);
    if (size_ - (head - tail_cache_) < n) tail_cache_ = tail_.load(std::memory_order_acquire);
    const uint32_t room = size_ - (head - tail_cache_);
    if (n > room) n = room;
    for (uint32_t i = 0; i < n; ++i) items_[(head + i) & mask_] = items[i];
    head_.store(head + n, std::memory_order_release);
    return n;
  }

  // Consumer only. Returns how many items were dequeued into out[0..max).
  uint32_t pop(T* out, uint32_t max) noexcept {
    const uint32_t tail = tail_.load(std::memory_order_relaxed);
    if (head_cache_ - tail < max) head_cache_ = head_.load(std::memory_order_acquire);
    uint32_t n = head_cache_ - tail;
    if (n > max) n = max;
    for (uint32_t i = 0; i < n; ++i) out[i] = items_[(tail + i) & mask_];
    tail_.store(tail + n, std::memory_order_release);
    return n;
  }

  // Any thread; approximate.
  uint32_t size() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }

 private:
  const uint32_t size_;
  const uint32_t mask_;
  std::unique_ptr<T[]> items_;
  alignas(64) std::atomic<uint32_t> head_{0};
  uint32_t tail_cache_ = 0;  // producer's view of tail_
  alignas(64) std::atomic<uint32_t> tail_{0};
  uint32_t head_cache_ = 0;  // consumer's view of head_
};

}  // namespace vsw
