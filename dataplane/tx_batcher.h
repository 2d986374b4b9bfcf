// dataplane/tx_batcher.h — per-worker output batches, one per destination port.
// Bridge::forward() pushes each frame of an ingress batch to the batch of its destination port;
// flush() then hands every non-empty batch to its port exactly once, so each destination receives
// one tx burst per ingress burst. An ingress burst holds at most 32 frames and each frame goes to
// a port at most once, so no output batch can overflow. One TxBatcher per worker: no sharing.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/packet_batch.h"

namespace vsw {

class TxBatcher {
 public:
  void push(PortId port, Packet* p) noexcept {
    PacketBatch& b = batches_[port];
    if (b.empty()) touched_[n_touched_++] = port;
    b.push(p);
  }
  // push() of pkts[0..n) in order, with one lookup of the destination batch (a run of frames
  // of one ingress burst that all go to `port`).
  void push_run(PortId port, Packet* const* pkts, uint16_t n) noexcept {
    PacketBatch& b = batches_[port];
    if (b.empty()) touched_[n_touched_++] = port;
    b.append(pkts, n);
  }

  // Calls send(PortId, PacketBatch&) for every destination with frames, in first-touch order.
  // `send` takes ownership of the packets (it must leave the batch empty or release it).
  template <class Send>
  void flush(Send&& send) noexcept {
    for (uint32_t i = 0; i < n_touched_; ++i) {
      PacketBatch& b = batches_[touched_[i]];
      send(touched_[i], b);
      b.clear();
    }
    n_touched_ = 0;
  }

  uint32_t pending_ports() const noexcept { return n_touched_; }
  const PacketBatch& batch(PortId port) const noexcept { return batches_[port]; }

 private:
  std::array<PacketBatch, kMaxPorts> batches_{};
  std::array<PortId, kMaxPorts> touched_{};
  uint32_t n_touched_ = 0;
};

}  // namespace vsw
