// tests/models/ixgbe_model_dma.cc — the model's DMA engine: receive filtering, RSS queue
// choice, advanced receive descriptor write-back, transmit descriptor processing.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "tests/models/ixgbe_model.h"

namespace vsw::tests::models {

using namespace ixgbe;

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// The device stores descriptor status with a release store, the driver loads it with acquire.
void store_release32(std::byte* p, uint32_t v) {
  __atomic_store_n(reinterpret_cast<uint32_t*>(p), v, __ATOMIC_RELEASE);
}

}  // namespace

bool IxgbeModel::dma_allowed(const char* what) {
  if (bus_.bus_master_enabled()) return true;
  violation("DMA with bus mastering disabled (PCI command register bit 2)", what);
  return false;
}

std::byte* IxgbeModel::dma(uint64_t iova, size_t len, const std::string& what) {
  std::byte* p = bus_.translate(iova, len);
  if (p == nullptr) {
    violation("descriptor or buffer outside mapped DMA memory (§7.1.9 / §7.2.3)",
              fmt::format("{}: [{:#x}, +{})", what, iova, len));
  }
  return p;
}

// Destination address filtering (§7.1.1.1): promiscuous unicast/multicast, broadcast accept,
// exact match on a valid receive address (RAL/RAH with AV).
bool IxgbeModel::accept(std::span<const uint8_t> f) const {
  const uint32_t fctrl = regs_[reg::FCTRL / 4];
  const bool broadcast = std::all_of(f.begin(), f.begin() + 6, [](uint8_t b) { return b == 0xFF; });
  if (broadcast) return (fctrl & bit::FCTRL_BAM) || (fctrl & bit::FCTRL_MPE);
  if (f[0] & 1u) return fctrl & bit::FCTRL_MPE;  // MTA lookup is not modelled
  if (fctrl & bit::FCTRL_UPE) return true;
  const uint32_t ral =
      uint32_t{f[0]} | uint32_t{f[1]} << 8 | uint32_t{f[2]} << 16 | uint32_t{f[3]} << 24;
  const uint32_t rah = uint32_t{f[4]} | uint32_t{f[5]} << 8;
  for (unsigned i = 0; i < 128; ++i) {
    const uint32_t h = regs_[(reg::RAL0 + 8 * i + 4) / 4];
    if ((h & bit::RAH_AV) && (h & 0xFFFF) == rah && regs_[(reg::RAL0 + 8 * i) / 4] == ral) {
      return true;
    }
  }
  return false;
}

// RSS (§7.1.2.8): the hash over the fields MRQC enables, queue = RETA[hash & 0x7F]. Also
// decodes the packet type for the write-back.
uint16_t IxgbeModel::choose_queue(std::span<const uint8_t> f, uint32_t& hash,
                                  uint16_t& pkt_info) const {
  hash = 0;
  pkt_info = 0;
  if (f.size() < 14) return 0;
  const uint16_t ethertype = be16(&f[12]);
  const uint32_t mrqc = regs_[reg::MRQC / 4];
  const bool rss = (mrqc & bit::MRQC_MRQE_MASK) == bit::MRQC_RSS;
  uint8_t input[36];
  size_t n = 0;
  uint16_t type = desc::RSS_NONE;
  if (ethertype == 0x0800 && f.size() >= 34) {
    const uint8_t* ip = &f[14];
    const size_t ihl = (ip[0] & 0xF) * 4u;
    const uint8_t proto = ip[9];
    const bool fragment = (be16(&ip[6]) & 0x3FFF) != 0;  // MF or an offset
    pkt_info |= desc::PT_IPV4;
    std::memcpy(input, &ip[12], 8);
    n = 8;
    const bool l4 = !fragment && f.size() >= 14 + ihl + 4;
    if (proto == 6 && l4) pkt_info |= desc::PT_TCP;
    if (proto == 17 && l4) pkt_info |= desc::PT_UDP;
    if (proto == 6 && l4 && (mrqc & bit::MRQC_IPV4_TCP)) {
      std::memcpy(input + 8, &ip[ihl], 4);
      n = 12;
      type = desc::RSS_TCP_IPV4;
    } else if (proto == 17 && l4 && (mrqc & bit::MRQC_IPV4_UDP)) {
      std::memcpy(input + 8, &ip[ihl], 4);
      n = 12;
      type = desc::RSS_UDP_IPV4;
    } else if (mrqc & bit::MRQC_IPV4) {
      type = desc::RSS_IPV4;
    } else {
      n = 0;
    }
  } else if (ethertype == 0x86DD && f.size() >= 54) {
    const uint8_t* ip = &f[14];
    const uint8_t next = ip[6];  // extension headers are not parsed: no L4 hash then
    pkt_info |= desc::PT_IPV6;
    std::memcpy(input, &ip[8], 32);
    n = 32;
    const bool l4 = f.size() >= 54 + 4;
    if (next == 6 && l4) pkt_info |= desc::PT_TCP;
    if (next == 17 && l4) pkt_info |= desc::PT_UDP;
    if (next == 6 && l4 && (mrqc & bit::MRQC_IPV6_TCP)) {
      std::memcpy(input + 32, &ip[40], 4);
      n = 36;
      type = desc::RSS_TCP_IPV6;
    } else if (next == 17 && l4 && (mrqc & bit::MRQC_IPV6_UDP)) {
      std::memcpy(input + 32, &ip[40], 4);
      n = 36;
      type = desc::RSS_UDP_IPV6;
    } else if (mrqc & bit::MRQC_IPV6) {
      type = desc::RSS_IPV6;
    } else {
      n = 0;
    }
  }
  if (!rss || n == 0) return 0;
  hash = toeplitz_hash(rss_key(), std::span<const uint8_t>(input, n));
  pkt_info |= type;
  const unsigned entry = hash & 0x7F;
  return (regs_[(reg::RETA0 + 4 * (entry / 4)) / 4] >> (8 * (entry % 4))) & 0xFF;
}

RxOutcome IxgbeModel::receive(std::span<const uint8_t> wire) {
  std::lock_guard lock(mu_);
  settle_time();
  if (!(regs_[reg::RXCTRL / 4] & bit::RXCTRL_RXEN) || !link_up_) {
    ++counters_.rx_disabled;
    return RxOutcome::RxDisabled;
  }
  // A frame shorter than the Ethernet minimum was padded by its sender on a real wire.
  std::vector<uint8_t> frame(wire.begin(), wire.end());
  if (frame.size() < 60) frame.resize(60, 0);
  if (!accept(frame)) {
    ++counters_.rx_filtered;
    return RxOutcome::Filtered;
  }
  // Maximum frame size with FCS (§8.2.3.22.13): MAXFRS.MFS with JUMBOEN, else 1518 (+4 VLAN).
  const bool vlan = be16(&frame[12]) == 0x8100;
  const size_t max = (regs_[reg::HLREG0 / 4] & bit::HLREG0_JUMBOEN) ? regs_[reg::MAXFRS / 4] >> 16
                                                                    : 1518u + (vlan ? 4u : 0u);
  if (frame.size() + 4 > max) {
    ++stat(reg::RLEC);
    ++counters_.rx_too_long;
    return RxOutcome::TooLong;
  }
  const bool strip = regs_[reg::HLREG0 / 4] & bit::HLREG0_RXCRCSTRP;
  if (!strip) frame.resize(frame.size() + 4, 0);  // the FCS is not recomputed by the model

  uint32_t hash = 0;
  uint16_t pkt_info = 0;
  const uint16_t q = choose_queue(frame, hash, pkt_info);
  last_rx_queue_ = q;
  last_rss_hash_ = hash;
  RxQueue& rq = rxq_[q % kQueues];
  const uint32_t block = rx_base(q % kQueues);
  if (!rq.enabled || !(regs_[(block + reg::Q_CTL) / 4] & bit::RXDCTL_ENABLE)) {
    ++counters_.rx_queue_disabled;
    return RxOutcome::QueueDisabled;
  }
  const uint32_t srrctl = regs_[(block + reg::Q_SRRCTL) / 4];
  const size_t bsize = size_t{srrctl & bit::SRRCTL_BSIZEPKT_MASK} << 10;
  const uint32_t n = ring_size(block);
  const uint32_t free = (rq.tail + n - rq.head) % n;  // RDH == RDT: nothing free (§7.1.9)
  const uint32_t needed = static_cast<uint32_t>((frame.size() + bsize - 1) / bsize);
  if (free < needed) {
    if (srrctl & bit::SRRCTL_DROP_EN) {
      ++stat(reg::MPC0);
      ++stat(reg::RNBC0);
      ++counters_.rx_missed;
      return RxOutcome::Missed;
    }
    return RxOutcome::Stalled;
  }
  if (!dma_allowed("receive")) return RxOutcome::DmaError;
  const uint64_t ring = ring_iova(block);
  size_t done = 0;
  for (uint32_t i = 0; i < needed; ++i) {
    const uint32_t idx = rq.head;
    std::byte* d = dma(ring + 16u * idx, 16, fmt::format("rx queue {} descriptor {}", q, idx));
    if (d == nullptr) return RxOutcome::DmaError;
    uint64_t pkt_addr, hdr_addr;
    std::memcpy(&pkt_addr, d, 8);
    std::memcpy(&hdr_addr, d + 8, 8);
    if (hdr_addr & 1u) {
      violation(
          "rx read descriptor with header address bit 0 set: it is DD in write-back "
          "(§7.1.6.1)",
          fmt::format("queue {} descriptor {}: hdr_addr {:#x}", q, idx, hdr_addr));
    }
    std::byte* buf = dma(pkt_addr, bsize, fmt::format("rx queue {} descriptor {} buffer", q, idx));
    if (buf == nullptr) return RxOutcome::DmaError;
    const size_t chunk = std::min(bsize, frame.size() - done);
    std::memcpy(buf, frame.data() + done, chunk);
    done += chunk;
    const bool eop = done == frame.size();
    // Write-back (§7.1.6.2): pkt_info/hdr_info, RSS hash (RXCSUM.PCSD) or IP id/checksum,
    // then length/vlan, and the status word last.
    const bool pcsd = regs_[reg::RXCSUM / 4] & bit::RXCSUM_PCSD;
    const uint32_t lo = pkt_info;
    const uint32_t hi = pcsd ? hash : 0;
    const uint32_t len_vlan = static_cast<uint32_t>(chunk);
    std::memcpy(d, &lo, 4);
    std::memcpy(d + 4, &hi, 4);
    std::memcpy(d + 12, &len_vlan, 4);
    store_release32(d + 8, desc::RX_DD | (eop ? desc::RX_EOP : 0));
    rq.head = (rq.head + 1) % n;
  }
  const size_t octets = frame.size() + (strip ? 4 : 0);
  ++stat(reg::GPRC);
  ++stat(reg::TPR);
  stat(reg::GORCL) += octets;
  if (frame[0] & 1u) ++stat(frame[0] == 0xFF ? reg::BPRC : reg::MPRC);
  if (q < 16) {
    ++stat(rx_base(q) + 0x30);
    stat(rx_base(q) + 0x34) += octets;
  }
  rx_cause(q);
  ++counters_.rx_delivered;
  if (needed > 1) ++counters_.rx_multi_descriptor;
  ++counters_.rx_per_queue[q % kQueues];
  return RxOutcome::Delivered;
}

size_t IxgbeModel::transmit(std::vector<std::vector<uint8_t>>& out) {
  std::lock_guard lock(mu_);
  settle_time();
  if (!(regs_[reg::DMATXCTL / 4] & bit::DMATXCTL_TE)) return 0;
  size_t sent = 0;
  for (unsigned q = 0; q < kQueues; ++q) {
    if (txq_[q].enabled && txq_[q].head != txq_[q].tail) sent += transmit_queue(q, out);
  }
  return sent;
}

// Transmit (§7.2.3): descriptors TDH..TDT-1; a frame leaves when its EOP descriptor is in.
size_t IxgbeModel::transmit_queue(unsigned q, std::vector<std::vector<uint8_t>>& out) {
  TxQueue& tq = txq_[q];
  const uint32_t block = tx_base(q);
  const uint32_t n = ring_size(block);
  if (n == 0 || !dma_allowed("transmit")) return 0;
  const uint64_t ring = ring_iova(block);
  size_t sent = 0;
  while (tq.head != tq.tail) {
    // Find the frame's EOP before TDT; an incomplete frame waits for the rest.
    std::vector<uint32_t> descs;
    bool complete = false;
    for (uint32_t i = tq.head; i != tq.tail; i = (i + 1) % n) {
      std::byte* d = dma(ring + 16u * i, 16, fmt::format("tx queue {} descriptor {}", q, i));
      if (d == nullptr) return sent;
      uint32_t cmd;
      std::memcpy(&cmd, d + 8, 4);
      descs.push_back(i);
      const bool context =
          (cmd & desc::TX_DEXT) && (cmd & desc::TX_DTYP_MASK) == desc::TX_DTYP_CONTEXT;
      if (context && descs.size() == 1) {
        complete = true;
        break;
      }
      if (cmd & desc::TX_EOP) {
        complete = true;
        break;
      }
    }
    if (!complete) return sent;
    std::vector<uint8_t> frame;
    uint32_t paylen = 0;
    bool bad = false, is_frame = false;
    for (size_t k = 0; k < descs.size(); ++k) {
      const uint32_t i = descs[k];
      std::byte* d = bus_.translate(ring + 16u * i, 16);
      uint64_t addr;
      uint32_t cmd, olinfo;
      std::memcpy(&addr, d, 8);
      std::memcpy(&cmd, d + 8, 4);
      std::memcpy(&olinfo, d + 12, 4);
      if (!(cmd & desc::TX_DEXT)) {
        violation(
            "legacy tx descriptor: the model implements advanced descriptors only "
            "(§7.2.3.2)",
            fmt::format("queue {} descriptor {}", q, i));
        bad = true;
      } else if ((cmd & desc::TX_DTYP_MASK) == desc::TX_DTYP_CONTEXT) {
        // A context descriptor carries offload parameters only (§7.2.3.2.3).
      } else if ((cmd & desc::TX_DTYP_MASK) != desc::TX_DTYP_DATA) {
        violation("tx descriptor with a reserved DTYP (§7.2.3.2.4)",
                  fmt::format("queue {} descriptor {}: cmd {:#x}", q, i, cmd));
        bad = true;
      } else {
        is_frame = true;
        if (cmd & desc::TX_TSE) {
          violation("TSE is not implemented by the model (§7.2.4)", fmt::format("queue {}", q));
          bad = true;
        }
        if (k == 0) paylen = olinfo >> desc::TX_PAYLEN_SHIFT;
        const uint32_t len = cmd & desc::TX_DTALEN_MASK;
        if (len == 0) {
          violation("tx data descriptor with DTALEN 0 (§7.2.3.2.4)",
                    fmt::format("queue {} descriptor {}", q, i));
        }
        std::byte* buf = dma(addr, len, fmt::format("tx queue {} descriptor {} buffer", q, i));
        if (buf == nullptr) {
          bad = true;
        } else {
          const auto* b = reinterpret_cast<const uint8_t*>(buf);
          frame.insert(frame.end(), b, b + len);
        }
      }
      if (cmd & desc::TX_RS) store_release32(d + 12, desc::TX_STA_DD);  // DD write-back
    }
    tq.head = (descs.back() + 1) % n;
    if (!is_frame || bad) continue;
    if (paylen != frame.size()) {
      violation("PAYLEN differs from the sum of the frame's DTALEN (§7.2.3.2.4)",
                fmt::format("queue {}: PAYLEN {} bytes {}", q, paylen, frame.size()));
    }
    if (frame.size() < 60 && (regs_[reg::HLREG0 / 4] & bit::HLREG0_TXPADEN)) {
      frame.resize(60, 0);
    }
    const size_t octets = frame.size() + 4;
    ++stat(reg::GPTC);
    ++stat(reg::TPT);
    stat(reg::GOTCL) += octets;
    if (q < 16) ++stat(tx_base(q) + 0x30);
    ++counters_.tx_frames;
    if (descs.size() > 1) ++counters_.tx_multi_descriptor;
    ++counters_.tx_per_queue[q];
    out.push_back(std::move(frame));
    ++sent;
  }
  return sent;
}

}  // namespace vsw::tests::models
