// tests/models/ixgbe_model_queues.cc — the per-queue registers of the model: ring base, length,
// head, tail, SRRCTL, DCA_RXCTRL, RXDCTL/TXDCTL, and the rules for enabling a queue (§4.6.7,
// §4.6.8, §8.2.3.8, §8.2.3.9). The rule list is at the top of ixgbe_model.cc.
#include <fmt/format.h>

#include <algorithm>

#include "tests/models/ixgbe_model.h"

namespace vsw::tests::models {

using namespace ixgbe;

void IxgbeModel::write_rx_queue(unsigned q, uint32_t r, uint32_t v) {
  RxQueue& rq = rxq_[q];
  const uint32_t block = rx_base(q);
  switch (r) {
    case reg::Q_BAL:
    case reg::Q_BAH:
    case reg::Q_LEN:
    case reg::Q_SRRCTL:
      if (rq.enabled) {
        violation("rx ring registers written while RXDCTL.ENABLE is set (§4.6.7.1)",
                  fmt::format("queue {} register +{:#x} = {:#x}", q, r, v));
      }
      if (r == reg::Q_LEN && v % 128 != 0) {
        violation("RDLEN must be a multiple of 128 (§8.2.3.8.3)",
                  fmt::format("RDLEN({}) = {}", q, v));
      }
      if (r == reg::Q_SRRCTL && (v & bit::SRRCTL_RESERVED)) {
        violation("SRRCTL reserved bits set (§8.2.3.8.7)", fmt::format("SRRCTL({}) = {:#x}", q, v));
      }
      break;
    case reg::Q_HEAD:
      if (rq.enabled) {
        violation(
            "RDH written while the queue is enabled (§8.2.3.8.4: software may write the "
            "head only before enabling the queue)",
            fmt::format("RDH({}) = {}", q, v));
        return;
      }
      rq.head = v;
      return;
    case reg::Q_TAIL: {
      const uint32_t n = ring_size(block);
      if (v >= n && !(n == 0 && v == 0)) {
        violation("RDT beyond the ring (§8.2.3.8.5)",
                  fmt::format("RDT({}) = {} with {} descriptors", q, v, n));
        return;
      }
      if (!rq.enabled && v != 0) {
        // §4.6.7: RDH = RDT = 0 while the ring is programmed; descriptors are handed to the
        // hardware (RDT = N - 1) only after RXDCTL.ENABLE reads back set.
        violation("RDT moved before the rx queue was enabled (§4.6.7)",
                  fmt::format("RDT({}) = {}", q, v));
      }
      rq.tail = v;
      if (doorbell_) doorbell_();
      return;
    }
    case reg::Q_CTL:
      regs_[(block + r) / 4] = v;
      if ((v & bit::RXDCTL_ENABLE) && !rq.enabled) enable_rx_queue(q);
      if (!(v & bit::RXDCTL_ENABLE)) {
        rq.enabled = false;
        regs_[(block + r) / 4] &= ~bit::RXDCTL_ENABLE;
      }
      return;
    default:
      break;
  }
  regs_[(block + r) / 4] = v;
}

void IxgbeModel::enable_rx_queue(unsigned q) {
  const uint32_t block = rx_base(q);
  const uint32_t len = regs_[(block + reg::Q_LEN) / 4];
  const uint64_t base = ring_iova(block);
  const uint32_t srrctl = regs_[(block + reg::Q_SRRCTL) / 4];
  bool ok = true;
  if (!ever_reset_) {
    violation("rx queue enabled before the global reset (§4.6.3)", fmt::format("queue {}", q));
  }
  if (!saw_dmaidone_ || !saw_ard_) {
    violation("rx queue enabled before EEC.ARD and RDRXCTL.DMAIDONE were polled (§4.6.3)",
              fmt::format("queue {}", q));
  }
  if (len == 0 || len % 128 != 0 || base == 0 || base % 16 != 0) {
    violation("rx queue enabled before its ring base and length were programmed (§4.6.7)",
              fmt::format("queue {}: RDBA {:#x} RDLEN {}", q, base, len));
    ok = false;
  } else if (bus_.translate(base, len) == nullptr) {
    violation("descriptor ring outside mapped DMA memory (§7.1.9)",
              fmt::format("rx queue {}: [{:#x}, +{})", q, base, len));
    ok = false;
  }
  if (regs_[(block + reg::Q_DCA) / 4] & bit::DCA_RXCTRL_BIT12) {
    violation("DCA_RXCTRL bit 12 must be cleared before the queue is enabled (§8.2.3.11.1)",
              fmt::format("queue {}", q));
  }
  const uint32_t desctype = srrctl & bit::SRRCTL_DESCTYPE_MASK;
  if (desctype != bit::SRRCTL_DESCTYPE_ADV_ONEBUF) {
    violation(
        "SRRCTL.DESCTYPE: the model implements advanced one-buffer descriptors only "
        "(§8.2.3.8.7)",
        fmt::format("queue {}: SRRCTL {:#x}", q, srrctl));
    ok = false;
  }
  if ((srrctl & bit::SRRCTL_BSIZEPKT_MASK) == 0) {
    violation("SRRCTL.BSIZEPACKET is 0 (§8.2.3.8.7)", fmt::format("queue {}", q));
    ok = false;
  }
  if (rxq_[q].head >= len / 16 || rxq_[q].tail >= std::max<uint32_t>(len / 16, 1)) {
    violation("RDH/RDT beyond the ring at enable (§8.2.3.8.4)", fmt::format("queue {}", q));
    ok = false;
  }
  rxq_[q].enabled = ok;
  if (!ok) regs_[(block + reg::Q_CTL) / 4] &= ~bit::RXDCTL_ENABLE;  // stays off
}

void IxgbeModel::write_tx_queue(unsigned q, uint32_t r, uint32_t v) {
  TxQueue& tq = txq_[q];
  const uint32_t block = tx_base(q);
  switch (r) {
    case reg::Q_BAL:
    case reg::Q_BAH:
    case reg::Q_LEN:
      if (tq.enabled) {
        violation("tx ring registers written while TXDCTL.ENABLE is set (§4.6.8.1)",
                  fmt::format("queue {} register +{:#x} = {:#x}", q, r, v));
      }
      if (r == reg::Q_LEN && v % 128 != 0) {
        violation("TDLEN must be a multiple of 128 (§8.2.3.9.7)",
                  fmt::format("TDLEN({}) = {}", q, v));
      }
      break;
    case reg::Q_HEAD:
      if (tq.enabled) {
        violation(
            "TDH written while the queue is enabled (§8.2.3.9.8: software may write the "
            "head only before enabling the queue)",
            fmt::format("TDH({}) = {}", q, v));
        return;
      }
      tq.head = v;
      return;
    case reg::Q_TAIL: {
      const uint32_t n = ring_size(block);
      if (v >= n && !(n == 0 && v == 0)) {
        violation("TDT beyond the ring (§8.2.3.9.9)",
                  fmt::format("TDT({}) = {} with {} descriptors", q, v, n));
        return;
      }
      tq.tail = v;
      if (doorbell_) doorbell_();
      return;
    }
    case reg::Q_CTL:
      if (v & bit::TXDCTL_RESERVED) {
        violation("TXDCTL reserved bits set (§8.2.3.9.10)",
                  fmt::format("TXDCTL({}) = {:#x}", q, v));
      }
      regs_[(block + r) / 4] = v;
      if ((v & bit::TXDCTL_ENABLE) && !tq.enabled) enable_tx_queue(q);
      if (!(v & bit::TXDCTL_ENABLE)) tq.enabled = false;
      return;
    default:
      break;
  }
  regs_[(block + r) / 4] = v;
}

void IxgbeModel::enable_tx_queue(unsigned q) {
  const uint32_t block = tx_base(q);
  const uint32_t len = regs_[(block + reg::Q_LEN) / 4];
  const uint64_t base = ring_iova(block);
  bool ok = true;
  if (!ever_reset_) {
    violation("tx queue enabled before the global reset (§4.6.3)", fmt::format("queue {}", q));
  }
  if (!(regs_[reg::DMATXCTL / 4] & bit::DMATXCTL_TE)) {
    violation("TXDCTL.ENABLE before DMATXCTL.TE (§4.6.8)", fmt::format("queue {}", q));
  }
  if (len == 0 || len % 128 != 0 || base == 0 || base % 16 != 0) {
    violation("tx queue enabled before its ring base and length were programmed (§4.6.8)",
              fmt::format("queue {}: TDBA {:#x} TDLEN {}", q, base, len));
    ok = false;
  } else if (bus_.translate(base, len) == nullptr) {
    violation("descriptor ring outside mapped DMA memory (§7.2.3)",
              fmt::format("tx queue {}: [{:#x}, +{})", q, base, len));
    ok = false;
  }
  if (ok && (txq_[q].head >= len / 16 || txq_[q].tail >= len / 16)) {
    violation("TDH/TDT beyond the ring at enable (§8.2.3.9.8)", fmt::format("queue {}", q));
    ok = false;
  }
  txq_[q].enabled = ok;
  if (!ok) regs_[(block + reg::Q_CTL) / 4] &= ~bit::TXDCTL_ENABLE;
}

}  // namespace vsw::tests::models
