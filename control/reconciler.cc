// control/reconciler.cc — configuration diff and ordered application.
#include "control/reconciler.h"

#include <algorithm>

namespace vsw::control {

std::string Action::describe() const {
  switch (kind) {
    case Kind::DelPort: return fmt::format("del-port {}", port.name);
    case Kind::DelBridge: return fmt::format("del-br {}", bridge);
    case Kind::AddBridge: return fmt::format("add-br {}", bridge);
    case Kind::SetBridge:
      return fmt::format("set-br {} aging_s={} max_macs={}", bridge, settings.aging_s,
                         settings.max_macs);
    case Kind::AddPort: {
      std::string s = fmt::format("add-port {} {} type={}", bridge, port.name, port.type);
      if (port.vlan.configured()) s += fmt::format(" vlan_mode={}", vlan_mode_name(port.vlan.mode));
      return s;
    }
    case Kind::SetPortVlan:
      return fmt::format("set-port {} vlan_mode={} tag={} trunks={}", port.name,
                         vlan_mode_name(port.vlan.mode), port.vlan.tag,
                         format_vid_list(port.vlan.trunks));
    case Kind::DelMirror: return fmt::format("del-mirror {} {}", bridge, mirror.name);
    case Kind::AddMirror:
      return fmt::format("add-mirror {} {} output={}", bridge, mirror.name, mirror.output_port);
  }
  return "?";
}

namespace {
// A running port that step 1 deletes: gone, moved, or changed in more than its VLAN settings.
bool port_replaced(const ConfigModel& desired, const BridgeModel& rb, const PortModel& rp) {
  const BridgeModel* db = nullptr;
  const PortModel* dp = desired.find_port(rp.name, &db);
  return dp == nullptr || db->name != rb.name || !dp->same_port(rp);
}

bool names(const MirrorConfig& m, const std::string& port) {
  auto in = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), port) != v.end();
  };
  return m.output_port == port || in(m.src_ports) || in(m.dst_ports);
}

// A running mirror of a kept bridge that survives the apply unchanged.
bool mirror_kept(const ConfigModel& desired, const BridgeModel& rb, const MirrorConfig& rm) {
  const BridgeModel* db = desired.find_bridge(rb.name);
  if (db == nullptr) return false;
  const MirrorConfig* dm = db->find_mirror(rm.name);
  if (dm == nullptr || !(*dm == rm)) return false;
  for (const PortModel& rp : rb.ports) {
    if (names(rm, rp.name) && port_replaced(desired, rb, rp)) return false;
  }
  return true;
}
}  // namespace

std::vector<Action> diff(const ConfigModel& desired, const ConfigModel& running) {
  std::vector<Action> actions;

  // 0. Mirrors to delete (those of deleted bridges go with them).
  for (const BridgeModel& rb : running.bridges) {
    if (desired.find_bridge(rb.name) == nullptr) continue;
    for (const MirrorConfig& rm : rb.mirrors) {
      if (mirror_kept(desired, rb, rm)) continue;
      Action a{Action::Kind::DelMirror, rb.name, {}, {}, {}};
      a.mirror.name = rm.name;
      actions.push_back(std::move(a));
    }
  }
  // 1. Ports to delete: gone, moved, or changed. Ports of bridges that disappear go with them.
  for (const BridgeModel& rb : running.bridges) {
    if (desired.find_bridge(rb.name) == nullptr) continue;
    for (const PortModel& rp : rb.ports) {
      if (port_replaced(desired, rb, rp)) {
        Action a{Action::Kind::DelPort, rb.name, {}, {}, {}};
        a.port.name = rp.name;
        actions.push_back(std::move(a));
      }
    }
  }
  // 2. Bridges to delete.
  for (const BridgeModel& rb : running.bridges) {
    if (desired.find_bridge(rb.name) == nullptr) {
      actions.push_back(Action{Action::Kind::DelBridge, rb.name, rb.settings, {}, {}});
    }
  }
  // 3. Bridges to add, 4. bridges to change.
  for (const BridgeModel& db : desired.bridges) {
    if (running.find_bridge(db.name) == nullptr) {
      actions.push_back(Action{Action::Kind::AddBridge, db.name, db.settings, {}, {}});
    }
  }
  for (const BridgeModel& db : desired.bridges) {
    const BridgeModel* rb = running.find_bridge(db.name);
    if (rb != nullptr && !(rb->settings == db.settings)) {
      actions.push_back(Action{Action::Kind::SetBridge, db.name, db.settings, {}, {}});
    }
  }
  // 5. Ports to add: absent from the running state, or deleted in step 1 / with their bridge.
  for (const BridgeModel& db : desired.bridges) {
    for (const PortModel& dp : db.ports) {
      const BridgeModel* rb = nullptr;
      const PortModel* rp = running.find_port(dp.name, &rb);
      const bool kept = rp != nullptr && rb->name == db.name && rp->same_port(dp);
      if (!kept) actions.push_back(Action{Action::Kind::AddPort, db.name, {}, dp, {}});
    }
  }
  // 6. VLAN settings of kept ports.
  for (const BridgeModel& db : desired.bridges) {
    for (const PortModel& dp : db.ports) {
      const BridgeModel* rb = nullptr;
      const PortModel* rp = running.find_port(dp.name, &rb);
      if (rp != nullptr && rb->name == db.name && rp->same_port(dp) && !(rp->vlan == dp.vlan)) {
        actions.push_back(Action{Action::Kind::SetPortVlan, db.name, {}, dp, {}});
      }
    }
  }
  // 7. Mirrors to add: new, changed, or deleted in step 0 / with their bridge.
  for (const BridgeModel& db : desired.bridges) {
    const BridgeModel* rb = running.find_bridge(db.name);
    for (const MirrorConfig& dm : db.mirrors) {
      const MirrorConfig* rm = rb != nullptr ? rb->find_mirror(dm.name) : nullptr;
      if (rm == nullptr || !mirror_kept(desired, *rb, *rm)) {
        actions.push_back(Action{Action::Kind::AddMirror, db.name, {}, {}, dm});
      }
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
      case Action::Kind::SetPortVlan: st = sink.set_port_vlan(a.port.name, a.port.vlan); break;
      case Action::Kind::DelMirror: st = sink.del_mirror(a.bridge, a.mirror.name); break;
      case Action::Kind::AddMirror: st = sink.add_mirror(a.bridge, a.mirror); break;
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
