// bench/pktgen/pktgen_modes.cc — vsw-pktgen's tx, rx, ping and pong loops.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bench/pktgen/pktgen.h"
#include "common/tsc.h"

namespace vsw::pktgen {

namespace {

using vsw::memif::Buffer;
using vsw::memif::Client;
constexpr size_t kMaxBufs = 512;

// Stop conditions, progress lines and the control-socket check, all on the TSC.
class Clock {
 public:
  Clock(const Options& o, Stats& s, Client& c, Client* c2 = nullptr)
      : o_(o), s_(s), c_(c), c2_(c2), hz_(tsc_hz()) {
    start_ = last_report_ = last_control_ = rdtsc();
    end_ = o.duration_s > 0 ? start_ + static_cast<uint64_t>(o.duration_s * hz_) : UINT64_MAX;
  }
  uint64_t hz() const { return hz_; }
  uint64_t start() const { return start_; }
  // Once per loop: false when the run is over (duration, or vsw disconnected us).
  bool tick(uint64_t now) {
    if (now >= end_) return false;
    if (now - last_control_ > hz_ / 10) {
      last_control_ = now;
      for (Client* c : {&c_, c2_}) {
        if (c != nullptr && !c->poll_control()) {
          s_.disconnected = true;
          s_.disconnect_reason = c->disconnect_reason();
          return false;
        }
      }
    }
    if (now - last_report_ >= hz_) report(now);
    return true;
  }
  void finish() { s_.seconds = static_cast<double>(rdtsc() - start_) / static_cast<double>(hz_); }

 private:
  void report(uint64_t now) {
    const double dt = static_cast<double>(now - last_report_) / static_cast<double>(hz_);
    const double t = static_cast<double>(now - start_) / static_cast<double>(hz_);
    const uint64_t tx = s_.tx_frames - prev_.tx_frames, rx = s_.rx_frames - prev_.rx_frames;
    const uint64_t txb = s_.tx_bytes - prev_.tx_bytes, rxb = s_.rx_bytes - prev_.rx_bytes;
    if (!o_.quiet) {
      std::fprintf(stderr,
                   "%7.2fs  tx %9.3f Mpps %8.3f Gbit/s  rx %9.3f Mpps %8.3f Gbit/s  "
                   "lost %llu  reord %llu  corrupt %llu\n",
                   t, static_cast<double>(tx) / dt / 1e6, static_cast<double>(txb) * 8 / dt / 1e9,
                   static_cast<double>(rx) / dt / 1e6, static_cast<double>(rxb) * 8 / dt / 1e9,
                   static_cast<unsigned long long>(s_.lost()),
                   static_cast<unsigned long long>(s_.rx_reordered),
                   static_cast<unsigned long long>(s_.rx_corrupt));
    }
    prev_.tx_frames = s_.tx_frames;
    prev_.rx_frames = s_.rx_frames;
    prev_.tx_bytes = s_.tx_bytes;
    prev_.rx_bytes = s_.rx_bytes;
    last_report_ = now;
  }

  const Options& o_;
  Stats& s_;
  Client& c_;
  Client* c2_;
  uint64_t hz_, start_, end_, last_report_, last_control_;
  struct {
    uint64_t tx_frames = 0, rx_frames = 0, tx_bytes = 0, rx_bytes = 0;
  } prev_;
};

FrameSpec frame_spec(const Options& o) {
  return FrameSpec{o.mac, o.dst, o.size, o.flows, o.vary_mac};
}

uint32_t segments(uint32_t size, uint32_t buffer) { return (size + buffer - 1) / buffer; }

// Writes up to `frames` frames starting at sequence `seq` into ring 0; returns how many went.
uint16_t send_frames(Client& c, const FrameGen& gen, uint64_t seq, uint16_t frames,
                     std::vector<std::byte>& scratch) {
  Buffer bufs[kMaxBufs];
  const uint32_t segs = segments(gen.size(), c.buffer_size());
  const size_t want = std::min<size_t>(kMaxBufs, static_cast<size_t>(frames) * segs);
  const uint16_t got = c.tx_alloc(0, std::span<Buffer>(bufs, want));
  const uint16_t n = static_cast<uint16_t>(got / segs);
  if (n == 0) return 0;
  for (uint16_t i = 0; i < n; ++i) {
    Buffer* b = &bufs[i * segs];
    if (segs == 1) {
      gen.build(seq + i, b->data);
      b->len = gen.size();
      continue;
    }
    gen.build(seq + i, scratch.data());  // chained: build once, spread over the buffers
    uint32_t off = 0;
    for (uint32_t k = 0; k < segs; ++k) {
      b[k].len = std::min(c.buffer_size(), gen.size() - off);
      std::memcpy(b[k].data, scratch.data() + off, b[k].len);
      off += b[k].len;
      b[k].more = k + 1 < segs;
    }
  }
  c.tx_commit(0, std::span<const Buffer>(bufs, static_cast<size_t>(n) * segs));
  return n;
}

// Receives a burst and hands each whole frame (contiguous bytes) to `on_frame`; returns the
// number of frames.
template <class F>
uint16_t receive_frames(Client& c, uint16_t burst, std::vector<std::byte>& scratch,
                        size_t& partial, F on_frame) {
  Buffer bufs[kMaxBufs];
  const uint16_t n = c.rx_burst(0, std::span<Buffer>(bufs, std::min<size_t>(burst, kMaxBufs)));
  uint16_t frames = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const Buffer& b = bufs[i];
    if (partial == 0 && !b.more) {
      on_frame(std::span<const std::byte>(b.data, b.len));  // in place, zero copy
      ++frames;
      continue;
    }
    const size_t len = std::min<size_t>(b.len, scratch.size() - partial);
    std::memcpy(scratch.data() + partial, b.data, len);
    partial += len;
    if (!b.more) {
      on_frame(std::span<const std::byte>(scratch.data(), partial));
      partial = 0;
      ++frames;
    }
  }
  c.rx_release(0, n);
  return frames;
}

void account(Stats& s, const FrameGen& gen, MacAddress self, std::span<const std::byte> f) {
  ++s.rx_frames;
  s.rx_bytes += f.size();
  // Frames for another station (flooded while the switch learns) are not ours to count.
  const MacAddress dst = MacAddress::from_bytes(f.data());
  if (f.size() < kEtherHeaderBytes || (dst != self && !dst.is_multicast())) {
    ++s.rx_other;
    return;
  }
  const Parsed p = gen.parse(f);
  if (p.verdict == Verdict::Other) {
    ++s.rx_other;
    return;
  }
  if (p.verdict == Verdict::Corrupt) {
    ++s.rx_corrupt;
    return;
  }
  ++s.rx_ok;
  if (p.seq < s.next_seq) {
    ++s.rx_reordered;  // late (or duplicate): it was counted as a gap before
  } else {
    s.next_seq = p.seq + 1;
  }
}

void announce(Client& c, MacAddress mac) {
  std::byte frame[kMinFrame];
  FrameGen::announce(mac, frame);
  const std::span<const std::byte> f(frame, sizeof(frame));
  c.tx_copy(0, std::span<const std::span<const std::byte>>(&f, 1));
}

}  // namespace

Stats run_tx(Client& c, Client* rx, const Options& o) {
  Stats s;
  const FrameGen gen(frame_spec(o));
  std::vector<std::byte> scratch(kMaxFrame);
  std::vector<std::byte> rx_scratch(kMaxFrame + 65536);
  size_t partial = 0;
  Clock clock(o, s, c, rx);
  uint64_t seq = 0;
  auto receive = [&] {
    // txrx: the sink side in the same loop (one busy poller for both directions).
    return receive_frames(*rx, o.burst, rx_scratch, partial,
                          [&](std::span<const std::byte> f) { account(s, gen, o.dst, f); });
  };
  if (rx != nullptr) announce(*rx, o.dst);
  for (;;) {
    const uint64_t now = rdtsc();
    if (!clock.tick(now) || (o.count != 0 && seq >= o.count)) break;
    if (rx != nullptr) receive();
    uint64_t allowed = o.burst;
    if (o.rate_pps != 0) {
      const uint64_t due = static_cast<uint64_t>(
          static_cast<__uint128_t>(now - clock.start()) * o.rate_pps / clock.hz());
      allowed = std::min<uint64_t>(allowed, due > seq ? due - seq : 0);
    }
    if (o.count != 0) allowed = std::min<uint64_t>(allowed, o.count - seq);
    if (allowed == 0) {
      // Paced and nothing due for a while: sleep instead of spinning (kind to a shared core).
      const uint64_t next_due = clock.start() + (seq + 1) * clock.hz() / o.rate_pps;
      if (next_due > now + clock.hz() / 5000) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
      continue;
    }
    const uint16_t n = send_frames(c, gen, seq, static_cast<uint16_t>(allowed), scratch);
    if (n == 0) {
      ++s.tx_ring_full;
      continue;
    }
    seq += n;
    s.tx_frames += n;
    s.tx_bytes += static_cast<uint64_t>(n) * o.size;
  }
  // Let vsw take what is still on the ring (at most a second), and receive the stragglers.
  const uint64_t until = rdtsc() + tsc_hz();
  uint64_t quiet_since = rdtsc();
  while (!s.disconnected && rdtsc() < until) {
    const bool rx_busy = rx != nullptr && receive() != 0;
    if (rx_busy) quiet_since = rdtsc();
    const bool draining = c.tx_in_flight(0) != 0;
    if (!draining && (rx == nullptr || rdtsc() - quiet_since > tsc_hz() / 5)) break;
  }
  clock.finish();
  return s;
}

Stats run_rx(Client& c, const Options& o) {
  Stats s;
  const FrameGen gen(frame_spec(o));
  std::vector<std::byte> scratch(kMaxFrame + 65536);
  size_t partial = 0;
  Clock clock(o, s, c);
  announce(c, o.mac);
  uint64_t last_announce = rdtsc(), last_rx = 0;
  for (;;) {
    const uint64_t now = rdtsc();
    if (!clock.tick(now) || (o.count != 0 && s.rx_ok >= o.count)) break;
    if (o.idle_s > 0 && last_rx != 0 &&
        now - last_rx > static_cast<uint64_t>(o.idle_s * clock.hz())) {
      break;
    }
    if (now - last_announce > clock.hz()) {
      announce(c, o.mac);  // keeps the switch's MAC table pointing at us
      last_announce = now;
    }
    const uint16_t n =
        receive_frames(c, o.burst, scratch, partial,
                       [&](std::span<const std::byte> f) { account(s, gen, o.mac, f); });
    if (n != 0) {
      last_rx = now;
    } else if (o.interrupt) {
      c.wait_rx(0, std::chrono::milliseconds(100));
    }
  }
  clock.finish();
  return s;
}

Stats run_pong(Client& c, const Options& o) {
  Stats s;
  std::vector<std::byte> scratch(kMaxFrame + 65536);
  size_t partial = 0;
  Clock clock(o, s, c);
  announce(c, o.mac);
  uint64_t last_announce = rdtsc(), last_rx = 0;
  std::vector<std::byte> frames(static_cast<size_t>(o.burst) * (kMaxFrame + 2048));
  std::vector<std::span<const std::byte>> spans;
  for (;;) {
    const uint64_t now = rdtsc();
    if (!clock.tick(now) || (o.count != 0 && s.rx_frames >= o.count)) break;
    if (o.idle_s > 0 && last_rx != 0 &&
        now - last_rx > static_cast<uint64_t>(o.idle_s * clock.hz())) {
      break;
    }
    if (now - last_announce > clock.hz()) {
      announce(c, o.mac);
      last_announce = now;
    }
    spans.clear();
    size_t used = 0;
    const auto reflect = [&](std::span<const std::byte> f) {
      ++s.rx_frames;
      s.rx_bytes += f.size();
      if (f.size() < 14 || used + f.size() > frames.size()) return;
      std::byte* dst = frames.data() + used;
      std::memcpy(dst, f.data() + 6, 6);  // swap MAC addresses
      std::memcpy(dst + 6, f.data(), 6);
      std::memcpy(dst + 12, f.data() + 12, f.size() - 12);
      spans.emplace_back(dst, f.size());
      used += f.size();
    };
    const uint16_t n = receive_frames(c, o.burst, scratch, partial, reflect);
    if (!spans.empty()) {
      const uint16_t sent = c.tx_copy(0, spans);
      s.tx_frames += sent;
      for (uint16_t i = 0; i < sent; ++i) s.tx_bytes += spans[i].size();
    }
    if (n != 0) {
      last_rx = now;
    } else if (o.interrupt) {
      c.wait_rx(0, std::chrono::milliseconds(100));
    }
  }
  clock.finish();
  return s;
}

Stats run_ping(Client& c, const Options& o) {
  Stats s;
  const FrameGen gen(frame_spec(o));
  std::vector<std::byte> scratch(kMaxFrame + 65536);
  std::vector<std::byte> build(kMaxFrame);
  size_t partial = 0;
  Clock clock(o, s, c);
  const uint64_t hz = clock.hz();
  const uint64_t interval = o.rate_pps != 0 ? hz / o.rate_pps : 0;
  const uint64_t timeout = hz / 10;  // a probe not back within 100 ms is lost
  uint64_t next_send = rdtsc();
  for (uint64_t seq = 0;; ++seq) {
    uint64_t now = rdtsc();
    if (!clock.tick(now) || (o.count != 0 && seq >= o.count)) break;
    while (now < next_send) now = rdtsc();
    next_send = now + interval;
    while (send_frames(c, gen, seq, 1, build) == 0) {
    }
    const uint64_t t0 = rdtsc();
    ++s.ping_sent;
    ++s.tx_frames;
    s.tx_bytes += o.size;
    bool back = false;
    while (!back && rdtsc() - t0 < timeout) {
      receive_frames(c, o.burst, scratch, partial, [&](std::span<const std::byte> f) {
        const uint64_t t1 = rdtsc();
        account(s, gen, o.mac, f);
        const Parsed p = gen.parse(f);
        if (p.verdict == Verdict::Ok && p.seq == seq) {
          back = true;
          s.rtt_ns.push_back(static_cast<uint32_t>((t1 - t0) * 1'000'000'000ull / hz));
        }
      });
    }
    if (!back) ++s.ping_lost;
    if (!clock.tick(rdtsc())) break;
  }
  clock.finish();
  return s;
}

}  // namespace vsw::pktgen
