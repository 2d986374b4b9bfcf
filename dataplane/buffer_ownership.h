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

}  // namespace vsw
