// ports/intel/igb_layer.cc — bring-up of the 82576 (datasheet rev. 2.63 §4.5 software
// initialization sequence: reset §4.3.1, link §4.5.7 via the PHY, receive §4.5.9, transmit
// §4.5.10; registers as in Linux's igb). Tested against QEMU's igb model (hw/net/igb_core.c),
// whose rules this follows where they matter: receive needs STATUS.LU, which the model sets
// only after a PHY auto-negotiation restart; RSS needs MRQC = RSS_MQ *and* RXCSUM.PCSD; the FCS
// is written into the buffer unless RCTL.SECRC; RCTL.LPE and RLPML decide the longest frame.
#include <fmt/format.h>

#include "ports/intel/igb_regs.h"
#include "ports/intel/nic_layer.h"

namespace vsw::ports::intel {

namespace {

using namespace igb;

constexpr uint32_t kResetTimeoutMs = 1000;
constexpr uint32_t kQueueTimeoutMs = 1000;
constexpr uint32_t kMdicTimeoutMs = 100;

class IgbLayer final : public NicLayer {
 public:
  explicit IgbLayer(Registers& regs) : r_(regs) {}

  std::string_view family() const noexcept override { return "82576"; }
  uint16_t max_rx_queues() const noexcept override { return kMaxRssQueues; }
  uint16_t max_tx_queues() const noexcept override { return kMaxTxQueues; }
  uint32_t max_buffer_kib() const noexcept override { return kMaxBufferKib; }
  uint32_t rdt(uint16_t q) const noexcept override { return RDT(q); }
  uint32_t tdt(uint16_t q) const noexcept override { return TDT(q); }

  Result<MacAddress> reset() override {
    disable_interrupts();
    // §4.5.1: receive and transmit off before the reset, so no DMA is in flight.
    r_.write(RCTL, 0);
    r_.write(TCTL, kTctlPsp);
    // §4.3.1 software reset: CTRL.RST, self-clearing; wait for it, then a little more.
    r_.set_bits(CTRL, kCtrlRst);
    if (!r_.wait_for(CTRL, kCtrlRst, 0, kResetTimeoutMs)) return timeout("CTRL.RST");
    Registers::sleep_ms(10);
    disable_interrupts();  // the reset may have left causes pending
    // EECD.AUTO_RD is not waited for: Linux's igb only logs when it does not set (no EEPROM,
    // as on QEMU's model), and RAL0/RAH0 are valid either way.
    const uint32_t lo = r_.read(RAL0), hi = r_.read(RAH0);
    const uint8_t b[6] = {uint8_t(lo),       uint8_t(lo >> 8), uint8_t(lo >> 16),
                          uint8_t(lo >> 24), uint8_t(hi),      uint8_t(hi >> 8)};
    // Tell the firmware a driver owns the device (CTRL_EXT.DRV_LOAD).
    r_.set_bits(CTRL_EXT, kCtrlExtDrvLoad);
    return MacAddress::from_bytes(b);
  }

  Status start_link() override {
    // §4.5.7 copper link: the MAC follows the PHY (CTRL.SLU, not forced speed), and the PHY
    // restarts auto-negotiation (BMCR.AN_ENABLE | AN_RESTART through MDIC).
    r_.write(CTRL, (r_.read(CTRL) & ~kCtrlLrst) | kCtrlSlu | kCtrlFd);
    auto bmcr = mdic_read(kPhyBmcr);
    if (!bmcr) return std::move(bmcr).error();
    if (auto st =
            mdic_write(kPhyBmcr, static_cast<uint16_t>(*bmcr | kBmcrAnEnable | kBmcrAnRestart));
        !st) {
      return st;
    }
    HwStats discard;  // the statistics clear on read: start from zero
    read_stats(discard);
    return ok();
  }

  Status init_rx(const RxSetup& rx) override {
    // §4.5.9: receive stays off (RCTL.EN) until every queue is set up; start() turns it on.
    r_.write(RCTL, 0);
    const uint32_t kib = rx.buffer_bytes >> 10;
    const bool multi = rx.rings.size() > 1;
    for (uint16_t q = 0; q < rx.rings.size(); ++q) {
      const RingSetup& ring = rx.rings[q];
      // The queue disabled while its registers change (queue 0 is enabled after reset).
      r_.write(RXDCTL(q), 0);
      r_.write(RDBAL(q), static_cast<uint32_t>(ring.iova));
      r_.write(RDBAH(q), static_cast<uint32_t>(ring.iova >> 32));
      r_.write(RDLEN(q), uint32_t{ring.descriptors} * 16);
      r_.write(RDH(q), 0);
      r_.write(RDT(q), 0);
      // SRRCTL: advanced one-buffer descriptors of `kib` KiB; with several queues a queue
      // without descriptors drops instead of holding the others up (DROP_EN).
      r_.write(SRRCTL(q), kSrrctlAdvOneBuf | kib | (multi ? kSrrctlDropEn : 0));
      r_.write(RXDCTL(q), kRxdctlThresholds);
    }
    // Checksum offload on; PCSD puts the RSS hash in the descriptor (and QEMU's model computes
    // RSS only with it set).
    r_.write(RXCSUM, kRxcsumIpofld | kRxcsumTuofld | (multi ? kRxcsumPcsd : 0));
    if (multi) {
      // §7.1.1.7 RSS: key, redirection table (round-robin), then MRQC.
      const auto queues = static_cast<uint16_t>(rx.rings.size());
      for (uint16_t i = 0; i < kRssrkWords; ++i) r_.write(RSSRK(i), rssrk_word(rx.rss_key, i));
      for (uint16_t i = 0; i < kRetaWords; ++i) r_.write(RETA(i), reta_word(i, queues));
      r_.write(MRQC, kMrqcRssMq | kMrqcHashFields);
    } else {
      r_.write(MRQC, 0);
    }
    r_.write(RLPML, rx.max_frame);
    return ok();
  }

  Status init_tx(const std::vector<RingSetup>& tx) override {
    // §4.5.10: transmit stays off (TCTL.EN) until start().
    for (uint16_t q = 0; q < tx.size(); ++q) {
      r_.write(TXDCTL(q), 0);
      r_.write(TDBAL(q), static_cast<uint32_t>(tx[q].iova));
      r_.write(TDBAH(q), static_cast<uint32_t>(tx[q].iova >> 32));
      r_.write(TDLEN(q), uint32_t{tx[q].descriptors} * 16);
      r_.write(TDH(q), 0);
      r_.write(TDT(q), 0);
      r_.write(TXDCTL(q), kTxdctlThresholds);
    }
    return ok();
  }

  Status enable_rx_queue(uint16_t q) override {
    return r_.enable_and_wait(RXDCTL(q), kRxdctlEnable, kQueueTimeoutMs, "82576",
                              fmt::format("RXDCTL({}).ENABLE", q));
  }

  Status enable_tx_queue(uint16_t q) override {
    return r_.enable_and_wait(TXDCTL(q), kTxdctlEnable, kQueueTimeoutMs, "82576",
                              fmt::format("TXDCTL({}).ENABLE", q));
  }

  Status start(bool promiscuous) override {
    // RCTL: receive on, broadcast accepted, CRC stripped, long frames up to RLPML; unicast and
    // multicast promiscuous when asked.
    uint32_t rctl = kRctlEn | kRctlBam | kRctlSecrc | kRctlLpe;
    if (promiscuous) rctl |= kRctlUpe | kRctlMpe;
    r_.write(RCTL, rctl);
    // TCTL: transmit on, short frames padded, the 802.3 collision parameters.
    r_.write(TCTL, kTctlEn | kTctlPsp | kTctlCt | kTctlCold | kTctlRtlc);
    return ok();
  }

  Status enable_msix(uint16_t vectors) override {
    if (vectors == 0 || vectors > kMaxRssQueues) {
      return make_error(Errc::InvalidArgument, "82576: {} MSI-X vectors for receive (1..{})",
                        vectors, kMaxRssQueues);
    }
    // §7.3 / §8.8 GPIE: MSI-X mode first. The vector registers below only take MSI-X meaning
    // in that mode (QEMU's igb model ignores EIAC writes without it and masks EIMS writes to
    // the legacy causes).
    r_.write(GPIE, kGpieMsixMode | kGpieEiame | kGpiePba);
    uint32_t mask = 0;
    for (uint16_t q = 0; q < vectors; ++q) {
      // §8.8 IVAR0: rx queue q in byte 0 (q < 8) or byte 2 of IVAR(q & 7); vector q, valid.
      const unsigned shift = ivar_rx_shift(q);
      const uint32_t ivar = r_.read(IVAR(q & 7u)) & ~(0xFFu << shift);
      r_.write(IVAR(q & 7u), ivar | (uint32_t{q} | kIvarValid) << shift);
      r_.write(EITR(q), kEitr10us);  // at most one interrupt per 10 us per vector
      mask |= 1u << q;
    }
    // §7.3: auto-clear the cause when the message is sent (QEMU's model raises a vector only
    // on a cause newly set in EICR, so without it a second frame would never interrupt), and
    // auto-mask it (GPIE.EIAME).
    r_.write(EIAC, mask);
    r_.write(EIAM, mask);
    r_.write(EIMC, mask);  // masked until a worker arms its vector
    r_.write(EICR, mask);
    return ok();
  }

  RxVectorRegs rx_vector_regs() const noexcept override { return {EICR, EIMS, EIMC, STATUS}; }

  LinkStatus read_link() const override {
    const uint32_t status = r_.read(STATUS);
    LinkStatus s;
    s.up = (status & kStatusLu) != 0;
    if (s.up) {
      const uint32_t speed = status & kStatusSpeedMask;
      s.speed_mbps = speed == kStatusSpeed1000 ? 1000 : speed == kStatusSpeed100 ? 100 : 10;
    }
    return s;
  }

  void read_stats(HwStats& acc) override {
    // Clear on read; the octet counters are 64 bits over L/H, L read first.
    acc.rx_packets += r_.read(GPRC);
    acc.tx_packets += r_.read(GPTC);
    const uint64_t gorc = r_.read(GORCL);
    acc.rx_bytes += gorc | uint64_t{r_.read(GORCH)} << 32;
    const uint64_t gotc = r_.read(GOTCL);
    acc.tx_bytes += gotc | uint64_t{r_.read(GOTCH)} << 32;
    acc.missed += r_.read(MPC);
    acc.no_buffer += r_.read(RNBC);
    acc.crc_errors += r_.read(CRCERRS);
    acc.length_errors += r_.read(RLEC);
  }

  void shutdown() noexcept override {
    r_.write(RCTL, 0);
    r_.write(TCTL, kTctlPsp);
    r_.set_bits(CTRL, kCtrlRst);
    (void)r_.wait_for(CTRL, kCtrlRst, 0, kResetTimeoutMs);
    disable_interrupts();
    r_.clear_bits(CTRL_EXT, kCtrlExtDrvLoad);  // back to the firmware
  }

 private:
  void disable_interrupts() noexcept {
    r_.write(IMC, 0xFFFFFFFF);
    r_.write(EIMC, 0xFFFFFFFF);
    (void)r_.read(ICR);  // read-to-clear
    (void)r_.read(EICR);
  }

  Result<uint16_t> mdic_read(uint32_t reg) {
    r_.write(MDIC, reg << kMdicRegShift | kPhyAddress << kMdicPhyShift | kMdicOpRead);
    if (!r_.wait_for(MDIC, kMdicReady, kMdicReady, kMdicTimeoutMs)) return timeout("MDIC.READY");
    const uint32_t v = r_.read(MDIC);
    if ((v & kMdicError) != 0) return mdic_error(reg);
    return static_cast<uint16_t>(v & 0xFFFF);
  }

  Status mdic_write(uint32_t reg, uint16_t value) {
    r_.write(MDIC, value | reg << kMdicRegShift | kPhyAddress << kMdicPhyShift | kMdicOpWrite);
    if (!r_.wait_for(MDIC, kMdicReady, kMdicReady, kMdicTimeoutMs)) return timeout("MDIC.READY");
    if ((r_.read(MDIC) & kMdicError) != 0) return mdic_error(reg);
    return ok();
  }

  static Error mdic_error(uint32_t reg) {
    return Error{Errc::Unavailable,
                 fmt::format("82576: the PHY refused access to its register {} (MDIC.ERROR)", reg)};
  }

  static Error timeout(std::string_view what) { return register_timeout("82576", what); }

  Registers& r_;
};

}  // namespace

std::unique_ptr<NicLayer> make_igb_layer(Registers& regs) {
  return std::make_unique<IgbLayer>(regs);
}

}  // namespace vsw::ports::intel
