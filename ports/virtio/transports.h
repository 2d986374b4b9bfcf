// ports/virtio/transports.h — the two VirtioTransport implementations' constructors and what they
// share; used by open_transport() (transport_select.cc) and by unit tests.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "ports/virtio/pci_caps.h"
#include "ports/virtio/virtio_transport.h"

namespace vsw::ports::virtio {

// The legacy register block in `bar0` (an I/O BAR); device config at 24 when MSI-X is enabled.
std::unique_ptr<VirtioTransport> make_legacy_transport(pci::BarAccess& bar0, bool msix_enabled);

// The modern structures found by read_virtio_caps(); InvalidArgument when a window lies outside
// its BAR or the common structure is too small.
Result<std::unique_ptr<VirtioTransport>> make_modern_transport(pci::PciDevice& dev,
                                                               const VirtioPciCaps& caps);

// Polls `read_status` until it returns 0 (reset done), at most about a second.
Status wait_reset(const std::function<uint8_t()>& read_status);

}  // namespace vsw::ports::virtio

