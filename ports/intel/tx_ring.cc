// ports/intel/tx_ring.cc — transmit: clean up to the oldest completed RS descriptor, post by
// reference (or copy), one TDT write (82599 §7.2.3.2.4, §7.2.3.5.1 write-back of DD on RS;
// fact sheet §5 for the ixy batching it follows).
#include "ports/intel/tx_ring.h"

#include "dataplane/buffer_ownership.h"

namespace vsw::ports::intel {

void TxRing::attach(AdvTxDesc* ring, uint16_t size, pci::BarAccess* bar, uint32_t tail_offset,
                    const TxRingConfig& cfg) {
  ring_ = ring;
  size_ = size;
  tail_idx_ = clean_idx_ = 0;
  cfg_ = cfg;
  addr_.bind(cfg.dev, cfg.pool);
  tail_.bind(bar, tail_offset);
  frames_ = std::make_unique<Packet*[]>(size);
  rs_ = std::make_unique<uint16_t[]>(size);
  for (uint16_t i = 0; i < size; ++i) frames_[i] = nullptr;
  rs_head_ = rs_count_ = 0;
}

void TxRing::clean() noexcept {
  Mempool* const pool = cfg_.pool;
  Packet** const frames = frames_.get();
  while (rs_count_ > 0) {
    const uint16_t last = rs_[rs_head_];
    if ((__atomic_load_n(&ring_[last].wb.status, __ATOMIC_ACQUIRE) & kTxStatusDd) == 0) break;
    // DD on an RS descriptor: the device has fetched every descriptor up to it, and the data.
    // One chunk (a transmit() batch): the frames sit at their last descriptors, nullptr in the
    // other slots of a chain (transmit() writes both, so nothing is cleared here).
    const uint32_t mask = size_ - 1u;  // a local: release() calls cannot change it
    const uint32_t end = (uint32_t{last} + 1) & mask;
    for (uint32_t i = clean_idx_; i != end; i = (i + 1) & mask) {
      Packet* const p = frames[i];
      if (p == nullptr) continue;
      // A sole single-segment buffer of the port's pool (the common case) goes straight to it:
      // a direct call (Mempool is final), no reference-count atomics, no chain walk.
      if ((PacketBatch::sole_segment_bits(p, pool) | reinterpret_cast<uintptr_t>(p->next)) == 0) {
        pool->release(p);
      } else {
        release_packet(p);
      }
    }
    clean_idx_ = static_cast<uint16_t>(end);
    rs_head_ = wrap(uint32_t{rs_head_} + 1);
    --rs_count_;
  }
}

Packet* TxRing::reachable(Packet* p, QueueCounters& c, bool& copied) noexcept {
  return device_reachable(p, *cfg_.pool, c, copied,
                          [this](const Packet* s) { return addr_.segment(s); });
}

namespace {
// One advanced data descriptor in two 64-bit stores (§7.2.3.2.4 layout: address, then
// cmd_type_len | olinfo_status << 32).
void write_desc(AdvTxDesc& d, uint64_t addr, uint32_t cmd, uint32_t olinfo) noexcept {
  auto* q = reinterpret_cast<uint64_t*>(&d);
  q[0] = addr;
  q[1] = uint64_t{cmd} | uint64_t{olinfo} << 32;
}
constexpr uint32_t kTxCmdBase = kTxCmdDext | kTxDtypData | kTxCmdIfcs;
}  // namespace

uint16_t TxRing::transmit(PacketBatch& batch, QueueCounters& c) noexcept {
  clean();
  AdvTxDesc* const ring = ring_;
  Packet** const frames = frames_.get();
  const uint32_t mask = size_ - 1u;
  // At most N - 1 descriptors in flight (fact sheet §3: TDH == TDT means empty).
  uint32_t free_desc = size_ - 1u - in_flight();
  uint32_t i = tail_idx_;
  uint16_t sent = 0, copies = 0;
  uint64_t bytes = 0;
  const uint16_t count = batch.size();
  Packet* const* const in = batch.data();
  for (uint16_t b = 0; b < count; ++b) {
    Packet* p = in[b];
    const uint32_t frame_len = p->frame_len;
    // The common frame: one owned segment the device reaches in place.
    if (p->next == nullptr && !p->is_lent() && frame_len != 0 && free_desc != 0) [[likely]] {
      if (const uint64_t a = addr_.segment(p); a != 0) [[likely]] {
        write_desc(ring[i], a, kTxCmdBase | kTxCmdEop | p->len, frame_len << kTxPaylenShift);
        frames[i] = p;
        i = (i + 1) & mask;
        --free_desc;
        ++sent;
        bytes += frame_len;
        continue;
      }
    }
    // Chains, copies, drops.
    bool copied = false;
    p = reachable(p, c, copied);
    if (p == nullptr) continue;
    const uint32_t segs = chain_length(p);
    if (segs > free_desc || segs > kMaxSegments || p->frame_len == 0) {
      release_packet(p);
      c.drop(segs > free_desc ? DropReason::TxFull : DropReason::Invalid);
      continue;
    }
    copies = static_cast<uint16_t>(copies + (copied ? 1 : 0));
    const uint32_t len = p->frame_len;
    // PAYLEN: the whole frame, in its first descriptor (§7.2.3.2.4).
    uint32_t olinfo = len << kTxPaylenShift;
    uint32_t last = i;
    for (const Packet* s = p; s != nullptr; s = s->next) {
      const uint32_t cmd = kTxCmdBase | s->len | (s->next == nullptr ? kTxCmdEop : 0u);
      write_desc(ring[i], addr_.segment(s), cmd, olinfo);
      olinfo = 0;
      frames[i] = nullptr;  // the frame goes at its last descriptor, below
      last = i;
      i = (i + 1) & mask;
    }
    frames[last] = p;
    free_desc -= segs;
    ++sent;
    bytes += len;
  }
  batch.clear();
  if (sent != 0) {
    const uint32_t last = (i + mask) & mask;  // the batch's last descriptor
    ring[last].read.cmd_type_len |= kTxCmdRs;  // one status write-back per batch
    rs_[wrap(uint32_t{rs_head_} + rs_count_)] = static_cast<uint16_t>(last);
    ++rs_count_;
    tail_idx_ = static_cast<uint16_t>(i);
    tail_.ring(i);  // one TDT write per batch
    zero_copy_.add(sent - copies);
    if (copies != 0) copied_.add(copies);
    c.packets.add(sent);
    c.bytes.add(bytes);
  }
  return sent;
}

void TxRing::release_all() noexcept {
  if (!frames_) return;
  // Only the descriptors in flight hold frames (clean() leaves stale pointers behind it).
  for (uint32_t i = clean_idx_; i != tail_idx_; i = wrap(i + 1)) {
    if (frames_[i] != nullptr) release_packet(frames_[i]);
  }
  for (uint16_t i = 0; i < size_; ++i) frames_[i] = nullptr;
  tail_idx_ = clean_idx_ = 0;
  rs_head_ = rs_count_ = 0;
}

}  // namespace vsw::ports::intel
