// ports/intel/nic_layer.h — what differs between the Intel families: the register map and the
// bring-up sequence. One implementation per family (ixgbe_layer.cc: 82599; igb_layer.cc:
// 82576); the descriptor engine (rx_ring.h, tx_ring.h) is shared.
//
// IntelPort::open drives a layer in this order, which is the order of the 82599 datasheet's
// §4.6.3 (and what the 82576's §4.5 asks for):
//   reset() -> start_link() -> init_rx(...) -> init_tx(...) ->
//   per rx queue: enable_rx_queue(q), RxRing::start() (RDT = N-1) ->
//   per tx queue: enable_tx_queue(q) -> start(promiscuous) -> read_link() until up or timeout.
// shutdown() (destructor) stops DMA and resets the device.
//
// MSI-X receive wake-ups (adaptive polling): once the PCI layer enabled one MSI-X vector per rx
// queue, enable_msix() maps rx queue q to vector q and leaves every vector masked; a worker about
// to sleep clears the vector's cause and unmasks it (RxVectorRegs::eicr, ::eims), and masks it
// again when it wakes (::eimc). Those are write-1-to-set/clear registers: workers arming their
// own vectors never read-modify-write a shared register.
//
// Threads: control thread only. Errors: Unavailable when the device does not answer a step
// (a bit that never sets or clears within its timeout), naming the register.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "common/ether.h"
#include "common/result.h"
#include "ports/intel/reg_io.h"

namespace vsw::ports::intel {

// One ring as the device must see it.
struct RingSetup {
  uint64_t iova = 0;  // base (128-byte aligned)
  uint16_t descriptors = 0;
};

struct RxSetup {
  std::vector<RingSetup> rings;       // receive queue q = rings[q]
  uint32_t buffer_bytes = 1024;       // per descriptor, a multiple of 1 KiB (SRRCTL.BSIZEPACKET)
  uint32_t max_frame = 9728;          // longest frame accepted, FCS included
  std::array<uint8_t, 40> rss_key{};  // Toeplitz key (RSSRK), used when rings.size() > 1
};

struct LinkStatus {
  bool up = false;
  uint32_t speed_mbps = 0;  // 0 when down or unknown
};

// Clear-on-read statistics registers, accumulated by read_stats().
struct HwStats {
  uint64_t rx_packets = 0;     // GPRC
  uint64_t tx_packets = 0;     // GPTC
  uint64_t rx_bytes = 0;       // GORC
  uint64_t tx_bytes = 0;       // GOTC
  uint64_t missed = 0;         // MPC: no free descriptor (no_buffer)
  uint64_t no_buffer = 0;      // RNBC: receive-no-buffers events (informational)
  uint64_t crc_errors = 0;     // CRCERRS
  uint64_t length_errors = 0;  // RLEC
};

// The per-vector interrupt registers (82599 EICR/EIMS/EIMC, 82576 the same names at other
// offsets): writing bit v acts on vector v only.
struct RxVectorRegs {
  uint32_t eicr = 0;   // write 1: clear the vector's pending cause
  uint32_t eims = 0;   // write 1: unmask (arm)
  uint32_t eimc = 0;   // write 1: mask (disarm)
  uint32_t flush = 0;  // a register without read side effects (STATUS): reading it flushes
                       // the posted writes before it
};

class NicLayer {
 public:
  virtual ~NicLayer() = default;
  virtual std::string_view family() const noexcept = 0;  // "82599", "82576"
  virtual uint16_t max_rx_queues() const noexcept = 0;   // RSS limit
  virtual uint16_t max_tx_queues() const noexcept = 0;
  virtual uint32_t max_buffer_kib() const noexcept = 0;  // largest SRRCTL.BSIZEPACKET
  // Tail register offsets (RDT(q), TDT(q)).
  virtual uint32_t rdt(uint16_t q) const noexcept = 0;
  virtual uint32_t tdt(uint16_t q) const noexcept = 0;

  // Interrupts off, global reset, wait for the device; returns the MAC address in RAL0/RAH0.
  virtual Result<MacAddress> reset() = 0;
  virtual Status start_link() = 0;
  virtual Status init_rx(const RxSetup& rx) = 0;
  virtual Status init_tx(const std::vector<RingSetup>& tx) = 0;
  virtual Status enable_rx_queue(uint16_t q) = 0;
  virtual Status enable_tx_queue(uint16_t q) = 0;
  // Last step: receive/transmit on (where the family does it last), filters.
  virtual Status start(bool promiscuous) = 0;
  virtual LinkStatus read_link() const = 0;
  // Adds the clear-on-read counters to `acc`.
  virtual void read_stats(HwStats& acc) = 0;
  // After start(), with `vectors` MSI-X vectors enabled by the PCI layer (one per rx queue):
  // MSI-X mode, rx queue q -> vector q, causes auto-cleared (and auto-masked) when a message is
  // sent, a small throttling interval, every vector masked. InvalidArgument when `vectors` is 0
  // or above the family's MSI-X table.
  virtual Status enable_msix(uint16_t vectors) = 0;
  virtual RxVectorRegs rx_vector_regs() const noexcept = 0;
  // Rx and tx off, device reset: no DMA after this returns. Never fails (best effort).
  virtual void shutdown() noexcept = 0;
};

std::unique_ptr<NicLayer> make_ixgbe_layer(Registers& regs);
std::unique_ptr<NicLayer> make_igb_layer(Registers& regs);

// The RSS redirection table both families use (128 one-byte entries, entry k in byte k % 4 of
// RETA[k / 4], fact sheet §2): queues round-robin. Returns RETA word `i` (0..31).
constexpr uint32_t reta_word(uint16_t i, uint16_t queues) noexcept {
  uint32_t w = 0;
  for (uint32_t b = 0; b < 4; ++b) w |= uint32_t((4u * i + b) % queues) << (8 * b);
  return w;
}
static_assert(reta_word(0, 4) == 0x03020100 && reta_word(1, 3) == 0x01000201);

// RSSRK word `i` (0..9) of a 40-byte key: key byte j in bits 8·(j % 4) of RSSRK[j / 4].
inline uint32_t rssrk_word(const std::array<uint8_t, 40>& key, unsigned i) noexcept {
  return uint32_t{key[4 * i]} | uint32_t{key[4 * i + 1]} << 8 | uint32_t{key[4 * i + 2]} << 16 |
         uint32_t{key[4 * i + 3]} << 24;
}

}  // namespace vsw::ports::intel
