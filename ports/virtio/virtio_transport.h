// ports/virtio/virtio_transport.h — how the virtio-net driver talks to its PCI function, whatever
// interface the device offers: the legacy I/O-port register block in BAR0 (legacy_transport.cc,
// fact sheet §3–§5) or the modern virtio 1.x capabilities in memory BARs (modern_transport.cc,
// virtio 1.1 §4.1.4). The driver above (virtio_net_device.cc) runs the same initialisation
// sequence (virtio 1.1 §3.1.1) over either; the differences live here:
//
//                       legacy                               modern
//   features            32 bits (HOST/GUEST_FEATURES)        64 bits, two select windows
//   FEATURES_OK         no such step                         set, then re-read (§3.1.1 step 5-6)
//   queue size          fixed by the device (QUEUE_NUM)      the driver may lower it
//   queue address       QUEUE_PFN of one 4096-aligned        desc / driver / device addresses,
//                       contiguous block (used at 4096)      then queue_enable = 1
//   notify              QUEUE_NOTIFY in BAR0                 notify BAR at cap.offset +
//                                                            queue_notify_off × multiplier
//   device config       BAR0 + 20 (24 while MSI-X is on)     device capability window,
//                                                            config_generation guards reads
//
// Threads: everything on the control thread, except Doorbell::ring() (the queue's worker).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/result.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::virtio {

enum class InterfaceKind : uint8_t { Legacy, Modern };
constexpr std::string_view interface_name(InterfaceKind k) noexcept {
  return k == InterfaceKind::Legacy ? "legacy" : "modern";
}

// Device addresses of one split queue's three parts (virtio 1.1 §2.6).
struct QueueAddresses {
  uint64_t desc = 0;
  uint64_t avail = 0;
  uint64_t used = 0;
};

// The register write that tells the device a queue has new buffers. A worker rings it at most
// once per batch.
struct Doorbell {
  pci::BarAccess* bar = nullptr;
  uint64_t offset = 0;
  uint16_t queue = 0;  // the value written: the queue index (virtio 1.1 §4.1.4.4.1)
  void ring() const noexcept { bar->write16(offset, queue); }
};

class VirtioTransport {
 public:
  virtual ~VirtioTransport() = default;
  virtual InterfaceKind kind() const noexcept = 0;

  // Writes status 0 and waits (at most about a second) until the device reads back 0
  // (virtio 1.1 §2.1.2, §4.1.4.3.2). Unavailable when it never does.
  virtual Status reset() = 0;
  virtual uint8_t status() const noexcept = 0;
  // Cumulative: status |= bits (fact sheet §4: every write carries the bits set before).
  virtual void add_status(uint8_t bits) noexcept = 0;

  // Legacy: bits 0..31 only. Modern: all 64.
  virtual uint64_t device_features() const noexcept = 0;
  // Writes the driver's choice; modern: then sets FEATURES_OK and checks the device kept it
  // (virtio 1.1 §3.1.1 steps 5–6), Unsupported when it did not.
  virtual Status set_driver_features(uint64_t features) = 0;

  // The largest size of queue `q`; 0 when the device has no such queue.
  virtual uint16_t queue_max_size(uint16_t q) noexcept = 0;
  // Whether setup_queue() accepts a size below queue_max_size() (modern only).
  virtual bool can_shrink_queues() const noexcept = 0;
  // Legacy: addresses must follow the legacy layout (avail right after the descriptors, used at
  // the next 4096 boundary, desc 4096-aligned, below 2^44) and `size` must be the device's.
  // Modern: programs size, the three addresses, no MSI-X vector, and enables the queue.
  virtual Status setup_queue(uint16_t q, uint16_t size, const QueueAddresses& a) = 0;
  virtual Result<Doorbell> doorbell(uint16_t q) = 0;

  // Device-specific configuration (virtio 1.1 §4.1.4.6; legacy fact sheet §3), little-endian
  // fields read byte-wise or 16 bits at a time.
  virtual uint8_t config8(uint32_t off) const noexcept = 0;
  virtual uint16_t config16(uint32_t off) const noexcept = 0;
  // Modern: config_generation (§4.1.4.3); legacy: always 0 (no generation counter).
  virtual uint8_t config_generation() const noexcept = 0;

  // Routes queue `q`'s used-buffer notifications to MSI-X vector `vector` (virtio 1.1
  // §4.1.4.3 queue_msix_vector, §4.1.5.1.2: read back, the device answers NO_VECTOR when it
  // cannot map it). Modern only: the legacy register block moves its device configuration when
  // MSI-X is enabled (fact sheet §3), so legacy returns false and keeps MSI-X off.
  virtual bool set_queue_vector(uint16_t q, uint16_t vector) noexcept = 0;
};

enum class InterfacePreference : uint8_t { Auto, Legacy, Modern };

// Chooses the interface from what `dev` offers (device 0x1041: modern only; 0x1000 with modern
// capabilities: modern unless `pref` is Legacy; 0x1000 without them: legacy through the I/O BAR0)
// and maps the BARs it needs. InvalidArgument when `pref` asks for an interface the device lacks.
// `dev` must outlive the transport.
Result<std::unique_ptr<VirtioTransport>> open_transport(pci::PciDevice& dev,
                                                        InterfacePreference pref);

}  // namespace vsw::ports::virtio
