// ports/virtio/legacy_transport.cc — the legacy (virtio 0.9.5 / transitional) interface: one
// register block in the I/O-port BAR0 (fact sheet §3; virtio 1.1 §4.1.4.8).
#include <chrono>
#include <thread>

#include "ports/virtio/transports.h"
#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

namespace {

class LegacyTransport final : public VirtioTransport {
 public:
  LegacyTransport(pci::BarAccess& bar0, bool msix_enabled)
      : bar_(bar0), config_(msix_enabled ? legacy::kConfigMsix : legacy::kConfigNoMsix) {}

  InterfaceKind kind() const noexcept override { return InterfaceKind::Legacy; }

  Status reset() override {
    // Fact sheet §4 step 1: write 0, poll until it reads 0.
    bar_.write8(legacy::kDeviceStatus, status::kReset);
    return wait_reset([this] { return bar_.read8(legacy::kDeviceStatus); });
  }
  uint8_t status() const noexcept override { return bar_.read8(legacy::kDeviceStatus); }
  void add_status(uint8_t bits) noexcept override {
    bar_.write8(legacy::kDeviceStatus, static_cast<uint8_t>(status() | bits));
  }

  uint64_t device_features() const noexcept override {
    return bar_.read32(legacy::kHostFeatures);  // fact sheet §3: bits 0..31 only
  }
  Status set_driver_features(uint64_t f) override {
    if ((f >> 32) != 0) {
      return make_error(Errc::Internal, "legacy virtio cannot negotiate features above bit 31");
    }
    bar_.write32(legacy::kGuestFeatures, static_cast<uint32_t>(f));  // no FEATURES_OK step
    return ok();
  }

  uint16_t queue_max_size(uint16_t q) noexcept override {
    bar_.write16(legacy::kQueueSel, q);
    return bar_.read16(legacy::kQueueNum);
  }
  bool can_shrink_queues() const noexcept override { return false; }

  Status setup_queue(uint16_t q, uint16_t size, const QueueAddresses& a) override {
    if (size != queue_max_size(q)) {
      return make_error(Errc::Internal, "legacy queue {} has size {}, not {}", q,
                        queue_max_size(q), size);
    }
    const uint64_t avail = a.desc + 16ull * size;
    const uint64_t used = (avail + 6 + 2ull * size + legacy::kQueueAlign - 1) &
                          ~uint64_t{legacy::kQueueAlign - 1};
    if (a.desc % legacy::kQueueAlign != 0 || a.avail != avail || a.used != used) {
      return make_error(Errc::Internal, "queue {} memory is not in the legacy layout", q);
    }
    const uint64_t pfn = a.desc >> legacy::kQueueAddrShift;
    if (pfn > UINT32_MAX) {
      // Fact sheet §4 step 4: QUEUE_PFN is 32 bits, so the ring must lie below 2^44 (16 TiB).
      return make_error(Errc::Unsupported,
                        "queue {} ring at device address {:#x} is above the 16 TiB a legacy "
                        "virtio device can reach",
                        q, a.desc);
    }
    bar_.write16(legacy::kQueueSel, q);
    bar_.write32(legacy::kQueuePfn, static_cast<uint32_t>(pfn));
    return ok();
  }

  Result<Doorbell> doorbell(uint16_t q) override {
    return Doorbell{&bar_, legacy::kQueueNotify, q};
  }

  // The BAR ends where the device's config ends (QEMU sizes it to header + config): a field
  // past it reads 0.
  uint8_t config8(uint32_t off) const noexcept override {
    return config_ + off + 1 <= bar_.size() ? bar_.read8(config_ + off) : 0;
  }
  uint16_t config16(uint32_t off) const noexcept override {
    return config_ + off + 2 <= bar_.size() ? bar_.read16(config_ + off) : 0;
  }
  uint8_t config_generation() const noexcept override { return 0; }
  bool set_queue_vector(uint16_t, uint16_t) noexcept override { return false; }

 private:
  pci::BarAccess& bar_;
  uint32_t config_;
};

}  // namespace

Status wait_reset(const std::function<uint8_t()>& read_status) {
  // Devices normally reset at once (QEMU does it inside the register write); allow a second.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  while (read_status() != status::kReset) {
    if (std::chrono::steady_clock::now() > deadline) {
      return make_error(Errc::Unavailable,
                        "virtio device did not complete its reset within 1 s (status still {:#x})",
                        read_status());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return ok();
}

std::unique_ptr<VirtioTransport> make_legacy_transport(pci::BarAccess& bar0, bool msix_enabled) {
  return std::make_unique<LegacyTransport>(bar0, msix_enabled);
}

}  // namespace vsw::ports::virtio
