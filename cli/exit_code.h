// cli/exit_code.h — vswctl's exit codes and how a failed RPC call maps onto them.
//
// 0 ok, 1 usage or local error (bad arguments, unreadable file), 2 the daemon returned an error
// (as ovs-appctl does), 3 cannot reach the daemon. docs/cli.md lists the same table.
#pragma once

#include "control/protocol/client.h"

namespace vsw::cli {

enum class ExitCode : int {
  Ok = 0,
  Usage = 1,        // bad arguments, unreadable or malformed local file, request not buildable
  DaemonError = 2,  // vswitchd answered with an error, or with something that is not a reply
  NoDaemon = 3,     // no connection to vswitchd, or it broke (closed, timed out) mid-call
};

constexpr int to_int(ExitCode c) noexcept { return static_cast<int>(c); }

// Exit code for a failed Client::call(), from Client::last_failure().kind.
constexpr ExitCode exit_code_for(protocol::FailureKind kind) noexcept {
  switch (kind) {
    case protocol::FailureKind::None: return ExitCode::Ok;
    case protocol::FailureKind::Local: return ExitCode::Usage;
    case protocol::FailureKind::Connect:
    case protocol::FailureKind::Transport: return ExitCode::NoDaemon;
    case protocol::FailureKind::Protocol:
    case protocol::FailureKind::Remote: return ExitCode::DaemonError;
  }
  return ExitCode::DaemonError;
}

}  // namespace vsw::cli
