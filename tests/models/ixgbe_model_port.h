// tests/models/ixgbe_model_port.h — the test-only port type `ixgbe-model`: vsw's real 82599
// driver (ports/intel/IntelPort) on the 82599 model, whose wire is a tap.
//
//   vswctl add-port br0 nic0 --type ixgbe-model -o wire=TAP [-o rx-queues=N] [-o mtu=N]
//          [-o report=PATH]
//
// wire: the tap the model creates as its wire (the test moves it into a namespace).
// rx-queues, mtu: as for --type ixgbe. report: where the model writes its JSON report
// (model_report.h) when the port is destroyed, and where violations are appended
// (PATH.violations) the moment they happen; every violation is also logged as an error.
#pragma once

#include <memory>

#include "common/result.h"
#include "ports/port_factory.h"

namespace vsw::tests::models {

Result<std::unique_ptr<Port>> create_ixgbe_model(const ports::PortSpec& spec, PortId id,
                                                 ports::PortEnv& env);

inline constexpr ports::PortType kIxgbeModelPortType{
    "ixgbe-model",
    "vsw's 82599 driver on the strict 82599 model, wire on a tap (tests only; -o wire=TAP "
    "-o rx-queues=N -o mtu=N -o report=PATH)",
    &create_ixgbe_model};

}  // namespace vsw::tests::models
