// fuzz/memif_ring_fuzz.cc — RxRing::receive and TxRing::transmit (ports/memif/memif_ring.h)
// against a hostile client that owns all the shared memory (memif.md §7, §8, §10).
//
// The input is a small client program run against two rings in plain memory: a C2S ring vsw
// receives from and an S2C ring vsw transmits into, in region 0, plus a second region 1.
//
//   byte 0   log2 ring size (1..7)       bytes 1-2  negotiated buffer size (64..4096)
//   byte 3   regions the connection has (1 or 2)
//   then ops until the input ends (op byte, then its arguments):
//     0 send a well-formed C2S frame      1 write a raw C2S descriptor   2 move the C2S head
//     3 vsw receives a burst              4 vsw releases held frames     5 offer S2C buffers
//     6 write a raw S2C descriptor        7 move the S2C head            8 vsw transmits a burst
//     9 scribble on region memory          10 toggle the S2C interrupt mask
//
// Checked after every receive: each frame lies inside the client's regions segment by segment,
// no segment is empty or above the buffer size, frame_len is the sum of the segments and within
// 14..65535 bytes, chains are at most 64 segments, the first segment holds the first 64 bytes,
// outstanding() equals the segments vsw holds, and the tail never moves while vsw holds buffers.
// Checked after every transmit: vsw wrote nothing but the offered buffers, their descriptors'
// length/flags and the tail; the tail advanced by at most the offered slots; every source buffer
// went back to the mempool; drops add up; and, when the offered buffers do not overlap, the
// client reads back exactly the frames vsw accepted, in order.
// Once a ring reports a violation the port would disconnect the client, so the ring is not used
// again (memif.md §10).
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/mempool.h"
#include "fuzz/fuzz_support.h"
#include "ports/memif/memif_ring.h"

namespace {

using namespace vsw;
using namespace vsw::ports::memif;
using vsw::fuzz::ByteReader;

constexpr PortId kPort = 5;
constexpr uint64_t kRegion0Bytes = 16384;
constexpr uint64_t kRegion1Bytes = 4096;
constexpr uint32_t kC2SOff = 0;      // C2S ring: header + up to 128 descriptors (2176 bytes)
constexpr uint32_t kS2COff = 4096;   // S2C ring
constexpr uint32_t kBufOff = 8192;   // where well-formed sends and offers put their buffers
constexpr uint32_t kMaxSegsPerTxFrame = 16;

Mempool& pool() {
  static std::unique_ptr<Mempool> p = [] {
    Mempool::Config cfg;
    cfg.buffers = 1024;
    cfg.buffer_bytes = 2048;
    cfg.hugepages = false;
    auto r = Mempool::create("memif-ring-fuzz", cfg);
    FUZZ_CHECK(r.has_value(), "mempool: {}", r ? "" : r.error().message);
    return std::move(r.value());
  }();
  return *p;
}

int eventfd_once() {
  static int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  return fd;
}

struct Held {
  Packet* frame;
  uint32_t segments;
};

class RingFuzzer {
 public:
  explicit RingFuzzer(ByteReader& in)
      : in_(in),
        log2_(static_cast<uint8_t>(1 + in.u8() % 7)),
        size_(static_cast<uint16_t>(1u << log2_)),
        max_seg_(kMinHeadBytes + in.u16() % (4096 - kMinHeadBytes + 1)),  // RxRing needs >= 64
        n_regions_(1 + in.u8() % 2),
        mem0_(kRegion0Bytes / 8, 0),
        mem1_(kRegion1Bytes / 8, 0) {
    views_[0] = RegionView{reinterpret_cast<std::byte*>(mem0_.data()), kRegion0Bytes};
    views_[1] = RegionView{reinterpret_cast<std::byte*>(mem1_.data()), kRegion1Bytes};
    c2s_ = reinterpret_cast<RingHeader*>(views_[0].base + kC2SOff);
    s2c_ = reinterpret_cast<RingHeader*>(views_[0].base + kS2COff);
    c2s_desc_ = reinterpret_cast<Desc*>(views_[0].base + kC2SOff + sizeof(RingHeader));
    s2c_desc_ = reinterpret_cast<Desc*>(views_[0].base + kS2COff + sizeof(RingHeader));
    rx_ = std::make_unique<RxRing>(c2s_, log2_, max_seg_, kPort);
    tx_ = std::make_unique<TxRing>(s2c_, log2_, max_seg_, eventfd_once());
    rx_->reset();  // as Connection::bind does at CONNECT (memif.md §6)
    tx_->reset();
  }

  void run() {
    while (!in_.empty()) {
      switch (in_.u8() % 11) {
        case 0: client_send(); break;
        case 1: raw_desc(c2s_desc_); break;
        case 2: move_head(c2s_); break;
        case 3: receive(); break;
        case 4: release(in_.u8()); break;
        case 5: client_offer(); break;
        case 6: raw_desc(s2c_desc_); break;
        case 7: move_head(s2c_); break;
        case 8: transmit(); break;
        case 9: scribble(); break;
        case 10: s2c_->flags.fetch_xor(kRingFlagMaskInt); break;
      }
    }
    release(0);
    FUZZ_CHECK(rx_->outstanding() == 0, "outstanding {} after every frame was released",
               rx_->outstanding());
    FUZZ_CHECK(pool().available() == pool().capacity(), "mempool lost {} buffers",
               pool().capacity() - pool().available());
  }

 private:
  std::span<const RegionView> regions() const { return {views_, n_regions_}; }
  uint16_t mask() const { return static_cast<uint16_t>(size_ - 1); }

  // --- the client's moves ----------------------------------------------------------------------
  // A frame as a well-behaved client would publish it: `piece`-byte buffers chained with NEXT.
  void client_send() {
    uint32_t len = 1 + in_.u16() % 9100;
    const uint32_t piece = 1 + in_.u16() % max_seg_;
    const uint16_t region = in_.u8() % 2;
    const uint32_t area = region == 0 ? kRegion0Bytes - kBufOff : kRegion1Bytes;
    const uint32_t base = region == 0 ? kBufOff : 0;
    uint16_t head = c2s_->head.load();
    for (uint32_t n = 0; len > 0 && n < size_; ++n, ++head) {
      const uint32_t chunk = std::min(len, piece);
      const uint32_t off = base + (head * 64u) % (area - std::min(area - 1, chunk));
      c2s_desc_[head & mask()] = Desc{static_cast<uint16_t>(len > chunk ? kDescFlagNext : 0),
                                      region, chunk, off, 0};
      len -= chunk;
    }
    c2s_->head.store(head);
  }
  // Empty buffers offered on the S2C ring, as a client's receive side refills them.
  void client_offer() {
    const uint32_t n = in_.u8() % (size_ + 1u);
    const uint32_t cap = 1 + in_.u16() % 4096;
    const uint16_t region = in_.u8() % 2;
    const uint32_t area = region == 0 ? kRegion0Bytes - kBufOff : kRegion1Bytes;
    const uint32_t base = region == 0 ? kBufOff : 0;
    // One buffer per slot, as a real client keeps them: distinct unless cap exceeds the stride.
    const uint32_t stride = std::max<uint32_t>(1, std::min<uint32_t>(cap, area / size_));
    uint16_t head = s2c_->head.load();
    for (uint32_t i = 0; i < n; ++i, ++head) {
      const uint32_t off = base + ((head & mask()) * stride) % area;
      s2c_desc_[head & mask()] = Desc{0, region, cap, off, 0};
    }
    s2c_->head.store(head);
  }
  void raw_desc(Desc* table) {
    const uint16_t slot = in_.u8() & mask();
    Desc d;
    in_.fill({reinterpret_cast<std::byte*>(&d), sizeof d});
    table[slot] = d;
  }
  void move_head(RingHeader* h) {
    const uint8_t how = in_.u8();
    const uint16_t v = in_.u16();
    h->head.store(how & 1 ? v : static_cast<uint16_t>(h->head.load() + (v & 0xFF)));
  }
  void scribble() {
    const uint8_t r = in_.u8() % 2;
    const RegionView& v = views_[r];
    const uint32_t off = in_.u16() % v.size;
    const uint32_t len = std::min<uint32_t>(in_.u8(), static_cast<uint32_t>(v.size - off));
    in_.fill({v.base + off, len});
  }

  // --- vsw's moves ------------------------------------------------------------------------------
  bool in_some_region(const std::byte* p, uint32_t len) const {
    for (const RegionView& v : regions()) {
      if (p >= v.base && v.contains(static_cast<uint64_t>(p - v.base), len)) return true;
    }
    return false;
  }

  void check_frame(const Packet* f, uint32_t& segments) const {
    FUZZ_CHECK(f->is_lent(), "received frame not marked lent");
    FUZZ_CHECK(f->in_port == kPort, "in_port {}", f->in_port);
    FUZZ_CHECK(f->refs.load() == 1, "refs {}", f->refs.load());
    uint32_t total = 0;
    unsigned sum = 0;
    segments = 0;
    for (const Packet* p = f; p != nullptr; p = p->next) {
      ++segments;
      FUZZ_CHECK(segments <= kMaxChainSegments, "chain longer than {}", kMaxChainSegments);
      FUZZ_CHECK(p->len != 0 && p->len <= max_seg_, "segment of {} bytes (buffer size {})",
                 p->len, max_seg_);
      FUZZ_CHECK(in_some_region(p->data(), p->len), "segment outside the client's regions");
      for (uint32_t i = 0; i < p->len; ++i) sum += std::to_integer<unsigned>(p->data()[i]);
      total += p->len;
    }
    (void)sum;  // touching every byte lets ASan see any read outside the regions
    FUZZ_CHECK(total == f->frame_len, "frame_len {} but segments hold {}", f->frame_len, total);
    FUZZ_CHECK(total >= kMinFrameBytes && total <= kMaxFrameBytes, "frame of {} bytes", total);
    FUZZ_CHECK(f->len >= std::min(total, kMinHeadBytes), "first segment {} of {} bytes", f->len,
               total);
  }

  void receive() {
    const uint32_t prefill = in_.u8() % (PacketBatch::kMax + 1);
    if (rx_dead_) return;
    PacketBatch batch;
    Packet* fill[PacketBatch::kMax];
    const uint16_t got = pool().alloc(fill, static_cast<uint16_t>(prefill));
    for (uint16_t i = 0; i < got; ++i) batch.push(fill[i]);
    // The tail field lies in the client's memory and vsw never reads it back (memif.md §8: the
    // server owns it); undo client scribbles on it so the checks below see only vsw's stores.
    c2s_->tail.store(rx_tail_);
    const uint16_t tail_before = rx_tail_;
    const uint64_t packets_before = qc_rx_.packets.get();
    Violation v = Violation::None;
    const uint16_t n = rx_->receive(regions(), batch, qc_rx_, v);
    FUZZ_CHECK(n == batch.size() - got, "returned {} but appended {}", n, batch.size() - got);
    FUZZ_CHECK(qc_rx_.packets.get() - packets_before == n, "packets counter off");
    const uint16_t tail_after = c2s_->tail.load();
    FUZZ_CHECK(static_cast<uint16_t>(tail_after - tail_before) <= size_, "tail jumped {} -> {}",
               tail_before, tail_after);
    if (!held_.empty()) {
      FUZZ_CHECK(tail_after == tail_before, "tail moved while vsw held {} frames", held_.size());
    }
    for (uint16_t i = got; i < batch.size(); ++i) {
      uint32_t segs = 0;
      check_frame(batch[i], segs);
      held_.push_back(Held{batch[i], segs});
    }
    for (uint16_t i = 0; i < got; ++i) release_packet(fill[i]);
    batch.clear();
    check_outstanding();
    rx_tail_ = tail_after;
    if (v != Violation::None) rx_dead_ = true;  // the port disconnects the client
  }

  void check_outstanding() const {
    uint32_t segs = 0;
    for (const Held& h : held_) segs += h.segments;
    FUZZ_CHECK(rx_->outstanding() == segs, "outstanding {} but vsw holds {} segments",
               rx_->outstanding(), segs);
  }

  // 0: everything; otherwise the oldest `n` frames. Held frames are re-checked first: the client
  // may have rewritten their descriptors meanwhile, which must not affect vsw's copies.
  void release(uint8_t n) {
    size_t count = n == 0 ? held_.size() : std::min<size_t>(n, held_.size());
    for (size_t i = 0; i < count; ++i) {
      uint32_t segs = 0;
      check_frame(held_[i].frame, segs);
      FUZZ_CHECK(segs == held_[i].segments, "held frame changed shape");
      release_packet(held_[i].frame);
    }
    held_.erase(held_.begin(), held_.begin() + static_cast<long>(count));
    check_outstanding();
  }

  // Builds `n` frames from the mempool, chained in segments of at most `seg` bytes.
  void build_frames(PacketBatch& batch, std::vector<std::vector<std::byte>>& bytes) {
    const uint32_t n = 1 + in_.u8() % PacketBatch::kMax;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t len = 1 + in_.u16() % 9000;
      const uint32_t seg = std::max<uint32_t>(
          {1u + in_.u16() % pool().data_room(), (len + kMaxSegsPerTxFrame - 1) / kMaxSegsPerTxFrame});
      const uint8_t fill = in_.u8();
      std::vector<std::byte> frame(len);
      for (uint32_t k = 0; k < len; ++k) frame[k] = std::byte(static_cast<uint8_t>(fill + k * 7));
      Packet* first = nullptr;
      Packet* prev = nullptr;
      for (uint32_t off = 0; off < len; off += seg) {
        Packet* p = nullptr;
        FUZZ_CHECK(pool().alloc(&p, 1) == 1, "mempool exhausted");
        p->len = static_cast<uint16_t>(std::min(seg, len - off));
        std::memcpy(p->data(), frame.data() + off, p->len);
        (prev == nullptr ? first : prev->next) = p;
        prev = p;
      }
      first->frame_len = len;
      batch.push(first);
      bytes.push_back(std::move(frame));
    }
  }

  struct Span {
    const std::byte* begin;
    const std::byte* end;
    bool overlaps(const Span& o) const { return begin < o.end && o.begin < end; }
  };

  void transmit() {
    PacketBatch batch;
    std::vector<std::vector<std::byte>> frames;
    build_frames(batch, frames);
    if (tx_dead_) {
      batch.release_all();
      return;
    }
    s2c_->tail.store(tx_tail_);  // vsw never reads the tail back; undo client scribbles on it
    const std::vector<uint64_t> before0 = mem0_, before1 = mem1_;
    const Desc* before_desc = reinterpret_cast<const Desc*>(
        reinterpret_cast<const std::byte*>(before0.data()) + kS2COff + sizeof(RingHeader));
    const uint16_t head = s2c_->head.load();
    const bool masked = (s2c_->flags.load() & kRingFlagMaskInt) != 0;
    const uint64_t irq_before = tx_->interrupts();
    const uint16_t n = batch.size();
    const uint64_t drops_before = total_drops(qc_tx_);

    Violation v = Violation::None;
    const uint16_t sent = tx_->transmit(regions(), batch, qc_tx_, v);

    FUZZ_CHECK(batch.empty(), "transmit left {} frames in the batch", batch.size());
    FUZZ_CHECK(pool().available() == pool().capacity(), "transmit kept {} source buffers",
               pool().capacity() - pool().available());
    FUZZ_CHECK(sent <= n, "sent {} of {}", sent, n);
    FUZZ_CHECK(total_drops(qc_tx_) - drops_before == n - sent, "drops do not add up");
    const uint16_t offered = static_cast<uint16_t>(head - tx_tail_);
    // Nothing but offered buffers, their length/flags fields and the tail may have changed.
    std::vector<uint8_t> allowed0(kRegion0Bytes, 0), allowed1(kRegion1Bytes, 0);
    std::vector<uint8_t>* allowed[2] = {&allowed0, &allowed1};
    auto allow = [&](uint32_t r, uint64_t off, uint64_t len) {
      std::fill_n(allowed[r]->begin() + static_cast<long>(off), len, 1);
    };
    allow(0, kS2COff + offsetof(RingHeader, tail), 2);
    std::vector<Span> bufs;
    bool overlap = false;
    bool tail_aliased = false, flags_aliased = false;
    const Span tail_field{reinterpret_cast<const std::byte*>(&s2c_->tail),
                          reinterpret_cast<const std::byte*>(&s2c_->tail) + sizeof s2c_->tail};
    const Span flags_field{reinterpret_cast<const std::byte*>(&s2c_->flags),
                           reinterpret_cast<const std::byte*>(&s2c_->flags) + sizeof s2c_->flags};
    const Span rings[2] = {
        {views_[0].base + kC2SOff, views_[0].base + kC2SOff + ring_bytes(log2_)},
        {views_[0].base + kS2COff, views_[0].base + kS2COff + ring_bytes(log2_)}};
    for (uint16_t i = 0; i < std::min(offered, size_); ++i) {
      const uint16_t slot = (tx_tail_ + i) & mask();
      const Desc& d = before_desc[slot];
      allow(0, kS2COff + sizeof(RingHeader) + slot * sizeof(Desc) + offsetof(Desc, flags), 2);
      allow(0, kS2COff + sizeof(RingHeader) + slot * sizeof(Desc) + offsetof(Desc, length), 4);
      const uint32_t cap = std::min(d.length, max_seg_);
      if (d.region >= n_regions_ || cap == 0 || !views_[d.region].contains(d.offset, cap)) continue;
      allow(d.region, d.offset, cap);
      // Every offered buffer may receive bytes, also those of a frame rolled back later.
      const Span s{views_[d.region].base + d.offset, views_[d.region].base + d.offset + cap};
      for (const Span& o : bufs) overlap |= s.overlaps(o);
      overlap |= s.overlaps(rings[0]) || s.overlaps(rings[1]);
      tail_aliased |= s.overlaps(tail_field);
      flags_aliased |= s.overlaps(flags_field);
      bufs.push_back(s);
    }
    // A rolled-back frame may leave bytes in an offered buffer the client laid over its own
    // tail field; vsw stores the tail only when it sent something, so then the field is noise.
    const uint16_t tail = tail_aliased && sent == 0 ? tx_tail_ : s2c_->tail.load();
    const uint16_t written = static_cast<uint16_t>(tail - tx_tail_);
    if (offered > size_) {
      FUZZ_CHECK(v == Violation::BadHead && sent == 0 && written == 0, "bad head accepted");
    } else {
      FUZZ_CHECK(written <= offered, "tail {} passed head {}", tail, head);
    }
    FUZZ_CHECK((sent == 0) == (written == 0), "sent {} frames in {} slots", sent, written);
    // vsw reads MASK_INT after the copy: a client whose offered buffer covers its own ring's
    // flags may have had them rewritten by the frame bytes, and then either answer is right.
    if (written != 0 && !masked && !flags_aliased) {
      FUZZ_CHECK(tx_->interrupts() == irq_before + 1, "no interrupt for a burst");
    }
    if (tx_->interrupts() != irq_before) {
      uint64_t drain;
      (void)!::read(eventfd_once(), &drain, sizeof drain);
    }

    check_unchanged(before0, mem0_, allowed0, "region 0");
    check_unchanged(before1, mem1_, allowed1, "region 1");

    // The client reads back exactly the accepted frames (when no offered buffers alias).
    if (!overlap && written != 0) {
      uint16_t f = 0;
      std::vector<std::byte> got;
      for (uint16_t i = 0; i < written; ++i) {
        const uint16_t slot = (tx_tail_ + i) & mask();
        const Desc& d = s2c_desc_[slot];
        const Desc& offer = before_desc[slot];
        FUZZ_CHECK(d.region == offer.region && d.offset == offer.offset,
                   "vsw changed an offered buffer's place");
        FUZZ_CHECK(d.length <= std::min(offer.length, max_seg_), "wrote {} into {} bytes",
                   d.length, std::min(offer.length, max_seg_));
        const std::byte* b = views_[d.region].base + d.offset;
        got.insert(got.end(), b, b + d.length);
        if ((d.flags & kDescFlagNext) == 0) {
          FUZZ_CHECK(f < sent, "more frames on the ring than sent");
          FUZZ_CHECK(got == frames[f], "frame {} differs ({} bytes, expected {})", f, got.size(),
                     frames[f].size());
          ++f;
          got.clear();
        }
      }
      FUZZ_CHECK(got.empty(), "last written slot has NEXT set");
      FUZZ_CHECK(f == sent, "{} frames on the ring, {} sent", f, sent);
    }
    tx_tail_ = tail;
    if (v != Violation::None) tx_dead_ = true;
  }

  static uint64_t total_drops(const QueueCounters& c) {
    uint64_t t = 0;
    for (const auto& d : c.drops) t += d.get();
    return t;
  }

  static void check_unchanged(const std::vector<uint64_t>& before, const std::vector<uint64_t>& now,
                              const std::vector<uint8_t>& allowed, const char* what) {
    const auto* a = reinterpret_cast<const uint8_t*>(before.data());
    const auto* b = reinterpret_cast<const uint8_t*>(now.data());
    for (size_t i = 0; i < allowed.size(); ++i) {
      FUZZ_CHECK(allowed[i] != 0 || a[i] == b[i], "{} byte {} written outside offered buffers",
                 what, i);
    }
  }

  ByteReader& in_;
  uint8_t log2_;
  uint16_t size_;
  uint32_t max_seg_;
  uint32_t n_regions_;
  std::vector<uint64_t> mem0_, mem1_;  // uint64_t: 8-byte alignment, as ADD_RING requires
  RegionView views_[2];
  RingHeader* c2s_;
  RingHeader* s2c_;
  Desc* c2s_desc_;
  Desc* s2c_desc_;
  std::unique_ptr<RxRing> rx_;
  std::unique_ptr<TxRing> tx_;
  QueueCounters qc_rx_, qc_tx_;
  std::vector<Held> held_;
  uint16_t rx_tail_ = 0;  // the C2S tail vsw last stored
  uint16_t tx_tail_ = 0;
  bool rx_dead_ = false;
  bool tx_dead_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  RingFuzzer f(in);
  f.run();
  return 0;
}
