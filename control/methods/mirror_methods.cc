// control/methods/mirror_methods.cc — mirror.add, mirror.del, mirror.list.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

namespace {

std::vector<std::string> strings(const json& p, std::string_view key) {
  std::vector<std::string> out;
  if (const auto it = p.find(key); it != p.end()) {
    for (const json& v : *it) out.push_back(v.get<std::string>());
  }
  return out;
}

Result<json> mirror_add(ControlPlane& cp, const json& p) {
  MirrorConfig m;
  m.name = str_param(p, "name");
  m.output_port = str_param(p, "output_port");
  m.src_ports = strings(p, "select_src_port");
  m.dst_ports = strings(p, "select_dst_port");
  if (const auto it = p.find("select_vlan"); it != p.end()) {
    for (const json& v : *it) {
      const uint64_t vid = v.get<uint64_t>();
      if (vid < kMinVid || vid > kMaxVid) {
        return make_error(Errc::InvalidArgument, "select_vlan {} is outside the VLAN ids {}..{}",
                          vid, kMinVid, kMaxVid);
      }
      m.vlans.push_back(static_cast<uint16_t>(vid));
    }
    std::sort(m.vlans.begin(), m.vlans.end());
    m.vlans.erase(std::unique(m.vlans.begin(), m.vlans.end()), m.vlans.end());
  }
  if (Status st = cp.add_mirror(str_param(p, "bridge"), m); !st) return st.error();
  return save_and_reply(cp);
}

Result<json> mirror_del(ControlPlane& cp, const json& p) {
  if (Status st = cp.del_mirror(str_param(p, "bridge"), str_param(p, "name")); !st) {
    return st.error();
  }
  return save_and_reply(cp);
}

Result<json> mirror_list(ControlPlane& cp, const json& p) {
  const std::string bridge = str_param(p, "bridge");
  if (!bridge.empty() && cp.running().find_bridge(bridge) == nullptr) {
    return make_error(Errc::NotFound, "bridge '{}' does not exist", bridge);
  }
  json out = json::array();
  for (const BridgeModel& b : cp.running().bridges) {
    if (!bridge.empty() && b.name != bridge) continue;
    auto live = cp.sw().mirrors(b.name);
    for (const MirrorConfig& m : b.mirrors) {
      json row = mirror_to_json(m);
      row["bridge"] = b.name;
      MirrorCounters c;
      if (live) {
        for (const MirrorInfo& info : *live) {
          if (info.config.name == m.name) c = info.counters;
        }
      }
      row["packets"] = c.packets;
      row["bytes"] = c.bytes;
      out.push_back(std::move(row));
    }
  }
  return out;
}

}  // namespace

void register_mirror(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "mirror.add",
           "add a port mirror: bridge, name, select_src_port? select_dst_port? (port names), "
           "select_vlan? (VLAN ids), output_port",
           {{"bridge", FieldType::String, true},
            {"name", FieldType::String, true},
            {"select_src_port", FieldType::StringList, false},
            {"select_dst_port", FieldType::StringList, false},
            {"select_vlan", FieldType::UnsignedList, false},
            {"output_port", FieldType::String, true}},
           [&cp](Call& c) { return mirror_add(cp, c.params); });
  must_add(d, "mirror.del", "delete a port mirror: bridge, name",
           {{"bridge", FieldType::String, true}, {"name", FieldType::String, true}},
           [&cp](Call& c) { return mirror_del(cp, c.params); });
  must_add(d, "mirror.list", "port mirrors (of one bridge?) with their counters: bridge?",
           {{"bridge", FieldType::String, false}},
           [&cp](Call& c) { return mirror_list(cp, c.params); });
}

}  // namespace vsw::control::methods
