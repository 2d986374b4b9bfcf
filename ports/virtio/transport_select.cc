// ports/virtio/transport_select.cc — which interface to drive: what the device offers, then the
// user's preference (-o interface=legacy|modern).
#include <fmt/format.h>

#include "ports/virtio/transports.h"
#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

Result<std::unique_ptr<VirtioTransport>> open_transport(pci::PciDevice& dev,
                                                        InterfacePreference pref) {
  const std::string name = dev.address().str();
  if (dev.vendor_id() != kVendorId ||
      (dev.device_id() != kDeviceIdTransitionalNet && dev.device_id() != kDeviceIdModernNet)) {
    return make_error(Errc::InvalidArgument,
                      "device {} is {:04x}:{:04x}, not a virtio-net device (1af4:1000 or 1af4:1041)",
                      name, dev.vendor_id(), dev.device_id());
  }
  auto caps = read_virtio_caps(dev);
  if (!caps) return std::move(caps).error();
  // virtio 1.1 §4.1.2.1: 0x1040 + type is a modern-only device; 0x1000 is transitional and may
  // also have the modern structures (QEMU's default virtio-net-pci); the legacy interface then
  // lives in the I/O BAR0 (§4.1.4.8).
  const bool modern_only = dev.device_id() == kDeviceIdModernNet;
  if (modern_only && pref == InterfacePreference::Legacy) {
    return make_error(Errc::InvalidArgument,
                      "device {} is modern-only (1af4:1041); interface=legacy cannot be used", name);
  }
  const bool use_modern = modern_only || pref == InterfacePreference::Modern ||
                          (pref == InterfacePreference::Auto && caps->has_modern());
  if (use_modern) {
    if (!caps->has_modern()) {
      return make_error(Errc::InvalidArgument,
                        "device {} offers only the legacy virtio interface; interface=modern "
                        "cannot be used (QEMU: drop disable-modern=on)", name);
    }
    return make_modern_transport(dev, *caps);
  }
  auto bar0 = dev.bar(0);
  if (!bar0 || !(*bar0)->is_io() || (*bar0)->size() < legacy::kConfigNoMsix) {
    return make_error(Errc::InvalidArgument,
                      "device {} has no legacy I/O BAR0 ({}; QEMU: disable-legacy=off, or use "
                      "the modern interface)", name,
                      !bar0 ? bar0.error().message
                            : fmt::format("BAR0 is {} of {} bytes",
                                          (*bar0)->is_io() ? "I/O" : "memory", (*bar0)->size()));
  }
  return make_legacy_transport(**bar0, caps->msix_enabled);
}

}  // namespace vsw::ports::virtio
