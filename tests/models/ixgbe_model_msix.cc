// tests/models/ixgbe_model_msix.cc — the model's MSI-X side (82599 datasheet §7.3 interrupts,
// §8.2.3.5 interrupt registers): causes mapped to vectors by IVAR, messages as eventfd writes,
// auto-clear (EIAC) and auto-mask (GPIE.EIAME + EIAM_EX), and the rules a driver must keep:
//   msix — GPIE.MSIX_MODE needs GPIE.PBA_SUPPORT (§8.2.3.5 GPIE); an IVAR entry marked valid
//          (INT_ALLOC_VAL) names a vector the function was given (§7.3: the MSI-X table the
//          system enabled); EIMS unmasks queue vectors only in GPIE MSI-X mode and only
//          vectors the function was given (§7.3).
#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>

#include "tests/models/ixgbe_model.h"

namespace vsw::tests::models {

using namespace ixgbe;

void IxgbeModel::set_msix_vectors(std::vector<int> fds) {
  std::lock_guard lock(mu_);
  msix_fds_ = std::move(fds);
}

void IxgbeModel::check_gpie(uint32_t v) {
  if ((v & bit::GPIE_MSIX_MODE) && !(v & bit::GPIE_PBA_SUPPORT)) {
    violation("GPIE.MSIX_MODE without GPIE.PBA_SUPPORT (§8.2.3.5: set in MSI-X mode)",
              fmt::format("GPIE = {:#x}", v));
  }
}

void IxgbeModel::check_ivar(uint32_t off, uint32_t v) {
  // Only an MSI-X function maps causes to vectors; in legacy/MSI mode the entries pick EICR
  // bits and any value is fine.
  if (msix_fds_.empty() && !msix_mode()) return;
  for (unsigned b = 0; b < 4; ++b) {
    const uint32_t entry = (v >> (8 * b)) & 0xFF;
    if (!(entry & bit::IVAR_ALLOC_VAL)) continue;
    const uint32_t vector = entry & bit::IVAR_VECTOR_MASK;
    if (vector >= msix_fds_.size()) {
      const unsigned n = (off - reg::IVAR0) / 4;
      violation("IVAR maps a cause to an MSI-X vector the function was not given (§7.3)",
                fmt::format("IVAR({}) {} queue {} -> vector {}, {} vectors enabled", n,
                            b % 2 ? "tx" : "rx", 2 * n + b / 2, vector, msix_fds_.size()));
    }
  }
}

void IxgbeModel::check_eims(uint32_t v) {
  const uint32_t vectors = v & bit::EIMS_QUEUE_VECTORS;
  if (msix_fds_.empty() || vectors == 0) return;
  if (!msix_mode()) {
    violation("EIMS unmasks MSI-X vectors before GPIE.MSIX_MODE is set (§7.3)",
              fmt::format("EIMS = {:#x}, GPIE = {:#x}", v, regs_[reg::GPIE / 4]));
  }
  if (msix_fds_.size() < 16 && (vectors >> msix_fds_.size()) != 0) {
    violation("EIMS unmasks an MSI-X vector the function was not given (§7.3)",
              fmt::format("EIMS = {:#x}, {} vectors enabled", v, msix_fds_.size()));
  }
}

void IxgbeModel::rx_cause(unsigned q) {
  const uint32_t entry =
      (regs_[(reg::IVAR0 + 4 * (q / 2)) / 4] >> (16 * (q % 2))) & 0xFF;  // rx entry of q
  uint32_t cause;
  if (entry & bit::IVAR_ALLOC_VAL) {
    const uint32_t vector = entry & bit::IVAR_VECTOR_MASK;
    if (vector >= 16) return;  // EICR_EX (vectors 16..63) is not modelled
    cause = 1u << vector;
  } else if (!msix_mode()) {
    cause = 1u << (q % 16);  // legacy: the queue's own RTxQ bit
  } else {
    return;  // MSI-X mode, queue not mapped: no interrupt
  }
  eicr_ |= cause;
  if (msix_mode()) send_msix(eicr_ & eims_ & cause);
}

void IxgbeModel::send_msix(uint32_t vectors) {
  vectors &= bit::EIMS_QUEUE_VECTORS;
  for (unsigned v = 0; vectors != 0; ++v, vectors >>= 1) {
    if (!(vectors & 1u) || v >= msix_fds_.size()) continue;
    const uint64_t one = 1;
    (void)::write(msix_fds_[v], &one, sizeof one);
    ++counters_.msix_messages[v];
    const uint32_t b = 1u << v;
    if (regs_[reg::EIAC / 4] & b) eicr_ &= ~b;  // auto-clear (§7.3)
    if ((regs_[reg::GPIE / 4] & bit::GPIE_EIAME) && (regs_[reg::EIAM_EX0 / 4] & b)) {
      eims_ &= ~b;  // auto-mask (§7.3)
    }
  }
}

}  // namespace vsw::tests::models
