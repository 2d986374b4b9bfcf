// dataplane/capture/capture_ring.h — a lock-free single-producer single-consumer ring of
// variable-length capture records (one per captured frame), for one (capture, worker) pair.
//
// The producer is the worker copying frames, the consumer the control thread writing pcap. A
// record is a 16-byte header (timestamp in ns since the Unix epoch, the frame's original length,
// the bytes kept) and then the bytes kept, padded to 16 so every record and header stays aligned.
// A record never wraps: when it does not fit before the end of the buffer, the producer writes a
// wrap marker (a header with cap_len == kWrap) there and puts the record at offset 0.
//
// head and tail are byte positions that only grow (uint64: never wrap in practice); the buffer
// index is position & mask. The producer publishes a record with a release store of head after
// writing it; the consumer frees its space with a release store of tail after reading it. Each
// side caches the other's index and reloads it only when the cached one says "no room"/"empty".
//
// Nothing here allocates, locks or makes a syscall after construction.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace vsw {

struct CaptureRecordHeader {
  uint64_t ts_ns;     // CLOCK_REALTIME when the worker copied the frame
  uint32_t orig_len;  // the frame's full length on the wire (all segments)
  uint32_t cap_len;   // bytes that follow (at most the capture's snaplen); kWrap: wrap marker
};
static_assert(sizeof(CaptureRecordHeader) == 16);

class CaptureRing {
 public:
  static constexpr uint32_t kWrap = 0xFFFFFFFFu;
  static constexpr uint32_t kAlign = 16;

  // `bytes` is rounded up to a power of two, at least 4096. The largest record must fit:
  // callers keep cap_len <= max_record().
  explicit CaptureRing(uint32_t bytes)
      : size_(std::bit_ceil(bytes < 4096 ? 4096u : bytes)), mask_(size_ - 1),
        buf_(new (std::align_val_t{64}) std::byte[size_]) {}
  CaptureRing(const CaptureRing&) = delete;
  CaptureRing& operator=(const CaptureRing&) = delete;

  uint32_t capacity() const noexcept { return size_; }
  // The longest cap_len a record may have: half the ring, so a record plus the worst wrap
  // padding always fits an empty ring.
  uint32_t max_record() const noexcept { return size_ / 2 - sizeof(CaptureRecordHeader); }

  // --- producer (one worker) -----------------------------------------------------------------
  // Space for a record of `cap_len` bytes (cap_len <= max_record()); nullptr when the ring is
  // too full (the caller counts a capture drop). Nothing is visible to the consumer until
  // commit(); a reservation that is not committed is simply forgotten.
  std::byte* reserve(uint32_t cap_len) noexcept {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    const uint32_t need = record_bytes(cap_len);
    const uint32_t offset = static_cast<uint32_t>(head & mask_);
    const uint32_t to_end = size_ - offset;
    const uint32_t skip = need > to_end ? to_end : 0;  // wrap: pad to the end first
    if (room(head) < uint64_t{skip} + need) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (room(head) < uint64_t{skip} + need) return nullptr;
    }
    pending_skip_ = skip;
    pending_need_ = need;
    return buf_.get() + ((head + skip) & mask_) + sizeof(CaptureRecordHeader);
  }
  // Publishes the record reserve() last returned space for.
  void commit(uint64_t ts_ns, uint32_t orig_len, uint32_t cap_len) noexcept {
    const uint64_t head = head_.load(std::memory_order_relaxed);
    if (pending_skip_ != 0) {
      const CaptureRecordHeader wrap{0, 0, kWrap};
      std::memcpy(buf_.get() + (head & mask_), &wrap, sizeof wrap);
    }
    const uint64_t at = head + pending_skip_;
    const CaptureRecordHeader h{ts_ns, orig_len, cap_len};
    std::memcpy(buf_.get() + (at & mask_), &h, sizeof h);
    head_.store(at + pending_need_, std::memory_order_release);
  }

  // --- consumer (the control thread) ---------------------------------------------------------
  // The oldest record, or false when the ring is empty. `data` points into the ring and stays
  // valid until pop().
  bool peek(CaptureRecordHeader& h, const std::byte*& data) noexcept {
    for (;;) {
      const uint64_t tail = tail_.load(std::memory_order_relaxed);
      if (head_cache_ == tail) {
        head_cache_ = head_.load(std::memory_order_acquire);
        if (head_cache_ == tail) return false;
      }
      std::memcpy(&h, buf_.get() + (tail & mask_), sizeof h);
      if (h.cap_len == kWrap) {
        tail_.store(tail + (size_ - (tail & mask_)), std::memory_order_release);
        continue;
      }
      data = buf_.get() + (tail & mask_) + sizeof(CaptureRecordHeader);
      return true;
    }
  }
  // Frees the record peek() returned.
  void pop(const CaptureRecordHeader& h) noexcept {
    const uint64_t tail = tail_.load(std::memory_order_relaxed);
    tail_.store(tail + record_bytes(h.cap_len), std::memory_order_release);
  }

 private:
  static uint32_t record_bytes(uint32_t cap_len) noexcept {
    return (static_cast<uint32_t>(sizeof(CaptureRecordHeader)) + cap_len + kAlign - 1) &
           ~(kAlign - 1);
  }
  uint64_t room(uint64_t head) const noexcept { return size_ - (head - tail_cache_); }

  struct AlignedDelete {
    void operator()(std::byte* p) const noexcept { ::operator delete[](p, std::align_val_t{64}); }
  };

  const uint32_t size_;
  const uint32_t mask_;
  std::unique_ptr<std::byte[], AlignedDelete> buf_;
  alignas(64) std::atomic<uint64_t> head_{0};
  uint64_t tail_cache_ = 0;  // producer's view of tail_
  uint32_t pending_skip_ = 0, pending_need_ = 0;
  alignas(64) std::atomic<uint64_t> tail_{0};
  uint64_t head_cache_ = 0;  // consumer's view of head_
};

}  // namespace vsw
