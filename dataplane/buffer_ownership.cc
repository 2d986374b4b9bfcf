// dataplane/buffer_ownership.cc — frame copies into owned mempool buffers.
#include "dataplane/buffer_ownership.h"

#include <algorithm>
#include <cstring>

namespace vsw {

Packet* copy_frame(const Packet& src, Mempool& pool) noexcept {
  const uint32_t room = pool.data_room();
  const uint32_t total = src.frame_len;
  const uint32_t need = total == 0 ? 1 : (total + room - 1) / room;
  Packet* bufs[PacketBatch::kMax];
  Packet* first = nullptr;
  Packet* last = nullptr;
  uint32_t got = 0;
  // Allocate 32 at a time (Mempool::alloc serves a burst from the worker's cache), chaining as
  // we go so a failure releases everything with one release_packet().
  while (got < need) {
    const uint16_t want = static_cast<uint16_t>(std::min<uint32_t>(need - got, PacketBatch::kMax));
    const uint16_t n = pool.alloc(bufs, want);
    for (uint16_t i = 0; i < n; ++i) {
      if (last != nullptr) {
        last->next = bufs[i];
      } else {
        first = bufs[i];
      }
      last = bufs[i];
    }
    got += n;
    if (n < want) {
      if (first != nullptr) release_packet(first);
      return nullptr;
    }
  }
  // Copy segment by segment into the new chain.
  const Packet* s = &src;
  uint32_t s_off = 0;
  uint32_t copied = 0;
  for (Packet* d = first; d != nullptr; d = d->next) {
    uint32_t fill = 0;
    const uint32_t want = std::min(room, total - copied);
    while (fill < want && s != nullptr) {
      const uint32_t chunk = std::min<uint32_t>(want - fill, s->len - s_off);
      std::memcpy(d->data() + fill, s->data() + s_off, chunk);
      fill += chunk;
      s_off += chunk;
      if (s_off == s->len) {
        s = s->next;
        s_off = 0;
      }
    }
    d->len = static_cast<uint16_t>(fill);
    copied += fill;
  }
  first->frame_len = copied;
  first->in_port = src.in_port;
  first->copy_offload(src);
  return first;
}

uint16_t make_owned(PacketBatch& batch, Mempool* pool, QueueCounters& c) noexcept {
  uint16_t kept = 0;
  uint16_t copies = 0;
  uint16_t failed = 0;
  for (uint16_t i = 0; i < batch.size(); ++i) {
    Packet* p = batch[i];
    if (p->is_lent()) {
      Packet* copy = pool != nullptr ? copy_frame(*p, *pool) : nullptr;
      release_packet(p);
      if (copy == nullptr) {
        ++failed;
        continue;
      }
      p = copy;
      ++copies;
    }
    batch.data()[kept++] = p;
  }
  batch.set_size(kept);
  if (failed != 0) c.drop(DropReason::NoBuffer, failed);
  return copies;
}

}  // namespace vsw
