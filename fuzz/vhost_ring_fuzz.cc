// fuzz/vhost_ring_fuzz.cc — GuestTxQueue::receive and GuestRxQueue::transmit
// (ports/vhost_user/guest_*_queue.h) against a hostile guest that owns every byte of its rings
// and buffers (vhost-user.md §7, §8).
//
// Two fake guests (tests/unit/vhost_user/fake_guest.h, two 64 KiB regions each): one transmits
// on its tx ring, the other receives on its rx ring. The input is a guest program:
//   byte 0   log2 ring size (1..8)
//   byte 1   features: bit0 10-byte header, bit1 MRG_RXBUF, bit2 INDIRECT_DESC, bit3 EVENT_IDX,
//            bit4 host offloads (CSUM, TSO4/6, ECN), bit5 guest offloads, bit6 no mempool
//   then ops until the input ends (op byte, then its arguments):
//     0 send a well-formed tx frame        1 write a raw tx descriptor    2 move the tx avail idx
//     3 vsw receives a burst               4 vsw releases held frames     5 post rx buffers
//     6 write a raw rx descriptor          7 move the rx avail idx        8 vsw transmits a burst
//     9 scribble on guest memory           10 forward held frames to the rx ring
//     11 restart a ring (stop, then start with the index stop returned)
//
// Checked after every receive: each frame is 14..65535 bytes, frame_len is the sum of its
// segments, each segment lies inside the guest's regions (or a mempool buffer), the first holds
// min(frame_len, 64) bytes, frames with lent segments carry kPacketLent, outstanding() equals the
// lent segments vsw holds, used->idx does not move while vsw holds lent segments and never passes the
// entries taken; every byte of every frame is read (ASan sees any overrun).
// Checked after every transmit: the batch is empty and every source buffer went back to the
// pool, frames sent + dropped = frames given, used->idx moved by at most the entries posted,
// and vsw wrote nothing in guest memory but device-writable descriptors' buffers and the used
// ring (read-only buffers are never written), unless the guest made its own descriptor tables
// device-writable (see writable()).
// Once a ring reports a violation the port would stop the device: the ring is not used again
// until restarted.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/mempool.h"
#include "fuzz/fuzz_support.h"
#include "ports/vhost_user/guest_rx_queue.h"
#include "ports/vhost_user/guest_tx_queue.h"
#include "tests/unit/vhost_user/fake_guest.h"

namespace {

using namespace vsw;
using namespace vsw::ports::vhost_user;
using vsw::fuzz::ByteReader;
using vsw::test::FakeGuest;
namespace virtio = vsw::ports::virtio;

constexpr uint64_t kHalf = 64 * 1024;
constexpr PortId kPort = 7;

Mempool& pool() {
  static std::unique_ptr<Mempool> p = [] {
    Mempool::Config cfg;
    cfg.buffers = 4096;
    cfg.buffer_bytes = 2048;
    cfg.hugepages = false;
    auto r = Mempool::create("vhost-ring-fuzz", cfg);
    FUZZ_CHECK(r.has_value(), "mempool: {}", r ? "" : r.error().message);
    return std::move(r.value());
  }();
  return *p;
}

struct Held {
  Packet* frame;
  uint32_t lent;   // segments lent from guest memory
  uint32_t owned;  // mempool segments
};

class VhostRingFuzzer {
 public:
  explicit VhostRingFuzzer(ByteReader& in)
      : in_(in),
        size_(static_cast<uint16_t>(1u << (1 + in.u8() % 8))),
        features_(in.u8()),
        txg_(size_, kHalf),
        rxg_(size_, kHalf) {
    tx_cfg_ = config(txg_);
    rx_cfg_ = config(rxg_);
    FUZZ_CHECK(tx_.start(&txg_.memory(), tx_cfg_).has_value(), "tx start");
    FUZZ_CHECK(rx_.start(&rxg_.memory(), rx_cfg_).has_value(), "rx start");
  }

  void run() {
    while (!in_.empty()) {
      switch (in_.u8() % 13) {
        case 0: guest_send(); break;
        case 1: raw_desc(txg_); break;
        case 2: move_avail(txg_); break;
        case 3: receive(); break;
        case 4: release(in_.u8()); break;
        case 5: guest_post_rx(); break;
        case 6: raw_desc(rxg_); break;
        case 7: move_avail(rxg_); break;
        case 8: transmit_owned(); break;
        case 9: scribble(); break;
        case 10: forward(); break;
        case 11: restart(); break;
        case 12: sleep_and_wake(); break;
      }
    }
    release(0);
    FUZZ_CHECK(tx_.outstanding() == 0, "outstanding {} after every frame was released",
               tx_.outstanding());
    FUZZ_CHECK(tx_.free_chain_headers() == GuestTxQueue::kChainHeaders, "chain headers lost");
    FUZZ_CHECK(pool().available() == pool().capacity(), "mempool lost {} buffers",
               pool().capacity() - pool().available());
  }

 private:
  QueueConfig config(FakeGuest& g) {
    QueueConfig c = g.config();
    c.hdr_len = (features_ & 1) ? 10 : 12;
    c.mrg_rxbuf = (features_ & 2) != 0;
    c.indirect = (features_ & 4) != 0;
    c.event_idx = (features_ & 8) != 0;
    c.host_csum = c.host_tso4 = c.host_tso6 = c.host_ecn = (features_ & 16) != 0;
    c.guest_csum = c.guest_tso4 = c.guest_tso6 = c.guest_ecn = (features_ & 32) != 0;
    c.pool = (features_ & 64) ? nullptr : &pool();
    c.port = kPort;
    return c;
  }
  uint32_t hdr_len() const { return tx_cfg_.hdr_len; }

  // --- the guest's moves -------------------------------------------------------------------------
  void guest_send() {
    const uint32_t len = in_.u16() % 9100;
    const uint8_t layout = in_.u8();
    const uint8_t vflags = in_.u8() & 3, gso = in_.u8();
    const uint16_t gso_size = in_.u16(), csum_start = in_.u16(), csum_offset = in_.u16();
    std::vector<uint8_t> frame = vsw::test::test_frame(len, layout);
    // gso: bit 6 set = a GSO type (low 3 bits, ECN with bit 7), else none.
    const uint8_t gso_type = (gso & 0x40) ? static_cast<uint8_t>(gso & 0x87) : 0;
    auto buf = vsw::test::with_vnet_hdr(frame, static_cast<uint8_t>(hdr_len()), vflags, gso_type,
                                        gso_size, csum_start, csum_offset);
    std::vector<uint32_t> pieces;
    const uint32_t total = static_cast<uint32_t>(buf.size());
    switch (layout % 4) {
      case 0: pieces = {total}; break;
      case 1: pieces = {hdr_len(), total - hdr_len()}; break;
      default: {
        const uint32_t piece = 1 + in_.u8() * 8u;
        for (uint32_t off = 0; off < total && pieces.size() < size_; off += piece) {
          pieces.push_back(std::min(piece, total - off));
        }
        if (pieces.empty()) pieces.push_back(0);
      }
    }
    if (pieces.size() > size_) pieces.resize(size_);
    const bool indirect = (layout & 4) != 0 && tx_cfg_.indirect;
    const uint16_t head = indirect ? txg_.indirect(buf, pieces) : txg_.chain(buf, pieces);
    txg_.post(head);
  }
  void guest_post_rx() {
    const uint32_t n = in_.u8() % (size_ + 1u);
    const uint32_t cap = 1 + in_.u16() % 4096;
    const uint8_t layout = in_.u8();
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<uint32_t> pieces;
      if (layout & 1) {
        pieces = {rx_cfg_.hdr_len, cap};
      } else {
        pieces = {cap};
      }
      const bool indirect = (layout & 2) != 0 && rx_cfg_.indirect;
      const uint16_t flags = (layout & 4) ? 0 : virtio::kDescFlagWrite;  // read-only: hostile
      rxg_.post(indirect ? rxg_.indirect({}, pieces, flags) : rxg_.chain({}, pieces, flags));
    }
  }
  void raw_desc(FakeGuest& g) {
    const uint16_t slot = in_.u8() & (size_ - 1);
    virtio::VringDesc d;
    in_.fill({reinterpret_cast<std::byte*>(&d), sizeof d});
    if (in_.u8() & 1) d.addr = FakeGuest::kGpaBase + d.addr % (2 * kHalf + 64);  // near memory
    g.desc()[slot] = d;
  }
  void move_avail(FakeGuest& g) {
    const uint8_t how = in_.u8();
    const uint16_t v = in_.u16();
    if (how & 2) g.avail()->ring[v & (size_ - 1)] = in_.u16();
    g.avail()->idx = how & 1 ? v : static_cast<uint16_t>(g.avail()->idx + (v & 0x1FF));
  }
  void scribble() {
    FakeGuest& g = (in_.u8() & 1) ? txg_ : rxg_;
    const int r = in_.u8() & 1;
    const uint32_t off = in_.u16() % kHalf;
    const uint32_t len = std::min<uint32_t>(in_.u8(), static_cast<uint32_t>(kHalf - off));
    in_.fill({g.region_base(r) + off, len});
  }

  // --- vsw's moves ---------------------------------------------------------------------------------
  bool in_guest(const FakeGuest& g, const std::byte* p, uint32_t len) const {
    FakeGuest& m = const_cast<FakeGuest&>(g);
    for (int r = 0; r < 2; ++r) {
      const std::byte* b = m.region_base(r);
      if (p >= b && p <= b + kHalf && len <= static_cast<uint64_t>(b + kHalf - p)) return true;
    }
    return false;
  }

  void check_frame(const Packet* f, Held& h) const {
    FUZZ_CHECK(f->in_port == kPort, "in_port {}", f->in_port);
    FUZZ_CHECK(f->refs.load() == 1, "refs {}", f->refs.load());
    uint64_t total = 0;
    unsigned sum = 0;
    h = Held{const_cast<Packet*>(f), 0, 0};
    for (const Packet* p = f; p != nullptr; p = p->next) {
      if (pool().owns(p)) {
        ++h.owned;
        FUZZ_CHECK(p->data_off + p->len <= pool().buffer_bytes(), "mempool segment overflows");
      } else {
        ++h.lent;
        FUZZ_CHECK(p->owner == &tx_, "lent segment of another owner");
        FUZZ_CHECK(in_guest(txg_, p->data(), p->len), "segment outside the guest's memory");
      }
      for (uint32_t i = 0; i < p->len; ++i) sum += std::to_integer<unsigned>(p->data()[i]);
      total += p->len;
      FUZZ_CHECK(h.lent + h.owned <= 2 * kMaxFramePieces, "chain too long");
    }
    (void)sum;
    FUZZ_CHECK(total == f->frame_len, "frame_len {} but segments hold {}", f->frame_len, total);
    FUZZ_CHECK(total >= kMinGuestFrameBytes && total <= kMaxGuestFrameBytes, "frame of {} bytes",
               total);
    FUZZ_CHECK(f->len >= std::min<uint64_t>(total, kMinHeadBytes), "first segment {} of {}",
               f->len, total);
    FUZZ_CHECK((h.lent != 0) == f->is_lent(), "lent flag {} with {} lent segments", f->is_lent(),
               h.lent);
  }

  void check_outstanding() const {
    uint32_t lent = 0;
    for (const Held& h : held_) lent += h.lent;
    FUZZ_CHECK(tx_.outstanding() == lent, "outstanding {} but vsw holds {}", tx_.outstanding(),
               lent);
  }

  void receive() {
    const uint32_t prefill = in_.u8() % (PacketBatch::kMax + 1);
    if (tx_dead_) return;
    PacketBatch batch;
    Packet* fill[PacketBatch::kMax];
    const uint16_t got = pool().alloc(fill, static_cast<uint16_t>(prefill));
    for (uint16_t i = 0; i < got; ++i) batch.push(fill[i]);
    // vsw's own indices (the guest may scribble on its copy of used->idx).
    const uint16_t used_before = tx_.last_used();
    const uint16_t taken_before = tx_.last_avail();
    Violation v = Violation::None;
    const uint16_t n = tx_.receive(batch, qc_rx_, v);
    FUZZ_CHECK(n == batch.size() - got, "returned {} but appended {}", n, batch.size() - got);
    const uint16_t used_after = tx_.last_used();
    FUZZ_CHECK(static_cast<uint16_t>(tx_.last_avail() - taken_before) <= size_, "took too many");
    FUZZ_CHECK(static_cast<uint16_t>(tx_.last_avail() - used_after) <= size_,
               "{} entries taken and not given back", tx_.last_avail() - used_after);
    FUZZ_CHECK(static_cast<uint16_t>(used_after - used_before) <=
                   static_cast<uint16_t>(tx_.last_avail() - used_before),
               "used idx {} passed the entries taken ({})", used_after, tx_.last_avail());
    if (used_after != used_before) {
      FUZZ_CHECK(txg_.used_idx() == used_after, "used idx not published");
    }
    uint32_t lent_held = 0;
    for (const Held& h : held_) lent_held += h.lent;
    if (lent_held != 0) {  // frames vsw copied whole do not hold the ring back
      FUZZ_CHECK(used_after == used_before, "used idx moved while vsw held {} lent segments",
                 lent_held);
    }
    for (uint16_t i = got; i < batch.size(); ++i) {
      Held h;
      check_frame(batch[i], h);
      held_.push_back(h);
    }
    for (uint16_t i = 0; i < got; ++i) release_packet(fill[i]);
    batch.clear();
    check_outstanding();
    if (v != Violation::None) tx_dead_ = true;
  }

  // The worker going to sleep on the kick eventfd and waking (adaptive polling): it may sleep
  // only when receive() would find nothing, it asks for exactly the next entry's kick, and waking
  // restores the suppression (guest_notifier.h).
  void sleep_and_wake() {
    if (tx_dead_) return;
    const uint16_t taken = tx_.last_avail(), used = tx_.last_used();
    const bool may_sleep = tx_.enable_kicks();
    if (tx_cfg_.event_idx) {
      FUZZ_CHECK(txg_.avail_event() == taken, "avail_event {} while asleep at {}",
                 txg_.avail_event(), taken);
    } else {
      FUZZ_CHECK(txg_.used()->flags == 0, "kicks still suppressed while asleep");
    }
    if (may_sleep) {  // then a poll right now must find nothing to do
      PacketBatch batch;
      Violation v = Violation::None;
      FUZZ_CHECK(tx_.receive(batch, qc_rx_, v) == 0 && v == Violation::None, "slept on a frame");
      FUZZ_CHECK(tx_.last_avail() == taken && tx_.last_used() == used, "slept on a used index");
    }
    tx_.disable_kicks(false);
    if (tx_cfg_.event_idx) {
      FUZZ_CHECK(txg_.avail_event() == static_cast<uint16_t>(tx_.last_avail() - 1),
                 "kicks not suppressed after waking");
    } else {
      FUZZ_CHECK(txg_.used()->flags == virtio::kUsedFlagNoNotify,
                 "kicks not suppressed after waking");
    }
  }

  void release(uint8_t n) {
    const size_t count = n == 0 ? held_.size() : std::min<size_t>(n, held_.size());
    for (size_t i = 0; i < count; ++i) {
      Held again;
      check_frame(held_[i].frame, again);  // the guest may have rewritten its descriptors
      FUZZ_CHECK(again.lent == held_[i].lent && again.owned == held_[i].owned,
                 "held frame changed shape");
      release_packet(held_[i].frame);
    }
    held_.erase(held_.begin(), held_.begin() + static_cast<long>(count));
    check_outstanding();
  }

  // Which guest bytes a transmit may write: buffers of device-writable descriptors reachable
  // from the posted entries (a superset: any WRITE descriptor in the table or in an indirect
  // table a posted head names), and the used ring. `aliased`: one of those buffers overlaps the
  // descriptor table or an indirect table, so the frames vsw writes rewrite descriptors it reads
  // for later frames of the batch, and which bytes may be written depends on every intermediate
  // state; such a guest only owns the mess it made in its own memory (ASan checks vsw stays in
  // bounds), and the byte-exact check is skipped.
  struct Writable {
    std::vector<uint8_t> ok;
    bool aliased = false;
  };
  Writable writable(FakeGuest& g) {
    Writable w{std::vector<uint8_t>(2 * kHalf, 0), false};
    std::vector<uint8_t> tables(2 * kHalf, 0);
    auto mark = [&](std::vector<uint8_t>& set, uint64_t gpa, uint64_t len) {
      for (int r = 0; r < 2; ++r) {
        const uint64_t base = FakeGuest::kGpaBase + r * kHalf;
        if (gpa >= base && gpa - base <= kHalf && len <= kHalf - (gpa - base)) {
          std::fill_n(set.begin() + static_cast<long>(r * kHalf + (gpa - base)), len, 1);
          return;
        }
      }
    };
    const virtio::VringDesc* desc = g.desc();
    mark(tables, FakeGuest::kGpaBase, virtio::desc_table_bytes(size_));
    for (uint16_t i = 0; i < size_; ++i) {
      const virtio::VringDesc d = desc[i];
      if (d.flags & virtio::kDescFlagIndirect) {
        const std::byte* t = g.memory().translate(d.addr, d.len);
        if (t == nullptr) continue;
        mark(tables, d.addr, d.len);
        for (uint32_t k = 0; k < d.len / 16; ++k) {
          virtio::VringDesc e;
          std::memcpy(&e, t + 16 * k, sizeof e);
          if (e.flags & virtio::kDescFlagWrite) mark(w.ok, e.addr, e.len);
        }
      } else if (d.flags & virtio::kDescFlagWrite) {
        mark(w.ok, d.addr, d.len);
      }
    }
    for (size_t i = 0; i < tables.size() && !w.aliased; ++i) w.aliased = tables[i] && w.ok[i];
    const uint64_t used_gpa =
        FakeGuest::kGpaBase + static_cast<uint64_t>(reinterpret_cast<std::byte*>(g.used()) -
                                                    g.region_base(0));
    mark(w.ok, used_gpa, virtio::used_ring_bytes(size_, true));
    return w;
  }

  void transmit(PacketBatch& batch) {
    const uint16_t n = batch.size();
    if (rx_dead_) {
      batch.release_all();
      return;
    }
    const Writable allowed = writable(rxg_);
    const std::vector<uint8_t>& ok = allowed.ok;
    std::vector<std::byte> before(2 * kHalf);
    std::memcpy(before.data(), rxg_.region_base(0), kHalf);
    std::memcpy(before.data() + kHalf, rxg_.region_base(1), kHalf);
    // vsw's own index, not the guest's copy of used->idx (the guest may scribble on it).
    const uint16_t used_before = rx_.last_avail();
    const uint16_t posted = static_cast<uint16_t>(rxg_.avail()->idx - used_before);
    const uint64_t drops_before = total_drops(qc_tx_), sent_before = qc_tx_.packets.get();
    Violation v = Violation::None;
    const uint16_t sent = rx_.transmit(batch, qc_tx_, v);
    FUZZ_CHECK(batch.empty(), "transmit left {} frames", batch.size());
    FUZZ_CHECK(sent <= n, "sent {} of {}", sent, n);
    FUZZ_CHECK(qc_tx_.packets.get() - sent_before == sent, "packets counter off");
    FUZZ_CHECK(total_drops(qc_tx_) - drops_before == static_cast<uint64_t>(n - sent),
               "drops do not add up: {} sent of {}", sent, n);
    const uint16_t used = static_cast<uint16_t>(rx_.last_avail() - used_before);
    if (used != 0) FUZZ_CHECK(rxg_.used_idx() == rx_.last_avail(), "used idx not published");
    if (posted <= size_) FUZZ_CHECK(used <= posted, "used {} of {} posted", used, posted);
    FUZZ_CHECK(sent == 0 || used >= sent, "{} frames in {} buffers", sent, used);
    for (int r = 0; r < 2 && !allowed.aliased; ++r) {
      const std::byte* now = rxg_.region_base(r);
      constexpr uint64_t kBlock = 256;  // compare blocks first: most of memory is untouched
      for (uint64_t b = 0; b < kHalf; b += kBlock) {
        if (std::memcmp(now + b, before.data() + r * kHalf + b, kBlock) == 0) continue;
        for (uint64_t i = b; i < b + kBlock; ++i) {
          FUZZ_CHECK(ok[r * kHalf + i] != 0 || now[i] == before[r * kHalf + i],
                     "region {} byte {} written outside device-writable buffers", r, i);
        }
      }
    }
    if (v != Violation::None) rx_dead_ = true;
  }

  void transmit_owned() {
    PacketBatch batch;
    const uint32_t n = 1 + in_.u8() % PacketBatch::kMax;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t len = 1 + in_.u16() % 9000;
      const uint32_t seg = std::max<uint32_t>(1 + in_.u16() % pool().data_room(), (len + 15) / 16);
      const uint8_t meta = in_.u8();
      Packet* first = nullptr;
      Packet* last = nullptr;
      bool short_of_buffers = false;
      for (uint32_t off = 0; off < len; off += seg) {
        Packet* p = nullptr;
        if (pool().alloc(&p, 1) != 1) {  // held copies may have taken the pool
          short_of_buffers = true;
          break;
        }
        p->len = static_cast<uint16_t>(std::min(seg, len - off));
        std::memset(p->data(), meta ^ 0xA5, p->len);  // never all zero: writes must show
        (last == nullptr ? first : last->next) = p;
        last = p;
      }
      if (short_of_buffers) {
        if (first != nullptr) release_packet(first);
        break;
      }
      first->frame_len = len;
      if (meta & 1) first->flags |= kPacketNeedsCsum;
      if (meta & 2) first->flags |= kPacketCsumValid;
      if (meta & 4) first->gso_type = static_cast<GsoType>((meta >> 3) & 3);
      if (meta & 0x20) first->flags |= kPacketGsoEcn;
      first->csum_start = static_cast<uint16_t>(meta * 3);
      first->gso_size = 1000;
      batch.push(first);
    }
    if (batch.empty()) return;
    transmit(batch);
    FUZZ_CHECK(pool().available() + held_owned() == pool().capacity(),
               "transmit kept {} source buffers",
               pool().capacity() - pool().available() - held_owned());
  }

  uint32_t held_owned() const {
    uint32_t n = 0;
    for (const Held& h : held_) n += h.owned;
    return n;
  }

  // Held (lent) frames from the tx guest straight into the rx guest: the switch's path.
  void forward() {
    PacketBatch batch;
    const size_t n = std::min<size_t>(held_.size(), PacketBatch::kMax);
    for (size_t i = 0; i < n; ++i) batch.push(held_[i].frame);
    held_.erase(held_.begin(), held_.begin() + static_cast<long>(n));
    transmit(batch);
    check_outstanding();
    FUZZ_CHECK(pool().available() + held_owned() == pool().capacity(), "forward kept buffers");
  }

  void restart() {
    const bool rx = (in_.u8() & 1) != 0;
    if (rx) {
      const uint16_t idx = rx_.stop();
      FUZZ_CHECK(rx_.stop() == idx, "stop not idempotent");
      rx_cfg_.last_avail = idx;
      FUZZ_CHECK(rx_.start(&rxg_.memory(), rx_cfg_).has_value(), "rx restart");
      rx_dead_ = false;
      return;
    }
    release(0);  // the port's grace period: nothing lent survives a stop
    const uint16_t idx = tx_.stop();
    FUZZ_CHECK(idx == tx_.last_avail(), "stop returned {} not {}", idx, tx_.last_avail());
    FUZZ_CHECK(txg_.used_idx() == idx, "stop left used idx {} behind {}", txg_.used_idx(), idx);
    tx_cfg_.last_avail = idx;
    FUZZ_CHECK(tx_.start(&txg_.memory(), tx_cfg_).has_value(), "tx restart");
    tx_dead_ = false;
  }

  static uint64_t total_drops(const QueueCounters& c) {
    uint64_t t = 0;
    for (const auto& d : c.drops) t += d.get();
    return t;
  }

  ByteReader& in_;
  uint16_t size_;
  uint8_t features_;
  FakeGuest txg_, rxg_;
  QueueConfig tx_cfg_, rx_cfg_;
  GuestTxQueue tx_;
  GuestRxQueue rx_;
  QueueCounters qc_rx_, qc_tx_;
  std::vector<Held> held_;
  bool tx_dead_ = false;
  bool rx_dead_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteReader in(data, size);
  VhostRingFuzzer f(in);
  f.run();
  return 0;
}
