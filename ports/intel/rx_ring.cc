// ports/intel/rx_ring.cc — receive: write-back descriptors -> Packets, refill in place, one RDT
// write per batch (82599 §7.1.6 and fact sheet §5; 82576 §7.1.5).
#include "ports/intel/rx_ring.h"

#include <algorithm>

namespace vsw::ports::intel {

namespace {
constexpr uint32_t kMinFrameBytes = 14;  // an Ethernet header

uint32_t load_status(const AdvRxDesc& d) noexcept {
  // The device writes the descriptor, then DD; reading DD with acquire orders the other fields'
  // loads after it.
  return __atomic_load_n(&d.wb.status_error, __ATOMIC_ACQUIRE);
}

// §7.1.6.2 / 82576 §7.1.5.2: L4CS set and TCPE, IPE clear — the TCP/UDP checksum is good.
uint8_t checksum_flag(uint32_t st) noexcept {
  return (st & (kRxStatusL4cs | kRxErrorTcpe | kRxErrorIpe)) == kRxStatusL4cs ? kPacketCsumValid
                                                                               : uint8_t{0};
}
}  // namespace

void RxRing::attach(AdvRxDesc* ring, uint16_t size, pci::BarAccess* bar, uint32_t tail_offset,
                    const RxRingConfig& cfg) {
  ring_ = ring;
  size_ = size;
  next_ = 0;
  cfg_ = cfg;
  addr_.bind(cfg.dev, cfg.pool);
  tail_.bind(bar, tail_offset);
  bufs_ = std::make_unique<Packet*[]>(size);
  for (uint16_t i = 0; i < size; ++i) bufs_[i] = nullptr;
}

void RxRing::post(uint16_t i, Packet* p) noexcept {
  bufs_[i] = p;
  ring_[i].read.pkt_addr = addr_.pool_buffer(p);
  ring_[i].read.hdr_addr = 0;  // also clears DD (§7.1.6.1: bit 0 of hdr_addr)
}

Status RxRing::prefill() {
  for (uint16_t i = 0; i < size_; ++i) {
    if (bufs_[i] != nullptr) continue;
    Packet* p = nullptr;
    if (cfg_.pool->alloc(&p, 1) != 1) {
      return make_error(Errc::ResourceExhausted,
                        "mempool '{}' has too few free buffers to fill a {}-descriptor receive "
                        "ring",
                        cfg_.pool->name(), size_);
    }
    const uint64_t dma = cfg_.dev->dma_address(p->data());
    if (dma == 0) {
      release_packet(p);
      return make_error(Errc::Internal, "mempool '{}' is not mapped for the device's DMA",
                        cfg_.pool->name());
    }
    if (addr_.pool_buffer(p) != dma) {  // the per-burst shortcut must agree with the lookup
      release_packet(p);
      return make_error(Errc::Internal,
                        "mempool '{}': buffer address {:#x} differs from the device's {:#x}",
                        cfg_.pool->name(), addr_.pool_buffer(p), dma);
    }
    post(i, p);
  }
  return ok();
}

void RxRing::start() noexcept {
  next_ = 0;
  tail_.ring(size_ - 1u);
}

bool RxRing::stock(uint16_t n) noexcept {
  if (stash_n_ < n) {
    stash_n_ = static_cast<uint16_t>(
        stash_n_ +
        cfg_.pool->alloc(stash_ + stash_n_, static_cast<uint16_t>(Mempool::kBurst - stash_n_)));
  }
  return stash_n_ >= n;
}

RxRing::Chain RxRing::receive_chain(uint32_t& next_io, uint16_t& sn_io, QueueCounters& c,
                                    Packet*& head) noexcept {
  // Locals (written back below), so that the stores into descriptors and Packet headers cannot
  // make the compiler reload them through the references.
  const uint32_t next = next_io;
  uint16_t sn = sn_io;
  AdvRxDesc* const ring = ring_;
  Packet** const bufs = bufs_.get();
  const uint32_t mask = size_ - 1u;
  // The device owns at most N - 1 descriptors, so a frame cannot be longer than that.
  const uint32_t limit = std::min<uint32_t>(kMaxFrameDescriptors, size_ - 1u);
  // Every descriptor of the frame must be written back before any is consumed; the acquire
  // load of each status orders the loads of its length below after it.
  uint32_t take = 0;
  uint32_t last_status = 0;
  bool too_long = true;
  while (take < limit) {
    const uint32_t st = load_status(ring[(next + take) & mask]);
    if ((st & kRxStatusDd) == 0) return Chain::Incomplete;
    ++take;
    if ((st & kRxStatusEop) != 0) {
      last_status = st;
      too_long = false;
      break;
    }
  }
  if (sn < take) {
    stash_n_ = sn;
    const bool stocked = stock(static_cast<uint16_t>(take));
    sn_io = sn = stash_n_;
    if (!stocked) {
      no_buffer_.add(1);
      return Chain::NoBuffer;
    }
  }
  const uint32_t max_len = cfg_.buffer_bytes;
  head = nullptr;
  Packet* tail = nullptr;
  uint32_t total = 0;
  for (uint32_t j = 0; j < take; ++j) {
    const uint32_t i = (next + j) & mask;
    AdvRxDesc& d = ring[i];
    const uint32_t len = std::min<uint32_t>(d.wb.length, max_len);
    Packet* const p = bufs[i];
    Packet* const fresh = stash_[--sn];
    bufs[i] = fresh;
    d.read.pkt_addr = addr_.pool_buffer(fresh);
    d.read.hdr_addr = 0;
    p->len = static_cast<uint16_t>(len);
    if (head == nullptr) {
      head = p;
    } else {
      tail->next = p;
    }
    tail = p;
    total += len;
  }
  next_io = (next + take) & mask;
  sn_io = sn;
  if (too_long) {  // the rest of it follows; drop up to its EOP
    discarding_ = true;
    release_packet(head);
    c.drop(DropReason::Invalid);
    return Chain::Dropped;
  }
  if (discarding_) {  // the tail end of a frame already counted
    discarding_ = false;
    release_packet(head);
    return Chain::Dropped;
  }
  if ((last_status & kRxErrorRxe) != 0 || total < kMinFrameBytes) {
    release_packet(head);
    c.drop(DropReason::Invalid);
    return Chain::Dropped;
  }
  head->frame_len = total;
  head->in_port = cfg_.port;
  head->flags = static_cast<uint8_t>(head->flags | checksum_flag(last_status));
  return Chain::Frame;
}

uint16_t RxRing::receive(PacketBatch& batch, QueueCounters& c) noexcept {
  const uint16_t room = batch.room();
  // The burst's replacement buffers in one mempool call (a no-op while the stash is full, e.g.
  // on idle polls).
  if (stash_n_ < Mempool::kBurst) {
    stash_n_ = static_cast<uint16_t>(
        stash_n_ +
        cfg_.pool->alloc(stash_ + stash_n_, static_cast<uint16_t>(Mempool::kBurst - stash_n_)));
  }
  AdvRxDesc* const ring = ring_;
  Packet** const bufs = bufs_.get();
  Packet** const out = batch.data() + batch.size();
  const uint32_t mask = size_ - 1u;
  const uint32_t max_len = cfg_.buffer_bytes;
  const PortId port = cfg_.port;
  // A local, so the stores into descriptors and Packet headers cannot make the compiler reload
  // it per frame.
  bool discarding = discarding_;
  const bool window = addr_.window();
  const uint64_t window_offset = addr_.window_offset();
  const uint16_t start = next_;
  uint32_t i = start;
  uint16_t sn = stash_n_;
  uint16_t n = 0;
  uint64_t bytes = 0;
  while (n < room) {
    AdvRxDesc& d = ring[i];
    const uint32_t st = load_status(d);
    if ((st & kRxStatusDd) == 0) break;
    if (((st & (kRxStatusEop | kRxErrorRxe)) != kRxStatusEop) || discarding || sn == 0) [[unlikely]] {
      // A frame over several descriptors, a MAC error, the tail of a dropped frame, or the stash
      // ran dry (multi-descriptor frames used it up): the general path, one frame at a time.
      Packet* head = nullptr;
      const Chain r = receive_chain(i, sn, c, head);
      discarding = discarding_;
      if (r == Chain::Frame) {
        bytes += head->frame_len;
        out[n++] = head;
      } else if (r != Chain::Dropped) {
        break;
      }
      continue;
    }
    // The common case: one descriptor, DD | EOP, no MAC error.
    const uint32_t len = std::min<uint32_t>(d.wb.length, max_len);
    Packet* const p = bufs[i];
    Packet* const fresh = stash_[--sn];
    bufs[i] = fresh;
    d.read.pkt_addr = window ? reinterpret_cast<uintptr_t>(fresh->base) + fresh->data_off +
                                   window_offset
                             : addr_.pool_buffer(fresh);
    d.read.hdr_addr = 0;  // also clears DD (§7.1.6.1)
    i = (i + 1) & mask;
    __builtin_prefetch(p->data());  // the bridge reads the Ethernet header next
    p->len = static_cast<uint16_t>(len);
    p->frame_len = len;
    p->in_port = port;
    // Mempool::alloc cleared flags when the buffer entered the stash; nothing set them since.
    p->flags = checksum_flag(st);
    if (len < kMinFrameBytes) [[unlikely]] {
      release_packet(p);
      c.drop(DropReason::Invalid);
      continue;
    }
    out[n++] = p;
    bytes += len;
  }
  next_ = static_cast<uint16_t>(i);
  stash_n_ = sn;
  if (i != start) tail_.ring((i + size_ - 1u) & mask);  // one RDT write per batch, one behind
  if (n != 0) {
    batch.set_size(static_cast<uint16_t>(batch.size() + n));
    c.packets.add(n);
    c.bytes.add(bytes);
  }
  return n;
}

void RxRing::release_all() noexcept {
  if (bufs_) {
    for (uint16_t i = 0; i < size_; ++i) {
      if (bufs_[i] != nullptr) release_packet(bufs_[i]);
      bufs_[i] = nullptr;
    }
  }
  while (stash_n_ > 0) release_packet(stash_[--stash_n_]);
}

}  // namespace vsw::ports::intel
