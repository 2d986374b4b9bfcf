// daemon/main.cc — vswitchd: wiring only. Read this first to see how the pieces meet.
//
// Start-up order:
//   1. parse options, set up logging;
//   2. read the start-up configuration: the state file if it exists (it wins over --config),
//      else --config, else nothing; a corrupt state file stops here with a clear error and is
//      left untouched;
//   3. create the Switch (mempool, workers not yet running);
//   4. claim the control socket, so a second daemon on the same socket stops before it
//      creates ports or writes the state file;
//   5. apply the configuration (a port that cannot be created is kept "in error", not dropped),
//      save it if it did not come from the state file, and start the workers;
//   6. tell systemd READY=1 and run the control thread's io_context: RPC clients, port
//      housekeeping, Switch::housekeeping() every 100 ms, signals.
// SIGTERM/SIGINT: stop the RPC server, the housekeeping and the workers, destroy every port (tap
// interfaces disappear), exit 0.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/log.h"
#include "common/unix_ids.h"
#include "control/control_plane.h"
#include "control/dispatcher.h"
#include "control/methods/methods.h"
#include "control/metrics/metrics_server.h"
#include "control/metrics/metrics_text.h"
#include "control/rpc_server.h"
#include "control/state_store.h"
#include "daemon/options.h"
#include "daemon/sd_notify.h"
#include "daemon/signals.h"
#include "daemon/vswitchd_main.h"
#include "dataplane/switch.h"
#include "ports/port_factory.h"

namespace asio = boost::asio;

namespace vsw::daemon {
namespace {

constexpr auto kHousekeepingPeriod = std::chrono::milliseconds(100);

// Step 2: which configuration to start with, and whether it must be written to the state file.
struct StartupConfig {
  control::ConfigModel config;
  bool save = false;
};

Result<StartupConfig> startup_config(const Options& o, const control::StateStore& store) {
  if (!o.ignore_state) {
    auto loaded = store.load();
    if (!loaded) return std::move(loaded).error();
    if (loaded->has_value()) {
      if (!o.config_file.empty()) {
        log::main().info("state file exists, --config ignored state_file={} config={}",
                         o.state_file, o.config_file);
      }
      log::main().info("restoring state file path={}", o.state_file);
      return StartupConfig{std::move(**loaded), false};
    }
  }
  if (o.config_file.empty()) return StartupConfig{{}, o.ignore_state};
  auto cfg = control::read_topology_file(o.config_file, "config file");
  if (!cfg) return std::move(cfg).error();
  log::main().info("applying config file path={}", o.config_file);
  return StartupConfig{std::move(*cfg), true};
}

asio::awaitable<void> housekeeping_loop(asio::steady_timer& timer, Switch& sw,
                                        const bool& stopping) {
  for (;;) {
    boost::system::error_code ec;
    timer.expires_after(kHousekeepingPeriod);
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || stopping) co_return;
    sw.housekeeping();
  }
}

int fail(const Error& e) {
  log::main().critical("vswitchd cannot start: {}", e.message);
  return 1;
}

int run(const Options& o, const std::vector<ports::PortType>& extra_port_types) {
  std::error_code fs_ec;
  std::filesystem::create_directories(o.run_dir, fs_ec);
  if (fs_ec) {
    return fail(
        make_error(Errc::Io, "cannot create run directory '{}': {}", o.run_dir, fs_ec.message()));
  }
  control::StateStore store(o.state_file);
  auto startup = startup_config(o, store);
  if (!startup) return fail(startup.error());

  asio::io_context io(1);
  bool stopping = false;
  std::function<void(int)> on_stop;  // set below, once everything it stops exists
  StopSignals signals(io, [&](int signo) { on_stop(signo); });

  SwitchConfig sc;
  sc.workers = o.workers;
  sc.cpus = o.cpus;
  sc.pool.buffers = o.mempool_buffers;
  sc.pool.buffer_bytes = o.mempool_buffer_bytes;
  sc.pool.hugepages = o.hugepages;
  sc.poll_mode = o.poll_mode;
  auto created = Switch::create(sc);
  if (!created) return fail(created.error());
  std::unique_ptr<Switch> sw = std::move(*created);

  ports::PortFactory factory;
  for (const ports::PortType& t : extra_port_types) {
    if (Status st = factory.add_type(t); !st) return fail(st.error());
  }
  ports::PortEnv env{sw->mempool(), io, o.run_dir, o.workers, &sw->quiescent()};
  control::ControlPlane cp(*sw, factory, env, &store);
  control::Dispatcher dispatcher;
  control::methods::register_all(dispatcher, cp);
  // The socket is claimed before any port exists or the state file is written: a second
  // vswitchd on the same socket stops here, without touching the running daemon's state.
  // Clients that connect now are served once io.run() starts, after the restore below.
  control::RpcServer server(io, o.socket_path, dispatcher);
  std::optional<gid_t> socket_group;
  if (!o.socket_group.empty()) {
    auto gid = group_id(o.socket_group, "--socket-group");
    if (!gid) return fail(gid.error());
    socket_group = *gid;
  }
  if (Status st = server.start(socket_group); !st) return fail(st.error());
  std::unique_ptr<control::metrics::MetricsServer> metrics;
  if (!o.metrics_listen.empty()) {
    auto where = control::metrics::parse_listen_address(o.metrics_listen);
    if (!where) return fail(where.error());
    metrics = std::make_unique<control::metrics::MetricsServer>(
        io, *where, [&sw] { return control::metrics::render(*sw, VSW_VERSION); });
    if (Status st = metrics->start(); !st) return fail(st.error());
  }

  if (Status st = cp.restore(startup->config); !st) return fail(st.error());
  if (startup->save) {
    if (Status st = cp.save(); !st) return fail(st.error());
  }
  if (Status st = sw->start(); !st) return fail(st.error());

  asio::steady_timer housekeeping(io);
  asio::co_spawn(io, housekeeping_loop(housekeeping, *sw, stopping), asio::detached);

  on_stop = [&](int signo) {
    log::main().info("stopping signal={}", signo);
    (void)sd_notify("STOPPING=1");
    stopping = true;
    server.stop();
    if (metrics) metrics->stop();
    housekeeping.cancel();
    io.stop();
  };

  if (Status st = sd_notify("READY=1\nSTATUS=serving on " + o.socket_path); !st) {
    log::main().warn("sd_notify failed: {}", st.error().message);
  }
  log::main().info("vswitchd {} ready socket={} workers={} bridges={} ports={}", VSW_VERSION,
                   o.socket_path, o.workers, cp.running().bridges.size(),
                   cp.running().port_count());

  int rc = 0;
  try {
    io.run();
  } catch (const std::exception& e) {
    log::main().critical("control thread failed: {}", e.what());
    rc = 1;
  }

  // Shut down: workers first, then every port and bridge while the io_context still exists
  // (ports may own Asio objects). Handlers still queued are destroyed with the io_context, never
  // run, so none of them can see a destroyed port.
  stopping = true;
  server.stop();
  metrics.reset();
  housekeeping.cancel();
  sw->stop();
  sw.reset();
  log::main().info("vswitchd stopped");
  return rc;
}

}  // namespace

int vswitchd_main(int argc, char** argv, const std::vector<ports::PortType>& extra_port_types) {
  auto parsed = parse_options(argc, argv);
  if (!parsed.options) return parsed.exit_code;
  log::init();
  if (Status st = log::set_levels(parsed.options->log_level); !st) {
    std::fprintf(stderr, "vswitchd: --log-level: %s\n", st.error().message.c_str());
    return 2;
  }
  ignore_sigpipe();
  return run(*parsed.options, extra_port_types);
}

}  // namespace vsw::daemon

// A test program that adds port types compiles this file with VSW_VSWITCHD_NO_MAIN and calls
// vswitchd_main() from its own main (tests/models/vswitchd_model_main.cc).
#ifndef VSW_VSWITCHD_NO_MAIN
int main(int argc, char** argv) { return vsw::daemon::vswitchd_main(argc, argv); }
#endif
