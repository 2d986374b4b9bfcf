// daemon/options.cc — command-line parsing with CLI11.
#include "daemon/options.h"

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
  bool no_hugepages = false;
  app.add_flag("--no-hugepages", no_hugepages, "use ordinary memory for packet buffers");
  app.add_option("--idle-sleep-us", o.idle_sleep_us,
                 "an idle worker naps this long after ~1000 empty polls (0 = busy-poll)")
      ->check(CLI::Range(0u, 1'000'000u))
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
