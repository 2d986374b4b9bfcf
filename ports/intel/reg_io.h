// ports/intel/reg_io.h — 32-bit register access to BAR 0 of an Intel NIC (82599 §8.1, 82576
// §8.1: every register is 32 bits wide and accessed as a whole).
//
// Registers go through pci::BarAccess::read32/write32, except the tail doorbells of the fast
// path, which use the BAR's mapping directly when the PCI layer has one (BarAccess::mapped());
// a test model returns nullptr there and gets every access through write32 (intel-contract.md).
//
// Ordering: descriptors live in ordinary cacheable DMA memory, the doorbell is an uncached MMIO
// store. On x86 stores are not reordered with other stores, so a compiler barrier (the release
// fence) between the descriptor writes and the doorbell is enough — ixy's rationale.
//
// Threads: Registers on the control thread; a Doorbell by the worker that owns its queue.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "common/result.h"

#include "ports/pci/pci_device.h"

namespace vsw::ports::intel {

// One tail register (RDT(n) or TDT(n)).
class Doorbell {
 public:
  Doorbell() = default;
  Doorbell(const Doorbell&) = delete;
  Doorbell& operator=(const Doorbell&) = delete;
  // Control thread, before the queue's worker starts.
  void bind(pci::BarAccess* bar, uint32_t offset) noexcept {
    bar_ = bar;
    mmio_ = bar->mapped() != nullptr ? reinterpret_cast<volatile uint32_t*>(bar->mapped() + offset)
                                     : nullptr;
    offset_ = offset;
  }
  // Publishes every descriptor written before, then writes the tail.
  void ring(uint32_t tail) noexcept {
    std::atomic_thread_fence(std::memory_order_release);
    if (mmio_ != nullptr) {
      *mmio_ = tail;
    } else {
      bar_->write32(offset_, tail);
    }
    writes_.store(writes_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  uint32_t offset() const noexcept { return offset_; }
  // Doorbell writes so far (port-show; one per batch). Single writer: the owning worker.
  uint64_t writes() const noexcept { return writes_.load(std::memory_order_relaxed); }

 private:
  pci::BarAccess* bar_ = nullptr;
  volatile uint32_t* mmio_ = nullptr;
  uint32_t offset_ = 0;
  std::atomic<uint64_t> writes_{0};
};

// The control thread's view of the register file.
class Registers {
 public:
  explicit Registers(pci::BarAccess& bar) noexcept : bar_(bar) {}
  uint32_t read(uint32_t off) const noexcept { return bar_.read32(off); }
  void write(uint32_t off, uint32_t v) noexcept { bar_.write32(off, v); }
  void set_bits(uint32_t off, uint32_t bits) noexcept { write(off, read(off) | bits); }
  void clear_bits(uint32_t off, uint32_t bits) noexcept { write(off, read(off) & ~bits); }
  // Polls every 1 ms until (reg & mask) == want, at most `timeout_ms`; false on timeout.
  bool wait_for(uint32_t off, uint32_t mask, uint32_t want, uint32_t timeout_ms) const noexcept;
  // Sets `bit` of register `off` and polls until it reads back set, at most `timeout_ms`: the
  // queue enables (RXDCTL/TXDCTL.ENABLE, bit 25 on both families; 82599 §4.6.7.1 / §4.6.8.1).
  // On timeout, the error of register_timeout(family, what).
  Status enable_and_wait(uint32_t off, uint32_t bit, uint32_t timeout_ms, std::string_view family,
                         std::string_view what) noexcept;
  // Sleeps `ms` milliseconds (datasheet-mandated delays after a reset).
  static void sleep_ms(uint32_t ms) noexcept;
  pci::BarAccess& bar() noexcept { return bar_; }

 private:
  pci::BarAccess& bar_;
};

// A register that did not reach its expected value in time ("82599", "RXDCTL(3).ENABLE"):
// Unavailable, suggesting the usual causes (another device at that address, not in D0).
Error register_timeout(std::string_view family, std::string_view what);

}  // namespace vsw::ports::intel
