// daemon/signals.h — how vswitchd reacts to signals.
//   SIGTERM, SIGINT: a clean stop, delivered through boost::asio::signal_set so the handler runs
//                    on the control thread like every other control action (no async-signal
//                    restrictions, no races with RPC handlers);
//   SIGPIPE:         ignored, so a client or peer that hangs up can never kill the daemon.
#pragma once

#include <functional>
#include <utility>  // before Asio: Boost 1.74's headers use std::exchange without it

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace vsw::daemon {

void ignore_sigpipe();

class StopSignals {
 public:
  // Calls on_stop(signal_number) once, on the thread running `io`, for the first SIGTERM or
  // SIGINT. A second one while stopping is logged and otherwise ignored.
  StopSignals(boost::asio::io_context& io, std::function<void(int)> on_stop);
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  void arm();

  boost::asio::signal_set set_;
  std::function<void(int)> on_stop_;
  bool stopping_ = false;
};

}  // namespace vsw::daemon
