// dataplane/port.h — the interface every port type implements (tap, afpacket, memif, ...).
//
// Direction vocabulary for the whole code base: rx = from outside into vsw, tx = from vsw to the
// outside. For memif and vhost-user this is the reverse of the peer's own view.
//
// Threads:
//   * identity and shape: any thread, constant after creation;
//   * rx_burst(q): only the worker that owns rx queue q (exactly one worker polls each rx queue);
//   * transmit(): any worker; Port serialises workers that share a tx queue with one lock per
//     batch (never per packet), as OVS does for ports with fewer tx queues than threads; with a
//     tx queue per worker there is no lock;
//   * everything else: the control thread.
// A port is destroyed by the control thread only after every worker passed a quiescent point
// since the port left the published topology (dataplane/quiescent.h), so the fast path never
// sees a dangling Port*.
//
// Buffer ownership — the contract every port keeps:
//   * Owned buffers come from a Mempool (Packet::owner is the pool). They may be kept as long as
//     the holder likes (a tx ring waiting for completions, a software queue) and released from
//     any thread. They may be given to a device for DMA only when Packet::is_dma_capable(): the
//     pool's memory has a real device address (physical for uio, IOMMU-mapped for vfio). A pool
//     in ordinary pages has iova 0 and must never be handed to a device.
//   * Lent buffers (Packet::is_lent(), kPacketLent) are a peer's memory (memif, vhost-user) with
//     a vsw-private header. They are valid only until the receiving worker's next quiescent
//     point: the peer may disconnect (and its memory be unmapped) right after it. Every
//     reference to a lent frame must therefore be dropped inside the tx_burst() call that got it
//     (after copying the bytes out). A port that keeps buffers after tx_burst() returns replaces
//     lent frames by owned copies first (make_owned(), dataplane/buffer_ownership.h) — lent
//     memory never reaches a device and never outlives the burst. Lent bytes are also never
//     written: the peer may change them at any time, so checks are made on copies. Neither are
//     a lent frame's header fields (data_off, in_port, flags, offload metadata): the lending
//     port sets the constant ones once per ring slot (memif_ring.h).
//   * A packet with refs > 1 (flooded) is shared: nobody writes its bytes or header fields.
//     Completing a checksum or segmenting a super-frame (egress_offload.h) works on new buffers
//     or on a packet held alone.
//   * tx_burst() takes every reference in the batch, whatever it returns.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/spin_lock.h"
#include "dataplane/egress_offload.h"
#include "dataplane/offload_caps.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "dataplane/tx_context.h"

namespace vsw {

struct PortCaptures;

enum class LinkState : uint8_t { Down, Up };

constexpr std::string_view link_state_name(LinkState s) noexcept {
  return s == LinkState::Up ? "up" : "down";
}

class Port {
 public:
  virtual ~Port() = default;
  Port(const Port&) = delete;
  Port& operator=(const Port&) = delete;

  // --- identity and shape: any thread ---------------------------------------------------------
  const std::string& name() const noexcept { return name_; }
  PortId id() const noexcept { return id_; }
  // The type name used on the command line: "tap", "afpacket", "memif", ...
  virtual std::string_view type() const noexcept = 0;
  // Constant after creation; at least 1, at most PortCounters::kMaxQueues.
  virtual uint16_t rx_queue_count() const noexcept = 0;
  virtual uint16_t tx_queue_count() const noexcept = 0;
  // Largest L3 payload accepted for transmit; frames longer than mtu() + 18 (Ethernet header and
  // one VLAN tag) are dropped with DropReason::Mtu by transmit(). For a GSO super-frame the limit
  // applies to its segments (hdr_len + gso_size), not to the super-frame.
  uint32_t mtu() const noexcept { return mtu_; }
  // What the port's peer takes as it is (super-frames, partial checksums, chain length);
  // transmit() does the rest in software (dataplane/egress_offload.h). Any thread; may change
  // while the port exists when its peer negotiates offloads (vhost-user).
  OffloadCaps offload_caps() const noexcept { return caps_.load(std::memory_order_relaxed); }

  // --- fast path: never blocks, allocates (beyond mempool buffers) or throws -----------------
  // Only the worker owning rx queue `q`. Appends up to batch.room() received frames to `batch`
  // (each with in_port = id() and one reference owned by the caller); returns how many.
  virtual uint16_t rx_burst(QueueId q, PacketBatch& batch) noexcept = 0;

  // --- wake-up sources: only the worker owning rx queue `q` (adaptive polling, worker.h) -------
  // Before sleeping the worker calls enable_rx_wakeup() on each of its queues, then waits for
  // rx_wakeup_fd() of each to become readable (poll(2) POLLIN); after waking it calls
  // disable_rx_wakeup() on every queue it enabled. The fd may change while the port exists (a
  // peer reconnects), so the worker asks for it each time it goes to sleep.
  //
  // The fd to wait on: kNoRxWakeup when the queue has none (the worker then naps at most
  // 50 µs, as it did before adaptive polling), kRxWakeupByControl when nothing can arrive until
  // the control thread changes the port's state and then calls QuiescentDomain::synchronize() (which wakes every sleeper).
  static constexpr int kNoRxWakeup = -1;
  static constexpr int kRxWakeupByControl = -2;
  virtual int rx_wakeup_fd(QueueId q) const noexcept {
    (void)q;
    return kNoRxWakeup;
  }
  // Asks the peer to signal rx_wakeup_fd(q) for the next frame, then looks again: false when a
  // frame already waits (it may have arrived before the peer saw the request), so the worker
  // must not sleep. The re-check after enabling is what closes the lost-wake-up race.
  virtual bool enable_rx_wakeup(QueueId q) noexcept {
    (void)q;
    return true;
  }
  // Stops asking the peer to signal. `signalled`: poll(2) reported rx_wakeup_fd(q) readable;
  // a port whose fd holds a signal (an eventfd) then consumes it, so the fd is quiet again (a
  // signal that lands after the poll makes the next sleep end at once, and is consumed then).
  virtual void disable_rx_wakeup(QueueId q, bool signalled) noexcept {
    (void)q;
    (void)signalled;
  }

  // Only under the tx-queue lock (use transmit()). Takes ownership of every packet in `batch`,
  // whatever happens, and leaves `batch` empty. Returns how many frames went to the peer or
  // device; the others are released and counted in counters().tx(q).drops.
  virtual uint16_t tx_burst(QueueId q, PacketBatch& batch) noexcept = 0;

  // Any worker: drops frames over the MTU, does in software the offloads the port lacks
  // (segmenting super-frames, completing checksums, shortening chains: with buffers from
  // ctx.pool; one segmentation per flush shared by the ports that need it), picks tx queue
  // `ctx.worker % tx_queue_count()` and calls tx_burst() — more than once when segmentation
  // produced more than one batch. The queue's lock is held around each tx_burst() only when
  // workers share the queue: ctx.workers (ids 0..workers-1, fixed while the port exists) >
  // tx_queue_count(), or ctx.workers == 0 (unknown). Same ownership contract as tx_burst();
  // returns the frames sent.
  uint16_t transmit(TxContext& ctx, PacketBatch& batch) noexcept;
  // The same with a context of its own: worker count unknown (always locks), no pool (frames
  // needing a software offload are dropped as NoBuffer). For tests and tools; workers pass their
  // TxContext.
  uint16_t transmit(uint16_t worker, PacketBatch& batch) noexcept {
    TxContext ctx(worker, 0, nullptr);
    return transmit(ctx, batch);
  }

  // --- control thread ---------------------------------------------------------------------------
  virtual LinkState link_state() const noexcept = 0;
  // Type-specific facts for "port show" (e.g. {"ifname", "vsw-tap0"}).
  virtual std::vector<std::pair<std::string, std::string>> details() const { return {}; }
  // Called periodically (about every 100 ms) on the control thread; ports with housekeeping
  // (peer liveness, link polling) override it. Never called concurrently with destruction.
  virtual void housekeeping() {}
  const PortCounters& counters() const noexcept { return counters_; }
  PortCounters& counters() noexcept { return counters_; }

  // --- live capture (dataplane/capture/): workers load it once per burst --------------------
  // The captures running on this port; nullptr (the usual case) when none.
  const PortCaptures* captures() const noexcept {
    return captures_.load(std::memory_order_acquire);
  }
  // Control thread (CaptureRegistry): publishes a new list; the old one may be freed after a
  // grace period (QuiescentDomain::synchronize).
  void set_captures(const PortCaptures* c) noexcept {
    captures_.store(c, std::memory_order_release);
  }

 protected:
  Port(std::string name, PortId id, uint32_t mtu) : name_(std::move(name)), id_(id), mtu_(mtu) {}
  // The port type states what its peer accepts (default: nothing but ordinary frames, chains of
  // any length): in its constructor, or on the control thread when a peer (re)negotiates. A
  // worker's transmit() in progress may still use the previous value for its batch, so a port
  // whose caps shrink must also cope with a frame it no longer accepts (drop and count it).
  void set_offload_caps(const OffloadCaps& caps) noexcept {
    caps_.store(caps, std::memory_order_relaxed);
  }

  PortCounters counters_;

 private:
  // Hands `batch` to tx_burst(q) under the queue's lock when `shared`; adds `drops` (if any) to
  // the queue's counters under the same lock.
  uint16_t send(QueueId q, bool shared, PacketBatch& batch, EgressDrops* drops) noexcept;
  // The batch holds a frame that is not an ordinary one within the MTU: filter, prepare, send.
  uint16_t transmit_slow(TxContext& ctx, QueueId q, bool shared, uint32_t max_frame,
                         PacketBatch& batch) noexcept;

  std::string name_;
  PortId id_;
  uint32_t mtu_;
  std::atomic<OffloadCaps> caps_{OffloadCaps{}};
  static_assert(std::atomic<OffloadCaps>::is_always_lock_free);
  std::array<SpinLock, PortCounters::kMaxQueues> tx_locks_{};
  std::atomic<const PortCaptures*> captures_{nullptr};
};

constexpr uint32_t kDefaultMtu = 1500;
constexpr uint32_t kMaxMtu = 9600;

}  // namespace vsw
