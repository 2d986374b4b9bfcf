// daemon/options.h — vswitchd's command line (docs/daemon.md, "Daemon options").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/worker.h"

namespace vsw::daemon {

struct Options {
  std::string run_dir = "/run/vsw";  // created if missing; memif sockets default here
  std::string socket_path;           // default: <run_dir>/vswitchd.sock
  std::string socket_group;          // empty: the socket keeps the daemon's group
  std::string metrics_listen;        // empty: no metrics endpoint
  std::string state_file = "/var/lib/vsw/state.json";
  std::string config_file;    // topology used when there is no state file
  bool ignore_state = false;  // start from --config (or empty) regardless
  uint16_t workers = 1;
  std::vector<int> cpus;  // empty: workers are not pinned
  std::string log_level = "info";
  uint32_t mempool_buffers = 16384;
  uint32_t mempool_buffer_bytes = 2048;  // power of two, 2048..16384 (Mempool::Config)
  bool hugepages = true;
  PollMode poll_mode = PollMode::Adaptive;  // dataplane/worker.h
};

// The outcome of parsing: options to run with, or an exit code after --help/--version (0) or a
// usage error (2), whose text parse_options() already printed.
struct ParsedOptions {
  std::optional<Options> options;
  int exit_code = 0;
};

// Never throws (CLI11 exceptions are handled here). Validates values (CPU list syntax, ranges).
ParsedOptions parse_options(int argc, const char* const* argv);

}  // namespace vsw::daemon
