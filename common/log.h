// common/log.h — vsw's named loggers (main, dp, port, bridge, ctl) and rate-limited logging.
// Loggers are built once by log::init(); accessors return references, so hot code never looks up
// the spdlog registry. Workers only log state changes, and anything that could repeat goes through
// VSW_LOG_RL, which lets one message per call site through per period.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include <spdlog/spdlog.h>

#include "common/result.h"

namespace vsw::log {

// Creates the loggers with a stderr sink (colour only on a TTY). Idempotent.
void init();
// "info", or "info,dp=debug,ctl=warn": a default level and per-logger overrides.
Status set_levels(std::string_view spec);

spdlog::logger& main();
spdlog::logger& dp();
spdlog::logger& port();
spdlog::logger& bridge();
spdlog::logger& ctl();

// Per-call-site limiter: allow() is true at most once per period_ms (monotonic clock).
class RateLimit {
 public:
  explicit RateLimit(uint32_t period_ms) : period_ms_(period_ms) {}
  bool allow() noexcept;

 private:
  uint32_t period_ms_;
  std::atomic<uint64_t> next_ms_{0};
};

}  // namespace vsw::log

#define VSW_LOG_RL(logger, level, period_ms, ...)                \
  do {                                                           \
    static ::vsw::log::RateLimit vsw_rl_site_{period_ms};        \
    if (vsw_rl_site_.allow()) (logger).log(level, __VA_ARGS__);  \
  } while (0)
