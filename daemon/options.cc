// daemon/options.cc — command-line parsing with CLI11.
#include "daemon/options.h"

#include <charconv>
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "common/cpu.h"

#ifndef VSW_VERSION
#define VSW_VERSION "unknown"
#endif

namespace vsw::daemon {

ParsedOptions parse_options(int argc, const char* const* argv) {
  Options o;
  std::string cpus;
  CLI::App app{"vswitchd — the vsw user-space software switch daemon"};
  app.set_version_flag("--version", std::string("vswitchd ") + VSW_VERSION);
  app.add_option("--socket", o.socket_path,
                 "control socket path (default: <run-dir>/vswitchd.sock)");
  app.add_option("--socket-group", o.socket_group,
                 "group given the control socket (mode 0660): its members may run vswctl "
                 "without root");
  app.add_option("--metrics-listen", o.metrics_listen,
                 "serve Prometheus metrics at http://ADDR/metrics: a Unix socket path, "
                 "127.0.0.1:PORT or [::1]:PORT (default: off)");
  app.add_option("--state-file", o.state_file,
                 "running configuration, saved after every change and restored at start")
      ->capture_default_str();
  app.add_option("--config", o.config_file,
                 "topology applied at start when there is no state file (the state file wins)")
      ->check(CLI::ExistingFile);
  app.add_flag("--ignore-state", o.ignore_state,
               "start from --config (or empty) even if a state file exists; it is overwritten "
               "by the first save");
  app.add_option("--run-dir", o.run_dir, "runtime directory, created if missing")
      ->capture_default_str();
  app.add_option("--workers", o.workers, "number of dataplane worker threads")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--cpus", cpus, "CPUs to pin workers to, e.g. 2-3 or 1,3 (default: unpinned)");
  app.add_option("--log-level", o.log_level, "e.g. info or info,dp=debug,ctl=warn")
      ->capture_default_str();
  app.add_option("--mempool-buffers", o.mempool_buffers, "packet buffers in the mempool")
      ->check(CLI::Range(1024u, 4u << 20))
      ->capture_default_str();
  app.add_option("--mempool-buffer-bytes", o.mempool_buffer_bytes,
                 "bytes per packet buffer, a power of two from 2048 to 16384 (Intel NICs: 4096 "
                 "gives 3 KiB receive buffers, one descriptor per standard frame)")
      ->check(CLI::Range(2048u, 16384u))
      ->check(CLI::Validator(
          [](std::string& s) -> std::string {
            unsigned long v = 0;
            const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
            const bool pow2 = ec == std::errc() && end == s.data() + s.size() && v != 0 &&
                              (v & (v - 1)) == 0;
            return pow2 ? "" : "must be a power of two: 2048, 4096, 8192 or 16384";
          },
          "POWER OF TWO"))
      ->capture_default_str();
  bool no_hugepages = false;
  app.add_flag("--no-hugepages", no_hugepages, "use ordinary memory for packet buffers");
  std::string poll_mode = "adaptive";
  app.add_option("--poll-mode", poll_mode,
                 "adaptive: an idle worker sleeps until an rx queue signals traffic; busy: "
                 "workers poll without pause (a full core each, lowest latency)")
      ->check(CLI::IsMember({"adaptive", "busy"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the error
    return ParsedOptions{std::nullopt, rc == 0 ? 0 : 2};
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vswitchd: %s\n", e.what());
    return ParsedOptions{std::nullopt, 2};
  }
  o.hugepages = !no_hugepages;
  o.poll_mode = poll_mode == "busy" ? PollMode::Busy : PollMode::Adaptive;
  if (!cpus.empty()) {
    auto list = parse_cpu_list(cpus);
    if (!list) {
      std::fprintf(stderr, "vswitchd: --cpus: %s\n", list.error().message.c_str());
      return ParsedOptions{std::nullopt, 2};
    }
    o.cpus = std::move(*list);
  }
  if (o.run_dir.empty()) {
    std::fprintf(stderr, "vswitchd: --run-dir must not be empty\n");
    return ParsedOptions{std::nullopt, 2};
  }
  if (o.socket_path.empty()) o.socket_path = o.run_dir + "/vswitchd.sock";
  return ParsedOptions{std::move(o), 0};
}

}  // namespace vsw::daemon
