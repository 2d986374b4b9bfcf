// control/control_plane.cc — applying changes to the Switch and the running model together.
#include "control/control_plane.h"

#include <algorithm>

#include "common/log.h"

namespace vsw::control {

namespace {
BridgeConfig to_switch(const BridgeSettings& s) { return BridgeConfig{s.aging_s, s.max_macs}; }
}  // namespace

ControlPlane::ControlPlane(Switch& sw, const ports::PortFactory& factory, ports::PortEnv& env,
                           const StateStore* store)
    : sw_(sw), factory_(factory), env_(env), store_(store),
      dynamic_(sw, factory, env, [this](const std::string& name) {
        return running_.find_bridge(name) != nullptr || running_.find_port(name) != nullptr;
      }) {}

Status ControlPlane::check_name_free(const std::string& name) const {
  if (running_.find_bridge(name) != nullptr) {
    return make_error(Errc::AlreadyExists, "name '{}' is already used by a bridge", name);
  }
  if (running_.find_port(name) != nullptr) {
    return make_error(Errc::AlreadyExists, "name '{}' is already used by a port", name);
  }
  if (dynamic_.find(name) != nullptr) {
    return make_error(Errc::AlreadyExists, "name '{}' is already used by a dynamic memif port",
                      name);
  }
  return ok();
}

Status ControlPlane::add_bridge(const std::string& name, const BridgeSettings& s) {
  if (Status st = validate_name("bridge name", name); !st) return st;
  if (Status st = validate_settings(s); !st) return st;
  if (Status st = check_name_free(name); !st) return st;
  if (Status st = sw_.add_bridge(name, to_switch(s)); !st) return st;
  if (Status st = dynamic_.configure(name, s.memif_dynamic); !st) {
    (void)sw_.del_bridge(name);
    return st;
  }
  running_.bridges.push_back(BridgeModel{name, s, {}, {}});
  return ok();
}

Status ControlPlane::del_bridge(const std::string& name) {
  BridgeModel* b = running_.find_bridge(name);
  if (b == nullptr) return make_error(Errc::NotFound, "bridge '{}' does not exist", name);
  dynamic_.forget_bridge(name);  // its dynamic ports go with the bridge below
  if (Status st = sw_.del_bridge(name); !st) return st;
  for (const PortModel& p : b->ports) port_errors_.erase(p.name);
  std::erase_if(running_.bridges, [&](const BridgeModel& m) { return m.name == name; });
  return ok();
}

Status ControlPlane::set_bridge(const std::string& name, const BridgeSettings& s) {
  BridgeModel* b = running_.find_bridge(name);
  if (b == nullptr) return make_error(Errc::NotFound, "bridge '{}' does not exist", name);
  if (Status st = validate_settings(s); !st) return st;
  if (b->settings == s) return ok();
  if (s.memif_dynamic != b->settings.memif_dynamic) {
    if (Status st = dynamic_.configure(name, s.memif_dynamic); !st) return st;
  }
  if (s.aging_s != b->settings.aging_s || s.max_macs != b->settings.max_macs) {
    if (Status st = sw_.set_bridge(name, to_switch(s)); !st) return st;
  }
  b->settings = s;
  return ok();
}

Status ControlPlane::create_port(const std::string& bridge, const PortModel& port) {
  const ports::PortSpec spec{port.name, port.type, port.options};
  return sw_.add_port(bridge, port.name,
                      [&](PortId id) { return factory_.create(spec, id, env_); }, port.vlan);
}

Status ControlPlane::add_port(const std::string& bridge, const PortModel& port) {
  if (Status st = validate_port(port); !st) return st;
  BridgeModel* b = running_.find_bridge(bridge);
  if (b == nullptr) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  if (Status st = check_name_free(port.name); !st) return st;
  if (running_.port_count() >= kMaxPortsTotal) {
    return make_error(Errc::ResourceExhausted, "at most {} ports are supported", kMaxPortsTotal);
  }
  if (Status st = create_port(bridge, port); !st) return st;
  b->ports.push_back(port);
  return ok();
}

void ControlPlane::forget_port(const std::string& name) {
  port_errors_.erase(name);
  for (BridgeModel& b : running_.bridges) {
    std::erase_if(b.ports, [&](const PortModel& p) { return p.name == name; });
  }
}

Status ControlPlane::del_port(const std::string& name) {
  if (dynamic_.find(name) != nullptr) return dynamic_.del_port(name);
  if (running_.find_port(name) == nullptr) {
    return make_error(Errc::NotFound, "port '{}' does not exist", name);
  }
  const BridgeModel* on = nullptr;
  running_.find_port(name, &on);
  // A port in error never reached the Switch.
  if (!port_in_error(name)) {
    if (Status st = sw_.del_port(name); !st) return st;
  }
  forget_port(name);
  refresh_mirrors(*running_.find_bridge(on->name));
  return ok();
}

void ControlPlane::refresh_mirrors(BridgeModel& b) {
  auto now = sw_.mirrors(b.name);
  if (!now) return;
  b.mirrors.clear();
  for (const MirrorInfo& m : *now) b.mirrors.push_back(m.config);
}

Status ControlPlane::set_port_vlan(const std::string& name, const VlanConfig& vlan) {
  const BridgeModel* b = nullptr;
  const PortModel* p = running_.find_port(name, &b);
  if (p == nullptr) {
    if (dynamic_.find(name) != nullptr) {
      return make_error(Errc::InvalidArgument,
                        "port '{}' is a dynamic memif port: it has no saved settings", name);
    }
    return make_error(Errc::NotFound, "port '{}' does not exist", name);
  }
  if (Status st = validate_vlan_config(vlan); !st) return st;
  if (!port_in_error(name)) {
    if (Status st = sw_.set_port_vlan(name, vlan); !st) return st;
  }
  BridgeModel& mb = *running_.find_bridge(b->name);
  for (PortModel& pm : mb.ports) {
    if (pm.name == name) pm.vlan = vlan;
  }
  return ok();
}

Status ControlPlane::add_mirror(const std::string& bridge, const MirrorConfig& m) {
  BridgeModel* b = running_.find_bridge(bridge);
  if (b == nullptr) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  if (b->find_mirror(m.name) != nullptr) {
    return make_error(Errc::AlreadyExists, "bridge '{}' already has a mirror '{}'", bridge, m.name);
  }
  if (Status st = validate_mirror(*b, m); !st) return st;
  if (Status st = sw_.add_mirror(bridge, m); !st) return st;
  b->mirrors.push_back(m);
  return ok();
}

Status ControlPlane::del_mirror(const std::string& bridge, const std::string& name) {
  BridgeModel* b = running_.find_bridge(bridge);
  if (b == nullptr) return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  if (b->find_mirror(name) == nullptr) {
    return make_error(Errc::NotFound, "bridge '{}' has no mirror '{}'", bridge, name);
  }
  if (Status st = sw_.del_mirror(bridge, name); !st) return st;
  std::erase_if(b->mirrors, [&](const MirrorConfig& m) { return m.name == name; });
  return ok();
}

Status ControlPlane::retry_port(const std::string& name) {
  const BridgeModel* b = nullptr;
  const PortModel* p = running_.find_port(name, &b);
  if (p == nullptr) return make_error(Errc::NotFound, "port '{}' does not exist", name);
  if (!port_in_error(name)) return ok();
  if (Status st = create_port(b->name, *p); !st) {
    port_errors_[name] = st.error().message;
    return st;
  }
  port_errors_.erase(name);
  log::ctl().info("port recovered port={}", name);
  return ok();
}

Status ControlPlane::restore(const ConfigModel& cfg) {
  if (Status st = validate_config(cfg); !st) return st;
  for (const BridgeModel& b : cfg.bridges) {
    if (Status st = add_bridge(b.name, b.settings); !st) {
      return make_error(st.error().code, "cannot restore bridge '{}': {}", b.name,
                        st.error().message);
    }
  }
  size_t failed = 0;
  for (const BridgeModel& b : cfg.bridges) {
    BridgeModel& mb = *running_.find_bridge(b.name);
    for (const PortModel& p : b.ports) {
      if (Status st = create_port(b.name, p); !st) {
        // Keep it: the configuration must survive a missing interface or peer.
        log::ctl().error("port failed to start port={} type={} bridge={} reason={}", p.name, p.type,
                         b.name, st.error().message);
        port_errors_[p.name] = st.error().message;
        ++failed;
      }
      mb.ports.push_back(p);
    }
  }
  for (const BridgeModel& b : cfg.bridges) {
    for (const MirrorConfig& m : b.mirrors) {
      if (Status st = add_mirror(b.name, m); !st) {
        // Only when a port it names is in error; logged, and not kept (it would not forward).
        log::ctl().error("mirror not restored bridge={} mirror={} reason={}", b.name, m.name,
                         st.error().message);
      }
    }
  }
  log::ctl().info("configuration restored bridges={} ports={} ports_in_error={}",
                  running_.bridges.size(), running_.port_count(), failed);
  return ok();
}

Status ControlPlane::apply_config(const ConfigModel& desired, bool dry_run,
                                  std::vector<std::string>& actions) {
  if (Status st = validate_config(desired); !st) return st;
  // Port types are checked before anything changes, so a typo never half-applies a file.
  for (const BridgeModel& b : desired.bridges) {
    for (const PortModel& p : b.ports) {
      if (!factory_.has_type(p.type)) {
        return make_error(Errc::InvalidArgument, "bridges.{}.ports.{}: unknown port type '{}' ({})",
                          b.name, p.name, p.type, factory_.type_list());
      }
    }
  }
  const std::vector<Action> plan = diff(desired, running_);
  if (dry_run) {
    for (const Action& a : plan) actions.push_back(a.describe());
    return ok();
  }
  Status st = apply(plan, *this, actions);
  if (!actions.empty()) {
    // Persist whatever was done, also after a failure part-way.
    if (Status saved = save(); !saved && st) st = saved;
  }
  if (st) {
    log::ctl().info("configuration applied actions={}", actions.size());
  } else {
    log::ctl().warn("configuration apply failed after actions={} reason={}", actions.size(),
                    st.error().message);
  }
  return st;
}

Status ControlPlane::save() {
  if (store_ == nullptr) return ok();
  if (Status st = store_->save(running_); !st) {
    log::ctl().error("state not saved path={} reason={}", store_->path().string(),
                     st.error().message);
    return make_error(Errc::Io, "the change is active but was not saved: {}", st.error().message);
  }
  return ok();
}

std::string ControlPlane::port_state(const std::string& name) const {
  auto it = port_errors_.find(name);
  return it == port_errors_.end() ? "ok" : "error: " + it->second;
}

}  // namespace vsw::control
