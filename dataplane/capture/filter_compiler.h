// dataplane/capture/filter_compiler.h — compiling a capture filter without letting name
// resolution hold up the control thread.
//
// libpcap resolves the host, network and service names of an expression while it compiles it
// ("host db1", "net corp"; pcap_compile(3PCAP) calls the system resolver). A name the resolver
// cannot answer blocks for its whole timeout (resolv.conf(5): 5 s per attempt and server by
// default), and the control thread that serves every operator must not wait that long. So the
// compile runs on a thread of its own and the caller waits at most `limit`: past it the
// capture is refused with a message that says to use addresses, and the thread finishes on its
// own, its result discarded. At most `max_pending` such threads may still be running; beyond
// that further filters are refused at once, so a client that keeps naming unresolvable hosts
// cannot pile up threads.
//
// Threads: compile() from any thread; pcap_compile may run in several threads at once since
// libpcap 1.8.0 (pcap_compile(3PCAP)).
#pragma once

#include <sys/types.h>  // u_int and friends, which pcap/bpf.h uses without including
#include <pcap/bpf.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace vsw {

class FilterCompiler {
 public:
  using Program = std::vector<bpf_insn>;
  using CompileFn = std::function<Result<Program>(const std::string& expression, uint32_t snaplen)>;
  static constexpr std::chrono::milliseconds kDefaultLimit{1500};
  static constexpr unsigned kDefaultMaxPending = 4;

  // `compile` defaults to compile_capture_filter (capture.h); tests pass their own.
  explicit FilterCompiler(std::chrono::milliseconds limit = kDefaultLimit,
                          unsigned max_pending = kDefaultMaxPending, CompileFn compile = {});

  // compile(expression, snaplen), waited for at most the limit. Errors: those of the compile
  // function; Unavailable when it took longer than the limit; ResourceExhausted when
  // max_pending earlier compiles are still running. Never throws.
  Result<Program> compile(const std::string& expression, uint32_t snaplen) const;

  // Compiles still running (those that outlived their limit included).
  unsigned pending() const noexcept { return in_flight_->load(std::memory_order_acquire); }

 private:
  std::chrono::milliseconds limit_;
  unsigned max_pending_;
  CompileFn compile_;
  // Shared with the threads, which may outlive this object (process exit aside).
  std::shared_ptr<std::atomic<unsigned>> in_flight_;
};

// The compiler Capture::create uses: the default limit and pending bound.
const FilterCompiler& capture_filter_compiler();

}  // namespace vsw
