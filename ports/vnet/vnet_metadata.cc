// ports/vnet/vnet_metadata.cc — virtio 1.0 §5.1.6 header fields <-> Packet offload metadata.
#include "ports/vnet/vnet_metadata.h"

#include "dataplane/offload/gso.h"

namespace vsw::ports::vnet {

namespace {

// virtio 1.0 §5.1.6 gso_type (ECN bit masked off) -> vsw's GsoType; false when vsw cannot
// segment it (UFO needs IP fragmentation, which vsw does not do).
bool gso_type_from_vnet(uint8_t raw, GsoType& out) noexcept {
  switch (raw & static_cast<uint8_t>(~kVnetGsoEcn)) {
    case kVnetGsoNone: out = GsoType::None; return true;
    case kVnetGsoTcpv4: out = GsoType::Tcpv4; return true;
    case kVnetGsoTcpv6: out = GsoType::Tcpv6; return true;
    case kVnetGsoUdpL4: out = GsoType::UdpL4; return true;
    default: return false;
  }
}

uint8_t gso_type_to_vnet(GsoType t) noexcept {
  switch (t) {
    case GsoType::None: return kVnetGsoNone;
    case GsoType::Tcpv4: return kVnetGsoTcpv4;
    case GsoType::Tcpv6: return kVnetGsoTcpv6;
    case GsoType::UdpL4: return kVnetGsoUdpL4;
  }
  return kVnetGsoNone;
}

}  // namespace

ImportStatus import_vnet(const VirtioNetHdr& h, Packet& p) noexcept {
  p.clear_offload();
  GsoType type = GsoType::None;
  if (!gso_type_from_vnet(h.gso_type, type)) return ImportStatus::Unsupported;
  const uint32_t frame_len = p.frame_len;
  if ((h.flags & kVnetFlagNeedsCsum) != 0) {
    // virtio 1.0 §5.1.6.2: the checksum field (2 bytes at csum_start + csum_offset) lies inside
    // the frame.
    const uint32_t field = static_cast<uint32_t>(h.csum_start) + h.csum_offset;
    if (h.csum_start >= frame_len || field + 2 > frame_len) return ImportStatus::Invalid;
  }
  uint16_t hdr_len = 0;
  if (type != GsoType::None) {
    offload::GsoPlan plan;
    const offload::GsoStatus st = offload::plan_gso({p.data(), p.len}, frame_len, type,
                                                    h.gso_size, UINT32_MAX, plan);
    if (st == offload::GsoStatus::Unsupported) return ImportStatus::Unsupported;
    if (st != offload::GsoStatus::Ok) return ImportStatus::Invalid;
    hdr_len = static_cast<uint16_t>(plan.hdr_len);
  }
  uint8_t flags = 0;
  if ((h.flags & kVnetFlagNeedsCsum) != 0) flags |= kPacketNeedsCsum;
  if ((h.flags & kVnetFlagDataValid) != 0) flags |= kPacketCsumValid;
  if ((h.gso_type & kVnetGsoEcn) != 0) flags |= kPacketGsoEcn;
  p.flags = static_cast<uint8_t>(p.flags | flags);
  p.gso_type = type;
  p.gso_size = type != GsoType::None ? h.gso_size : 0;
  if ((h.flags & kVnetFlagNeedsCsum) != 0) {
    p.csum_start = h.csum_start;
    p.csum_offset = h.csum_offset;
  }
  p.hdr_len = hdr_len;
  return ImportStatus::Ok;
}

VirtioNetHdr export_vnet(const Packet& p) noexcept {
  VirtioNetHdr h{};
  if (p.needs_csum()) {
    h.flags = kVnetFlagNeedsCsum;
    h.csum_start = p.csum_start;
    h.csum_offset = p.csum_offset;
  } else if ((p.flags & kPacketCsumValid) != 0) {
    h.flags = kVnetFlagDataValid;
  }
  if (p.is_gso()) {
    h.gso_type = gso_type_to_vnet(p.gso_type);
    if ((p.flags & kPacketGsoEcn) != 0) h.gso_type |= kVnetGsoEcn;
    h.gso_size = p.gso_size;
    h.hdr_len = p.hdr_len;
  }
  return h;
}

}  // namespace vsw::ports::vnet
