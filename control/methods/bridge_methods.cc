// control/methods/bridge_methods.cc — bridge.add, bridge.del, bridge.set, bridge.list.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

// The settings a request asks for: the given fields over `base`.
Result<BridgeSettings> requested_settings(const json& p, BridgeSettings base) {
  auto aging = u32_param(p, "aging_s");
  if (!aging) return aging.error();
  auto max_macs = u32_param(p, "max_macs");
  if (!max_macs) return max_macs.error();
  if (*aging) base.aging_s = **aging;
  if (*max_macs) base.max_macs = **max_macs;
  if (p.contains("memif_dynamic")) base.memif_dynamic = str_param(p, "memif_dynamic");
  if (Status st = validate_settings(base); !st) return st.error();
  return base;
}

Result<json> bridge_add(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "name");
  auto want = requested_settings(p, BridgeSettings{});
  if (!want) return want.error();
  if (const BridgeModel* b = cp.running().find_bridge(name); b && bool_param(p, "may_exist")) {
    // may_exist: fine when every setting the request names matches.
    auto same = requested_settings(p, b->settings);
    if (same && *same == b->settings) return json::object();
    return make_error(Errc::AlreadyExists, "bridge '{}' already exists with aging_s={} max_macs={}",
                      name, b->settings.aging_s, b->settings.max_macs);
  }
  if (Status st = cp.add_bridge(name, *want); !st) return st.error();
  return save_and_reply(cp);
}

Result<json> bridge_del(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "name");
  if (cp.running().find_bridge(name) == nullptr && bool_param(p, "if_exists")) {
    return json::object();
  }
  if (Status st = cp.del_bridge(name); !st) return st.error();
  return save_and_reply(cp);
}

Result<json> bridge_set(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "name");
  const BridgeModel* b = cp.running().find_bridge(name);
  if (b == nullptr) return make_error(Errc::NotFound, "bridge '{}' does not exist", name);
  auto want = requested_settings(p, b->settings);
  if (!want) return want.error();
  if (*want == b->settings) return json::object();
  if (Status st = cp.set_bridge(name, *want); !st) return st.error();
  return save_and_reply(cp);
}

json fdb_stats_to_json(const FdbStats& s) {
  return json{{"entries", s.entries}, {"max_entries", s.max_entries},
              {"learned", s.learned}, {"moved", s.moved},
              {"aged", s.aged},       {"full_drops", s.full_drops}};
}

Result<json> bridge_list(ControlPlane& cp) {
  json out = json::array();
  for (const BridgeModel& b : cp.running().bridges) {
    json ports = json::array();
    for (const PortModel& port : b.ports) ports.push_back(port.name);
    json dynamic = json::array();
    for (const auto& [name, e] : cp.dynamic_ports().ports()) {
      if (e.bridge == b.name) dynamic.push_back(name);
    }
    json row = {{"name", b.name},
                {"aging_s", b.settings.aging_s},
                {"max_macs", b.settings.max_macs},
                {"memif_dynamic", b.settings.memif_dynamic},
                {"ports", std::move(ports)},
                {"dynamic_ports", std::move(dynamic)}};
    if (auto info = cp.sw().bridge(b.name)) {
      row["fdb"] = fdb_stats_to_json(info->fdb);
      row["counters"] = {{"unicast", info->counters.unicast},
                         {"flooded", info->counters.flooded},
                         {"hairpin_drops", info->counters.hairpin_drops}};
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

void register_bridge(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "bridge.add", "add a bridge: name, aging_s?, max_macs?, memif_dynamic?, may_exist?",
           {{"name", FieldType::String, true},
            {"aging_s", FieldType::Unsigned, false},
            {"max_macs", FieldType::Unsigned, false},
            {"memif_dynamic", FieldType::String, false},
            {"may_exist", FieldType::Bool, false}},
           [&cp](Call& c) { return bridge_add(cp, c.params); });
  must_add(d, "bridge.del", "delete a bridge and its ports: name, if_exists?",
           {{"name", FieldType::String, true}, {"if_exists", FieldType::Bool, false}},
           [&cp](Call& c) { return bridge_del(cp, c.params); });
  must_add(d, "bridge.set", "change bridge settings: name, aging_s?, max_macs?, memif_dynamic?",
           {{"name", FieldType::String, true},
            {"aging_s", FieldType::Unsigned, false},
            {"max_macs", FieldType::Unsigned, false},
            {"memif_dynamic", FieldType::String, false}},
           [&cp](Call& c) { return bridge_set(cp, c.params); });
  must_add(d, "bridge.list", "list bridges with their settings, ports and MAC table counters", {},
           [&cp](Call&) { return bridge_list(cp); });
}

}  // namespace vsw::control::methods
