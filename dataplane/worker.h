// dataplane/worker.h — one pinned thread busy-polling its share of the rx queues.
//
// Loop (poll_once): load the published Topology (acquire), read the TSC once, and for each rx
// queue assigned to this worker receive up to 32 frames, let the ingress port's bridge sort them
// into per-destination batches (TxBatcher) and transmit each batch; then announce a quiescent
// point. After ~1000 consecutive empty passes the worker naps idle_sleep_us (0 disables) so an
// idle switch does not burn a core; the first frame brings it back to pure polling.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "common/result.h"
#include "dataplane/port_counters.h"
#include "dataplane/quiescent.h"
#include "dataplane/tx_batcher.h"
#include "dataplane/tx_context.h"

namespace vsw {

struct Topology;
class Mempool;

struct WorkerStats {
  uint64_t packets = 0;       // frames received and forwarded by this worker
  uint64_t batches = 0;       // non-empty rx bursts
  uint64_t busy_tsc = 0;      // cycles spent in passes that moved at least one frame
  uint64_t idle_tsc = 0;      // cycles spent in empty passes (including naps)
  double cycles_per_packet() const noexcept {
    return packets == 0 ? 0.0 : static_cast<double>(busy_tsc) / static_cast<double>(packets);
  }
};

class Worker {
 public:
  // `pool` gives buffers for software offloads at egress (segments, checksum copies); `workers`
  // is how many workers run in all.
  Worker(uint16_t id, int cpu, uint32_t idle_sleep_us, QuiescentDomain& qsd, Mempool* pool = nullptr,
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
  WorkerStats stats() const noexcept;

  // --- the worker thread (public for tests and benchmarks) -------------------------------------
  // One pass over this worker's rx queues; returns the number of frames moved.
  uint32_t poll_once() noexcept;

 private:
  void run() noexcept;

  uint16_t id_;
  int cpu_;
  uint32_t idle_sleep_us_;
  QuiescentDomain& qsd_;
  QuiescentDomain::Slot* qs_slot_ = nullptr;
  std::atomic<const Topology*> topo_{nullptr};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::unique_ptr<TxBatcher> batcher_;
  std::unique_ptr<TxContext> tx_ctx_;
  std::unique_ptr<PacketBatch> rx_batch_;  // reused every pass: no per-pass initialisation
  Counter packets_, batches_, busy_tsc_, idle_tsc_;  // single writer: this worker
};

}  // namespace vsw
