// tests/models/ixgbe_model.cc — the register file, reset, link and the order rules.
//
// Rules recorded as violations (the message names the rule and the datasheet section):
//   access   — only aligned 32-bit accesses inside the 128 KiB BAR (§8.1: all registers are
//              32 bits wide, accessed as DWORDs);
//   reset    — no access but reading CTRL while CTRL.RST is in progress (§4.6.3.2); the
//              global reset comes before the queues or RXEN/TE are enabled (§4.6.3);
//   init     — RXCTRL.RXEN / RXDCTL.ENABLE only after EEC.ARD and RDRXCTL.DMAIDONE were seen
//              set since the reset (§4.6.3); RXEN with HLREG0.RXCRCSTRP != RDRXCTL.CRCSTRIP
//              (§8.2.3.8.8: both must agree); TXDCTL.ENABLE only after DMATXCTL.TE (§4.6.8);
//   ring     — a queue is enabled only with its base (16-byte aligned, in mapped memory) and
//              length (non-zero multiple of 128) programmed (§4.6.7, §4.6.8, §8.2.3.8.3);
//              RDLEN/TDLEN multiples of 128; RDT/TDT inside the ring; RDH/TDH, the base, the
//              length and SRRCTL are not written while the queue is enabled (§4.6.7.1,
//              §4.6.8.1);
//   reserved — reserved bits of SRRCTL, TXDCTL, RXCTRL, FCTRL, RETA entries ≥ 16 (§7.1.2.8),
//              DCA_RXCTRL bit 12 still set when the queue is enabled (§8.2.3.11.1);
//   msix     — GPIE, IVAR and EIMS consistent with the MSI-X vectors the function was given
//              (ixgbe_model_msix.cc);
//   dma      — no DMA with bus mastering off; descriptors and buffers only in mapped memory
//              (ixgbe_model_dma.cc).
#include "tests/models/ixgbe_model.h"

#include <fmt/format.h>

#include <cstdio>

namespace vsw::tests::models {

using namespace ixgbe;

namespace {

bool in_rx_block(uint32_t off, unsigned& q, uint32_t& r) {
  if (off >= reg::RXQ_LOW && off < reg::RXQ_LOW + 64 * reg::QSTRIDE) {
    q = (off - reg::RXQ_LOW) / reg::QSTRIDE;
  } else if (off >= reg::RXQ_HIGH && off < reg::RXQ_HIGH + 64 * reg::QSTRIDE) {
    q = 64 + (off - reg::RXQ_HIGH) / reg::QSTRIDE;
  } else {
    return false;
  }
  r = off % reg::QSTRIDE;
  return true;
}

bool in_tx_block(uint32_t off, unsigned& q, uint32_t& r) {
  if (off < reg::TXQ || off >= reg::TXQ + kQueues * reg::QSTRIDE) return false;
  q = (off - reg::TXQ) / reg::QSTRIDE;
  r = off % reg::QSTRIDE;
  return true;
}

}  // namespace

IxgbeModel::IxgbeModel(DmaBus& bus, std::array<uint8_t, 6> mac)
    : bus_(bus), mac_(mac), regs_(kBar0Size / 4, 0) {
  std::lock_guard lock(mu_);
  reset_locked();
  // Power-on: the EEPROM was read and DMA init is done already, but no reset was requested
  // by a driver yet (ever_reset_ stays false).
  init_done_ = true;
  regs_[reg::EEC / 4] |= bit::EEC_ARD;
  regs_[reg::RDRXCTL / 4] |= bit::RDRXCTL_DMAIDONE;
}

uint32_t IxgbeModel::rx_base(unsigned q) const noexcept {
  return q < 64 ? reg::RXQ_LOW + q * reg::QSTRIDE : reg::RXQ_HIGH + (q - 64) * reg::QSTRIDE;
}
uint32_t IxgbeModel::tx_base(unsigned q) const noexcept { return reg::TXQ + q * reg::QSTRIDE; }

uint64_t IxgbeModel::ring_iova(uint32_t block) const noexcept {
  return (uint64_t{regs_[(block + reg::Q_BAH) / 4]} << 32) | regs_[(block + reg::Q_BAL) / 4];
}

// Global reset (§4.6.3.2): every register to its reset value, queues off, counters zero.
void IxgbeModel::reset_locked() {
  if ((regs_[reg::MRQC / 4] & bit::MRQC_MRQE_MASK) == bit::MRQC_RSS)
    rss_before_reset_ = current_rss();
  std::fill(regs_.begin(), regs_.end(), 0);
  for (auto& q : rxq_) q = RxQueue{};
  for (auto& q : txq_) q = TxQueue{};
  stats_.clear();
  latched_.clear();
  eims_ = eicr_ = 0;
  link_up_ = link_pending_ = false;
  saw_dmaidone_ = saw_ard_ = false;
  init_done_ = false;
  // Reset values (§8.2.3): MAC from the EEPROM in RAR 0, 2 KiB buffers, DCA_RXCTRL bit 12.
  regs_[reg::RAL0 / 4] = uint32_t{mac_[0]} | uint32_t{mac_[1]} << 8 | uint32_t{mac_[2]} << 16 |
                         uint32_t{mac_[3]} << 24;
  regs_[(reg::RAL0 + 4) / 4] = uint32_t{mac_[4]} | uint32_t{mac_[5]} << 8 | bit::RAH_AV;
  for (unsigned q = 0; q < kQueues; ++q) {
    regs_[(rx_base(q) + reg::Q_SRRCTL) / 4] = bit::SRRCTL_RESET;
    regs_[(rx_base(q) + reg::Q_DCA) / 4] = bit::DCA_RXCTRL_BIT12;
  }
  regs_[reg::MAXFRS / 4] = 1518u << 16;
  regs_[reg::HLREG0 / 4] = bit::HLREG0_TXCRCEN | bit::HLREG0_RXCRCSTRP | bit::HLREG0_TXPADEN;
  regs_[reg::RDRXCTL / 4] = bit::RDRXCTL_CRCSTRIP;
}

void IxgbeModel::violation(const std::string& rule, const std::string& detail) {
  if (violation_counts_[rule]++ == 0) {
    violation_order_.push_back(rule);
    violation_first_[rule] = detail;
  }
  if (!violation_file_.empty()) {
    if (FILE* f = std::fopen(violation_file_.c_str(), "a")) {
      std::fprintf(f, "%s: %s\n", rule.c_str(), detail.c_str());
      std::fclose(f);
    }
  }
}

void IxgbeModel::settle_time() {
  const auto now = Clock::now();
  if (reset_busy_ && now >= reset_done_at_) {
    reset_busy_ = false;
    regs_[reg::CTRL / 4] &= ~(bit::CTRL_RST | bit::CTRL_LNK_RST);
    init_done_at_ = now + kInitTime;
  }
  if (!reset_busy_ && !init_done_ && now >= init_done_at_) {
    init_done_ = true;
    regs_[reg::EEC / 4] |= bit::EEC_ARD;
    regs_[reg::RDRXCTL / 4] |= bit::RDRXCTL_DMAIDONE;
  }
  if (link_pending_ && now >= link_up_at_) {
    link_pending_ = false;
    link_up_ = true;
    regs_[reg::AUTOC / 4] &= ~bit::AUTOC_AN_RESTART;
  }
}

uint32_t IxgbeModel::canonical(uint32_t off) const noexcept {
  if (off >= reg::SRRCTL_ALIAS0 && off < reg::SRRCTL_ALIAS0 + 16 * 4) {
    return rx_base((off - reg::SRRCTL_ALIAS0) / 4) + reg::Q_SRRCTL;
  }
  if (off >= reg::DCA_RXCTRL_ALIAS0 && off < reg::DCA_RXCTRL_ALIAS0 + 16 * 4) {
    return rx_base((off - reg::DCA_RXCTRL_ALIAS0) / 4) + reg::Q_DCA;
  }
  if (off >= reg::RAL_LEGACY0 && off < reg::RAL_LEGACY0 + 16 * 8) {
    return reg::RAL0 + (off - reg::RAL_LEGACY0);
  }
  return off;
}

bool IxgbeModel::is_stat(uint32_t off) const noexcept {
  switch (off) {
    case reg::CRCERRS:
    case reg::RLEC:
    case reg::GPRC:
    case reg::BPRC:
    case reg::MPRC:
    case reg::GPTC:
    case reg::GORCL:
    case reg::GORCH:
    case reg::GOTCL:
    case reg::GOTCH:
    case reg::TPR:
    case reg::TPT:
      return true;
    default:
      break;
  }
  if (off >= reg::MPC0 && off < reg::MPC0 + 32) return true;
  if (off >= reg::RNBC0 && off < reg::RNBC0 + 32) return true;
  unsigned q;
  uint32_t r;
  if (in_rx_block(off, q, r) && q < 16 && (r == 0x30 || r == 0x34 || r == 0x38)) return true;
  if (in_tx_block(off, q, r) && q < 16 && r == 0x30) return true;
  return false;
}

// Clear on read (§8.2.3.23). 64-bit counters: reading the low half returns bits 31:0, latches
// bits 63:32 for the high half and clears the counter.
uint32_t IxgbeModel::read_stat(uint32_t off) {
  const bool low64 = off == reg::GORCL || off == reg::GOTCL || [&] {
    unsigned q;
    uint32_t r;
    return in_rx_block(off, q, r) && r == 0x34;
  }();
  const bool high64 = off == reg::GORCH || off == reg::GOTCH || [&] {
    unsigned q;
    uint32_t r;
    return in_rx_block(off, q, r) && r == 0x38;
  }();
  if (high64) {
    const uint32_t v = latched_[off];
    latched_[off] = 0;
    return v;
  }
  const uint64_t v = stats_[off];
  stats_[off] = 0;
  if (low64) latched_[off + 4] = static_cast<uint32_t>(v >> 32);
  return static_cast<uint32_t>(v);
}

uint32_t IxgbeModel::bar_read(uint64_t off, unsigned width) {
  std::lock_guard lock(mu_);
  if (off >= kBar0Size || off + width > kBar0Size) {
    violation("access outside BAR 0 (§8.1)", fmt::format("read{} at {:#x}", width * 8, off));
    return 0;
  }
  if (width != 4 || off % 4 != 0) {
    violation("registers are 32-bit: 8/16-bit or unaligned access (§8.1)",
              fmt::format("read{} at {:#x}", width * 8, off));
    return 0;
  }
  return read_locked(static_cast<uint32_t>(off));
}

void IxgbeModel::bar_write(uint64_t off, unsigned width, uint32_t value) {
  std::lock_guard lock(mu_);
  if (off >= kBar0Size || off + width > kBar0Size) {
    violation("access outside BAR 0 (§8.1)", fmt::format("write{} at {:#x}", width * 8, off));
    return;
  }
  if (width != 4 || off % 4 != 0) {
    violation("registers are 32-bit: 8/16-bit or unaligned access (§8.1)",
              fmt::format("write{} {:#x} at {:#x}", width * 8, value, off));
    return;
  }
  write_locked(static_cast<uint32_t>(off), value);
}

uint32_t IxgbeModel::read_locked(uint32_t raw) {
  settle_time();
  const uint32_t off = canonical(raw);
  if (reset_busy_ && off != reg::CTRL) {
    violation("register access while CTRL.RST is in progress (§4.6.3.2)",
              fmt::format("read at {:#x}", raw));
  }
  if (is_stat(off)) return read_stat(off);
  switch (off) {
    case reg::EICR: {
      const uint32_t v = eicr_;
      eicr_ = 0;  // read to clear (§8.2.3.5.1)
      return v;
    }
    case reg::EIMS:
      return eims_;
    case reg::EIMC:
      return 0;
    case reg::LINKS:
      return link_up_ ? bit::LINKS_UP | bit::LINKS_SPEED_10G : 0;
    case reg::EEC:
      if (regs_[off / 4] & bit::EEC_ARD) saw_ard_ = true;
      break;
    case reg::RDRXCTL:
      if (regs_[off / 4] & bit::RDRXCTL_DMAIDONE) saw_dmaidone_ = true;
      break;
    default:
      break;
  }
  unsigned q;
  uint32_t r;
  if (in_rx_block(off, q, r)) {
    if (r == reg::Q_HEAD) return rxq_[q].head;
    if (r == reg::Q_TAIL) return rxq_[q].tail;
  } else if (in_tx_block(off, q, r)) {
    if (r == reg::Q_HEAD) return txq_[q].head;
    if (r == reg::Q_TAIL) return txq_[q].tail;
  }
  return regs_[off / 4];
}

void IxgbeModel::write_locked(uint32_t raw, uint32_t v) {
  settle_time();
  const uint32_t off = canonical(raw);
  if (reset_busy_) {
    violation("register access while CTRL.RST is in progress (§4.6.3.2)",
              fmt::format("write {:#x} at {:#x}", v, raw));
    return;
  }
  unsigned q;
  uint32_t r;
  if (in_rx_block(off, q, r) && !is_stat(off)) return write_rx_queue(q, r, v);
  if (in_tx_block(off, q, r) && !is_stat(off)) return write_tx_queue(q, r, v);
  if (is_stat(off)) return;  // read-only counters
  switch (off) {
    case reg::CTRL:
      if (v & bit::CTRL_RST) {
        reset_locked();
        ever_reset_ = true;
        reset_busy_ = true;
        reset_done_at_ = Clock::now() + kResetTime;
        regs_[off / 4] = v & (bit::CTRL_RST | bit::CTRL_LNK_RST);
        return;
      }
      if (v & bit::CTRL_LNK_RST) {  // link reset only: the link renegotiates (§4.6.3.1)
        link_up_ = link_pending_ = false;
        v &= ~bit::CTRL_LNK_RST;
      }
      regs_[off / 4] = v;
      return;
    case reg::EICR:
      eicr_ &= ~v;
      return;  // write 1 to clear
    case reg::EICS:
      eicr_ |= v;
      if (msix_mode()) send_msix(eicr_ & eims_ & v);
      return;
    case reg::EIMS: {
      check_eims(v);
      const uint32_t unmasked = v & ~eims_;
      eims_ |= v;
      if (msix_mode()) send_msix(eicr_ & unmasked);  // a pending cause fires once unmasked
      return;
    }
    case reg::GPIE:
      check_gpie(v);
      regs_[off / 4] = v;
      return;
    case reg::EIMC:
      eims_ &= ~v;
      return;
    case reg::LINKS:
      return;       // read only
    case reg::EEC:  // ARD is read only
      regs_[off / 4] = (v & ~bit::EEC_ARD) | (regs_[off / 4] & bit::EEC_ARD);
      return;
    case reg::RDRXCTL:
      regs_[off / 4] = (v & ~bit::RDRXCTL_DMAIDONE) | (regs_[off / 4] & bit::RDRXCTL_DMAIDONE);
      return;
    case reg::AUTOC:
      regs_[off / 4] = v;
      if ((v & bit::AUTOC_AN_RESTART) && !link_forced_down_) {
        link_pending_ = true;
        link_up_at_ = Clock::now() + kLinkTime;
      }
      return;
    case reg::RXCTRL:
      if (v & ~bit::RXCTRL_RXEN) {
        violation("RXCTRL reserved bits set (§8.2.3.8.10)", fmt::format("RXCTRL = {:#x}", v));
      }
      if ((v & bit::RXCTRL_RXEN) && !(regs_[off / 4] & bit::RXCTRL_RXEN)) {
        if (!ever_reset_) {
          violation("receive enabled before the global reset (§4.6.3)", "RXCTRL.RXEN");
        }
        if (!saw_dmaidone_ || !saw_ard_) {
          violation("receive enabled before EEC.ARD and RDRXCTL.DMAIDONE were polled (§4.6.3)",
                    "RXCTRL.RXEN");
        }
        const bool hl = regs_[reg::HLREG0 / 4] & bit::HLREG0_RXCRCSTRP;
        const bool rd = regs_[reg::RDRXCTL / 4] & bit::RDRXCTL_CRCSTRIP;
        if (hl != rd) {
          violation("HLREG0.RXCRCSTRP and RDRXCTL.CRCSTRIP must agree (§8.2.3.8.8)",
                    fmt::format("HLREG0.RXCRCSTRP={} RDRXCTL.CRCSTRIP={}", hl, rd));
        }
      }
      regs_[off / 4] = v;
      return;
    case reg::FCTRL:
      if (v & ~bit::FCTRL_DEFINED) {
        violation("FCTRL reserved bits set (§8.2.3.7.1)", fmt::format("FCTRL = {:#x}", v));
      }
      regs_[off / 4] = v;
      return;
    default:
      break;
  }
  if (off >= reg::IVAR0 && off < reg::IVAR0 + 64 * 4) check_ivar(off, v);
  if (off >= reg::RETA0 && off < reg::RETA0 + 32 * 4) {
    for (unsigned b = 0; b < 4; ++b) {
      const unsigned entry = (v >> (8 * b)) & 0xFF;
      if (entry >= kRssQueues) {
        violation("RETA entry beyond the 16 RSS queues (§7.1.2.8.3)",
                  fmt::format("RETA[{}] = {}", (off - reg::RETA0) + b, entry));
      }
    }
  }
  regs_[off / 4] = v;
}

void IxgbeModel::set_doorbell(std::function<void()> f) {
  std::lock_guard lock(mu_);
  doorbell_ = std::move(f);
}

void IxgbeModel::set_link(bool up) {
  std::lock_guard lock(mu_);
  link_forced_down_ = !up;
  link_up_ = up;
  link_pending_ = false;
}

uint32_t IxgbeModel::peek(uint32_t off) const {
  std::lock_guard lock(mu_);
  const uint32_t c = canonical(off);
  unsigned q;
  uint32_t r;
  if (in_rx_block(c, q, r) && r == reg::Q_HEAD) return rxq_[q].head;
  if (in_rx_block(c, q, r) && r == reg::Q_TAIL) return rxq_[q].tail;
  if (in_tx_block(c, q, r) && r == reg::Q_HEAD) return txq_[q].head;
  if (in_tx_block(c, q, r) && r == reg::Q_TAIL) return txq_[q].tail;
  if (c == reg::LINKS) return link_up_ ? bit::LINKS_UP | bit::LINKS_SPEED_10G : 0;
  if (c == reg::EIMS) return eims_;
  if (c == reg::EICR) return eicr_;
  if (is_stat(c)) {
    auto it = stats_.find(c);
    return it == stats_.end() ? 0 : static_cast<uint32_t>(it->second);
  }
  return regs_[c / 4];
}

std::vector<std::string> IxgbeModel::violations() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const std::string& rule : violation_order_) {
    out.push_back(
        fmt::format("{}: {} [x{}]", rule, violation_first_.at(rule), violation_counts_.at(rule)));
  }
  return out;
}

size_t IxgbeModel::violation_count() const {
  std::lock_guard lock(mu_);
  return violation_order_.size();
}

ModelCounters IxgbeModel::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

uint16_t IxgbeModel::last_rx_queue() const {
  std::lock_guard lock(mu_);
  return last_rx_queue_;
}

uint32_t IxgbeModel::last_rss_hash() const {
  std::lock_guard lock(mu_);
  return last_rss_hash_;
}

void IxgbeModel::set_violation_file(std::string path) {
  std::lock_guard lock(mu_);
  violation_file_ = std::move(path);
}

RssProgramming IxgbeModel::current_rss() const noexcept {
  RssProgramming p;
  p.key = rss_key();
  for (unsigned k = 0; k < 128; ++k) {
    p.reta[k] = static_cast<uint8_t>(regs_[(reg::RETA0 + 4 * (k / 4)) / 4] >> (8 * (k % 4)));
  }
  p.mrqc = regs_[reg::MRQC / 4];
  return p;
}

RssProgramming IxgbeModel::rss_programming() const {
  std::lock_guard lock(mu_);
  if ((regs_[reg::MRQC / 4] & bit::MRQC_MRQE_MASK) == bit::MRQC_RSS) return current_rss();
  return rss_before_reset_;
}

RssKey IxgbeModel::rss_key() const noexcept {
  RssKey k{};
  for (unsigned j = 0; j < kRssKeyBytes; ++j) {
    k[j] = static_cast<uint8_t>(regs_[(reg::RSSRK0 + 4 * (j / 4)) / 4] >> (8 * (j % 4)));
  }
  return k;
}

}  // namespace vsw::tests::models
