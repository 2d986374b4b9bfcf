// ports/vhost_user/guest_tx_queue.h — vsw's device side of a guest's transmit virtqueue
// (vring 2q+1, vsw rx queue q): frames the guest sends, lent to the switch without a copy.
//
// Model (the same as memif's RxRing, ports/memif/memif_ring.h): each frame's bytes stay in guest
// memory; vsw describes them with vsw-private Packet headers (kPacketLent) that the guest never
// sees. The header of avail position p is slots_[p & (size-1)] — indexed by ring position, not by
// the guest's head index, so a guest posting one head twice still gets two headers. A frame of
// several guest buffers (a TSO super-frame: the header, the linear part, page fragments, or an
// indirect table) is a Packet chain whose further segments take headers from a per-queue pool of
// kChainHeaders; when that pool is short the frame is copied into mempool buffers instead.
// The used ring entry {head, 0} is written when the frame is taken; used->idx moves past the
// taken entries only once every segment lent from them was released (release()/release_bulk()
// count them down), at the next receive() — with vsw's synchronous forwarding that is the next
// poll — followed by at most one call-eventfd signal (guest_notifier.h).
//
// Frame layout (virtio 1.1 §5.1.6.2): the chain's first hdr_len bytes are the virtio-net header,
// wherever they lie (own descriptor, shared with data, split); it is copied out of guest memory
// before it is parsed (vnet::import_vnet). Frames shorter than hdr_len + 14 or longer than
// hdr_len + kMaxGuestFrameBytes, asking for offloads that were not negotiated, or with an
// invalid header are dropped (Invalid) and their chains given back. The first lent segment holds
// at least the frame's first kMinHeadBytes; otherwise, and for every GSO super-frame, the first
// kHeadCopyBytes are copied into a mempool buffer that heads the chain (queue_config.h).
//
// Fast loop: a frame in one descriptor (header + data, VERSION_1 / ANY_LAYOUT), no offload,
// checked exactly like the general path, and the header in its own descriptor before one data
// descriptor (Linux when the headers are cloned), as a chain of two or a two-entry indirect
// table; anything else goes to take_frame().
//
// Untrusted guest: every value read from guest memory is read once into a local and checked
// (desc_chain.h lists the checks); a violation stops the burst, sets `v`, counts Invalid, and
// the ring must not be used again until it is restarted (the port stops the device).
//
// Threads: start()/stop() on the control thread while the queue is not published; receive() by
// the worker owning the vsw rx queue; release() by whoever drops the last reference of a lent
// segment — with the ownership contract of dataplane/port.h that is the same worker before its
// next quiescent point.
#pragma once

#include <cstdint>
#include <memory>

#include "common/result.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "ports/vhost_user/desc_chain.h"
#include "ports/vhost_user/guest_memory.h"
#include "ports/vhost_user/guest_notifier.h"
#include "ports/vhost_user/hot_region.h"
#include "ports/vhost_user/piece_copy.h"
#include "ports/vhost_user/queue_config.h"
#include "ports/vnet/virtio_net_hdr.h"

namespace vsw::ports::vhost_user {

class GuestTxQueue final : public BufferOwner {
 public:
  // Packet headers for the non-first segments of lent chains, per queue.
  static constexpr uint32_t kChainHeaders = 1024;

  GuestTxQueue() = default;
  GuestTxQueue(const GuestTxQueue&) = delete;
  GuestTxQueue& operator=(const GuestTxQueue&) = delete;

  // --- control thread, queue not published -----------------------------------------------------
  // (Re)starts the ring over `mem` (which lives while the queue is published). Indices start at
  // cfg.last_avail, unless used->idx disagrees: then a back-end restarted under a running guest,
  // and both indices take used->idx (what DPDK does; frames in flight may be resent or lost);
  // resynced() says so. Suppresses kicks (guest_notifier.h). Errors: a size that is not a power
  // of two <= 32768, a hdr_len other than 10/12, missing or misaligned rings, no memory.
  Status start(const GuestMemory* mem, const QueueConfig& cfg);
  // After the port unpublished the queue and the workers' grace period passed (nothing is lent
  // any more): publishes every taken entry to the used ring and returns the next avail index
  // (GET_VRING_BASE). Does not signal the guest. Idempotent; a queue never started returns 0.
  uint16_t stop() noexcept;
  bool started() const noexcept { return started_; }
  // Any thread: a new call eventfd (SET_VRING_CALL), see GuestNotifier::set_call_fd.
  void set_call_fd(int fd) noexcept { notifier_.set_call_fd(fd); }
  bool resynced() const noexcept { return resynced_; }

  // --- fast path: the worker owning the queue, only while started -------------------------------
  // Appends up to batch.room() frames (in_port = cfg.port, one reference each, lent: valid until
  // the worker's next quiescent point); returns how many. Dropped frames are counted in `c`. On
  // a violation stops, sets `v`, counts Invalid, returns the frames taken before it.
  uint16_t receive(PacketBatch& batch, QueueCounters& c, Violation& v) noexcept {
    // Idle poll: nothing new and nothing to give back. Inline: a load and two compares.
    const uint16_t avail_idx = virtio::load_acquire(&avail_->idx);
    if (nothing_to_do(avail_idx)) return 0;
    return receive_burst(avail_idx, batch, c, v);
  }
  // Adaptive polling (Port::enable_rx_wakeup): the kick eventfd to wait on (-1: none), a
  // request for kicks that is false when a frame (or a used index to publish) already waits,
  // and the return to polling, which consumes the kick when poll(2) saw one (`kicked`).
  int kick_fd() const noexcept { return kick_fd_; }
  bool enable_kicks() noexcept {
    notifier_.request_kicks(last_avail_);
    return nothing_to_do(virtio::load_acquire(&avail_->idx));
  }
  void disable_kicks(bool kicked) noexcept;
  // Last reference of a lent segment dropped.
  void release(Packet* p) noexcept override;
  // Last references of n lent single-segment frames (their slot headers) dropped at once.
  void release_bulk(Packet* const* pkts, uint16_t n) noexcept override;

  // --- any thread (tests, counters) ------------------------------------------------------------
  uint32_t outstanding() const noexcept { return outstanding_; }
  uint16_t last_avail() const noexcept { return last_avail_; }
  uint16_t last_used() const noexcept { return last_used_; }
  uint64_t signals() const noexcept { return notifier_.signals(); }
  // GSO super-frames taken whole (guest tx) or delivered whole (guest rx); any thread.
  uint64_t super_frames() const noexcept { return super_frames_.get(); }
  uint32_t free_chain_headers() const noexcept { return chain_free_count_; }
  uint16_t size() const noexcept { return size_; }

  // No new avail entry and no used index to publish (entries given back while none is lent).
  bool nothing_to_do(uint16_t avail_idx) const noexcept {
    return avail_idx == last_avail_ && (outstanding_ != 0 || last_used_ == last_avail_);
  }
  // The work of receive() once something changed (guest_tx_queue.cc).
  uint16_t receive_burst(uint16_t avail_idx, PacketBatch& batch, QueueCounters& c,
                         Violation& v) noexcept;

 private:
  template <uint32_t kHdr>
  uint16_t receive_burst_for(uint16_t avail_idx, PacketBatch& batch, QueueCounters& c,
                             Violation& v) noexcept;
  struct Taken {
    Packet* frame = nullptr;                // nullptr: dropped (or a violation)
    DropReason drop = DropReason::Invalid;  // why, when dropped
    uint32_t lent = 0;                      // lent segments in `frame`
  };
  // One frame at avail slot `slot`, every check (the general path: chains, indirect tables,
  // offloads, copies, drops, violations). Writes the used entry unless `v` is set.
  [[gnu::noinline]] Taken take_frame(uint32_t slot, Violation& v) noexcept;
  // The frame_len frame bytes at `cur` (the header already skipped) as a Packet chain headed by
  // the slot header `head` or by a mempool copy, per the rules above, with the offloads of `h`.
  Taken build_frame(Packet* head, PieceCursor cur, uint32_t frame_len,
                    const vnet::VirtioNetHdr& h) noexcept;
  // `bytes` bytes from `cur` into a fresh chain of mempool buffers (moving `cur`); nullptr when
  // the pool is short. The first buffer gets in_port and frame_len.
  Packet* copy_to_pool(PieceCursor& cur, uint32_t bytes, uint32_t frame_len) noexcept;
  // used->idx = last_avail_ (release), then the call decision.
  void publish() noexcept;
  bool offloads_allowed(const vnet::VirtioNetHdr& h) const noexcept;

  const GuestMemory* mem_ = nullptr;
  VringDesc* desc_ = nullptr;
  VringAvail* avail_ = nullptr;
  VringUsed* used_ = nullptr;
  uint16_t size_ = 0;
  uint16_t mask_ = 0;
  uint8_t hdr_len_ = 12;
  bool indirect_ = false;
  bool host_csum_ = false, host_tso4_ = false, host_tso6_ = false, host_ecn_ = false,
       host_uso_ = false;
  Mempool* pool_ = nullptr;
  PortId port_ = kNoPort;
  int kick_fd_ = -1;
  bool started_ = false;
  bool resynced_ = false;
  bool offload_dirty_ = false;  // a slot header taken since the last publish() has offloads
  uint16_t last_avail_ = 0;   // next avail entry to take
  uint16_t last_used_ = 0;    // entries before this are published in used->idx
  uint32_t outstanding_ = 0;  // lent segments not yet released
  GuestNotifier notifier_;
  Counter super_frames_;  // single writer: the worker using the queue
  HotRegion hot_;  // the fast loop's region cache (hot_region.h), reset by start()
  // slots_[0..capacity_): one header per ring position, constant fields set at start (owner,
  // slot, flags = kPacketLent, gso_type None, in_port, data_off 0, iova 0); receive sets base,
  // lengths and refs; take_frame() may set offloads, which publish() resets. next is nullptr
  // whenever the header is not lent.
  std::unique_ptr<Packet[]> slots_;
  uint32_t capacity_ = 0;
  std::unique_ptr<Packet[]> chain_;           // kChainHeaders, slot = kChainSlot + index
  std::unique_ptr<Packet*[]> chain_free_;     // stack of free chain headers
  uint32_t chain_free_count_ = 0;
};

// Packet::slot of a chain header (slot headers are below the ring size).
constexpr uint32_t kChainSlot = 0x80000000u;

}  // namespace vsw::ports::vhost_user
