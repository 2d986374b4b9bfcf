// tests/vm/virtio_tx_check.h — proves a PciDevice's DMA addresses (and interrupt) on a real
// virtio-net device: one split transmit queue, frames sent through it, completion awaited.
//
// The device reads the descriptor table, the avail ring and each frame, and writes the used
// ring, all at the addresses dma_address() returned. A wrong physical address or IOVA never
// completes (an IOMMU fault, or the device reads garbage and writes elsewhere), so "the used
// index advanced and names our descriptor" is the check. Legacy (I/O BAR0, virtio 1.0
// §4.1.4.8) and modern (PCI capabilities, virtio 1.0 §4.1.4) devices; no features but
// VERSION_1 and ACCESS_PLATFORM (modern). Test helper for tests/vm/pci_probe.cc only.
#pragma once

#include <string>

#include "common/result.h"
#include "ports/pci/pci_device.h"

namespace vsw::ports::pci::probe {

struct TxCheck {
  int frames_completed = 0;
  int interrupts = -1;  // -1: the path has no interrupt eventfd
};

// Sends `frames` frames on queue 1 (transmitq) using `mem` (dma_map()ed, >= 128 KiB) for the
// ring and the buffers; resets the device afterwards. With an interrupt eventfd, waits for an
// interrupt after each frame (and unmasks it).
Result<TxCheck> virtio_tx_check(PciDevice& dev, const DmaMemory& mem, int frames);

}  // namespace vsw::ports::pci::probe
