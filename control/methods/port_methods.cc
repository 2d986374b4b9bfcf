// control/methods/port_methods.cc — port.add, port.del, port.list, port.show.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

PortModel requested_port(const json& p) {
  PortModel port{str_param(p, "name"), str_param(p, "type"), {}, {}};
  if (const auto it = p.find("options"); it != p.end()) {
    for (const auto& item : it->items())
      port.options.emplace(item.key(), item.value().get<std::string>());
  }
  return port;
}

Result<json> port_add(ControlPlane& cp, const json& p) {
  const std::string bridge = str_param(p, "bridge");
  PortModel want = requested_port(p);
  auto vlan = requested_vlan(p, VlanConfig{});
  if (!vlan) return vlan.error();
  want.vlan = std::move(*vlan);
  const BridgeModel* on = nullptr;
  const PortModel* have = cp.running().find_port(want.name, &on);
  if (have != nullptr && bool_param(p, "may_exist")) {
    // may_exist: fine when bridge, type and (if given) options match. A port in error is
    // created again, which is how an operator retries after fixing the cause.
    const bool same = on->name == bridge && have->type == want.type &&
                      (!p.contains("options") || have->options == want.options) &&
                      have->vlan == want.vlan;
    if (!same) {
      return make_error(Errc::AlreadyExists,
                        "port '{}' already exists with other settings (bridge '{}', type '{}')",
                        want.name, on->name, have->type);
    }
    if (Status st = cp.retry_port(want.name); !st) return st.error();
    return json::object();
  }
  if (Status st = cp.add_port(bridge, want); !st) return st.error();
  return save_and_reply(cp);
}

Result<json> port_del(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "name");
  if (cp.running().find_port(name) == nullptr && cp.dynamic_ports().find(name) == nullptr &&
      bool_param(p, "if_exists")) {
    return json::object();
  }
  if (Status st = cp.del_port(name); !st) return st.error();
  return save_and_reply(cp);
}

// The fields every port has, from the model, the Switch (when running) and its state.
json port_row(ControlPlane& cp, const BridgeModel& b, const PortModel& port) {
  auto info = cp.sw().port(port.name);
  json row{{"name", port.name},
           {"type", port.type},
           {"bridge", b.name},
           {"link", info ? link_state_name(info->link) : "down"},
           {"state", cp.port_state(port.name)}};
  vlan_fields(port.vlan, row);
  return row;
}

Result<json> port_list(ControlPlane& cp, const json& p) {
  const std::string bridge = str_param(p, "bridge");
  if (!bridge.empty() && cp.running().find_bridge(bridge) == nullptr) {
    return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  }
  json out = json::array();
  for (const BridgeModel& b : cp.running().bridges) {
    if (!bridge.empty() && b.name != bridge) continue;
    for (const PortModel& port : b.ports) out.push_back(port_row(cp, b, port));
    for (const auto& [name, e] : cp.dynamic_ports().ports()) {
      if (e.bridge != b.name) continue;
      json row = port_row(cp, b, e.model);
      row["dynamic"] = true;
      out.push_back(std::move(row));
    }
  }
  return out;
}

Result<json> port_show(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "name");
  const BridgeModel* b = nullptr;
  const PortModel* port = cp.running().find_port(name, &b);
  const DynamicMemifPorts::Entry* dynamic = cp.dynamic_ports().find(name);
  if (dynamic != nullptr) {
    port = &dynamic->model;
    b = cp.running().find_bridge(dynamic->bridge);
  }
  if (port == nullptr || b == nullptr) {
    return make_error(Errc::NotFound, "port '{}' does not exist", name);
  }
  json out = port_row(cp, *b, *port);
  if (dynamic != nullptr) out["dynamic"] = true;
  out["options"] = port_options_to_json(port->options);
  out["details"] = json::object();
  auto info = cp.sw().port(name);
  if (!info) {
    // In error: never created, so no id, queues or counters.
    out["id"] = nullptr;
    out["mtu"] = 0;
    out["rx_queues"] = 0;
    out["tx_queues"] = 0;
    out["stats"] = stats_to_json(PortStats{});
    return out;
  }
  out["id"] = info->id;
  out["mtu"] = info->mtu;
  out["rx_queues"] = info->rx_queues;
  out["tx_queues"] = info->tx_queues;
  for (const auto& [k, v] : info->details) out["details"][k] = v;
  out["stats"] = stats_to_json(info->stats);
  return out;
}

}  // namespace

void register_port(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "port.add", "add a port: bridge, name, type, options? (strings), vlan_mode? tag? trunks? (as "
           "port.set), may_exist?",
           {{"bridge", FieldType::String, true},
            {"name", FieldType::String, true},
            {"type", FieldType::String, true},
            {"options", FieldType::StringMap, false},
            {"vlan_mode", FieldType::String, false},
            {"tag", FieldType::Unsigned, false},
            {"trunks", FieldType::UnsignedList, false},
            {"may_exist", FieldType::Bool, false}},
           [&cp](Call& c) { return port_add(cp, c.params); });
  must_add(d, "port.del", "delete a port: name, if_exists?",
           {{"name", FieldType::String, true}, {"if_exists", FieldType::Bool, false}},
           [&cp](Call& c) { return port_del(cp, c.params); });
  must_add(d, "port.list", "list ports (of one bridge?): bridge?",
           {{"bridge", FieldType::String, false}},
           [&cp](Call& c) { return port_list(cp, c.params); });
  must_add(d, "port.show", "one port: settings, link, queues, details and counters: name",
           {{"name", FieldType::String, true}}, [&cp](Call& c) { return port_show(cp, c.params); });
}

}  // namespace vsw::control::methods
