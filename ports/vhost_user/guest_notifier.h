// ports/vhost_user/guest_notifier.h — notifications between vsw and a guest on one virtqueue.
//
// Device -> driver ("used buffer notification", the call eventfd): after vsw published used
// entries it signals the guest only when the guest asked for it (virtio 1.1 §2.6.7):
//   * without EVENT_IDX, unless avail->flags has NO_INTERRUPT;
//   * with EVENT_IDX, when used->idx moved past avail's used_event since the previous decision
//     (vring_need_event(used_event, new, old), old = used->idx at the previous decision, as
//     Linux vhost and DPDK keep it); the first decision after a start always signals. The
//     flags are ignored then (§2.6.7.2: "the device MUST ignore the lower bit of flags").
// With NOTIFY_ON_EMPTY (virtio 1.1 §6.3 "Legacy Interface: Reserved Feature Bits") the
// guest is also signalled, whatever it suppressed, when vsw used every entry it had posted.
// At most one eventfd write per call of notify(), i.e. per burst.
//
// Driver -> device (kicks): vsw polls its rings, so it asks the guest never to kick
// (virtio 1.1 §2.6.10): used->flags = NO_NOTIFY without EVENT_IDX; with EVENT_IDX avail_event is
// kept one entry behind what vsw consumed, an index the guest's avail->idx never crosses
// (need_event(avail_event, new, old) needs avail_event in [old, new)). Kicks are a hint: a
// guest may kick anyway; nobody reads the kick eventfd then (its counter just grows).
// Before its worker sleeps (adaptive polling) vsw asks for kicks instead: used->flags = 0, or
// avail_event = the next entry it will take, so the guest's next avail->idx move crosses it
// (need_event(avail_event, new, old) with old == avail_event); the worker then waits on the kick
// eventfd and suppresses kicks again when it wakes.
//
// Threads: start() on the control thread while the queue is unpublished; the rest by the one
// thread that owns the queue's fast path.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "ports/virtio_common/vring.h"

namespace vsw::ports::vhost_user {

class GuestNotifier {
 public:
  void start(int call_fd, bool event_idx, bool notify_on_empty, virtio::VringAvail* avail,
             virtio::VringUsed* used, uint16_t size, uint16_t last_avail) noexcept {
    call_fd_.store(call_fd, std::memory_order_relaxed);
    event_idx_ = event_idx;
    notify_on_empty_ = notify_on_empty;
    avail_ = avail;
    used_ = used;
    used_event_ = virtio::used_event_field(avail, size);
    avail_event_ = virtio::avail_event_field(used, size);
    signalled_valid_ = false;
    // The used ring's flags belong to the device (virtio 1.1 §2.6.8): NO_NOTIFY when it means
    // something, 0 otherwise.
    virtio::store_relaxed(&used->flags, event_idx ? 0 : virtio::kUsedFlagNoNotify);
    consumed(last_avail);
  }

  // Any thread (SET_VRING_CALL while the ring runs: QEMU replaces the call fd several times).
  // The fast path may still write the previous fd until its next quiescent point: close that
  // one only after the workers' grace period. -1: the guest polls.
  void set_call_fd(int fd) noexcept { call_fd_.store(fd, std::memory_order_relaxed); }

  // vsw consumed the avail entries before `last_avail`: keep kicks suppressed.
  void consumed(uint16_t last_avail) noexcept {
    if (event_idx_) virtio::store_relaxed(avail_event_, static_cast<uint16_t>(last_avail - 1));
  }

  // The worker is about to sleep with every entry before `last_avail` taken: asks the guest to
  // kick for the next one. The caller must re-read avail->idx afterwards (the guest may have
  // moved it before it saw the request): the full barrier orders this store before that load,
  // as the guest orders its avail->idx store before reading flags/avail_event (virtio 1.1
  // §2.6.10.1).
  void request_kicks(uint16_t last_avail) noexcept {
    if (event_idx_) {
      virtio::store_relaxed(avail_event_, last_avail);
    } else {
      virtio::store_relaxed(&used_->flags, uint16_t{0});
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // Back to polling: kicks suppressed again (the inverse of request_kicks).
  void suppress_kicks(uint16_t last_avail) noexcept {
    if (event_idx_) {
      consumed(last_avail);
    } else {
      virtio::store_relaxed(&used_->flags, virtio::kUsedFlagNoNotify);
    }
  }

  // used->idx was just stored (release) as `new_used`: signal the guest if it wants it.
  void notify(uint16_t new_used) noexcept {
    const int fd = call_fd_.load(std::memory_order_relaxed);
    if (fd < 0) return;
    // The store of used->idx must be visible before the guest's flags/used_event are read: a
    // guest re-enabling notifications writes used_event, then re-reads used->idx (virtio 1.1
    // §2.6.7: the full barrier both sides need so that one of them sees the other's update).
    std::atomic_thread_fence(std::memory_order_seq_cst);
    bool want;
    if (event_idx_) {
      const uint16_t event = virtio::load_relaxed(used_event_);
      want = !signalled_valid_ || virtio::vring_need_event(event, new_used, signalled_);
      signalled_ = new_used;
      signalled_valid_ = true;
    } else {
      want = (virtio::load_relaxed(&avail_->flags) & virtio::kAvailFlagNoInterrupt) == 0;
    }
    if (!want && notify_on_empty_) want = virtio::load_acquire(&avail_->idx) == new_used;
    if (!want) return;
    const uint64_t one = 1;
    // The one system call of the fast path. EAGAIN (counter saturated) means the guest has not
    // read the previous signals yet: it will see this one's entries anyway.
    if (::write(fd, &one, sizeof one) == sizeof one) {
      signals_.store(signals_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }

  // Any thread: eventfd writes made so far.
  uint64_t signals() const noexcept { return signals_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> call_fd_{-1};
  bool event_idx_ = false;
  bool notify_on_empty_ = false;
  bool signalled_valid_ = false;
  uint16_t signalled_ = 0;  // used->idx at the previous EVENT_IDX decision
  virtio::VringAvail* avail_ = nullptr;
  virtio::VringUsed* used_ = nullptr;
  uint16_t* used_event_ = nullptr;
  uint16_t* avail_event_ = nullptr;
  std::atomic<uint64_t> signals_{0};  // single writer
};

}  // namespace vsw::ports::vhost_user
