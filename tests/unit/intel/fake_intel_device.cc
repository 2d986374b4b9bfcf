// tests/unit/intel/fake_intel_device.cc — register file and device side of the rings (see .h).
#include "tests/unit/intel/fake_intel_device.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "ports/intel/igb_regs.h"
#include "ports/intel/ixgbe_regs.h"

namespace vsw::ports::intel::testing {

namespace x = ixgbe;
namespace g = igb;

// --- BAR ---------------------------------------------------------------------------------------
uint8_t FakeBar::read8(uint64_t) const noexcept {
  ADD_FAILURE() << "8-bit register read";
  return 0;
}
uint16_t FakeBar::read16(uint64_t) const noexcept {
  ADD_FAILURE() << "16-bit register read";
  return 0;
}
uint32_t FakeBar::read32(uint64_t off) const noexcept {
  return d_.read_reg(static_cast<uint32_t>(off));
}
void FakeBar::write8(uint64_t, uint8_t) noexcept { ADD_FAILURE() << "8-bit register write"; }
void FakeBar::write16(uint64_t, uint16_t) noexcept { ADD_FAILURE() << "16-bit register write"; }
void FakeBar::write32(uint64_t off, uint32_t v) noexcept {
  d_.write_reg(static_cast<uint32_t>(off), v);
}

// --- device ------------------------------------------------------------------------------------
FakeIntelDevice::FakeIntelDevice(const FakeIntelConfig& cfg)
    : PciDevice(pci::PciAddress{0, 3, 0, 0}, 0x8086,
                cfg.family == NicFamily::Ixgbe82599 ? 0x10FB : 0x10C9),
      cfg_(cfg),
      bar0_(std::make_unique<FakeBar>(*this)),
      regs_(FakeBar::kBytes / 4, 0),
      link_up_(cfg.link_up) {
  config_space_[0] = 0x86;
  config_space_[1] = 0x80;
  reset_registers();
}

FakeIntelDevice::~FakeIntelDevice() {
  for (int fd : msix_fds_) ::close(fd);
}

Result<std::vector<int>> FakeIntelDevice::msix_eventfds(uint16_t n) {
  if (n == 0 || n > cfg_.msix_vectors) {
    return make_error(Errc::Unsupported, "fake device has {} MSI-X vectors, {} needed",
                      cfg_.msix_vectors, n);
  }
  if (!msix_fds_.empty()) return msix_fds_;
  for (uint16_t i = 0; i < n; ++i) msix_fds_.push_back(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  return msix_fds_;
}

Status FakeIntelDevice::read_config(uint32_t off, void* out, size_t len) const {
  if (off + len > config_space_.size()) return make_error(Errc::InvalidArgument, "config range");
  std::memcpy(out, config_space_.data() + off, len);
  return ok();
}

Status FakeIntelDevice::write_config(uint32_t off, const void* in, size_t len) {
  if (off + len > config_space_.size()) return make_error(Errc::InvalidArgument, "config range");
  std::memcpy(config_space_.data() + off, in, len);
  return ok();
}

uint16_t FakeIntelDevice::command() const noexcept {
  return static_cast<uint16_t>(config_space_[4] | config_space_[5] << 8);
}

Result<pci::BarAccess*> FakeIntelDevice::bar(unsigned index) {
  if (index != 0) return make_error(Errc::NotFound, "BAR {} absent", index);
  return bar0_.get();
}

Status FakeIntelDevice::dma_map(const DmaMemory& mem) { return dma_.map(mem, cfg_.path); }

void FakeIntelDevice::dma_unmap(const DmaMemory& mem) noexcept { dma_.unmap(mem); }

uint64_t FakeIntelDevice::dma_address(const void* p) const noexcept { return dma_.address(p); }

std::byte* FakeIntelDevice::to_ptr(uint64_t iova) const noexcept {
  return dma_.to_ptr(iova);
}

void FakeIntelDevice::reset_registers() {
  std::fill(regs_.begin(), regs_.end(), 0);
  const uint32_t ral = uint32_t{cfg_.mac[0]} | uint32_t{cfg_.mac[1]} << 8 |
                       uint32_t{cfg_.mac[2]} << 16 | uint32_t{cfg_.mac[3]} << 24;
  const uint32_t rah = uint32_t{cfg_.mac[4]} | uint32_t{cfg_.mac[5]} << 8 | 1u << 31;
  if (ixgbe()) {
    regs_[x::EEC / 4] = x::kEecArd;
    regs_[x::RDRXCTL / 4] = x::kRdrxctlDmaIdone;
    regs_[x::RAL0 / 4] = ral;
    regs_[x::RAH0 / 4] = rah;
    for (uint16_t q = 0; q < 16; ++q) {
      regs_[x::SRRCTL(q) / 4] = 2;                       // 2 KiB after reset
      regs_[x::DCA_RXCTRL(q) / 4] = x::kDcaRxctrlBit12;  // reserved bit that reads 1
    }
  } else {
    regs_[g::RAL0 / 4] = ral;
    regs_[g::RAH0 / 4] = rah;
    regs_[g::RXDCTL(0) / 4] = g::kRxdctlEnable | 1u << 16;  // as QEMU's model after reset
    regs_[g::TXDCTL(0) / 4] = g::kTxdctlEnable;
    phy_.fill(0);
    phy_[0] = 0x1140;  // BMCR: autoneg enabled, full duplex, 1000 Mb/s
    autoneg_done_ = false;
  }
}

FakeIntelDevice::Offsets FakeIntelDevice::rx_offsets(uint16_t q) const {
  if (ixgbe()) {
    return {x::RDBAL(q), x::RDLEN(q), x::RDH(q), x::RDT(q), x::SRRCTL(q), x::RXDCTL(q),
            x::TDBAL(q), x::TDLEN(q), x::TDH(q), x::TDT(q), x::TXDCTL(q)};
  }
  return {g::RDBAL(q), g::RDLEN(q), g::RDH(q), g::RDT(q), g::SRRCTL(q), g::RXDCTL(q),
          g::TDBAL(q), g::TDLEN(q), g::TDH(q), g::TDT(q), g::TXDCTL(q)};
}

uint32_t FakeIntelDevice::reg(uint32_t off) const { return regs_.at(off / 4); }

uint32_t FakeIntelDevice::read_reg(uint32_t off) {
  if (off % 4 != 0 || off >= FakeBar::kBytes) {
    violation(fmt::format("read of {:#x}", off));
    return 0;
  }
  uint32_t& r = regs_[off / 4];
  auto clear_on_read = [&r] {
    const uint32_t v = r;
    r = 0;
    return v;
  };
  if (ixgbe()) {
    if (off == x::LINKS) return link_up_ ? x::kLinksUp | x::kLinksSpeed10G : 0;
    if (off == x::EICR || off == x::GPRC || off == x::GPTC || off == x::GORCL || off == x::GORCH ||
        off == x::GOTCL || off == x::GOTCH || off == x::CRCERRS || off == x::RLEC ||
        (off >= x::MPC(0) && off <= x::RNBC(7))) {
      return clear_on_read();
    }
  } else {
    if (off == g::STATUS) {
      return (link_up_ && autoneg_done_) ? g::kStatusLu | g::kStatusSpeed1000 : 0;
    }
    if (off == g::ICR || off == g::EICR || off == g::GPRC || off == g::GPTC || off == g::GORCL ||
        off == g::GORCH || off == g::GOTCL || off == g::GOTCH || off == g::CRCERRS ||
        off == g::RLEC || off == g::MPC || off == g::RNBC) {
      return clear_on_read();
    }
  }
  return r;
}

void FakeIntelDevice::write_reg(uint32_t off, uint32_t v) {
  if (off % 4 != 0 || off >= FakeBar::kBytes) {
    violation(fmt::format("write of {:#x}", off));
    return;
  }
  writes_.emplace_back(off, v);
  if (off == 0) {  // CTRL, both families
    const uint32_t rst = ixgbe() ? (x::kCtrlRst | x::kCtrlLnkRst) : g::kCtrlRst;
    if ((v & rst) != 0) {
      ++resets_;
      reset_registers();
    }
    regs_[0] = v & ~rst;  // self-clearing
    return;
  }
  if (!ixgbe() && off == g::MDIC) {
    const uint32_t reg = (v >> g::kMdicRegShift) & 0x1F;
    const uint32_t phy = (v >> g::kMdicPhyShift) & 0x1F;
    uint32_t out = v | g::kMdicReady;
    if (phy != g::kPhyAddress) {
      out |= g::kMdicError;
    } else if ((v & g::kMdicOpRead) != 0) {
      out = (v & ~0xFFFFu) | phy_[reg] | g::kMdicReady;
    } else if ((v & g::kMdicOpWrite) != 0) {
      phy_[reg] = static_cast<uint16_t>(v & 0xFFFF);
      if (reg == g::kPhyBmcr && (v & g::kBmcrAnRestart) != 0 && (v & g::kBmcrAnEnable) != 0) {
        autoneg_done_ = true;  // QEMU completes it after a while; the fake at once
      }
    }
    regs_[off / 4] = out;
    return;
  }
  for (uint16_t q = 0; q < 16; ++q) {
    const Offsets o = rx_offsets(q);
    if (off == o.rxdctl || off == o.txdctl) {
      const uint32_t en = ixgbe() ? x::kRxdctlEnable : g::kRxdctlEnable;
      regs_[off / 4] = cfg_.queues_enable ? v : (v & ~en);
      return;
    }
    if (off == o.rdt) {
      check_rx_tail(q, v);
      regs_[off / 4] = v;
      return;
    }
    if (off == o.tdt) {
      const uint16_t n = ring_size(o.tdlen);
      if (n != 0 && v >= n) violation(fmt::format("TDT({}) = {} beyond a {}-entry ring", q, v, n));
      regs_[off / 4] = v;
      return;
    }
    if ((off == o.rdh && (regs_[o.rxdctl / 4] & x::kRxdctlEnable) != 0) ||
        (off == o.tdh && (regs_[o.txdctl / 4] & x::kTxdctlEnable) != 0)) {
      if (ixgbe()) violation(fmt::format("head register {:#x} written while enabled", off));
    }
  }
  regs_[off / 4] = v;
}

void FakeIntelDevice::check_rx_tail(uint16_t q, uint32_t new_tail) {
  const Offsets o = rx_offsets(q);
  const uint16_t n = ring_size(o.rdlen);
  if (n == 0) return;
  if (new_tail >= n) {
    violation(fmt::format("RDT({}) = {} beyond a {}-entry ring", q, new_tail, n));
    return;
  }
  // Every descriptor handed to the device must be a fresh read-format descriptor.
  const uint64_t ring = base(o.rdbal);
  for (uint32_t i = regs_[o.rdh / 4]; i != new_tail; i = (i + 1) % n) {
    const auto* d = reinterpret_cast<const AdvRxDesc*>(to_ptr(ring + 16ull * i));
    if (d == nullptr) {
      violation(fmt::format("rx ring {} outside mapped memory", q));
      return;
    }
    if (d->read.hdr_addr != 0 || d->read.pkt_addr == 0 || to_ptr(d->read.pkt_addr) == nullptr) {
      violation(
          fmt::format("RDT({}) = {} gives the device descriptor {} which is not a fresh "
                      "read descriptor (head {})",
                      q, new_tail, i, regs_[o.rdh / 4]));
      return;
    }
  }
}

long FakeIntelDevice::first_write(uint32_t off, uint32_t mask, uint32_t want) const {
  for (size_t i = 0; i < writes_.size(); ++i) {
    if (writes_[i].first == off && (writes_[i].second & mask) == want) return static_cast<long>(i);
  }
  return -1;
}

long FakeIntelDevice::last_write(uint32_t off) const {
  for (size_t i = writes_.size(); i-- > 0;) {
    if (writes_[i].first == off) return static_cast<long>(i);
  }
  return -1;
}

bool FakeIntelDevice::rx_on() const {
  if (ixgbe()) return (regs_[x::RXCTRL / 4] & x::kRxctrlRxen) != 0;
  return (regs_[g::RCTL / 4] & g::kRctlEn) != 0 && link_up_ && autoneg_done_;
}

uint16_t FakeIntelDevice::rx_owned(uint16_t q) const {
  const Offsets o = rx_offsets(q);
  const uint16_t n = ring_size(o.rdlen);
  if (n == 0) return 0;
  return static_cast<uint16_t>((regs_[o.rdt / 4] + n - regs_[o.rdh / 4]) % n);
}

bool FakeIntelDevice::write_rx_descriptor(uint16_t q, const std::vector<uint8_t>& bytes, bool eop,
                                          uint32_t status_extra) {
  const Offsets o = rx_offsets(q);
  const uint16_t n = ring_size(o.rdlen);
  if (n == 0 || rx_owned(q) == 0) return false;
  const uint32_t h = regs_[o.rdh / 4];
  auto* d = reinterpret_cast<AdvRxDesc*>(to_ptr(base(o.rdbal) + 16ull * h));
  if (d == nullptr) {
    violation("rx descriptor outside mapped memory");
    return false;
  }
  if ((d->read.hdr_addr & 1) != 0) violation(fmt::format("rx descriptor {} has DD/NSE set", h));
  std::byte* buf = to_ptr(d->read.pkt_addr);
  if (buf == nullptr) {
    violation(fmt::format("rx descriptor {} points outside mapped memory", h));
    return false;
  }
  std::memcpy(buf, bytes.data(), bytes.size());
  AdvRxWriteBack wb{};
  wb.length = static_cast<uint16_t>(bytes.size());
  wb.status_error = kRxStatusDd | (eop ? kRxStatusEop | status_extra : 0);
  std::memcpy(d, &wb, sizeof wb);
  regs_[o.rdh / 4] = (h + 1) % n;
  return true;
}

bool FakeIntelDevice::deliver(uint16_t q, const std::vector<uint8_t>& frame,
                              uint32_t status_extra) {
  const Offsets o = rx_offsets(q);
  const uint32_t en = ixgbe() ? x::kRxdctlEnable : g::kRxdctlEnable;
  if (!rx_on() || (regs_[o.rxdctl / 4] & en) == 0) return false;
  const uint32_t mask = ixgbe() ? x::kSrrctlBsizePktMask : g::kSrrctlBsizePktMask;
  const size_t bsize = size_t{regs_[o.srrctl / 4] & mask} * 1024;
  const size_t need = std::max<size_t>(1, (frame.size() + bsize - 1) / bsize);
  if (rx_owned(q) < need) {
    add_missed(1);
    return false;
  }
  for (size_t off = 0; off < frame.size() || off == 0; off += bsize) {
    const size_t len = std::min(bsize, frame.size() - off);
    std::vector<uint8_t> chunk(frame.begin() + static_cast<long>(off),
                               frame.begin() + static_cast<long>(off + len));
    write_rx_descriptor(q, chunk, off + len >= frame.size(), status_extra);
    if (frame.empty()) break;
  }
  return true;
}

void FakeIntelDevice::add_missed(uint32_t n) noexcept {
  regs_[(ixgbe() ? x::MPC(0) : g::MPC) / 4] += n;
}

std::vector<TxFrame> FakeIntelDevice::consume_tx(uint16_t q) {
  std::vector<TxFrame> out;
  const Offsets o = rx_offsets(q);
  const bool on = ixgbe() ? (regs_[x::DMATXCTL / 4] & x::kDmatxctlTe) != 0
                          : (regs_[g::TCTL / 4] & g::kTctlEn) != 0;
  const uint32_t en = ixgbe() ? x::kTxdctlEnable : g::kTxdctlEnable;
  const uint16_t n = ring_size(o.tdlen);
  if (!on || (regs_[o.txdctl / 4] & en) == 0 || n == 0) return out;
  TxFrame cur;
  while (regs_[o.tdh / 4] != regs_[o.tdt / 4]) {
    const uint32_t h = regs_[o.tdh / 4];
    auto* d = reinterpret_cast<AdvTxDesc*>(to_ptr(base(o.tdbal) + 16ull * h));
    if (d == nullptr) {
      violation("tx descriptor outside mapped memory");
      break;
    }
    const uint32_t cmd = d->read.cmd_type_len;
    if ((cmd & kTxCmdDext) == 0 || (cmd & (0xFu << 20)) != kTxDtypData) {
      violation(fmt::format("tx descriptor {} is not an advanced data descriptor", h));
    }
    const uint32_t len = cmd & 0xFFFF;
    const std::byte* buf = to_ptr(d->read.buffer_addr);
    if (buf == nullptr) {
      violation(fmt::format("tx descriptor {} points outside mapped memory", h));
    } else {
      const auto* b = reinterpret_cast<const uint8_t*>(buf);
      cur.bytes.insert(cur.bytes.end(), b, b + len);
    }
    if (cur.descriptors++ == 0) cur.paylen = d->read.olinfo_status >> kTxPaylenShift;
    if ((cmd & kTxCmdEop) != 0) {
      if (cur.paylen != cur.bytes.size()) {
        violation(
            fmt::format("PAYLEN {} but the frame has {} bytes", cur.paylen, cur.bytes.size()));
      }
      out.push_back(std::move(cur));
      cur = TxFrame{};
    }
    if ((cmd & kTxCmdRs) != 0) d->wb.status |= kTxStatusDd;
    regs_[o.tdh / 4] = (h + 1) % n;
  }
  if (cur.descriptors != 0) violation("the tail ends inside a frame (no EOP)");
  return out;
}

}  // namespace vsw::ports::intel::testing
