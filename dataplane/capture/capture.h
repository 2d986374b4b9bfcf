// dataplane/capture/capture.h — one live capture of a port (docs/capture.md): its settings, its
// compiled BPF filter, and one CaptureRing per worker that the workers copy matching frames into.
//
// Threads:
//   * copy_burst(): the worker `worker` only (each ring has one producer). Never blocks,
//     allocates or makes a syscall (the timestamp is clock_gettime(CLOCK_REALTIME), a vDSO call,
//     read once per burst that has a matching frame); a frame that does not fit its ring is
//     counted in `dropped` — a capture drop, never a lost frame of traffic;
//   * ring(), stats(), end(), end_reason(): the control thread (stats() from any thread).
// Lifetime: the CaptureRegistry (capture_registry.h) hands a raw pointer to the workers through
// the port's PortCaptures; it keeps a reference until every worker passed a quiescent point after
// the capture left the port, so copy_burst() never runs on a freed Capture.
#pragma once

#include <sys/types.h>  // u_int and friends, which pcap/bpf.h uses without including
#include <pcap/bpf.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dataplane/capture/capture_ring.h"
#include "dataplane/packet.h"
#include "dataplane/port_counters.h"

namespace vsw {

enum class CaptureDirection : uint8_t { Rx = 1, Tx = 2, Both = 3 };

constexpr std::string_view capture_direction_name(CaptureDirection d) noexcept {
  return d == CaptureDirection::Rx ? "rx" : d == CaptureDirection::Tx ? "tx" : "both";
}

// Why a capture ended (None: still running).
enum class CaptureEnd : uint8_t { None, PortDeleted, Shutdown };

struct CaptureSpec {
  std::string port;
  CaptureDirection direction = CaptureDirection::Both;
  uint32_t snaplen = 65535;  // bytes kept per frame, 1..kMaxSnaplen
  std::string filter;        // tcpdump expression; empty: every frame
};

struct CaptureStats {
  uint64_t matched = 0;  // frames that passed the filter
  uint64_t copied = 0;   // ... and were copied into a ring
  uint64_t dropped = 0;  // ... but found their ring full (the reader fell behind)
};

class Capture {
 public:
  static constexpr uint32_t kMaxSnaplen = 65535;
  // Per worker: 4 MiB holds about 2700 full-size (1500-byte) frames, 64 records of a full snaplen.
  static constexpr uint32_t kDefaultRingBytes = 4u << 20;

  // Checks the spec (snaplen range, filter syntax: the error is libpcap's message) and makes
  // one ring of `ring_bytes` per worker. InvalidArgument for a bad spec; Unavailable or
  // ResourceExhausted when the filter names something that does not resolve in time
  // (filter_compiler.h). May block for FilterCompiler::kDefaultLimit.
  static Result<std::unique_ptr<Capture>> create(CaptureSpec spec, uint16_t workers,
                                                 uint32_t ring_bytes = kDefaultRingBytes);
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  const CaptureSpec& spec() const noexcept { return spec_; }
  uint64_t id() const noexcept { return id_; }
  void set_id(uint64_t id) noexcept { id_ = id; }
  uint16_t workers() const noexcept { return static_cast<uint16_t>(rings_.size()); }

  // --- worker `worker` ------------------------------------------------------------------------
  // Copies the frames of pkts[0..n) that pass the filter (at most snaplen bytes of each, across
  // the segments of a chain) into the worker's ring. Reads the frames only.
  void copy_burst(uint16_t worker, Packet* const* pkts, uint16_t n) noexcept;

  // --- control thread -------------------------------------------------------------------------
  CaptureRing& ring(uint16_t worker) noexcept { return *rings_[worker]->ring; }
  CaptureStats stats() const noexcept;
  void end(CaptureEnd why) noexcept { end_.store(why, std::memory_order_release); }
  CaptureEnd end_reason() const noexcept { return end_.load(std::memory_order_acquire); }

 private:
  Capture(CaptureSpec spec, std::vector<bpf_insn> program);
  bool matches(const std::byte* data, uint32_t buflen, uint32_t wirelen) const noexcept;

  struct alignas(64) PerWorker {
    std::unique_ptr<CaptureRing> ring;
    Counter matched, copied, dropped;  // single writer: the worker
  };

  CaptureSpec spec_;
  std::vector<bpf_insn> program_;  // empty: no filter
  std::vector<std::unique_ptr<PerWorker>> rings_;
  uint64_t id_ = 0;
  std::atomic<CaptureEnd> end_{CaptureEnd::None};
};

// Compiles a tcpdump filter expression for Ethernet frames of at most `snaplen` bytes with
// libpcap (pcap_open_dead + pcap_compile, optimised). InvalidArgument with libpcap's message for
// a bad expression. Any thread (libpcap 1.8.0 and later); it may block while libpcap resolves
// names, which is why Capture::create goes through capture_filter_compiler().
Result<std::vector<bpf_insn>> compile_capture_filter(const std::string& expression,
                                                     uint32_t snaplen);

}  // namespace vsw
