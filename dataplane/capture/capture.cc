// dataplane/capture/capture.cc — filter compilation (libpcap) and the worker's copy of matching
// frames into its ring.
#include "dataplane/capture/capture.h"

#include "dataplane/capture/filter_compiler.h"

#include <pcap/pcap.h>
#include <time.h>

#include <algorithm>

namespace vsw {

namespace {
constexpr size_t kMaxFilterBytes = 4096;

uint64_t realtime_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);  // vDSO: no system call
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Copies the first `want` bytes of the chain starting at `p` to `out`.
void copy_chain(const Packet* p, std::byte* out, uint32_t want) noexcept {
  for (; p != nullptr && want != 0; p = p->next) {
    const uint32_t n = std::min<uint32_t>(p->len, want);
    std::memcpy(out, p->data(), n);
    out += n;
    want -= n;
  }
}
}  // namespace

Result<std::vector<bpf_insn>> compile_capture_filter(const std::string& expression,
                                                     uint32_t snaplen) {
  if (expression.size() > kMaxFilterBytes) {
    return make_error(Errc::InvalidArgument, "filter is {} bytes long (limit {})",
                      expression.size(), kMaxFilterBytes);
  }
  if (expression.find('\0') != std::string::npos) {
    return make_error(Errc::InvalidArgument, "filter contains a NUL byte");
  }
  pcap_t* dead = ::pcap_open_dead(DLT_EN10MB, static_cast<int>(snaplen));
  if (dead == nullptr) return make_error(Errc::ResourceExhausted, "pcap_open_dead failed");
  bpf_program prog{};
  if (::pcap_compile(dead, &prog, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
    std::string message = ::pcap_geterr(dead);
    ::pcap_close(dead);
    return make_error(Errc::InvalidArgument, "bad filter '{}': {}", expression, message);
  }
  std::vector<bpf_insn> out(prog.bf_insns, prog.bf_insns + prog.bf_len);
  ::pcap_freecode(&prog);
  ::pcap_close(dead);
  return out;
}

Result<std::unique_ptr<Capture>> Capture::create(CaptureSpec spec, uint16_t workers,
                                                 uint32_t ring_bytes) {
  if (spec.snaplen < 1 || spec.snaplen > kMaxSnaplen) {
    return make_error(Errc::InvalidArgument, "snaplen {} must be in 1..{}", spec.snaplen,
                      kMaxSnaplen);
  }
  if (workers == 0) return make_error(Errc::InvalidArgument, "a capture needs a worker");
  std::vector<bpf_insn> program;
  // An empty (or all-blank) expression is "every frame", as for tcpdump: no program at all.
  if (spec.filter.find_first_not_of(" \t\r\n") != std::string::npos) {
    auto compiled = capture_filter_compiler().compile(spec.filter, spec.snaplen);
    if (!compiled) return std::move(compiled).error();
    program = std::move(*compiled);
  }
  std::unique_ptr<Capture> c(new Capture(std::move(spec), std::move(program)));
  for (uint16_t w = 0; w < workers; ++w) {
    auto pw = std::make_unique<PerWorker>();
    pw->ring = std::make_unique<CaptureRing>(ring_bytes);
    c->rings_.push_back(std::move(pw));
  }
  // A full snaplen record must fit a ring.
  c->spec_.snaplen = std::min(c->spec_.snaplen, c->rings_[0]->ring->max_record());
  return c;
}

Capture::Capture(CaptureSpec spec, std::vector<bpf_insn> program)
    : spec_(std::move(spec)), program_(std::move(program)) {}

bool Capture::matches(const std::byte* data, uint32_t buflen, uint32_t wirelen) const noexcept {
  if (program_.empty()) return true;
  // The classic BPF interpreter: reads the buffer only, and returns 0 for "no match" (also when
  // the program reads beyond buflen, as for a frame cut by the snaplen in tcpdump).
  return ::bpf_filter(program_.data(), reinterpret_cast<const u_char*>(data), wirelen, buflen) != 0;
}

void Capture::copy_burst(uint16_t worker, Packet* const* pkts, uint16_t n) noexcept {
  if (worker >= rings_.size()) [[unlikely]] return;
  PerWorker& w = *rings_[worker];
  CaptureRing& ring = *w.ring;
  const uint32_t snaplen = spec_.snaplen;
  uint64_t now = 0;
  uint64_t matched = 0, copied = 0, dropped = 0;
  for (uint16_t i = 0; i < n; ++i) {
    const Packet* p = pkts[i];
    const uint32_t cap = std::min(p->frame_len, snaplen);
    if (p->next == nullptr) {
      // One segment: filter in place, copy only what matches.
      if (!matches(p->data(), std::min<uint32_t>(p->len, snaplen), p->frame_len)) continue;
      ++matched;
      std::byte* slot = ring.reserve(cap);
      if (slot == nullptr) {
        ++dropped;
        continue;
      }
      std::memcpy(slot, p->data(), cap);
    } else {
      // A chain: the filter needs contiguous bytes, so copy first and filter the copy. A frame
      // the filter rejects is never committed.
      std::byte* slot = ring.reserve(cap);
      if (slot == nullptr) {
        // No room to look at it whole: judge the drop by the first segment (the headers).
        if (matches(p->data(), std::min<uint32_t>(p->len, snaplen), p->frame_len)) {
          ++matched;
          ++dropped;
        }
        continue;
      }
      copy_chain(p, slot, cap);
      if (!matches(slot, cap, p->frame_len)) continue;
      ++matched;
    }
    if (now == 0) now = realtime_ns();
    ring.commit(now, p->frame_len, cap);
    ++copied;
  }
  if (matched != 0) {
    w.matched.add(matched);
    w.copied.add(copied);
    w.dropped.add(dropped);
  }
}

CaptureStats Capture::stats() const noexcept {
  CaptureStats s;
  for (const auto& w : rings_) {
    s.matched += w->matched.get();
    s.copied += w->copied.get();
    s.dropped += w->dropped.get();
  }
  return s;
}

}  // namespace vsw
