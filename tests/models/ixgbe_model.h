// tests/models/ixgbe_model.h — a strict behavioural model of the Intel 82599's registers and
// DMA engine, for testing vsw's 82599 driver (ports/intel/) without the hardware.
//
// What it models (datasheet sections in ixgbe_model_regs.h's numbering; the facts are restated
// in /work/shared/specs/ixgbe-82599.md §6):
//   * BAR 0: 128 KiB of 32-bit registers; unknown registers read back what was written.
//   * Reset (§4.6.3.2): CTRL.RST/LNK_RST read back set for kResetTime, then clear; a global
//     reset returns every register to its reset value. EEC.ARD and RDRXCTL.DMAIDONE become set
//     kInitTime after the reset completes. RAL(0)/RAH(0) hold the MAC (RAH.AV set), SRRCTL
//     BSIZEPACKET = 2 KiB, DCA_RXCTRL bit 12 = 1.
//   * Link: LINKS stays down until AUTOC.AN_RESTART is written, then reports 10G up after
//     kLinkTime (AN_RESTART self-clears); set_link() forces it down/up.
//   * Interrupt registers: EICR read-to-clear (write 1 to clear), EIMS set / EIMC clear of one
//     mask. MSI-X (§7.3) once the PCI side gave the model vectors (set_msix_vectors): a frame
//     written back on rx queue q sets the EICR bit of the vector IVAR maps q to; in GPIE MSI-X
//     mode a set EICR bit whose EIMS bit is set sends the vector's message (a write to its
//     eventfd), then EIAC clears the EICR bit and, with GPIE.EIAME, EIAM_EX masks the vector.
//     Unmasking (EIMS) or setting (EICS) a pending cause sends it too. No throttling (EITR).
//   * Statistics (§8.2.3.23): clear on read; 64-bit octet counters are latched by reading the
//     low half, the high half reads the latched value.
//   * Receive (§7.1): FCTRL UPE/MPE/BAM and the valid RAL/RAH entries filter; RSS (MRQC, RSSRK,
//     RETA: queue = RETA[hash & 0x7F]) or queue 0; advanced one-buffer descriptors with
//     write-back (DD, EOP, length, RSS type, packet type, RSS hash when RXCSUM.PCSD); frames
//     longer than the SRRCTL buffer span descriptors (EOP on the last); no free descriptor ⇒
//     MPC++ (DROP_EN) or the frame waits (no DROP_EN).
//   * Transmit (§7.2): advanced data descriptors from TDH to TDT, gather until EOP, pad to 60
//     bytes with HLREG0.TXPADEN, DD write-back for RS descriptors.
//   * DMA only through the DmaBus (the regions the driver mapped), only with bus mastering on.
//
// Strictness: every datasheet rule the driver breaks is recorded as a violation naming the
// rule and its section (violations()); tests fail when there is one. The rules checked are
// listed at Rule in ixgbe_model.cc.
//
// Threads: every public method may be called from any thread; one mutex serialises register
// accesses (the driver's workers and control thread) and the DMA engine (the wire thread).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "tests/models/ixgbe_model_regs.h"
#include "tests/models/toeplitz.h"

namespace vsw::tests::models {

// The model's view of the PCI bus: bus mastering state (config command bit 2) and IOVA
// translation of the regions the driver gave to dma_map(). Implemented by ModelPciDevice.
class DmaBus {
 public:
  virtual ~DmaBus() = default;
  virtual bool bus_master_enabled() const noexcept = 0;
  // The process address of [iova, iova + len) when it lies inside one mapped region, else
  // nullptr.
  virtual std::byte* translate(uint64_t iova, size_t len) const noexcept = 0;
};

enum class RxOutcome : uint8_t {
  Delivered,      // written into the queue's descriptors
  RxDisabled,     // RXCTRL.RXEN clear: the receive path is off
  Filtered,       // FCTRL / RAL-RAH filtering dropped it
  QueueDisabled,  // the queue RSS chose is not enabled
  TooLong,        // longer than the maximum frame size (RLEC++)
  Missed,         // no free descriptor with DROP_EN (MPC++)
  Stalled,        // no free descriptor without DROP_EN: retry later (the packet buffer holds it)
  DmaError,       // a descriptor or buffer outside mapped memory (a violation was recorded)
};

// What the driver programmed for RSS (§7.1.2.8): RSSRK as key bytes, the 128 RETA entries, MRQC.
struct RssProgramming {
  RssKey key{};
  std::array<uint8_t, 128> reta{};
  uint32_t mrqc = 0;
};

struct ModelCounters {
  uint64_t rx_delivered = 0, rx_filtered = 0, rx_missed = 0, rx_disabled = 0, rx_too_long = 0,
           rx_queue_disabled = 0;
  uint64_t tx_frames = 0;
  uint64_t rx_multi_descriptor = 0, tx_multi_descriptor = 0;  // frames spanning descriptors
  std::array<uint64_t, ixgbe::kQueues> rx_per_queue{};
  std::array<uint64_t, ixgbe::kQueues> tx_per_queue{};
  std::array<uint64_t, 16> msix_messages{};  // MSI-X messages sent per vector (0..15)
};

class IxgbeModel {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kResetTime = std::chrono::microseconds(500);
  static constexpr auto kInitTime = std::chrono::microseconds(500);
  static constexpr auto kLinkTime = std::chrono::milliseconds(2);

  IxgbeModel(DmaBus& bus, std::array<uint8_t, 6> mac);

  // --- BAR 0, as the driver sees it --------------------------------------------------------------
  // `width` in bytes (1, 2, 4). Anything but an aligned 32-bit access inside the BAR is a
  // violation (reads then return 0, writes are ignored).
  uint32_t bar_read(uint64_t off, unsigned width);
  void bar_write(uint64_t off, unsigned width, uint32_t value);

  // --- the wire side -----------------------------------------------------------------------------
  // A frame (without FCS) arriving from the wire.
  RxOutcome receive(std::span<const uint8_t> frame);
  // Runs every enabled transmit queue from TDH to TDT; appends the frames sent to `out`.
  // Returns how many.
  size_t transmit(std::vector<std::vector<uint8_t>>& out);
  // Called (under the model's lock, so it must only signal) when RDT or TDT was written.
  void set_doorbell(std::function<void()> f);
  void set_link(bool up);
  // The PCI side enabled MSI-X with one eventfd per vector (ModelPciDevice::msix_eventfds; the
  // fds stay the caller's). Empty: MSI-X off.
  void set_msix_vectors(std::vector<int> fds);

  // --- inspection for tests ----------------------------------------------------------------------
  // The register at `off` without read side effects.
  uint32_t peek(uint32_t off) const;
  // One line per violated rule: "<rule> (datasheet §x): <detail> [xN]".
  std::vector<std::string> violations() const;
  size_t violation_count() const;
  ModelCounters counters() const;
  // The rx queue the last delivered (or dropped for lack of descriptors) frame went to, and its
  // RSS hash (0 without RSS).
  uint16_t last_rx_queue() const;
  // The RSS programming in force, or, when RSS is off now (a driver that reset the device on
  // its way out), the one in force before the last reset.
  RssProgramming rss_programming() const;
  uint32_t last_rss_hash() const;
  // Where violations are also appended as they happen (one line each); "" for none.
  void set_violation_file(std::string path);

 private:
  struct RxQueue {
    bool enabled = false;
    uint32_t head = 0, tail = 0;
  };
  struct TxQueue {
    bool enabled = false;
    uint32_t head = 0, tail = 0;
  };
  struct Latch {
    uint32_t high = 0;
  };

  void reset_locked();
  void violation(const std::string& rule, const std::string& detail);
  void settle_time();  // completes reset / init / link when their time has come
  bool reset_in_progress() const noexcept { return reset_busy_; }
  uint32_t canonical(uint32_t off) const noexcept;
  uint32_t read_locked(uint32_t off);
  void write_locked(uint32_t off, uint32_t v);
  void write_rx_queue(unsigned q, uint32_t r, uint32_t v);
  void write_tx_queue(unsigned q, uint32_t r, uint32_t v);
  void enable_rx_queue(unsigned q);
  void enable_tx_queue(unsigned q);
  uint32_t rx_base(unsigned q) const noexcept;
  uint32_t tx_base(unsigned q) const noexcept;
  uint32_t ring_size(uint32_t block) const noexcept {
    return regs_[(block + ixgbe::reg::Q_LEN) / 4] / 16;
  }
  uint64_t ring_iova(uint32_t block) const noexcept;
  bool accept(std::span<const uint8_t> frame) const;
  uint16_t choose_queue(std::span<const uint8_t> frame, uint32_t& hash, uint16_t& pkt_info) const;
  bool dma_allowed(const char* what);
  std::byte* dma(uint64_t iova, size_t len, const std::string& what);
  size_t transmit_queue(unsigned q, std::vector<std::vector<uint8_t>>& out);
  uint64_t& stat(uint32_t off) { return stats_[off]; }
  uint32_t read_stat(uint32_t off);
  bool is_stat(uint32_t off) const noexcept;
  RssKey rss_key() const noexcept;
  void check_gpie(uint32_t v);
  void check_ivar(uint32_t off, uint32_t v);
  void check_eims(uint32_t v);
  bool msix_mode() const noexcept {
    return (regs_[ixgbe::reg::GPIE / 4] & ixgbe::bit::GPIE_MSIX_MODE) != 0;
  }
  // A frame was written back on rx queue q: its interrupt cause (and message).
  void rx_cause(unsigned q);
  // Sends the messages of the vectors in `vectors` (EICR & EIMS bits 15:0), with EIAC / EIAM.
  void send_msix(uint32_t vectors);
  RssProgramming current_rss() const noexcept;

  DmaBus& bus_;
  std::array<uint8_t, 6> mac_;
  mutable std::mutex mu_;
  std::vector<uint32_t> regs_;
  std::array<RxQueue, ixgbe::kQueues> rxq_{};
  std::array<TxQueue, ixgbe::kQueues> txq_{};
  std::map<uint32_t, uint64_t> stats_;    // clear-on-read counters by canonical offset
  std::map<uint32_t, uint32_t> latched_;  // high halves latched by reading the low half
  uint32_t eims_ = 0, eicr_ = 0;
  bool ever_reset_ = false;
  bool reset_busy_ = false;
  Clock::time_point reset_done_at_{}, init_done_at_{}, link_up_at_{};
  bool init_done_ = false, link_pending_ = false, link_forced_down_ = false, link_up_ = false;
  bool saw_dmaidone_ = false, saw_ard_ = false;
  std::function<void()> doorbell_;
  std::vector<int> msix_fds_;
  std::map<std::string, uint64_t> violation_counts_;
  std::vector<std::string> violation_order_;
  std::map<std::string, std::string> violation_first_;
  std::string violation_file_;
  ModelCounters counters_;
  uint16_t last_rx_queue_ = 0;
  uint32_t last_rss_hash_ = 0;
  RssProgramming rss_before_reset_{};
};

}  // namespace vsw::tests::models
