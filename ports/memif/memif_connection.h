// ports/memif/memif_connection.h — everything one connected client shares with vsw's workers.
//
// Built by the control session at CONNECT from what the handshake collected (mapped regions,
// ring positions, eventfds), checked (every ring inside its region, cookie, at least one ring
// each way, memif.md §10), then published by the port through an atomic pointer. Workers read
// it without locks; the control thread unpublishes it, waits for a grace period
// (QuiescentDomain::synchronize) and only then destroys it, which unmaps the regions and closes
// the descriptors. Nothing in here is ever resized while published.
//
//   MemifPort::conn_ ──► Connection
//                        ├── regions_  : Region[]      (mappings, owned)
//                        ├── views_    : RegionView[]  (base/size, what the fast path checks)
//                        ├── rx_       : RxRing[]      (one per C2S ring; rx queue q = ring q)
//                        ├── tx_       : TxRing[]      (one per S2C ring; tx queue q -> q % n)
//                        └── violation_: first data-path violation, acted on by housekeeping
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/spin_lock.h"
#include "ports/memif/memif_region.h"
#include "ports/memif/memif_ring.h"
#include "ports/shm/unique_fd.h"

namespace vsw::ports::memif {

// Where the client put one ring (from ADD_RING, already range-checked by the session).
struct RingSpec {
  uint16_t region = 0;
  uint32_t offset = 0;
  uint8_t log2_size = 0;
  UniqueFd eventfd;
};

class Connection {
 public:
  // Control thread. Checks each ring against its region (bounds, 8-byte alignment, cookie) and
  // builds the rings; InvalidArgument with a reason fit for the client's DISCONNECT.
  static Result<std::unique_ptr<Connection>> create(std::vector<Region> regions,
                                                    std::vector<RingSpec> c2s,
                                                    std::vector<RingSpec> s2c);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Control thread, before publishing: the owning port, the largest buffer vsw reads or fills,
  // and how many tx queues map onto the S2C rings (more queues than rings need a ring lock).
  // Builds the rings, resets them (memif.md §6) and masks interrupts on the rings vsw polls.
  void bind(PortId port, uint32_t max_segment_bytes, uint16_t tx_queues);

  // --- fast path -------------------------------------------------------------------------------
  std::span<const RegionView> regions() const noexcept { return views_; }
  uint16_t rx_count() const noexcept { return static_cast<uint16_t>(rx_.size()); }
  uint16_t tx_count() const noexcept { return static_cast<uint16_t>(tx_.size()); }
  RxRing& rx(uint16_t i) noexcept { return *rx_[i]; }
  // The interrupt eventfd the client signals for C2S ring i (memif.md §9); -1 if it sent none.
  int rx_eventfd(uint16_t i) const noexcept { return c2s_[i].eventfd; }
  TxRing& tx(uint16_t i) noexcept { return *tx_[i]; }
  // Non-null when several tx queues share ring i (fewer S2C rings than tx queues).
  SpinLock* tx_lock(uint16_t i) noexcept { return tx_shared_ ? &tx_locks_[i] : nullptr; }
  bool failed() const noexcept {
    return violation_.load(std::memory_order_relaxed) != Violation::None;
  }
  // Records the first violation; the port's housekeeping disconnects the client.
  void report(Violation v) noexcept {
    Violation none = Violation::None;
    violation_.compare_exchange_strong(none, v, std::memory_order_relaxed);
  }

  // --- control thread ----------------------------------------------------------------------------
  Violation violation() const noexcept { return violation_.load(std::memory_order_relaxed); }
  uint8_t ring_log2() const noexcept { return ring_log2_; }
  uint64_t interrupts() const noexcept;

 private:
  struct Placed {  // a checked ring, before bind() builds its RxRing/TxRing
    RingHeader* hdr;
    uint8_t log2;
    int eventfd;
  };
  Connection() = default;

  std::vector<Region> regions_;
  std::vector<Placed> c2s_, s2c_;
  std::vector<RegionView> views_;
  std::vector<UniqueFd> eventfds_;
  std::vector<std::unique_ptr<RxRing>> rx_;
  std::vector<std::unique_ptr<TxRing>> tx_;
  std::unique_ptr<SpinLock[]> tx_locks_;
  bool tx_shared_ = false;
  uint8_t ring_log2_ = 0;
  std::atomic<Violation> violation_{Violation::None};
};

}  // namespace vsw::ports::memif
