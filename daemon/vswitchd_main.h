// daemon/vswitchd_main.h — the whole of vswitchd as a function, so that a test program can run
// the real daemon with port types of its own (tests/models/vswitchd-model adds the 82599 model).
#pragma once

#include <vector>

#include "ports/port_factory.h"

namespace vsw::daemon {

// Parses argv, sets up logging and runs the daemon until SIGTERM/SIGINT; `extra_port_types` are
// added to the port factory after the built-in ones. Returns the process exit code.
int vswitchd_main(int argc, char** argv, const std::vector<ports::PortType>& extra_port_types = {});

}  // namespace vsw::daemon
