// common/log.cc — logger construction and level parsing.
#include "common/log.h"

#include <time.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace vsw::log {

namespace {
constexpr std::array<const char*, 5> kNames = {"main", "dp", "port", "bridge", "ctl"};
std::array<std::shared_ptr<spdlog::logger>, 5> g_loggers;
std::once_flag g_once;

void build() {
  spdlog::sink_ptr sink;
  if (isatty(STDERR_FILENO)) {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  }
  sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  for (size_t i = 0; i < kNames.size(); ++i) {
    g_loggers[i] = std::make_shared<spdlog::logger>(kNames[i], sink);
    g_loggers[i]->set_level(spdlog::level::info);
    g_loggers[i]->flush_on(spdlog::level::warn);
  }
}

spdlog::logger& get(size_t i) {
  init();
  return *g_loggers[i];
}
}  // namespace

void init() { std::call_once(g_once, build); }

Status set_levels(std::string_view spec) {
  init();
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string_view item = spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start);
    std::string_view who, level_text = item;
    if (auto eq = item.find('='); eq != std::string_view::npos) {
      who = item.substr(0, eq);
      level_text = item.substr(eq + 1);
    }
    const auto level = spdlog::level::from_str(std::string(level_text));
    if (level == spdlog::level::off && level_text != "off") {
      return make_error(Errc::InvalidArgument, "unknown log level '{}'", level_text);
    }
    bool found = who.empty();
    for (size_t i = 0; i < kNames.size(); ++i) {
      if (who.empty() || who == kNames[i]) {
        g_loggers[i]->set_level(level);
        found = true;
      }
    }
    if (!found) return make_error(Errc::InvalidArgument, "unknown logger '{}'", who);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return ok();
}

spdlog::logger& main() { return get(0); }
spdlog::logger& dp() { return get(1); }
spdlog::logger& port() { return get(2); }
spdlog::logger& bridge() { return get(3); }
spdlog::logger& ctl() { return get(4); }

bool RateLimit::allow() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  const uint64_t now_ms = static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  uint64_t next = next_ms_.load(std::memory_order_relaxed);
  if (now_ms < next) return false;
  return next_ms_.compare_exchange_strong(next, now_ms + period_ms_, std::memory_order_relaxed);
}

}  // namespace vsw::log
