// dataplane/capture/filter_compiler.cc — a filter compile on a thread of its own, waited for at
// most a limit (filter_compiler.h).
#include "dataplane/capture/filter_compiler.h"

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "dataplane/capture/capture.h"

namespace vsw {

namespace {
// What the compiling thread leaves for the waiting one; owned by both.
struct Outcome {
  std::mutex mu;
  std::condition_variable done;
  std::optional<Result<FilterCompiler::Program>> result;
};
}  // namespace

FilterCompiler::FilterCompiler(std::chrono::milliseconds limit, unsigned max_pending,
                               CompileFn compile)
    : limit_(limit),
      max_pending_(max_pending),
      compile_(compile ? std::move(compile) : CompileFn(compile_capture_filter)),
      in_flight_(std::make_shared<std::atomic<unsigned>>(0)) {}

Result<FilterCompiler::Program> FilterCompiler::compile(const std::string& expression,
                                                        uint32_t snaplen) const {
  unsigned running = in_flight_->load(std::memory_order_acquire);
  do {
    if (running >= max_pending_) {
      return make_error(Errc::ResourceExhausted,
                        "{} filters are still being compiled (libpcap waits for names to "
                        "resolve); write addresses instead of host or network names",
                        running);
    }
  } while (!in_flight_->compare_exchange_weak(running, running + 1, std::memory_order_acq_rel));

  auto outcome = std::make_shared<Outcome>();
  try {
    std::thread([outcome, in_flight = in_flight_, fn = compile_, expression, snaplen] {
      Result<Program> r = make_error(Errc::Internal, "filter compile failed");
      try {
        r = fn(expression, snaplen);
      } catch (const std::exception& e) {
        r = make_error(Errc::Internal, "filter compile failed: {}", e.what());
      }
      {
        std::lock_guard lock(outcome->mu);
        outcome->result.emplace(std::move(r));
      }
      outcome->done.notify_one();
      in_flight->fetch_sub(1, std::memory_order_acq_rel);
    }).detach();
  } catch (const std::system_error& e) {
    in_flight_->fetch_sub(1, std::memory_order_acq_rel);
    return make_error(Errc::ResourceExhausted, "no thread to compile the filter: {}", e.what());
  }

  std::unique_lock lock(outcome->mu);
  if (!outcome->done.wait_for(lock, limit_, [&] { return outcome->result.has_value(); })) {
    return make_error(Errc::Unavailable,
                      "filter '{}' did not compile within {} ms: libpcap was still resolving a "
                      "host or network name in it; write addresses instead",
                      expression, limit_.count());
  }
  return std::move(*outcome->result);
}

const FilterCompiler& capture_filter_compiler() {
  static const FilterCompiler compiler;
  return compiler;
}

}  // namespace vsw
