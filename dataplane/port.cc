// dataplane/port.cc — the shared transmit wrapper: MTU filter and tx-queue serialisation.
#include "dataplane/port.h"

#include <mutex>

#include "common/ether.h"

namespace vsw {

uint16_t Port::transmit(uint16_t worker, PacketBatch& batch) noexcept {
  const QueueId q = static_cast<QueueId>(worker % tx_queue_count());
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
  std::lock_guard guard(tx_locks_[q]);
  if (oversize != 0) counters_.tx(q).drop(DropReason::Mtu, oversize);
  if (kept == 0) return 0;
  return tx_burst(q, batch);
}

}  // namespace vsw
