// dataplane/port.cc — the shared transmit wrapper: MTU filter and tx-queue serialisation (the
// lock only where workers share a queue).
#include "dataplane/port.h"

#include "common/ether.h"

namespace vsw {

uint16_t Port::transmit(uint16_t worker, PacketBatch& batch, uint16_t workers) noexcept {
  const uint16_t queues = tx_queue_count();
  const QueueId q = static_cast<QueueId>(worker % queues);
  // Workers 0..workers-1 map to distinct queues when there are at least as many queues.
  const bool shared = workers == 0 || workers > queues;
  const uint32_t max_frame = mtu_ + kEtherHeaderBytes + kVlanTagBytes;
  uint16_t kept = 0;
  uint16_t oversize = 0;
  for (uint16_t i = 0; i < batch.size(); ++i) {
    Packet* p = batch[i];
    if (p->frame_len > max_frame) {
      release_packet(p);
      ++oversize;
    } else {
      batch.data()[kept++] = p;
    }
  }
  batch.set_size(kept);
  if (shared) tx_locks_[q].lock();
  if (oversize != 0) counters_.tx(q).drop(DropReason::Mtu, oversize);
  const uint16_t sent = kept == 0 ? 0 : tx_burst(q, batch);
  if (shared) tx_locks_[q].unlock();
  return sent;
}

}  // namespace vsw
