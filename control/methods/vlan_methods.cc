// control/methods/vlan_methods.cc — port.set (a port's 802.1Q settings) and the VLAN fields that
// port.add accepts.
#include "control/methods/methods.h"

namespace vsw::control::methods {

using nlohmann::json;

Result<VlanConfig> requested_vlan(const json& p, const VlanConfig& base) {
  VlanConfig want = base;
  const bool has_tag = p.contains("tag");
  const bool has_trunks = p.contains("trunks");
  if (has_tag) {
    const uint64_t tag = p["tag"].get<uint64_t>();
    if (tag > kMaxVid) {
      return make_error(Errc::InvalidArgument, "tag {} is outside the VLAN ids {}..{} (0: none)",
                        tag, kMinVid, kMaxVid);
    }
    want.tag = static_cast<uint16_t>(tag);
  }
  if (has_trunks) {
    want.trunks.clear();
    for (const json& v : p["trunks"]) {
      const uint64_t vid = v.get<uint64_t>();
      if (vid < kMinVid || vid > kMaxVid) {
        return make_error(Errc::InvalidArgument, "trunk VLAN {} is outside the VLAN ids {}..{}",
                          vid, kMinVid, kMaxVid);
      }
      want.trunks.push_back(static_cast<uint16_t>(vid));
    }
    std::sort(want.trunks.begin(), want.trunks.end());
    want.trunks.erase(std::unique(want.trunks.begin(), want.trunks.end()), want.trunks.end());
  }
  if (p.contains("vlan_mode")) {
    const std::string name = str_param(p, "vlan_mode");
    auto mode = parse_vlan_mode(name);
    if (!mode) {
      return make_error(Errc::InvalidArgument,
                        "unknown vlan mode '{}' (valid: none, access, trunk, native-untagged, "
                        "native-tagged)",
                        name);
    }
    // A change of mode drops what the new mode has no use for, unless the request names it.
    if ((*mode == VlanMode::None || *mode == VlanMode::Trunk) && !has_tag) want.tag = 0;
    if ((*mode == VlanMode::None || *mode == VlanMode::Access) && !has_trunks) want.trunks.clear();
    want.mode = *mode;
  } else if (base.mode == VlanMode::None) {
    auto mode = implied_vlan_mode(want.tag, !want.trunks.empty() || has_trunks);
    if (!mode) return mode.error();
    want.mode = *mode;
  } else if (base.mode == VlanMode::Access && has_tag && want.tag == 0) {
    want.mode = VlanMode::None;  // an access port whose tag is cleared has no VLAN settings
  }
  if (Status st = validate_vlan_config(want); !st) return st.error();
  return want;
}

void vlan_fields(const VlanConfig& v, json& out) {
  out["vlan_mode"] = std::string(vlan_mode_name(v.mode));
  out["tag"] = v.tag == 0 ? json(nullptr) : json(v.tag);
  out["trunks"] = v.trunks;
}

namespace {

Result<json> port_set(ControlPlane& cp, const json& p) {
  const std::string name = str_param(p, "name");
  const PortModel* port = cp.running().find_port(name);
  if (port == nullptr) {
    if (cp.dynamic_ports().find(name) != nullptr) {
      return make_error(Errc::InvalidArgument,
                        "port '{}' is a dynamic memif port: it has no settings to change", name);
    }
    return make_error(Errc::NotFound, "port '{}' does not exist", name);
  }
  auto want = requested_vlan(p, port->vlan);
  if (!want) return want.error();
  if (*want == port->vlan) return json::object();
  if (Status st = cp.set_port_vlan(name, *want); !st) return st.error();
  return save_and_reply(cp);
}

}  // namespace

void register_vlan(Dispatcher& d, ControlPlane& cp) {
  must_add(d, "port.set",
           "change a port's VLAN settings: name, vlan_mode? (none, access, trunk, "
           "native-untagged, native-tagged), tag? (1..4094, 0: none), trunks? (VLAN ids, []: all)",
           {{"name", FieldType::String, true},
            {"vlan_mode", FieldType::String, false},
            {"tag", FieldType::Unsigned, false},
            {"trunks", FieldType::UnsignedList, false}},
           [&cp](Call& c) { return port_set(cp, c.params); });
}

}  // namespace vsw::control::methods
