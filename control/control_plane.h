// control/control_plane.h — the control thread's model of the switch, kept in step with the
// dataplane and saved after every change.
//
// The Switch (dataplane/switch.h) forwards frames but does not remember how a port was asked for
// (its type options), nor ports that could not be created. ControlPlane owns that running
// configuration (control/config_model.h), applies every change to the Switch first and to the
// model only on success, so the two never disagree about what exists.
//
// Ports in error: restore() (start-up) keeps a port that cannot be created (say its afpacket
// interface vanished) in the model with state "error: <reason>", so the configuration is not lost
// and is saved back unchanged; such a port shows in port.list/port.show and can be deleted, or
// re-tried with port.add {may_exist: true} and the same settings. Changes requested over RPC are
// all-or-nothing instead: a port that cannot be created is not added.
//
// Names are unique across the daemon: a bridge and a port never share a name.
//
// Threads: control thread only (the thread running the io_context). Not copyable.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "control/config_model.h"
#include "control/dynamic_memif.h"
#include "control/reconciler.h"
#include "control/state_store.h"
#include "dataplane/switch.h"
#include "ports/port_factory.h"

namespace vsw::control {

class ControlPlane final : public ActionSink {
 public:
  // `store` may be null (nothing is persisted). Everything referenced outlives the ControlPlane.
  ControlPlane(Switch& sw, const ports::PortFactory& factory, ports::PortEnv& env,
               const StateStore* store);
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;

  // --- single changes (ActionSink). They do not save: call save() after a successful RPC. ------
  // AlreadyExists when the name is taken by a bridge or a port; InvalidArgument for bad values.
  Status add_bridge(const std::string& name, const BridgeSettings& s) override;
  // Deletes the bridge and its ports (including ports in error).
  Status del_bridge(const std::string& name) override;
  // No-op when nothing changes.
  Status set_bridge(const std::string& name, const BridgeSettings& s) override;
  // Creates the port through the PortFactory and attaches it.
  Status add_port(const std::string& bridge, const PortModel& port) override;
  // Also drops the port from the mirrors of its bridge (a mirror whose output it was goes).
  Status del_port(const std::string& name) override;
  // InvalidArgument for inconsistent settings, NotFound for an unknown port; a port in error
  // gets the settings in the model only (used when it is created).
  Status set_port_vlan(const std::string& name, const VlanConfig& vlan) override;
  Status add_mirror(const std::string& bridge, const MirrorConfig& m) override;
  Status del_mirror(const std::string& bridge, const std::string& name) override;
  // Tries again to create a port in error with its saved settings; ok() if it is not in error.
  Status retry_port(const std::string& name);

  // --- whole configurations -------------------------------------------------------------------
  // Start-up, on an empty switch: adds bridges (a failure is returned: a validated bridge cannot
  // fail except for lack of memory) and ports (a failure is logged and kept as a port in error).
  Status restore(const ConfigModel& cfg);
  // config.apply: diff against the running model, perform (unless dry_run) and save. `actions`
  // receives every planned action (dry run) or every one performed, also on failure.
  Status apply_config(const ConfigModel& desired, bool dry_run, std::vector<std::string>& actions);

  // Writes the running model to the state store. Io on failure.
  Status save();

  // --- queries --------------------------------------------------------------------------------
  const ConfigModel& running() const noexcept { return running_; }
  // "ok", or "error: <reason>" for a port that could not be created.
  std::string port_state(const std::string& name) const;
  bool port_in_error(const std::string& name) const { return port_errors_.count(name) != 0; }
  // Ports made on the fly for memif clients (bridge setting memif_dynamic); not in running().
  const DynamicMemifPorts& dynamic_ports() const noexcept { return dynamic_; }
  Switch& sw() noexcept { return sw_; }
  const Switch& sw() const noexcept { return sw_; }

 private:
  Status check_name_free(const std::string& name) const;
  Status create_port(const std::string& bridge, const PortModel& port);
  void forget_port(const std::string& name);
  // The model's mirrors of `bridge` as the Switch has them now (after a port left).
  void refresh_mirrors(BridgeModel& b);

  Switch& sw_;
  const ports::PortFactory& factory_;
  ports::PortEnv& env_;
  const StateStore* store_;
  ConfigModel running_;
  std::map<std::string, std::string> port_errors_;  // port name -> reason
  DynamicMemifPorts dynamic_;
};

}  // namespace vsw::control
