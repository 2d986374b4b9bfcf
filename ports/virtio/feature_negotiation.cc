// ports/virtio/feature_negotiation.cc — the accepted feature set (virtio 1.1 §5.1.3, §6).
#include "ports/virtio/feature_negotiation.h"

#include <algorithm>
#include <array>
#include <utility>

#include "dataplane/port_counters.h"
#include "ports/virtio/virtio_regs.h"

namespace vsw::ports::virtio {

using feature::bit;

bool Negotiated::any_layout() const noexcept {
  return has(feature::kVersion1) || has(feature::kAnyLayout);
}
bool Negotiated::event_idx() const noexcept { return has(feature::kRingEventIdx); }

OffloadCaps Negotiated::tx_caps(uint16_t max_segments) const noexcept {
  OffloadCaps c;
  c.partial_csum = has(feature::kCsum);
  c.tso4 = has(feature::kHostTso4);
  c.tso6 = has(feature::kHostTso6);
  c.uso = false;  // HOST_USO (virtio 1.2 bit 56) is not negotiated
  c.gso_ecn = has(feature::kHostEcn);
  c.max_segments = max_segments;
  return c;
}

Result<Negotiated> negotiate(const NegotiationRequest& req) {
  const uint64_t offered = req.offered;
  auto offers = [&](unsigned b) { return (offered & bit(b)) != 0; };
  uint64_t f = 0;
  auto take = [&](unsigned b) {
    if (offers(b)) f |= bit(b);
  };
  auto took = [&](unsigned b) { return (f & bit(b)) != 0; };

  if (req.kind == InterfaceKind::Modern) {
    // §6.1: a driver MUST accept VERSION_1; a modern device without it is a legacy one.
    if (!offers(feature::kVersion1)) {
      return make_error(Errc::Unsupported,
                        "virtio device offers no VERSION_1 on the modern interface "
                        "(features {:#x}); use interface=legacy", offered);
    }
    take(feature::kVersion1);
    take(feature::kAccessPlatform);  // §6.1: MUST be accepted when offered
  } else {
    take(feature::kAnyLayout);
    take(feature::kAccessPlatform);  // bit 33: never offered on the 32-bit legacy interface
    f &= 0xFFFFFFFFull;
  }
  take(feature::kMac);
  take(feature::kStatus);
  take(feature::kMrgRxbuf);
  take(feature::kRingEventIdx);
  take(feature::kCtrlVq);
  if (took(feature::kCtrlVq)) {
    take(feature::kCtrlRx);  // §5.1.3.1: CTRL_RX and MQ require CTRL_VQ
    take(feature::kMq);
  }
  if (req.offloads) {
    take(feature::kCsum);
    if (took(feature::kCsum)) {  // §5.1.3.1: HOST_TSO4/6 require CSUM, HOST_ECN a HOST_TSO
      take(feature::kHostTso4);
      take(feature::kHostTso6);
      if (took(feature::kHostTso4) || took(feature::kHostTso6)) take(feature::kHostEcn);
    }
    take(feature::kGuestCsum);
    if (took(feature::kGuestCsum) && took(feature::kMrgRxbuf)) {
      take(feature::kGuestTso4);
      take(feature::kGuestTso6);
      if (took(feature::kGuestTso4) || took(feature::kGuestTso6)) take(feature::kGuestEcn);
    }
  }

  Negotiated n;
  n.features = f;
  const uint16_t max_pairs =
      took(feature::kMq)
          ? std::clamp<uint16_t>(req.max_virtqueue_pairs, 1, net_cfg::kMaxPairs)
          : uint16_t{1};
  const uint16_t limit = std::min<uint16_t>(max_pairs, PortCounters::kMaxQueues);
  if (req.queues > limit) {
    if (!took(feature::kMq)) {
      return make_error(Errc::Unsupported,
                        "queues={} needs multi-queue, but the device offers no VIRTIO_NET_F_MQ "
                        "with a control queue (QEMU: -device virtio-net-pci,mq=on,vectors=...)",
                        req.queues);
    }
    return make_error(Errc::InvalidArgument, "queues={} is more than the {} queue pairs {}",
                      req.queues, limit,
                      limit < max_pairs ? "vsw supports" : "the device has (max_virtqueue_pairs)");
  }
  n.queue_pairs = req.queues != 0 ? req.queues
                                  : std::clamp<uint16_t>(req.workers, 1, limit);
  // Fact sheet §4 / virtio 1.1 §5.1.2: the control queue follows every pair the device has.
  n.ctrl_queue = static_cast<uint16_t>(took(feature::kMq) ? 2u * max_pairs : 2u);
  // §5.1.6: num_buffers is part of the header with VERSION_1 or MRG_RXBUF.
  n.hdr_len = (took(feature::kVersion1) || took(feature::kMrgRxbuf)) ? 12 : 10;
  return n;
}

std::string feature_names(uint64_t features) {
  static constexpr std::array<std::pair<unsigned, const char*>, 22> kNames = {{
      {feature::kCsum, "csum"}, {feature::kGuestCsum, "guest_csum"},
      {feature::kMtu, "mtu"}, {feature::kMac, "mac"},
      {feature::kGuestTso4, "guest_tso4"}, {feature::kGuestTso6, "guest_tso6"},
      {feature::kGuestEcn, "guest_ecn"}, {feature::kHostTso4, "host_tso4"},
      {feature::kHostTso6, "host_tso6"}, {feature::kHostEcn, "host_ecn"},
      {feature::kMrgRxbuf, "mrg_rxbuf"}, {feature::kStatus, "status"},
      {feature::kCtrlVq, "ctrl_vq"}, {feature::kCtrlRx, "ctrl_rx"},
      {feature::kMq, "mq"}, {feature::kNotifyOnEmpty, "notify_on_empty"},
      {feature::kAnyLayout, "any_layout"}, {feature::kRingIndirectDesc, "indirect_desc"},
      {feature::kRingEventIdx, "event_idx"}, {feature::kVersion1, "version_1"},
      {feature::kAccessPlatform, "access_platform"}, {feature::kRingPacked, "ring_packed"},
  }};
  std::string out;
  for (const auto& [b, name] : kNames) {
    if ((features & bit(b)) == 0) continue;
    if (!out.empty()) out += ' ';
    out += name;
  }
  return out;
}

}  // namespace vsw::ports::virtio
