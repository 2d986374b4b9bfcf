// ports/virtio/feature_negotiation.h — which of the device's feature bits the driver accepts, and
// what follows from them (header size, queue indices, offload capabilities). Pure functions of
// the offered bits: unit-tested without a device.
//
// What vsw accepts when offered (virtio 1.1 §5.1.3 and §6; dependencies per §5.1.3.1):
//   MAC, STATUS               MAC address and link state from the device config
//   MRG_RXBUF                 a received frame may span several 2 KiB buffers (a super-frame)
//   CTRL_VQ, CTRL_RX, MQ      control queue: promiscuous mode on; one queue pair per worker
//   CSUM, HOST_TSO4/6, HOST_ECN          the device finishes checksums and segments what vsw sends
//   GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN  the device hands partial checksums and super-frames to
//                             vsw; GUEST_TSO only with MRG_RXBUF (vsw's buffers are 2 KiB, not
//                             the 64 KiB a super-frame needs without merging)
//   RING_EVENT_IDX            notification suppression by index (§2.6.7, §2.6.10)
//   ANY_LAYOUT (legacy)       header and frame may share a descriptor (implied by VERSION_1)
//   VERSION_1 (modern)        required on the modern interface (§6.1)
//   ACCESS_PLATFORM           always when offered: the device then uses IOVAs through the IOMMU
//                             (QEMU iommu_platform=on), which is what vfio programs
// Never accepted: RING_PACKED (vsw drives split rings), INDIRECT_DESC (not needed), the rest.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "dataplane/offload_caps.h"
#include "ports/virtio/virtio_transport.h"

namespace vsw::ports::virtio {

struct NegotiationRequest {
  InterfaceKind kind = InterfaceKind::Modern;
  uint64_t offered = 0;
  bool offloads = true;          // -o offloads=off: no checksum/TSO bits in either direction
  uint16_t queues = 0;           // -o queues=N; 0 = one per worker (capped by the device)
  uint16_t workers = 1;
  uint16_t max_virtqueue_pairs = 1;  // the device config field (read only when MQ is offered)
};

struct Negotiated {
  uint64_t features = 0;
  uint16_t queue_pairs = 1;      // pairs the driver uses: 2k = rx k, 2k+1 = tx k
  uint16_t ctrl_queue = 0;       // index of the control queue (when has(CTRL_VQ))
  uint16_t hdr_len = 10;         // virtio-net header bytes in front of every frame

  bool has(unsigned bit) const noexcept { return (features >> bit) & 1u; }
  // The header may share a descriptor with the frame (VERSION_1 or ANY_LAYOUT).
  bool any_layout() const noexcept;
  bool event_idx() const noexcept;
  // What the device takes on transmit, for Port::set_offload_caps.
  OffloadCaps tx_caps(uint16_t max_segments) const noexcept;
};

// InvalidArgument/Unsupported with a message naming what is missing: modern device without
// VERSION_1, queues > 1 without MQ or beyond max_virtqueue_pairs.
Result<Negotiated> negotiate(const NegotiationRequest& req);

// "mac status mrg_rxbuf ..." for details() and logs.
std::string feature_names(uint64_t features);

}  // namespace vsw::ports::virtio
