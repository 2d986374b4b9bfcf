// ports/vnet/vnet_metadata.h — between the virtio-net header (the kernel's and a guest's offload
// language) and the offload metadata a vsw Packet carries through the bridge.
//
//   rx:  VirtioNetHdr + frame bytes --import_vnet()--> Packet::{flags, gso_*, csum_*, hdr_len}
//   tx:  Packet metadata --export_vnet()--> VirtioNetHdr in front of the frame
//
// The header comes from a peer (a kernel interface today, a guest tomorrow) and is checked
// before anything trusts it: a known gso_type, a non-zero gso_size, headers that match the type
// (the frame is parsed: the peer's hdr_len is only advisory), a checksum field inside the frame.
// Pure functions; no allocation; safe on the fast path.
#pragma once

#include <cstdint>
#include <span>

#include "dataplane/packet.h"
#include "ports/vnet/virtio_net_hdr.h"

namespace vsw::ports::vnet {

enum class ImportStatus : uint8_t {
  Ok,
  Invalid,      // inconsistent header: checksum field outside the frame, headers not matching
  Unsupported,  // UFO (kVnetGsoUdp) or an unknown gso_type: vsw cannot segment it
};

// Fills the offload metadata of `p` (the first segment of a frame of p.frame_len bytes, whose
// first segment holds at least the headers of a super-frame) from `h`. On failure `p`'s
// metadata is left cleared.
ImportStatus import_vnet(const VirtioNetHdr& h, Packet& p) noexcept;

// The header that tells a kernel (or a guest) what `p` is: zero for an ordinary frame with
// complete checksums (virtio 1.0 §5.1.6: flags 0, GSO_NONE).
VirtioNetHdr export_vnet(const Packet& p) noexcept;

}  // namespace vsw::ports::vnet
