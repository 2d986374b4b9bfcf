// ports/vhost_user/guest_rx_queue.h — vsw's device side of a guest's receive virtqueue (vring 2q):
// vsw copies each frame into the buffers the guest posted (the one copy of a frame between two
// guests) behind a virtio-net header.
//
// Per frame (virtio 1.1 §5.1.6.4 "Processing of Incoming Packets"; vhost-user.md §7 step 4):
//   * header: export_vnet() of the frame's offload metadata, num_buffers = the buffers used
//     (1 without MRG_RXBUF, where the 12-byte header has the field). A super-frame or a partial
//     checksum the guest did not accept (GUEST_TSO4/TSO6/ECN/USO, GUEST_CSUM) is dropped and
//     counted (GSO: Mtu, partial checksum: Invalid) — the port's offload caps normally make
//     Port::transmit segment or complete it first; DATA_VALID is only set with GUEST_CSUM.
//   * without MRG_RXBUF the frame and its header must fit the one chain at the next avail entry;
//     a frame that does not is dropped (Mtu) and the chain stays for the next frame;
//   * with MRG_RXBUF it fills as many avail entries as it needs, each chain completely before
//     the next, one used entry {head, bytes written} per chain.
// Used entries are written as the frames are copied; used->idx is stored (release) once per
// burst, then at most one call-eventfd signal (guest_notifier.h).
// No avail entry left: the frame and the rest of the batch are dropped (TxFull); nothing of a
// frame that did not fit is published.
//
// Fast loop: a one-segment frame without offloads into a one-descriptor writable buffer, with
// the same checks as the general path (deliver()), which takes everything else.
//
// Untrusted guest: each avail entry and descriptor is read once and checked (desc_chain.h);
// read-only descriptors are never written; only [addr, addr + bytes written) of a buffer is
// translated and written. A violation drops the rest of the batch (Invalid), sets `v`, and the
// ring must not be used again until restarted.
//
// Threads: start()/stop() on the control thread while the queue is not published; transmit()
// under the tx lock of the vsw tx queue mapped to this ring.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "ports/vhost_user/desc_chain.h"
#include "ports/vhost_user/guest_memory.h"
#include "ports/vhost_user/guest_notifier.h"
#include "ports/vhost_user/hot_region.h"
#include "ports/vhost_user/queue_config.h"

namespace vsw::ports::vhost_user {

class GuestRxQueue {
 public:
  GuestRxQueue() = default;
  GuestRxQueue(const GuestRxQueue&) = delete;
  GuestRxQueue& operator=(const GuestRxQueue&) = delete;

  // --- control thread, queue not published -----------------------------------------------------
  // As GuestTxQueue::start: indices from cfg.last_avail, or both from used->idx when it disagrees
  // (resynced()); kicks suppressed. Errors: bad size, hdr_len, missing or misaligned rings.
  Status start(const GuestMemory* mem, const QueueConfig& cfg);
  // Every frame copied is already published; returns the next avail index (GET_VRING_BASE).
  // Idempotent; a queue never started returns 0.
  uint16_t stop() noexcept;
  bool started() const noexcept { return started_; }
  // Any thread: a new call eventfd (SET_VRING_CALL), see GuestNotifier::set_call_fd.
  void set_call_fd(int fd) noexcept { notifier_.set_call_fd(fd); }
  bool resynced() const noexcept { return resynced_; }

  // --- fast path: under the tx lock of the queue mapped to this ring, only while started -------
  // Takes every reference in `batch` (leaves it empty); returns the frames delivered. Drops are
  // counted in `c` (TxFull: no buffers; Mtu / Invalid: see above). On a violation the rest of
  // the batch is counted Invalid and `v` is set.
  uint16_t transmit(PacketBatch& batch, QueueCounters& c, Violation& v) noexcept;

  // --- any thread (tests, counters) ------------------------------------------------------------
  uint16_t last_avail() const noexcept { return last_avail_; }
  uint64_t signals() const noexcept { return notifier_.signals(); }
  // GSO super-frames taken whole (guest tx) or delivered whole (guest rx); any thread.
  uint64_t super_frames() const noexcept { return super_frames_.get(); }
  uint16_t size() const noexcept { return size_; }

 private:
  template <uint32_t kHdr, bool kGuestCsum>
  uint16_t transmit_for(PacketBatch& batch, QueueCounters& c, Violation& v) noexcept;
  enum class Outcome : uint8_t { Delivered, Dropped, NoRoom, Broken };
  struct Delivery {
    Outcome outcome = Outcome::Broken;
    uint16_t buffers = 0;                   // avail entries used (Delivered)
    DropReason drop = DropReason::Invalid;  // Dropped
  };
  // The general path: frame `src` into the buffers from avail entry `cur` on (before
  // `avail_idx`). Writes the used entries; publishes nothing.
  [[gnu::noinline]] Delivery deliver(const Packet& src, uint16_t cur, uint16_t avail_idx,
                                     Violation& v) noexcept;
  bool accepts(const Packet& p, DropReason& why) const noexcept;

  const GuestMemory* mem_ = nullptr;
  VringDesc* desc_ = nullptr;
  VringAvail* avail_ = nullptr;
  VringUsed* used_ = nullptr;
  uint16_t size_ = 0;
  uint16_t mask_ = 0;
  uint8_t hdr_len_ = 12;
  bool mrg_rxbuf_ = false;
  bool indirect_ = false;
  bool guest_csum_ = false, guest_tso4_ = false, guest_tso6_ = false, guest_ecn_ = false,
       guest_uso_ = false;
  bool started_ = false;
  bool resynced_ = false;
  uint16_t last_avail_ = 0;  // next avail entry to fill; == used->idx after every transmit()
  GuestNotifier notifier_;
  Counter super_frames_;  // single writer: the worker using the queue
  HotRegion hot_;  // the fast loop's region cache (hot_region.h), reset by start()
};

}  // namespace vsw::ports::vhost_user
