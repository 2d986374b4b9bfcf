// dataplane/egress_offload.cc — checksum completion, chain shortening and software GSO for one
// destination port.
#include "dataplane/egress_offload.h"

#include <algorithm>

#include "dataplane/buffer_ownership.h"
#include "dataplane/mempool.h"
#include "dataplane/offload/checksum.h"
#include "dataplane/offload/gso.h"

namespace vsw::egress_detail {

namespace {

// A frame this worker may write: owned and held alone; otherwise a copy (nullptr, counted, when
// the pool is empty). Takes over the reference to `p`.
Packet* writable(Packet* p, TxContext& ctx, EgressDrops& drops) noexcept {
  if (!p->is_lent() && p->refs.load(std::memory_order_acquire) == 1) return p;
  Packet* copy = ctx.pool != nullptr ? copy_frame(*p, *ctx.pool) : nullptr;
  release_packet(p);
  if (copy == nullptr) drops.add(DropReason::NoBuffer);
  return copy;
}

}  // namespace

Packet* fix_frame(Packet* p, const OffloadCaps& caps, uint32_t max_frame, TxContext& ctx,
                  EgressDrops& drops) noexcept {
  if (p->frame_len > max_frame) {
    release_packet(p);
    drops.add(DropReason::Mtu);
    return nullptr;
  }
  if (p->needs_csum() && !caps.partial_csum) {
    p = writable(p, ctx, drops);
    if (p == nullptr) return nullptr;
    // virtio 1.0 §5.1.6.2: what a device does for VIRTIO_NET_HDR_F_NEEDS_CSUM.
    if (!offload::complete_partial_checksum(*p, p->csum_start, p->csum_offset)) {
      release_packet(p);
      drops.add(DropReason::Invalid);
      return nullptr;
    }
    p->flags = static_cast<uint8_t>(p->flags & ~kPacketNeedsCsum);
    p->csum_start = p->csum_offset = 0;
  }
  if (caps.max_segments != OffloadCaps::kAnyChain && p->next != nullptr &&
      chain_length(p) > caps.max_segments) {
    Packet* copy = ctx.pool != nullptr ? copy_frame(*p, *ctx.pool) : nullptr;
    release_packet(p);
    if (copy == nullptr) {
      drops.add(DropReason::NoBuffer);
      return nullptr;
    }
    if (chain_length(copy) > caps.max_segments) {
      release_packet(copy);
      drops.add(DropReason::Mtu);  // even packed into whole buffers it is too long for the port
      return nullptr;
    }
    p = copy;
  }
  return p;
}

uint32_t segment(Packet* p, uint32_t max_frame, TxContext& ctx, EgressDrops& drops) noexcept {
  SegmentCache& cache = ctx.segments;
  if (cache.original == p && cache.max_segment_len == max_frame) {
    release_packet(p);  // the cache holds its own reference to the original
    return cache.count;
  }
  cache.clear();
  if (ctx.pool == nullptr) {
    release_packet(p);
    drops.add(DropReason::NoBuffer);
    return 0;
  }
  Mempool& pool = *ctx.pool;
  const uint32_t room = std::min(max_frame, pool.data_room());
  const std::span<const std::byte> head(p->data(), p->len);
  offload::GsoPlan plan;
  const offload::GsoStatus st =
      offload::plan_gso(head, p->frame_len, p->gso_type, p->gso_size, room, plan);
  if (st != offload::GsoStatus::Ok || plan.segments > kMaxGsoSegments) {
    release_packet(p);
    drops.add(st == offload::GsoStatus::TooBig ? DropReason::Mtu : DropReason::Invalid);
    return 0;
  }
  // All or nothing: a buffer for every segment before building any, 32 at a time.
  uint32_t got = 0;
  while (got < plan.segments) {
    const uint16_t want =
        static_cast<uint16_t>(std::min<uint32_t>(plan.segments - got, PacketBatch::kMax));
    const uint16_t n = pool.alloc(cache.segments.data() + got, want);
    got += n;
    if (n < want) break;
  }
  cache.count = got;
  if (got < plan.segments) {
    cache.clear();
    release_packet(p);
    drops.add(DropReason::NoBuffer);
    return 0;
  }
  offload::ChainReader payload(*p);
  bool ok = payload.skip(plan.hdr_len);
  for (uint32_t i = 0; ok && i < plan.segments; ++i) {
    Packet* s = cache.segments[i];
    const uint32_t len = offload::build_segment(plan, head, payload, i, {s->data(), room});
    ok = len != 0;
    s->len = static_cast<uint16_t>(len);
    s->frame_len = len;
    s->in_port = p->in_port;
  }
  if (!ok) {  // the chain was shorter than its frame_len said
    cache.clear();
    release_packet(p);
    drops.add(DropReason::Invalid);
    return 0;
  }
  cache.original = p;  // takes over the caller's reference
  cache.max_segment_len = max_frame;
  return cache.count;
}

}  // namespace vsw::egress_detail
