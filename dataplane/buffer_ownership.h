// dataplane/buffer_ownership.h — turning lent or shared frames into frames a holder owns.
//
// The contract (dataplane/port.h): a lent frame (a peer's memory) is valid only until the
// receiving worker's next quiescent point, and a shared frame (refs > 1) is read-only. A port
// that keeps frames after tx_burst() returns (a software queue, a DMA ring) or must write into a
// frame calls these first. Copies carry the frame's offload metadata; the copy is a chain of as
// few pool buffers as the frame needs.
//
// Fast path: no heap allocation (mempool buffers only), no locks beyond the mempool's per-32.
#pragma once

#include <cstdint>

#include "dataplane/mempool.h"
#include "dataplane/packet.h"
#include "dataplane/packet_batch.h"
#include "dataplane/port_counters.h"

namespace vsw {

// A copy of the whole frame `src` (all segments, frame_len bytes, offload metadata, in_port)
// in owned buffers of `pool`, or nullptr when the pool cannot give enough buffers (nothing is
// leaked). `src` is only read.
Packet* copy_frame(const Packet& src, Mempool& pool) noexcept;

// Replaces every lent frame of `batch` by an owned copy from `pool` (the lent reference is
// released at once); frames that cannot be copied (pool empty, or no pool) are dropped and
// counted NoBuffer in `c`. Owned frames are left alone (shared ones stay shared: holding them is
// fine, writing is not). Returns how many frames were copied.
uint16_t make_owned(PacketBatch& batch, Mempool* pool, QueueCounters& c) noexcept;

// The frame a DMA port may hand to its device (dataplane/port.h: only owned buffers with a real
// device address go to DMA): `p` itself when it is owned and `device_address(segment)` is
// non-zero for every segment (zero copy), else an owned copy from `pool` (whose memory the port
// mapped for its device) with `p` released, or nullptr when the pool is empty (counted NoBuffer
// in `c`). `copied` tells which. `device_address` is the port's own translation (a window
// addition, a table lookup), inlined here.
template <class DeviceAddress>
inline Packet* device_reachable(Packet* p, Mempool& pool, QueueCounters& c, bool& copied,
                                DeviceAddress&& device_address) noexcept {
  bool direct = !p->is_lent();
  for (const Packet* s = p; direct && s != nullptr; s = s->next) direct = device_address(s) != 0;
  copied = !direct;
  if (direct) return p;
  // Lent memory must neither outlive the transmit call nor reach a device; memory the device
  // cannot address it cannot read.
  Packet* copy = copy_frame(*p, pool);
  release_packet(p);
  if (copy == nullptr) c.drop(DropReason::NoBuffer);
  return copy;
}

}  // namespace vsw
