// control/reconciler.cc — configuration diff and ordered application.
#include "control/reconciler.h"

namespace vsw::control {

std::string Action::describe() const {
  switch (kind) {
    case Kind::DelPort: return fmt::format("del-port {}", port.name);
    case Kind::DelBridge: return fmt::format("del-br {}", bridge);
    case Kind::AddBridge: return fmt::format("add-br {}", bridge);
    case Kind::SetBridge:
      return fmt::format("set-br {} aging_s={} max_macs={}", bridge, settings.aging_s,
                         settings.max_macs);
    case Kind::AddPort: return fmt::format("add-port {} {} type={}", bridge, port.name, port.type);
  }
  return "?";
}

std::vector<Action> diff(const ConfigModel& desired, const ConfigModel& running) {
  std::vector<Action> actions;

  // 1. Ports to delete: gone, moved, or changed. Ports of bridges that disappear go with them.
  for (const BridgeModel& rb : running.bridges) {
    if (desired.find_bridge(rb.name) == nullptr) continue;
    for (const PortModel& rp : rb.ports) {
      const BridgeModel* db = nullptr;
      const PortModel* dp = desired.find_port(rp.name, &db);
      if (dp == nullptr || db->name != rb.name || !(*dp == rp)) {
        Action a{Action::Kind::DelPort, rb.name, {}, {}};
        a.port.name = rp.name;
        actions.push_back(std::move(a));
      }
    }
  }
  // 2. Bridges to delete.
  for (const BridgeModel& rb : running.bridges) {
    if (desired.find_bridge(rb.name) == nullptr) {
      actions.push_back(Action{Action::Kind::DelBridge, rb.name, rb.settings, {}});
    }
  }
  // 3. Bridges to add, 4. bridges to change.
  for (const BridgeModel& db : desired.bridges) {
    if (running.find_bridge(db.name) == nullptr) {
      actions.push_back(Action{Action::Kind::AddBridge, db.name, db.settings, {}});
    }
  }
  for (const BridgeModel& db : desired.bridges) {
    const BridgeModel* rb = running.find_bridge(db.name);
    if (rb != nullptr && !(rb->settings == db.settings)) {
      actions.push_back(Action{Action::Kind::SetBridge, db.name, db.settings, {}});
    }
  }
  // 5. Ports to add: absent from the running state, or deleted in step 1 / with their bridge.
  for (const BridgeModel& db : desired.bridges) {
    for (const PortModel& dp : db.ports) {
      const BridgeModel* rb = nullptr;
      const PortModel* rp = running.find_port(dp.name, &rb);
      const bool kept = rp != nullptr && rb->name == db.name && *rp == dp;
      if (!kept) actions.push_back(Action{Action::Kind::AddPort, db.name, {}, dp});
    }
  }
  return actions;
}

Status apply(const std::vector<Action>& actions, ActionSink& sink, std::vector<std::string>& done) {
  for (const Action& a : actions) {
    Status st;
    switch (a.kind) {
      case Action::Kind::DelPort: st = sink.del_port(a.port.name); break;
      case Action::Kind::DelBridge: st = sink.del_bridge(a.bridge); break;
      case Action::Kind::AddBridge: st = sink.add_bridge(a.bridge, a.settings); break;
      case Action::Kind::SetBridge: st = sink.set_bridge(a.bridge, a.settings); break;
      case Action::Kind::AddPort: st = sink.add_port(a.bridge, a.port); break;
    }
    if (!st) {
      const Error& e = st.error();
      return Error{e.code, fmt::format("{}: {}", a.describe(), e.message), e.sys_errno};
    }
    done.push_back(a.describe());
  }
  return ok();
}

}  // namespace vsw::control
