// dataplane/quiescent.h — quiescent-state based reclamation (the RCU idea, in its simplest form).
//
// Workers announce a quiescent point at the end of every poll pass: a moment where they hold no
// pointer into any shared, replaceable state (topology, port connection state). The control
// thread unpublishes an object (swaps a pointer), calls synchronize(), and may then free it:
// synchronize() returns once every online worker has passed a quiescent point after the call
// started, so no worker can still be using what was unpublished.
//
// Cost on the fast path: one relaxed-store-with-release per poll pass, never per packet.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>

namespace vsw {

class QuiescentDomain {
 public:
  static constexpr unsigned kMaxSlots = 64;

  struct alignas(64) Slot {
    std::atomic<uint64_t> passes{0};  // quiescent points announced so far
    std::atomic<bool> online{false};  // false: not using shared state at all
    std::atomic<bool> used{false};    // slot handed out by register_thread()
  };

  // --- control thread ----------------------------------------------------------------------------
  // Hands out a slot for one worker; nullptr when all kMaxSlots are taken.
  Slot* register_thread() noexcept;
  // The worker no longer touches shared state (it has stopped); releases the slot.
  void unregister_thread(Slot* s) noexcept;
  // Waits (sleeping in 20 us steps) until every online slot has announced a quiescent point
  // after this call began. Must not be called from a worker thread.
  void synchronize() const noexcept;

  // --- the worker owning `s` ---------------------------------------------------------------------
  static void set_online(Slot* s, bool online) noexcept {
    s->online.store(online, std::memory_order_seq_cst);
  }
  static void quiescent(Slot* s) noexcept {
    s->passes.store(s->passes.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);
  }

 private:
  std::array<Slot, kMaxSlots> slots_{};
  std::mutex register_mu_;
};

}  // namespace vsw
