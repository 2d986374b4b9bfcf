// ports/virtio/modern_transport.cc — the virtio 1.x PCI interface: the common configuration
// structure, the notification area and the device configuration, each a window in a memory BAR
// found through the vendor capabilities (virtio 1.1 §4.1.4).
#include "ports/virtio/transports.h"
#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

namespace {

// One capability window, bounds-checked against its BAR once.
struct Window {
  pci::BarAccess* bar = nullptr;
  uint64_t base = 0;
  uint64_t length = 0;
};

Result<Window> map_window(pci::PciDevice& dev, const VirtioPciCaps::Window& w, const char* what,
                          uint64_t min_length) {
  auto bar = dev.bar(w.bar);
  if (!bar) {
    return make_error(Errc::InvalidArgument, "virtio {} structure is in BAR{}, which is absent",
                      what, w.bar);
  }
  if ((*bar)->is_io()) {
    return make_error(Errc::Unsupported, "virtio {} structure is in I/O BAR{}; vsw drives "
                      "modern devices through memory BARs only", what, w.bar);
  }
  const uint64_t end = uint64_t{w.offset} + w.length;
  if (w.length < min_length || end > (*bar)->size()) {
    return make_error(Errc::InvalidArgument,
                      "virtio {} structure [{:#x}, +{:#x}) does not fit BAR{} of {:#x} bytes", what,
                      w.offset, w.length, w.bar, (*bar)->size());
  }
  return Window{*bar, w.offset, w.length};
}

class ModernTransport final : public VirtioTransport {
 public:
  ModernTransport(Window common, Window notify, Window device, uint32_t multiplier)
      : common_(common), notify_(notify), device_(device), multiplier_(multiplier) {}

  InterfaceKind kind() const noexcept override { return InterfaceKind::Modern; }

  Status reset() override {
    // §4.1.4.3.2: after writing 0 the driver waits until device_status reads 0.
    c().write8(at(common::kDeviceStatus), status::kReset);
    return wait_reset([this] { return c().read8(at(common::kDeviceStatus)); });
  }
  uint8_t status() const noexcept override { return c().read8(at(common::kDeviceStatus)); }
  void add_status(uint8_t bits) noexcept override {
    c().write8(at(common::kDeviceStatus), static_cast<uint8_t>(status() | bits));
  }

  uint64_t device_features() const noexcept override {
    // §4.1.4.3: device_feature shows bits 32·select .. 32·select + 31.
    c().write32(at(common::kDeviceFeatureSelect), 0);
    const uint64_t lo = c().read32(at(common::kDeviceFeature));
    c().write32(at(common::kDeviceFeatureSelect), 1);
    const uint64_t hi = c().read32(at(common::kDeviceFeature));
    return lo | (hi << 32);
  }

  Status set_driver_features(uint64_t f) override {
    c().write32(at(common::kDriverFeatureSelect), 0);
    c().write32(at(common::kDriverFeature), static_cast<uint32_t>(f));
    c().write32(at(common::kDriverFeatureSelect), 1);
    c().write32(at(common::kDriverFeature), static_cast<uint32_t>(f >> 32));
    // §3.1.1 steps 5–6: FEATURES_OK, then re-read: a device that does not accept the subset
    // clears it again.
    add_status(status::kFeaturesOk);
    if ((status() & status::kFeaturesOk) == 0) {
      return make_error(Errc::Unsupported,
                        "virtio device refused the feature set {:#x} (FEATURES_OK not kept)", f);
    }
    return ok();
  }

  uint16_t queue_max_size(uint16_t q) noexcept override {
    c().write16(at(common::kQueueSelect), q);
    return c().read16(at(common::kQueueSize));
  }
  bool can_shrink_queues() const noexcept override { return true; }

  Status setup_queue(uint16_t q, uint16_t size, const QueueAddresses& a) override {
    c().write16(at(common::kQueueSelect), q);
    c().write16(at(common::kQueueSize), size);
    // Polling driver: no interrupt vector for the queue (§4.1.5.1.2).
    c().write16(at(common::kQueueMsixVector), common::kNoVector);
    write64(common::kQueueDesc, a.desc);
    write64(common::kQueueDriver, a.avail);
    write64(common::kQueueDevice, a.used);
    c().write16(at(common::kQueueEnable), 1);
    return ok();
  }

  Result<Doorbell> doorbell(uint16_t q) override {
    // §4.1.4.4: the queue's notify address is cap.offset + queue_notify_off × multiplier.
    c().write16(at(common::kQueueSelect), q);
    const uint64_t off = uint64_t{c().read16(at(common::kQueueNotifyOff))} * multiplier_;
    if (off + 2 > notify_.length) {
      return make_error(Errc::InvalidArgument,
                        "virtio queue {} notify offset {:#x} lies outside the notify structure "
                        "({:#x} bytes)", q, off, notify_.length);
    }
    return Doorbell{notify_.bar, notify_.base + off, q};
  }

  uint8_t config8(uint32_t off) const noexcept override {
    return off + 1 <= device_.length ? device_.bar->read8(device_.base + off) : 0;
  }
  uint16_t config16(uint32_t off) const noexcept override {
    return off + 2 <= device_.length ? device_.bar->read16(device_.base + off) : 0;
  }
  uint8_t config_generation() const noexcept override {
    return c().read8(at(common::kConfigGeneration));
  }
  bool set_queue_vector(uint16_t q, uint16_t vector) noexcept override {
    c().write16(at(common::kQueueSelect), q);
    c().write16(at(common::kQueueMsixVector), vector);
    return c().read16(at(common::kQueueMsixVector)) == vector;
  }

 private:
  pci::BarAccess& c() const noexcept { return *common_.bar; }
  uint64_t at(uint32_t field) const noexcept { return common_.base + field; }
  // §4.1.3.1: 64-bit fields are written as two 32-bit halves, low first.
  void write64(uint32_t field, uint64_t v) noexcept {
    c().write32(at(field), static_cast<uint32_t>(v));
    c().write32(at(field) + 4, static_cast<uint32_t>(v >> 32));
  }

  Window common_, notify_, device_;
  uint32_t multiplier_;
};

}  // namespace

Result<std::unique_ptr<VirtioTransport>> make_modern_transport(pci::PciDevice& dev,
                                                               const VirtioPciCaps& caps) {
  if (!caps.has_modern()) {
    return make_error(Errc::InvalidArgument,
                      "device {} has no virtio 1.x capabilities (common, notify and device "
                      "structures)", dev.address().str());
  }
  auto common = map_window(dev, caps.common, "common configuration", common::kSize);
  if (!common) return std::move(common).error();
  auto notify = map_window(dev, caps.notify, "notification", 2);
  if (!notify) return std::move(notify).error();
  auto device = map_window(dev, caps.device, "device configuration", 1);
  if (!device) return std::move(device).error();
  return std::unique_ptr<VirtioTransport>(
      new ModernTransport(*common, *notify, *device, caps.notify_off_multiplier));
}

}  // namespace vsw::ports::virtio
