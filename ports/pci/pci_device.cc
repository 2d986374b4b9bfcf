// ports/pci/pci_device.cc — the width helpers of PciDevice (config space is little-endian,
// PCI Local Bus 3.0 §6.1; so is x86, the only target).
#include "ports/pci/pci_device.h"

namespace vsw::ports::pci {

namespace {
template <class T>
Result<T> read_config_as(const PciDevice& d, uint32_t off) {
  T v{};
  if (auto st = d.read_config(off, &v, sizeof v); !st) return st.error();
  return v;
}
}  // namespace

Result<uint8_t> PciDevice::config8(uint32_t off) const { return read_config_as<uint8_t>(*this, off); }
Result<uint16_t> PciDevice::config16(uint32_t off) const {
  return read_config_as<uint16_t>(*this, off);
}
Result<uint32_t> PciDevice::config32(uint32_t off) const {
  return read_config_as<uint32_t>(*this, off);
}

}  // namespace vsw::ports::pci
