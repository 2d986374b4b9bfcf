// ports/vhost_user/guest_notifier.h — notifications between vsw and a guest on one virtqueue.
//
// Device -> driver ("used buffer notification", the call eventfd): after vsw published used
// entries it signals the guest only when the guest asked for it (virtio 1.1 §2.6.7):
//   * without EVENT_IDX, unless avail->flags has NO_INTERRUPT;
//   * with EVENT_IDX, when used->idx moved past avail's used_event since the previous decision
//     (vring_need_event(used_event, new, old), old = used->idx at the previous decision, as
//     Linux vhost and DPDK keep it); the first decision after a start always signals. The
//     flags are ignored then (§2.6.7.2: "the device MUST ignore the lower bit of flags").
// At most one eventfd write per call of notify(), i.e. per burst.
//
// Driver -> device (kicks): vsw polls its rings, so it asks the guest never to kick
// (virtio 1.1 §2.6.10): used->flags = NO_NOTIFY without EVENT_IDX; with EVENT_IDX avail_event is
// kept one entry behind what vsw consumed, an index the guest's avail->idx never crosses
// (need_event(avail_event, new, old) needs avail_event in [old, new)). Kicks are a hint: a
// guest may kick anyway and the session drains the kick eventfd if it has one.
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
  void start(int call_fd, bool event_idx, virtio::VringAvail* avail, virtio::VringUsed* used,
             uint16_t size, uint16_t last_avail) noexcept {
    call_fd_ = call_fd;
    event_idx_ = event_idx;
    avail_ = avail;
    used_event_ = virtio::used_event_field(avail, size);
    avail_event_ = virtio::avail_event_field(used, size);
    signalled_valid_ = false;
    // The used ring's flags belong to the device (virtio 1.1 §2.6.8): NO_NOTIFY when it means
    // something, 0 otherwise.
    virtio::store_relaxed(&used->flags, event_idx ? 0 : virtio::kUsedFlagNoNotify);
    consumed(last_avail);
  }

  // vsw consumed the avail entries before `last_avail`: keep kicks suppressed.
  void consumed(uint16_t last_avail) noexcept {
    if (event_idx_) virtio::store_relaxed(avail_event_, static_cast<uint16_t>(last_avail - 1));
  }

  // used->idx was just stored (release) as `new_used`: signal the guest if it wants it.
  void notify(uint16_t new_used) noexcept {
    if (call_fd_ < 0) return;
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
    if (!want) return;
    const uint64_t one = 1;
    // The one system call of the fast path. EAGAIN (counter saturated) means the guest has not
    // read the previous signals yet: it will see this one's entries anyway.
    if (::write(call_fd_, &one, sizeof one) == sizeof one) {
      signals_.store(signals_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }
  }

  // Any thread: eventfd writes made so far.
  uint64_t signals() const noexcept { return signals_.load(std::memory_order_relaxed); }

 private:
  int call_fd_ = -1;
  bool event_idx_ = false;
  bool signalled_valid_ = false;
  uint16_t signalled_ = 0;  // used->idx at the previous EVENT_IDX decision
  virtio::VringAvail* avail_ = nullptr;
  uint16_t* used_event_ = nullptr;
  uint16_t* avail_event_ = nullptr;
  std::atomic<uint64_t> signals_{0};  // single writer
};

}  // namespace vsw::ports::vhost_user
