// ports/virtio/pci_caps.cc — the bounded capability-list walk (PCI 3.0 §6.7, virtio 1.1 §4.1.4).
#include "ports/virtio/pci_caps.h"

#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

namespace {

constexpr unsigned kMaxCaps = 48;         // (256 - 64) / 4: more would revisit an entry
constexpr uint32_t kFirstCapOffset = 0x40;  // capabilities live after the standard header

Result<uint8_t> rd8(const pci::PciDevice& dev, uint32_t off) {
  uint8_t v = 0;
  if (auto st = dev.read_config(off, &v, 1); !st) return std::move(st).error();
  return v;
}
Result<uint16_t> rd16(const pci::PciDevice& dev, uint32_t off) {
  uint16_t v = 0;
  if (auto st = dev.read_config(off, &v, 2); !st) return std::move(st).error();
  return v;
}
Result<uint32_t> rd32(const pci::PciDevice& dev, uint32_t off) {
  uint32_t v = 0;
  if (auto st = dev.read_config(off, &v, 4); !st) return std::move(st).error();
  return v;
}

// One vendor-specific capability at `at` (virtio 1.1 §4.1.4 struct virtio_pci_cap).
Status read_vendor_cap(const pci::PciDevice& dev, uint32_t at, VirtioPciCaps& out) {
  auto len = rd8(dev, at + cap::kLen);
  auto type = rd8(dev, at + cap::kCfgType);
  auto bar = rd8(dev, at + cap::kBar);
  auto offset = rd32(dev, at + cap::kOffset);
  auto length = rd32(dev, at + cap::kLength);
  if (!len || !type || !bar || !offset || !length) {
    return make_error(Errc::Io, "cannot read virtio capability at config offset {:#x}", at);
  }
  // §4.1.4: a driver ignores structures in BARs it does not know (> 5) and, for each type, uses
  // the first one it can (the device may list preferred ones first).
  if (*bar > 5 || *len < 16) return ok();
  VirtioPciCaps::Window* w = nullptr;
  switch (*type) {
    case cap::kCommonCfg: w = &out.common; break;
    case cap::kNotifyCfg: w = &out.notify; break;
    case cap::kIsrCfg: w = &out.isr; break;
    case cap::kDeviceCfg: w = &out.device; break;
    default: return ok();
  }
  if (w->present) return ok();
  if (*type == cap::kNotifyCfg) {
    if (*len < 20) return ok();  // §4.1.4.4: the notify capability carries the multiplier
    auto mult = rd32(dev, at + cap::kNotifyOffMultiplier);
    if (!mult) return std::move(mult).error();
    out.notify_off_multiplier = *mult;
  }
  *w = {true, *bar, *offset, *length};
  return ok();
}

}  // namespace

Result<VirtioPciCaps> read_virtio_caps(const pci::PciDevice& dev) {
  VirtioPciCaps out;
  auto st = rd16(dev, pci_cfg::kStatus);
  if (!st) return std::move(st).error();
  if ((*st & pci_cfg::kStatusCapList) == 0) return out;
  auto ptr = rd8(dev, pci_cfg::kCapPointer);
  if (!ptr) return std::move(ptr).error();
  uint32_t at = *ptr & ~3u;
  for (unsigned n = 0; n < kMaxCaps && at >= kFirstCapOffset && at < 256; ++n) {
    auto id = rd8(dev, at);
    auto next = rd8(dev, at + 1);
    if (!id || !next) return make_error(Errc::Io, "cannot read PCI capability at {:#x}", at);
    if (*id == pci_cfg::kCapIdVendor) {
      if (auto s = read_vendor_cap(dev, at, out); !s) return std::move(s).error();
    } else if (*id == pci_cfg::kCapIdMsix) {
      auto ctrl = rd16(dev, at + 2);
      if (!ctrl) return std::move(ctrl).error();
      out.msix_enabled = (*ctrl & pci_cfg::kMsixEnable) != 0;
    }
    at = *next & ~3u;
  }
  return out;
}

}  // namespace vsw::ports::virtio
