// control/methods/stats_methods.cc — stats.show: per-port packet, byte and drop counters.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

Result<json> stats_show(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "port");
  json out = json::array();
  if (!name.empty()) {
    auto info = cp.sw().port(name);
    if (!info) {
      if (cp.port_in_error(name)) {
        return make_error(Errc::Unavailable, "port '{}' is not running ({})", name,
                          cp.port_state(name));
      }
      return std::move(info).error();
    }
    json row = stats_to_json(info->stats);
    row["port"] = name;
    out.push_back(std::move(row));
    return out;
  }
  // Every running port, in configuration order.
  for (const BridgeModel& b : cp.running().bridges) {
    for (const PortModel& port : b.ports) {
      auto info = cp.sw().port(port.name);
      if (!info) continue;
      json row = stats_to_json(info->stats);
      row["port"] = port.name;
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace

void register_stats(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "stats.show", "port counters with drops by reason: port?",
           {{"port", FieldType::String, false}},
           [&cp](Call& c) { return stats_show(cp, c.params); });
}

}  // namespace vsw::control::methods
