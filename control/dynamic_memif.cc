// control/dynamic_memif.cc — creating and deleting memif ports as clients come and go.
#include "control/dynamic_memif.h"

#include <algorithm>

#include "common/log.h"

namespace vsw::control {

std::string dynamic_port_name(const std::string& if_name, uint32_t id) {
  std::string name;
  for (char c : if_name) {
    if (is_name_char(c)) name += c;
    if (name.size() == kMaxNameLen) break;
  }
  return name.empty() ? "memif" + std::to_string(id) : name;
}

DynamicMemifPorts::DynamicMemifPorts(Switch& sw, const ports::PortFactory& factory,
                                     ports::PortEnv& env,
                                     std::function<bool(const std::string&)> name_taken)
    : sw_(sw), factory_(factory), env_(env), name_taken_(std::move(name_taken)) {}

Status DynamicMemifPorts::configure(const std::string& bridge, const std::string& socket) {
  auto it = sockets_.find(bridge);
  if (it != sockets_.end() && it->second->path() == socket) return ok();
  if (it != sockets_.end()) {
    sockets_.erase(it);  // no new clients from the old socket...
    drop_ports_of(bridge);  // ...and the ones it made go
  }
  if (socket.empty()) return ok();
  ports::memif::DynamicHooks hooks;
  hooks.create = [this, bridge](const std::string& path, uint32_t id, const std::string& if_name) {
    return create(bridge, path, id, if_name);
  };
  hooks.remove = [this](const std::string& name) { remove(name); };
  auto opened = ports::memif::open_dynamic_socket(env_.io, socket, std::move(hooks));
  if (!opened) return std::move(opened).error();
  sockets_[bridge] = std::move(*opened);
  log::ctl().info("memif dynamic ports enabled bridge={} socket={}", bridge, socket);
  return ok();
}

void DynamicMemifPorts::forget_bridge(const std::string& bridge) {
  sockets_.erase(bridge);
  std::erase_if(ports_, [&](const auto& kv) { return kv.second.bridge == bridge; });
}

void DynamicMemifPorts::drop_ports_of(const std::string& bridge) {
  std::vector<std::string> names;
  for (const auto& [name, e] : ports_) {
    if (e.bridge == bridge) names.push_back(name);
  }
  for (const std::string& name : names) (void)del_port(name);
}

const DynamicMemifPorts::Entry* DynamicMemifPorts::find(const std::string& name) const {
  auto it = ports_.find(name);
  return it == ports_.end() ? nullptr : &it->second;
}

bool DynamicMemifPorts::create(const std::string& bridge, const std::string& socket, uint32_t id,
                               const std::string& if_name) {
  const std::string name = dynamic_port_name(if_name, id);
  if (name_taken_(name) || ports_.count(name) != 0 || sw_.has_port(name)) {
    log::ctl().warn("memif dynamic port refused bridge={} id={} reason=name '{}' is taken", bridge,
                    id, name);
    return false;
  }
  PortModel model{name, "memif", {{"socket", socket}, {"id", std::to_string(id)}}, {}};
  const ports::PortSpec spec{model.name, model.type, model.options};
  Status st = sw_.add_port(bridge, name, [&](PortId pid) { return factory_.create(spec, pid, env_); });
  if (!st) {
    log::ctl().warn("memif dynamic port refused bridge={} id={} reason={}", bridge, id,
                    st.error().message);
    return false;
  }
  ports_[name] = Entry{bridge, std::move(model)};
  log::ctl().info("memif dynamic port created port={} bridge={} id={}", name, bridge, id);
  return true;
}

void DynamicMemifPorts::remove(const std::string& name) {
  if (ports_.count(name) == 0) return;  // already deleted (by RPC, or with its bridge)
  (void)del_port(name);
  log::ctl().info("memif dynamic port removed port={} reason=client left", name);
}

Status DynamicMemifPorts::del_port(const std::string& name) {
  auto it = ports_.find(name);
  if (it == ports_.end()) return make_error(Errc::NotFound, "port '{}' does not exist", name);
  ports_.erase(it);
  return sw_.del_port(name);
}

}  // namespace vsw::control
