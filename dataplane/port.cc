// dataplane/port.cc — the shared transmit wrapper: MTU filter, software offloads for what the
// port lacks (egress_offload.h), and tx-queue serialisation (the lock only where workers share a
// queue).
#include "dataplane/port.h"

#include "common/ether.h"
#include "dataplane/capture/port_captures.h"

namespace vsw {

uint16_t Port::transmit(TxContext& ctx, PacketBatch& batch) noexcept {
  const uint16_t queues = tx_queue_count();
  const QueueId q = static_cast<QueueId>(ctx.worker % queues);
  // Workers 0..workers-1 map to distinct queues when there are at least as many queues.
  const bool shared = ctx.workers == 0 || ctx.workers > queues;
  const uint32_t max_frame = mtu_ + kEtherHeaderBytes + kVlanTagBytes;
  // Live capture, tx direction: the frames as handed to the port, before egress offloads.
  if (const PortCaptures* caps = captures()) [[unlikely]] caps->on_tx(ctx.worker, batch);
  // The common batch holds only ordinary, unchained frames within the MTU: one read-only,
  // branch-free scan (chain pointers, offload bits and the longest frame folded together), and
  // the batch goes to tx_burst() untouched.
  const uint16_t n = batch.size();
  uintptr_t special = 0;
  uint32_t longest = 0;
#pragma GCC unroll 4
  for (uint16_t i = 0; i < n; ++i) {
    const Packet* p = batch[i];
    special |= reinterpret_cast<uintptr_t>(p->next) | p->offload_bits();
    longest = longest > p->frame_len ? longest : p->frame_len;
  }
  if (special != 0 || longest > max_frame) [[unlikely]] {
    return transmit_slow(ctx, q, shared, max_frame, batch);
  }
  if (n == 0) return 0;
  return send(q, shared, batch, nullptr);
}

uint16_t Port::send(QueueId q, bool shared, PacketBatch& batch, EgressDrops* drops) noexcept {
  if (shared) tx_locks_[q].lock();
  if (drops != nullptr) drops->flush_to(counters_.tx(q));
  const uint16_t sent = batch.empty() ? 0 : tx_burst(q, batch);
  if (shared) tx_locks_[q].unlock();
  return sent;
}

uint16_t Port::transmit_slow(TxContext& ctx, QueueId q, bool shared, uint32_t max_frame,
                             PacketBatch& batch) noexcept {
  const OffloadCaps caps = offload_caps();  // one value for the whole batch
  EgressDrops drops;
  PacketBatch out;
  uint16_t sent = 0;
  auto emit = [&](PacketBatch& full) noexcept { sent += send(q, shared, full, nullptr); };
  for (uint16_t i = 0; i < batch.size(); ++i) {
    Packet* p = batch[i];
    if (fits_as_is(*p, caps, max_frame)) {
      out.push(p);
      if (out.room() == 0) emit(out);
    } else {
      // Drops ordinary frames over the MTU; segments, checksums or packs the others.
      prepare_for_egress(p, caps, max_frame, ctx, out, drops, emit);
    }
  }
  batch.clear();
  sent += send(q, shared, out, &drops);
  return sent;
}

}  // namespace vsw
