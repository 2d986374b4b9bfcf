// dataplane/worker.h — one pinned thread polling its share of the rx queues.
//
// Loop (poll_once): load the published Topology (acquire), read the TSC once, and for each rx
// queue assigned to this worker receive up to 32 frames, let the ingress port's bridge sort them
// into per-destination batches (TxBatcher) and transmit each batch; then announce a quiescent
// point.
//
// Poll modes (docs/daemon.md "Poll modes"):
//   * busy: poll without pause, whatever the traffic (lowest latency, one core per worker);
//   * adaptive (the default): after kSleepAfterUs of passes that moved nothing, the worker arms
//     every rx queue's wake-up source (Port::enable_rx_wakeup: memif interrupt eventfds, tap
//     and packet-socket fds, ...) and sleeps in poll(2) on those fds and its doorbell eventfd.
//     A queue whose enable finds a frame already waiting cancels the sleep (the lost-wake-up
//     race). On waking it disarms the queues it armed and polls again.
// Asleep, the worker is still online in the QuiescentDomain — it holds the topology it armed —
// so a grace period rings its doorbell (QuiescentDomain::synchronize), as does stop().
#pragma once
#pragma once

#include <poll.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "dataplane/port_counters.h"
#include "dataplane/quiescent.h"
#include "dataplane/tx_batcher.h"
#include "dataplane/tx_context.h"

namespace vsw {

struct Topology;
class Mempool;
class Port;

enum class PollMode : uint8_t { Adaptive, Busy };

constexpr std::string_view poll_mode_name(PollMode m) noexcept {
  return m == PollMode::Busy ? "busy" : "adaptive";
}

struct WorkerStats {
  uint64_t packets = 0;       // frames received and forwarded by this worker
  uint64_t batches = 0;       // non-empty rx bursts
  uint64_t busy_tsc = 0;      // cycles spent in passes that moved at least one frame
  uint64_t idle_tsc = 0;      // cycles spent in empty passes (including sleeps)
  uint64_t sleeps = 0;        // times the worker went to sleep (adaptive mode)
  uint64_t wakeups = 0;       // sleeps ended by traffic (a queue's wake-up source fired)
  double cycles_per_packet() const noexcept {
    return packets == 0 ? 0.0 : static_cast<double>(busy_tsc) / static_cast<double>(packets);
  }
};

class Worker {
 public:
  // `pool` gives buffers for software offloads at egress (segments, checksum copies); `workers`
  // is how many workers run in all.
  // How long a worker polls without moving a frame before it sleeps (adaptive mode): long
  // enough that a request/response exchange (ping, TCP ACK clocking) finds it still polling
  // for the reply, short enough that idle polling is a small share of an idle second.
  static constexpr uint32_t kSleepAfterUs = 200;
  // Longest sleep when one of the queues has no wake-up source (Port::kNoRxWakeup: virtio over
  // uio or legacy, ring ports): the nap the worker took before adaptive polling, so such ports keep
  // their latency. A nap that ends without a signal sends the worker straight back to sleep
  // after one pass (no new kSleepAfterUs of polling), so idle such ports cost little CPU.
  static constexpr int kUnarmedSleepUs = 50;
  // Longest sleep in any case: a backstop for a peer that publishes a frame and then checks
  // whether to signal without a full fence in between (the store-buffer pattern, quiescent.h),
  // which can miss the worker's request in a window of nanoseconds. Ten wake-ups a second
  // cost nothing measurable; such a frame waits at most this long instead of forever.
  static constexpr int kBackstopSleepMs = 100;

  Worker(uint16_t id, int cpu, PollMode mode, QuiescentDomain& qsd, Mempool* pool = nullptr,
         uint16_t workers = 1);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // --- control thread ------------------------------------------------------------------------------
  Status start();
  void stop();
  // Publishes the topology this worker polls from its next pass on (release store).
  void adopt(const Topology* topo) noexcept { topo_.store(topo, std::memory_order_release); }
  uint16_t id() const noexcept { return id_; }
  int cpu() const noexcept { return cpu_; }
  PollMode mode() const noexcept { return mode_; }
  // Before start(): the backstop (default kBackstopSleepMs). Tests lengthen it to show that a
  // wake-up came from a queue or the doorbell, not from the timeout.
  void set_max_sleep_ms(int ms) noexcept { max_sleep_ms_ = ms; }
  WorkerStats stats() const noexcept;

  // --- the worker thread (public for tests and benchmarks) -------------------------------------
  // One pass over this worker's rx queues; returns the number of frames moved.
  uint32_t poll_once() noexcept;
  // Adaptive mode: arms this worker's rx queues and sleeps until one of them signals, the
  // doorbell rings or (a queue without wake-up source) kUnarmedSleepUs passed; disarms them
  // again before returning. Returns false without sleeping when a queue already had a frame
  // when armed, or stop() was called. After it, quiet_timeout() tells whether the sleep ended
  // on its timeout with neither a signal nor the doorbell.
  bool sleep_until_traffic() noexcept;
  bool quiet_timeout() const noexcept { return quiet_timeout_; }

 private:
  void run() noexcept;

  uint16_t id_;
  int cpu_;
  PollMode mode_;
  QuiescentDomain& qsd_;
  int doorbell_ = -1;  // eventfd rung by synchronize() and stop(); owned
  int max_sleep_ms_ = kBackstopSleepMs;
  bool quiet_timeout_ = false;  // the last sleep ended on its timeout, nothing signalled
  QuiescentDomain::Slot* qs_slot_ = nullptr;
  std::atomic<const Topology*> topo_{nullptr};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::unique_ptr<TxBatcher> batcher_;
  std::unique_ptr<TxContext> tx_ctx_;
  std::unique_ptr<PacketBatch> rx_batch_;  // reused every pass: no per-pass initialisation
  Counter packets_, batches_, busy_tsc_, idle_tsc_;  // single writer: this worker
  Counter sleeps_, wakeups_;
  // Scratch of sleep_until_traffic(), reserved once: the queues armed, the fds polled.
  struct Armed {
    Port* port;
    QueueId queue;
    int poll_index;  // its entry in pollfds_, -1: none
  };
  std::vector<Armed> armed_;
  std::vector<pollfd> pollfds_;
};

}  // namespace vsw
