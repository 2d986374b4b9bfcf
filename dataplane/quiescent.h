// dataplane/quiescent.h — quiescent-state based reclamation (the RCU idea, in its simplest form).
//
// Workers announce a quiescent point at the end of every poll pass: a moment where they hold no
// pointer into any shared, replaceable state (topology, port connection state). The control
// thread unpublishes an object (swaps a pointer), calls synchronize(), and may then free it:
// synchronize() returns once every online worker has passed a quiescent point after the call
// started, so no worker can still be using what was unpublished.
//
// Memory ordering (C++20 [atomics.order] p4, the store-buffer pattern):
//   control:  store(shared ptr = new)   ; fence(seq_cst) ; load(passes), load(online)
//   worker:   store(passes + 1, release); fence(seq_cst) ; load(shared ptr) in the next pass
// Either the control thread's snapshot sees the worker's increment, or the worker's next load
// sees the new pointer: never neither. So a worker whose increment the snapshot missed can only
// be in a pass that already loads the new pointer, and any pass that loaded the old one ends with
// an increment the wait observes. Without the two fences both sides may read the old values (a
// store can wait in a store buffer while a later load goes ahead, x86 included), and a worker
// could still see the old pointer after synchronize() returned. The release store also makes
// every read of the old object happen before synchronize() returns (and the object is freed).
// The worker's loads of shared pointers may then be acquire (or relaxed + dependency).
//
// Cost on the fast path: one store and one full fence per poll pass, never per packet (a
// seq_cst store costs the same full barrier on x86).
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
    // An eventfd the worker may sleep on while still online (adaptive polling, worker.h): a
    // grace period that waits for this slot writes 1 to it. -1: the worker never sleeps online.
    std::atomic<int> doorbell{-1};
  };

  // --- control thread ----------------------------------------------------------------------------
  // Hands out a slot for one worker; nullptr when all kMaxSlots are taken.
  Slot* register_thread() noexcept;
  // The worker no longer touches shared state (it has stopped); releases the slot.
  void unregister_thread(Slot* s) noexcept;
  // Waits (sleeping in 20 us steps) until every online slot has announced a quiescent point
  // after this call began; rings the doorbell (once) of every slot still waited for, so a
  // worker asleep while online wakes, passes a quiescent point and may then sleep again. The
  // caller's unpublishing stores made before the call are then visible to every worker (see the
  // ordering above). Must not be called from a worker thread.
  void synchronize() const noexcept;

  // Rings the doorbell of every online slot: sleeping workers wake, re-arm their queues' wake-up
  // sources and sleep again. For a change that gives a queue a wake-up source it had not
  // (Port::kRxWakeupByControl) without freeing anything. Any thread.
  void wake_sleepers() const noexcept;

  // --- the worker owning `s` ---------------------------------------------------------------------
  // Going online: the fence orders the store before the worker's next loads of shared state, as
  // in quiescent(). Going offline: release, so the worker's reads happen before the wait ends.
  static void set_online(Slot* s, bool online) noexcept {
    s->online.store(online, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // Control thread: the doorbell synchronize() rings for slot `s` (-1: none). Set before the
  // worker starts; cleared by unregister_thread().
  static void set_doorbell(Slot* s, int fd) noexcept {
    s->doorbell.store(fd, std::memory_order_release);
  }
  // Writes 1 to the slot's doorbell, if it has one (eventfd(2) semantics: the count adds up).
  static void ring(const Slot& s) noexcept;
  // The worker holds no pointer into shared state here; its next pass reloads them.
  static void quiescent(Slot* s) noexcept {
    s->passes.store(s->passes.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with synchronize()'s fence
  }

 private:
  std::array<Slot, kMaxSlots> slots_{};
  std::mutex register_mu_;
};

}  // namespace vsw
