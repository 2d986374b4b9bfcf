// ports/virtio/pci_caps.h — what a virtio PCI function's capability list says: where the modern
// interface's structures are (virtio 1.1 §4.1.4) and whether MSI-X is enabled (which moves the
// legacy device config from BAR0 offset 20 to 24, fact sheet §3).
//
// The list is walked in config space (PCI Local Bus 3.0 §6.7): status bit 4 says a list exists,
// offset 0x34 holds the first pointer, each entry is {id, next, ...}. The walk is bounded (48
// entries, pointers inside the 256-byte header, low two bits ignored) so a looping or corrupt list
// ends it. Control thread only.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::virtio {

struct VirtioPciCaps {
  // One virtio_pci_cap structure (virtio 1.1 §4.1.4): a window of `length` bytes at `offset` in
  // BAR `bar`.
  struct Window {
    bool present = false;
    uint8_t bar = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  Window common, notify, isr, device;
  uint32_t notify_off_multiplier = 0;  // §4.1.4.4; 0 means every queue shares one address
  bool msix_enabled = false;

  // The modern interface is usable: the common, notify and device structures all exist.
  bool has_modern() const noexcept { return common.present && notify.present && device.present; }
};

// Reads the capability list of `dev`. Fails only when config space cannot be read; an absent
// list gives an empty result.
Result<VirtioPciCaps> read_virtio_caps(const pci::PciDevice& dev);

}  // namespace vsw::ports::virtio
