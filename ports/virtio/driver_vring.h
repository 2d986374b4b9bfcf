// ports/virtio/driver_vring.h — the driver's side of one split virtqueue (virtio 1.1 §2.6): vsw
// writes descriptors and the available ring, the device writes the used ring. The rx, tx and
// control queues build on it; it holds the shared mechanics only:
//   * publish(): one release store of avail.idx for a whole batch (§2.6.13.3);
//   * needs_notify(): after a full barrier, EVENT_IDX's avail_event test (§2.6.10.1) or, without
//     it, the device's NO_NOTIFY flag (§2.6.10) — one doorbell per batch at most, none while the
//     device is polling the ring itself;
//   * interrupts off: NO_INTERRUPT in avail.flags (§2.6.7), or with EVENT_IDX a used_event kept
//     half the index space ahead of what vsw consumed, so the device never crosses it;
//     enable_interrupts() asks for one for the next used entry while the worker sleeps.
// Single-threaded: the worker owning the queue (the control thread for the control queue).
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/port_counters.h"
#include "ports/virtio/ring_arena.h"
#include "ports/virtio/virtio_transport.h"
#include "ports/virtio_common/vring.h"

namespace vsw::ports::virtio {

class DriverVring {
 public:
  DriverVring() = default;
  DriverVring(const DriverVring&) = delete;
  DriverVring& operator=(const DriverVring&) = delete;

  // Control thread, before the queue is given to the device: points at the ring `v` of `arena`
  // (zeroed memory) and turns interrupts off.
  void attach(const RingArena& arena, const VringOffsets& v, Doorbell bell, bool event_idx) noexcept {
    desc_ = reinterpret_cast<VringDesc*>(arena.at(v.desc));
    avail_ = reinterpret_cast<VringAvail*>(arena.at(v.avail));
    used_ = reinterpret_cast<VringUsed*>(arena.at(v.used));
    size_ = v.size;
    mask_ = static_cast<uint16_t>(v.size - 1);
    bell_ = bell;
    event_idx_ = event_idx;
    disable_interrupts();
  }

  uint16_t size() const noexcept { return size_; }
  VringDesc& desc(uint16_t i) noexcept { return desc_[i & mask_]; }

  // --- available side (vsw writes) ---
  // Queues head `head` in the next available slot; invisible until publish().
  void push_avail(uint16_t head) noexcept {
    avail_->ring[avail_idx_ & mask_] = head;
    ++avail_idx_;
  }
  uint16_t avail_idx() const noexcept { return avail_idx_; }
  // Makes every pushed entry visible with one release store; rings the doorbell if the device
  // asked to be told. Returns whether it rang.
  bool publish_and_notify() noexcept {
    if (avail_idx_ == published_) return false;
    const uint16_t old = published_;
    store_release(&avail_->idx, avail_idx_);
    published_ = avail_idx_;
    // §2.6.10.1: the device's avail_event / NO_NOTIFY must be read after our index store is
    // visible; a full barrier orders the store before the load.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const bool notify =
        event_idx_ ? vring_need_event(load_relaxed(avail_event_field(used_, size_)), avail_idx_, old)
                   : (load_relaxed(&used_->flags) & kUsedFlagNoNotify) == 0;
    if (notify) {
      bell_.ring();
      notifies_.add(1);
    }
    return notify;
  }

  // --- used side (the device writes) ---
  // Entries the device has given back and vsw has not consumed yet (acquire: their contents are
  // visible after this).
  uint16_t used_pending() const noexcept {
    return static_cast<uint16_t>(load_acquire(&used_->idx) - last_used_);
  }
  // The k-th unconsumed used entry (k < used_pending()), copied once.
  VringUsedElem used_at(uint16_t k) const noexcept {
    const VringUsedElem* e = &used_->ring[static_cast<uint16_t>(last_used_ + k) & mask_];
    return {__atomic_load_n(&e->id, __ATOMIC_RELAXED), __atomic_load_n(&e->len, __ATOMIC_RELAXED)};
  }
  void consume(uint16_t n) noexcept {
    last_used_ = static_cast<uint16_t>(last_used_ + n);
    // Keep the interrupt threshold out of reach (§2.6.7.1): half the index space ahead.
    if (event_idx_) store_relaxed(used_event_field(avail_, size_), static_cast<uint16_t>(last_used_ + 0x8000));
  }

  // Adaptive polling: asks the device to interrupt when it uses the next entry (§2.6.7.2: with
  // EVENT_IDX used_event = the next index vsw reads, which the device's next used->idx move
  // crosses; without it NO_INTERRUPT cleared), then re-reads used->idx after a full barrier,
  // the order §2.6.7.2 asks of a driver re-enabling interrupts. True when nothing is pending
  // (the worker may sleep); false when the device used an entry before it saw the request.
  bool enable_interrupts() noexcept {
    if (event_idx_) store_relaxed(used_event_field(avail_, size_), last_used_);
    else store_relaxed(&avail_->flags, uint16_t{0});
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return used_pending() == 0;
  }
  // Interrupts off again, as attach() and consume() keep them.
  void disable_interrupts() noexcept {
    if (event_idx_) {
      store_relaxed(used_event_field(avail_, size_), static_cast<uint16_t>(last_used_ + 0x8000));
    } else {
      store_relaxed(&avail_->flags, kAvailFlagNoInterrupt);
    }
  }

  // Doorbells rung; any thread may read it.
  uint64_t notifies() const noexcept { return notifies_.get(); }

 private:
  VringDesc* desc_ = nullptr;
  VringAvail* avail_ = nullptr;
  VringUsed* used_ = nullptr;
  uint16_t size_ = 0;
  uint16_t mask_ = 0;
  Doorbell bell_;
  bool event_idx_ = false;
  uint16_t avail_idx_ = 0;   // next entry vsw writes (shadow of avail.idx)
  uint16_t published_ = 0;   // avail.idx as last stored
  uint16_t last_used_ = 0;   // next used entry vsw reads
  Counter notifies_;
};

}  // namespace vsw::ports::virtio
