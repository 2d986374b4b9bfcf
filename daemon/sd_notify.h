// daemon/sd_notify.h — the systemd readiness protocol, without libsystemd.
//
// sd_notify(7): the service manager passes a datagram socket in $NOTIFY_SOCKET, either a path or,
// when it starts with '@', a name in the Linux abstract namespace. The daemon sends newline-
// separated assignments such as "READY=1" or "STOPPING=1". Without $NOTIFY_SOCKET (not started by
// systemd, or Type= is not notify) every call is a successful no-op.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace vsw::daemon {

// Sends `state` to $NOTIFY_SOCKET. Io on a send failure; InvalidArgument for an unusable
// $NOTIFY_SOCKET value. Thread-safe (no shared state).
Status sd_notify(std::string_view state);

// The same with an explicit socket address (for tests); empty `address` is a no-op.
Status sd_notify_to(const std::string& address, std::string_view state);

}  // namespace vsw::daemon
