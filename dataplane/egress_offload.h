// dataplane/egress_offload.h — software offloads done once, at egress, for one destination.
//
// Port::transmit() sends frames the destination can take as they are (OffloadCaps) straight to
// tx_burst(). Only a frame that needs work comes here:
//
//   GSO super-frame, port takes that GSO type, segments fit the MTU   -> as it is
//   GSO super-frame otherwise                                         -> cut into segments of at
//        most mtu + 18 bytes (SegmentCache: once per flush and size), checksums complete
//   partial checksum, port cannot take it -> completed (in place when the frame is owned and
//        held alone, else on a copy: lent and shared frames are never written)
//   chain longer than the port accepts     -> copied into as few buffers as possible
//   ordinary frame longer than mtu + 18    -> dropped (Mtu)
//
// Drops are counted by reason: Mtu (too long, a UDP datagram that cannot be cut), Invalid
// (inconsistent offload metadata, more than kMaxGsoSegments segments), NoBuffer (pool empty).
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/offload_caps.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"
#include "dataplane/tx_context.h"

namespace vsw {

struct EgressDrops {
  std::array<uint32_t, static_cast<size_t>(DropReason::Count)> by_reason{};
  void add(DropReason r, uint32_t n = 1) noexcept { by_reason[static_cast<size_t>(r)] += n; }
  void flush_to(QueueCounters& c) noexcept {
    for (size_t r = 0; r < by_reason.size(); ++r) {
      if (by_reason[r] != 0) c.drop(static_cast<DropReason>(r), by_reason[r]);
      by_reason[r] = 0;
    }
  }
};

// True when `p` can go to a port with `caps` and frames of at most `max_frame` bytes unchanged.
inline bool fits_as_is(const Packet& p, const OffloadCaps& caps, uint32_t max_frame) noexcept {
  if (p.next != nullptr && caps.max_segments != OffloadCaps::kAnyChain &&
      chain_length(&p) > caps.max_segments) {
    return false;
  }
  if (p.is_gso()) {
    return caps.accepts_gso(p.gso_type) && (caps.gso_ecn || (p.flags & kPacketGsoEcn) == 0) &&
           p.hdr_len != 0 &&
           static_cast<uint32_t>(p.hdr_len) + p.gso_size <= max_frame;
  }
  return (!p.needs_csum() || caps.partial_csum) && p.frame_len <= max_frame;
}

// Prepares one frame that is not fits_as_is() for a port with `caps`: appends what should be
// sent (the frame itself, a copy, or its segments) to `out` through `emit`, which is called
// whenever `out` is full and must leave it empty. Takes over the reference to `p`.
template <class Emit>
void prepare_for_egress(Packet* p, const OffloadCaps& caps, uint32_t max_frame, TxContext& ctx,
                        PacketBatch& out, EgressDrops& drops, Emit&& emit) noexcept;

// --- the two steps of prepare_for_egress (egress_offload.cc) -----------------------------------
namespace egress_detail {
// Makes one non-GSO frame sendable to `caps`: completes its checksum, shortens its chain, or
// drops it. Takes over the reference to `p`; returns the frame to send (p or a copy), or
// nullptr after counting a drop in `drops`.
Packet* fix_frame(Packet* p, const OffloadCaps& caps, uint32_t max_frame, TxContext& ctx,
                  EgressDrops& drops) noexcept;
// Cuts super-frame `p` into segments of at most `max_frame` bytes held by ctx.segments (or finds
// them there, cut for the same size). Takes over the reference to `p`; returns how many
// segments ctx.segments holds, 0 after counting a drop.
uint32_t segment(Packet* p, uint32_t max_frame, TxContext& ctx, EgressDrops& drops) noexcept;
}  // namespace egress_detail

template <class Emit>
void prepare_for_egress(Packet* p, const OffloadCaps& caps, uint32_t max_frame, TxContext& ctx,
                        PacketBatch& out, EgressDrops& drops, Emit&& emit) noexcept {
  if (p->is_gso() && !fits_as_is(*p, caps, max_frame)) {
    const uint32_t n = egress_detail::segment(p, max_frame, ctx, drops);
    for (uint32_t i = 0; i < n; ++i) {
      Packet* s = ctx.segments.segments[i];
      retain_packet(s);  // the cache keeps its own reference until end_flush()
      Packet* fixed = egress_detail::fix_frame(s, caps, max_frame, ctx, drops);
      if (fixed == nullptr) continue;
      out.push(fixed);
      if (out.room() == 0) emit(out);
    }
    return;
  }
  Packet* fixed = egress_detail::fix_frame(p, caps, max_frame, ctx, drops);
  if (fixed == nullptr) return;
  out.push(fixed);
  if (out.room() == 0) emit(out);
}

}  // namespace vsw
