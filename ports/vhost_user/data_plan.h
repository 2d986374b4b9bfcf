// ports/vhost_user/data_plan.h — everything of one vhost-user device the workers read: the guest
// memory table and the running queues, published by the port through one atomic pointer.
//
//   VhostUserPort::plan_ ──► DataPlan
//                            ├── mem        : GuestMemory (views of the Device's mappings)
//                            ├── rx[q]      : GuestTxQueue* (vring 2q+1) for vsw rx queue q, or null
//                            ├── tx[r]      : GuestRxQueue* (vring 2r), r < tx_rings, compact
//                            └── violation  : the first data-path violation, acted on by housekeeping
//
// Immutable while published (only `violation` and the queues' own fast-path state change). The
// Device (vhost_device.h) builds a new plan for every change of memory or rings: it unpublishes
// the old one, waits for the workers' grace period, stops the queues, and publishes the new.
// vsw tx queue q writes guest rx ring tx[q % tx_rings]; when more vsw tx queues than running
// rings exist, rings are shared and tx_locks serialise the writers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "common/spin_lock.h"
#include "dataplane/port_counters.h"
#include "ports/vhost_user/guest_memory.h"
#include "ports/vhost_user/guest_rx_queue.h"
#include "ports/vhost_user/guest_tx_queue.h"
#include "ports/vhost_user/queue_config.h"

namespace vsw::ports::vhost_user {

// Queue pairs a vhost-user port may have (vsw queues are limited by PortCounters).
constexpr uint16_t kMaxQueuePairs = 16;
static_assert(kMaxQueuePairs <= PortCounters::kMaxQueues);

struct DataPlan {
  GuestMemory mem;
  std::array<GuestTxQueue*, kMaxQueuePairs> rx{};
  std::array<GuestRxQueue*, kMaxQueuePairs> tx{};
  uint16_t tx_rings = 0;
  bool tx_shared = false;
  std::array<SpinLock, kMaxQueuePairs> tx_locks{};
  std::atomic<Violation> violation{Violation::None};
  std::atomic<uint16_t> violation_vring{0};

  bool failed() const noexcept {
    return violation.load(std::memory_order_relaxed) != Violation::None;
  }
  // Any worker: records the first violation (the port's housekeeping stops the device).
  void report(Violation v, uint16_t vring) noexcept {
    Violation none = Violation::None;
    if (violation.compare_exchange_strong(none, v, std::memory_order_relaxed)) {
      violation_vring.store(vring, std::memory_order_relaxed);
    }
  }
};

}  // namespace vsw::ports::vhost_user
