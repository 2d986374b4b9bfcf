// control/reconciler.h — make the running configuration equal to a desired one, as a diff.
//
// diff(desired, running) computes the ordered actions (Snabb's configure() idea), and apply()
// performs them through an ActionSink so unit tests can record actions without a dataplane.
// Order, chosen so no step can collide with a name still in use:
//   0. del-mirror for each running mirror of a kept bridge that is gone, changed, or names a
//                port deleted in step 1;
//   1. del-port  for each running port that is gone, moved to another bridge, or whose type or
//                options changed (ports of bridges that are deleted go with their bridge);
//   2. del-br    for each running bridge not desired;
//   3. add-br    for each desired bridge not running (desired order);
//   4. set-br    for each kept bridge whose aging_s or max_macs changed;
//   5. add-port  for each desired port not (or no longer) running (desired order), with its
//                VLAN settings;
//   6. set-port  for each kept port whose VLAN settings alone changed;
//   7. add-mirror for each desired mirror not (or no longer) running.
// Idempotent: diff(x, x) is empty, so applying the same file twice does nothing the second time.
//
// Threads: pure functions; apply() runs on the thread that owns the sink (the control thread).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "control/config_model.h"

namespace vsw::control {

struct Action {
  enum class Kind : uint8_t {
    DelPort, DelBridge, AddBridge, SetBridge, AddPort, SetPortVlan, DelMirror, AddMirror
  };
  Kind kind = Kind::AddBridge;
  std::string bridge;       // the bridge acted on or holding the port
  BridgeSettings settings;  // AddBridge, SetBridge
  PortModel port;           // AddPort and SetPortVlan (whole), DelPort (name only)
  MirrorConfig mirror;      // AddMirror (whole), DelMirror (name only)

  // Human-readable form reported by config.apply: "add-br br1", "del-port p3",
  // "set-br br0 aging_s=60 max_macs=4096", "add-port br0 tap0 type=tap".
  std::string describe() const;
  bool operator==(const Action&) const = default;
};

// Receives the actions; ControlPlane implements it on top of the Switch, tests with a recorder.
class ActionSink {
 public:
  virtual ~ActionSink() = default;
  virtual Status add_bridge(const std::string& name, const BridgeSettings& s) = 0;
  virtual Status del_bridge(const std::string& name) = 0;
  virtual Status set_bridge(const std::string& name, const BridgeSettings& s) = 0;
  virtual Status add_port(const std::string& bridge, const PortModel& port) = 0;
  virtual Status del_port(const std::string& name) = 0;
  virtual Status set_port_vlan(const std::string& name, const VlanConfig& vlan) = 0;
  virtual Status add_mirror(const std::string& bridge, const MirrorConfig& m) = 0;
  virtual Status del_mirror(const std::string& bridge, const std::string& name) = 0;
};

// Both inputs are assumed valid (validate_config).
std::vector<Action> diff(const ConfigModel& desired, const ConfigModel& running);

// Performs `actions` in order and stops at the first failure, whose error it returns (message
// prefixed with the action). `done` receives describe() of each action that succeeded.
Status apply(const std::vector<Action>& actions, ActionSink& sink, std::vector<std::string>& done);

}  // namespace vsw::control
