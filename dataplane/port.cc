// dataplane/port.cc — the shared transmit wrapper: MTU filter, software offloads for what the
// port lacks (egress_offload.h), and tx-queue serialisation.
#include "dataplane/port.h"

#include <mutex>

#include "common/ether.h"

namespace vsw {

uint16_t Port::transmit(TxContext& ctx, PacketBatch& batch) noexcept {
  const QueueId q = static_cast<QueueId>(ctx.worker % tx_queue_count());
  const uint32_t max_frame = mtu_ + kEtherHeaderBytes + kVlanTagBytes;
  uint16_t kept = 0;
  uint16_t oversize = 0;
  bool needs_work = false;
  for (uint16_t i = 0; i < batch.size(); ++i) {
    Packet* p = batch[i];
    if (p->has_offload() || p->next != nullptr) [[unlikely]] {
      needs_work |= !fits_as_is(*p, caps_, max_frame);
      batch.data()[kept++] = p;
    } else if (p->frame_len > max_frame) {
      release_packet(p);
      ++oversize;
    } else {
      batch.data()[kept++] = p;
    }
  }
  batch.set_size(kept);
  if (needs_work) [[unlikely]] return transmit_with_offloads(ctx, q, max_frame, batch, oversize);
  std::lock_guard guard(tx_locks_[q]);
  if (oversize != 0) counters_.tx(q).drop(DropReason::Mtu, oversize);
  if (kept == 0) return 0;
  return tx_burst(q, batch);
}

uint16_t Port::send_locked(QueueId q, PacketBatch& batch, EgressDrops* drops) noexcept {
  std::lock_guard guard(tx_locks_[q]);
  if (drops != nullptr) drops->flush_to(counters_.tx(q));
  if (batch.empty()) return 0;
  return tx_burst(q, batch);
}

uint16_t Port::transmit_with_offloads(TxContext& ctx, QueueId q, uint32_t max_frame,
                                      PacketBatch& batch, uint16_t oversize) noexcept {
  EgressDrops drops;
  drops.add(DropReason::Mtu, oversize);
  PacketBatch out;
  uint16_t sent = 0;
  auto emit = [&](PacketBatch& full) noexcept { sent += send_locked(q, full, nullptr); };
  for (uint16_t i = 0; i < batch.size(); ++i) {
    Packet* p = batch[i];
    if (fits_as_is(*p, caps_, max_frame)) {
      out.push(p);
      if (out.room() == 0) emit(out);
    } else {
      prepare_for_egress(p, caps_, max_frame, ctx, out, drops, emit);
    }
  }
  batch.clear();
  sent += send_locked(q, out, &drops);
  return sent;
}

}  // namespace vsw
