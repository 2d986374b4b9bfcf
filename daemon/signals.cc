// daemon/signals.cc — SIGTERM/SIGINT through Asio, SIGPIPE ignored.
#include "daemon/signals.h"

#include <csignal>

#include "common/log.h"

namespace vsw::daemon {

void ignore_sigpipe() { std::signal(SIGPIPE, SIG_IGN); }

StopSignals::StopSignals(boost::asio::io_context& io, std::function<void(int)> on_stop)
    : set_(io, SIGTERM, SIGINT), on_stop_(std::move(on_stop)) {
  arm();
}

void StopSignals::arm() {
  set_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;  // cancelled: the signal_set is going away
    if (stopping_) {
      log::main().info("already stopping signal={}", signo);
    } else {
      stopping_ = true;
      on_stop_(signo);
    }
    arm();
  });
}

}  // namespace vsw::daemon
