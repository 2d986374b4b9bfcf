// ports/intel/ixgbe_layer.cc — bring-up of the 82599 (datasheet rev. 3.3 §4.6.3 initialization
// sequence, §4.6.7 receive, §4.6.8 transmit; the steps as listed in the fact sheet §2, which
// follows ixy's reset_and_init). Never run on a physical NIC: checked against vsw's own strict
// model (tests/models/) only — docs/ports/intel.md.
#include <fmt/format.h>

#include "ports/intel/ixgbe_regs.h"
#include "ports/intel/nic_layer.h"

namespace vsw::ports::intel {

namespace {

using namespace ixgbe;

constexpr uint32_t kResetTimeoutMs = 1000;
constexpr uint32_t kQueueTimeoutMs = 1000;

class IxgbeLayer final : public NicLayer {
 public:
  explicit IxgbeLayer(Registers& regs) : r_(regs) {}

  std::string_view family() const noexcept override { return "82599"; }
  uint16_t max_rx_queues() const noexcept override { return kMaxRssQueues; }
  uint16_t max_tx_queues() const noexcept override { return kMaxTxQueues; }
  uint32_t max_buffer_kib() const noexcept override { return kMaxBufferKib; }
  uint32_t rdt(uint16_t q) const noexcept override { return RDT(q); }
  uint32_t tdt(uint16_t q) const noexcept override { return TDT(q); }

  Result<MacAddress> reset() override {
    disable_interrupts();  // §4.6.3.1: interrupts off before the reset
    // §4.6.3.2 global reset: RST and LNK_RST, self-clearing; then wait at least 10 ms.
    r_.set_bits(CTRL, kCtrlRst | kCtrlLnkRst);
    if (!r_.wait_for(CTRL, kCtrlRst | kCtrlLnkRst, 0, kResetTimeoutMs)) {
      return timeout("CTRL.RST (device reset)");
    }
    Registers::sleep_ms(10);
    disable_interrupts();  // §4.6.3.1: again after the reset
    // §4.6.3: wait for the EEPROM auto-read and for DMA initialization to complete.
    if (!r_.wait_for(EEC, kEecArd, kEecArd, kResetTimeoutMs)) return timeout("EEC.ARD");
    if (!r_.wait_for(RDRXCTL, kRdrxctlDmaIdone, kRdrxctlDmaIdone, kResetTimeoutMs)) {
      return timeout("RDRXCTL.DMAIDONE");
    }
    // §8.2.3 RAL/RAH: entry 0 hold the address loaded from the EEPROM.
    const uint32_t lo = r_.read(RAL0), hi = r_.read(RAH0);
    const uint8_t b[6] = {uint8_t(lo),       uint8_t(lo >> 8), uint8_t(lo >> 16),
                          uint8_t(lo >> 24), uint8_t(hi),      uint8_t(hi >> 8)};
    return MacAddress::from_bytes(b);
  }

  Status start_link() override {
    // §4.6.4 link setup (fact sheet §2 step 6): 10 Gb/s serial link mode, XAUI PMA/PMD,
    // restart auto-negotiation. The link comes up while rx/tx are initialised.
    uint32_t autoc = r_.read(AUTOC);
    autoc = (autoc & ~kAutocLmsMask) | kAutocLms10GSerial;
    autoc = (autoc & ~kAutoc10GPmaPmdMask) | kAutoc10GXaui;
    r_.write(AUTOC, autoc);
    r_.write(AUTOC, autoc | kAutocAnRestart);
    // §4.6.5 statistics: the counters clear on read; read them once to start from zero.
    HwStats discard;
    read_stats(discard);
    return ok();
  }

  Status init_rx(const RxSetup& rx) override {
    // §4.6.7: receive off while it is configured.
    r_.clear_bits(RXCTRL, kRxctrlRxen);
    // One packet buffer of 128 KiB (no DCB/VT), the others 0.
    r_.write(RXPBSIZE(0), kRxPb128K);
    for (uint16_t i = 1; i < 8; ++i) r_.write(RXPBSIZE(i), 0);
    // CRC stripping: HLREG0.RXCRCSTRP and RDRXCTL.CRCSTRIP must agree (§8.2.3).
    r_.set_bits(HLREG0, kHlreg0RxCrcStrp);
    r_.set_bits(RDRXCTL, kRdrxctlCrcStrip);
    // Accept broadcast (§8.2.3 FCTRL.BAM).
    r_.set_bits(FCTRL, kFctrlBam);
    // Jumbo frames (§8.2.3 HLREG0.JUMBOEN, MAXFRS.MFS).
    r_.set_bits(HLREG0, kHlreg0JumboEn);
    r_.write(MAXFRS, rx.max_frame << 16);
    const uint32_t kib = rx.buffer_bytes >> 10;
    for (uint16_t q = 0; q < rx.rings.size(); ++q) {
      const RingSetup& ring = rx.rings[q];
      // §8.2.3 SRRCTL: advanced one-buffer descriptors, buffer size, drop when the queue
      // has no descriptors (so one slow queue does not stall the shared packet buffer).
      uint32_t srrctl = r_.read(SRRCTL(q));
      srrctl &= ~(kSrrctlDescTypeMask | kSrrctlBsizePktMask);
      r_.write(SRRCTL(q), srrctl | kSrrctlAdvOneBuf | kSrrctlDropEn | kib);
      // §8.2.3: base and length, then head and tail at 0 while the queue is disabled.
      r_.write(RDBAL(q), static_cast<uint32_t>(ring.iova));
      r_.write(RDBAH(q), static_cast<uint32_t>(ring.iova >> 32));
      r_.write(RDLEN(q), uint32_t{ring.descriptors} * 16);
      r_.write(RDH(q), 0);
      r_.write(RDT(q), 0);
    }
    if (rx.rings.size() > 1) program_rss(rx);
    // §4.6.7: no-snoop disable, and bit 12 of DCA_RXCTRL cleared (reserved, must be 0).
    r_.set_bits(CTRL_EXT, kCtrlExtNsDis);
    for (uint16_t q = 0; q < rx.rings.size(); ++q) r_.clear_bits(DCA_RXCTRL(q), kDcaRxctrlBit12);
    // §4.6.7 last step: receive on (queues are enabled one by one afterwards).
    r_.set_bits(RXCTRL, kRxctrlRxen);
    return ok();
  }

  Status init_tx(const std::vector<RingSetup>& tx) override {
    // §4.6.8: CRC insertion and padding of short frames.
    r_.set_bits(HLREG0, kHlreg0TxCrcEn | kHlreg0TxPadEn);
    // One transmit packet buffer of 40 KiB (no DCB/VT), the others 0.
    r_.write(TXPBSIZE(0), kTxPb40K);
    for (uint16_t i = 1; i < 8; ++i) r_.write(TXPBSIZE(i), 0);
    // §4.6.8: without DCB/VT, DTXMXSZRQ = 0xFFFF and the DCB arbiter on (ARBDIS clear).
    r_.write(DTXMXSZRQ, 0xFFFF);
    r_.clear_bits(RTTDCS, kRttdcsArbdis);
    for (uint16_t q = 0; q < tx.size(); ++q) {
      r_.write(TDBAL(q), static_cast<uint32_t>(tx[q].iova));
      r_.write(TDBAH(q), static_cast<uint32_t>(tx[q].iova >> 32));
      r_.write(TDLEN(q), uint32_t{tx[q].descriptors} * 16);
      r_.write(TDH(q), 0);
      r_.write(TDT(q), 0);
      // §8.2.3 TXDCTL: prefetch/host/write-back thresholds, queue still disabled.
      uint32_t txdctl = r_.read(TXDCTL(q)) & ~(0x7Fu | 0x7Fu << 8 | 0x7Fu << 16);
      r_.write(TXDCTL(q), txdctl | kTxdctlThresholds);
    }
    // §4.6.8 last step: transmit DMA on (queues are enabled one by one afterwards).
    r_.write(DMATXCTL, kDmatxctlTe);
    return ok();
  }

  Status enable_rx_queue(uint16_t q) override {
    // §4.6.7.1: enable, then poll until the bit reads back set. RDH stays 0 (written while the
    // queue was disabled); the engine writes RDT next.
    return r_.enable_and_wait(RXDCTL(q), kRxdctlEnable, kQueueTimeoutMs, "82599",
                              fmt::format("RXDCTL({}).ENABLE", q));
  }

  Status enable_tx_queue(uint16_t q) override {
    // §4.6.8.1: enable, then poll until the bit reads back set.
    return r_.enable_and_wait(TXDCTL(q), kTxdctlEnable, kQueueTimeoutMs, "82599",
                              fmt::format("TXDCTL({}).ENABLE", q));
  }

  Status start(bool promiscuous) override {
    // §8.2.3 FCTRL: unicast and multicast promiscuous.
    if (promiscuous) {
      r_.set_bits(FCTRL, kFctrlUpe | kFctrlMpe);
    } else {
      r_.clear_bits(FCTRL, kFctrlUpe | kFctrlMpe);
    }
    return ok();
  }

  Status enable_msix(uint16_t vectors) override {
    if (vectors == 0 || vectors > kMaxRssQueues) {
      return make_error(Errc::InvalidArgument, "82599: {} MSI-X vectors for receive (1..{})",
                        vectors, kMaxRssQueues);
    }
    // §7.3 / §8.2.3.5 GPIE: multiple-vector MSI-X mode, with the pending bit array and
    // auto-mask; first, so that the registers below are read as vector bits (the order Linux's
    // ixgbe uses too).
    r_.write(GPIE, kGpieMsixMode | kGpieEiame | kGpiePbaSupport);
    uint32_t mask = 0;
    for (uint16_t q = 0; q < vectors; ++q) {
      // §8.2.3.5 IVAR: IVAR(q / 2) holds rx queue q at bits 16 * (q % 2), tx at +8; an entry
      // is the vector (5:0) with INT_ALLOC_VAL. Receive queue q -> vector q; tx unmapped.
      const unsigned shift = 16u * (q & 1u);
      uint32_t ivar = r_.read(IVAR(q >> 1)) & ~(0xFFu << shift);
      r_.write(IVAR(q >> 1), ivar | (uint32_t{q} | kIvarAllocVal) << shift);
      // §8.2.3.5 EITR: at most one interrupt per 10 us per vector.
      r_.write(EITR(q), kEitr10us);
      mask |= 1u << q;
    }
    // §7.3: EIAC clears a vector's EICR bit once its message is sent, so the next frame raises
    // a new one; EIAM_EX (with GPIE.EIAME) masks the vector then — one message per arming.
    r_.write(EIAC, mask);
    r_.write(EIAM_EX0, mask);
    // Masked, no stale cause, until a worker arms its vector (EIMS).
    r_.write(EIMC, mask);
    r_.write(EICR, mask);
    return ok();
  }

  RxVectorRegs rx_vector_regs() const noexcept override { return {EICR, EIMS, EIMC, STATUS}; }

  LinkStatus read_link() const override {
    // §8.2.3 LINKS: LINK_UP and the speed field.
    const uint32_t links = r_.read(LINKS);
    LinkStatus s;
    s.up = (links & kLinksUp) != 0;
    if (s.up) {
      switch (links & kLinksSpeedMask) {
        case kLinksSpeed10G:
          s.speed_mbps = 10000;
          break;
        case kLinksSpeed1G:
          s.speed_mbps = 1000;
          break;
        case kLinksSpeed100M:
          s.speed_mbps = 100;
          break;
        default:
          break;
      }
    }
    return s;
  }

  void read_stats(HwStats& acc) override {
    // §8.2.3: all clear on read; octet counters are 36 bits over L/H, L read first.
    acc.rx_packets += r_.read(GPRC);
    acc.tx_packets += r_.read(GPTC);
    const uint64_t gorc = r_.read(GORCL);
    acc.rx_bytes += gorc | uint64_t{r_.read(GORCH) & 0xF} << 32;
    const uint64_t gotc = r_.read(GOTCL);
    acc.tx_bytes += gotc | uint64_t{r_.read(GOTCH) & 0xF} << 32;
    for (uint16_t i = 0; i < 8; ++i) {
      acc.missed += r_.read(MPC(i));
      acc.no_buffer += r_.read(RNBC(i));
    }
    acc.crc_errors += r_.read(CRCERRS);
    acc.length_errors += r_.read(RLEC);
  }

  void shutdown() noexcept override {
    // Receive and transmit off, then the global reset (§4.6.3.2) stops every queue's DMA.
    r_.clear_bits(RXCTRL, kRxctrlRxen);
    r_.write(DMATXCTL, 0);
    r_.set_bits(CTRL, kCtrlRst | kCtrlLnkRst);
    (void)r_.wait_for(CTRL, kCtrlRst | kCtrlLnkRst, 0, kResetTimeoutMs);
    disable_interrupts();
  }

 private:
  void disable_interrupts() noexcept {
    r_.write(EIMC, kEimcAll);
    (void)r_.read(EICR);  // read-to-clear
  }

  void program_rss(const RxSetup& rx) {
    // §7.1.2.8 RSS: the 40-byte Toeplitz key, the 128-entry redirection table (round-robin over
    // the queues), then MRQC: RSS on for IPv4/IPv6 with TCP and UDP ports. RXCSUM.PCSD puts the
    // hash in the descriptor.
    const auto queues = static_cast<uint16_t>(rx.rings.size());
    for (uint16_t i = 0; i < kRssrkWords; ++i) r_.write(RSSRK(i), rssrk_word(rx.rss_key, i));
    for (uint16_t i = 0; i < kRetaWords; ++i) r_.write(RETA(i), reta_word(i, queues));
    r_.set_bits(RXCSUM, kRxcsumPcsd);
    r_.write(MRQC, kMrqcRss | kMrqcHashFields);
  }

  static Error timeout(std::string_view what) { return register_timeout("82599", what); }

  Registers& r_;
};

}  // namespace

std::unique_ptr<NicLayer> make_ixgbe_layer(Registers& regs) {
  return std::make_unique<IxgbeLayer>(regs);
}

}  // namespace vsw::ports::intel
