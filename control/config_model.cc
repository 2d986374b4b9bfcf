// control/config_model.cc — strict topology parsing, validation and serialisation.
#include "control/config_model.h"

#include <algorithm>
#include <set>

namespace vsw::control {

using nlohmann::json;

namespace {

Error at(std::string_view path, const Error& e) {
  return Error{e.code, fmt::format("{}: {}", path, e.message), e.sys_errno};
}

// Refuses members of `obj` not listed in `allowed`.
Status check_keys(const json& obj, std::initializer_list<std::string_view> allowed) {
  for (const auto& item : obj.items()) {
    bool found = false;
    for (std::string_view a : allowed) found = found || a == item.key();
    if (!found) {
      std::string list;
      for (std::string_view a : allowed) list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
      return make_error(Errc::InvalidArgument, "unknown field '{}' (valid: {})", item.key(), list);
    }
  }
  return ok();
}

Result<std::string> get_string(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return make_error(Errc::InvalidArgument, "missing field '{}'", key);
  if (!it->is_string()) return make_error(Errc::InvalidArgument, "'{}' must be a string", key);
  return it->get<std::string>();
}

// An optional unsigned field; `fallback` when absent.
Result<uint32_t> get_u32(const json& obj, std::string_view key, uint32_t fallback) {
  const auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if (!it->is_number_unsigned() || it->get<uint64_t>() > UINT32_MAX) {
    return make_error(Errc::InvalidArgument, "'{}' must be an integer in 0..{}", key, UINT32_MAX);
  }
  return static_cast<uint32_t>(it->get<uint64_t>());
}

// An optional list of VLAN ids (each 1..4094), sorted and unique.
Result<std::vector<uint16_t>> get_vid_list(const json& obj, std::string_view key) {
  std::vector<uint16_t> out;
  const auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) return make_error(Errc::InvalidArgument, "'{}' must be an array", key);
  for (const json& v : *it) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() < kMinVid || v.get<uint64_t>() > kMaxVid) {
      return make_error(Errc::InvalidArgument, "'{}' holds {}: VLAN ids are integers in {}..{}",
                        key, v.dump(-1, ' ', false, json::error_handler_t::replace), kMinVid,
                        kMaxVid);
    }
    out.push_back(static_cast<uint16_t>(v.get<uint64_t>()));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<std::string>> get_string_list(const json& obj, std::string_view key) {
  std::vector<std::string> out;
  const auto it = obj.find(key);
  if (it == obj.end()) return out;
  if (!it->is_array()) return make_error(Errc::InvalidArgument, "'{}' must be an array", key);
  for (const json& v : *it) {
    if (!v.is_string()) {
      return make_error(Errc::InvalidArgument, "'{}' must be an array of port names", key);
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// "vlan_mode", "tag", "trunks" of a port object.
Result<VlanConfig> vlan_from_json(const json& j) {
  VlanConfig c;
  auto tag = get_u32(j, "tag", 0);
  if (!tag) return tag.error();
  if (*tag > kMaxVid || (j.contains("tag") && *tag < kMinVid)) {
    return make_error(Errc::InvalidArgument, "tag {} is outside the VLAN ids {}..{}", *tag,
                      kMinVid, kMaxVid);
  }
  c.tag = static_cast<uint16_t>(*tag);
  auto trunks = get_vid_list(j, "trunks");
  if (!trunks) return trunks.error();
  c.trunks = std::move(*trunks);
  if (const auto m = j.find("vlan_mode"); m != j.end()) {
    if (!m->is_string()) return make_error(Errc::InvalidArgument, "'vlan_mode' must be a string");
    auto mode = parse_vlan_mode(m->get<std::string>());
    if (!mode) {
      return make_error(Errc::InvalidArgument,
                        "unknown vlan_mode '{}' (valid: access, trunk, native-untagged, "
                        "native-tagged)",
                        m->get<std::string>());
    }
    c.mode = *mode;
  } else {
    auto mode = implied_vlan_mode(c.tag, j.contains("trunks"));
    if (!mode) return mode.error();
    c.mode = *mode;
  }
  if (Status st = validate_vlan_config(c); !st) return st.error();
  return c;
}

Result<MirrorConfig> mirror_from_json(const json& j) {
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "a mirror must be an object");
  if (Status st = check_keys(j, {"name", "select_src_port", "select_dst_port", "select_vlan",
                                 "output_port"});
      !st) {
    return st.error();
  }
  MirrorConfig m;
  auto name = get_string(j, "name");
  if (!name) return name.error();
  m.name = std::move(*name);
  auto out = get_string(j, "output_port");
  if (!out) return out.error();
  m.output_port = std::move(*out);
  auto src = get_string_list(j, "select_src_port");
  if (!src) return src.error();
  m.src_ports = std::move(*src);
  auto dst = get_string_list(j, "select_dst_port");
  if (!dst) return dst.error();
  m.dst_ports = std::move(*dst);
  auto vlans = get_vid_list(j, "select_vlan");
  if (!vlans) return vlans.error();
  m.vlans = std::move(*vlans);
  return m;
}

Result<PortModel> port_from_json(const json& j) {
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "a port must be an object");
  if (Status st = check_keys(j, {"name", "type", "options", "vlan_mode", "tag", "trunks"}); !st) {
    return st.error();
  }
  PortModel p;
  auto name = get_string(j, "name");
  if (!name) return name.error();
  p.name = std::move(*name);
  auto type = get_string(j, "type");
  if (!type) return type.error();
  p.type = std::move(*type);
  if (const auto opts = j.find("options"); opts != j.end()) {
    if (!opts->is_object()) return make_error(Errc::InvalidArgument, "'options' must be an object");
    for (const auto& item : opts->items()) {
      if (!item.value().is_string()) {
        return make_error(Errc::InvalidArgument, "option '{}' must be a string (write \"{}\")",
                          item.key(),
                          item.value().dump(-1, ' ', false, json::error_handler_t::replace));
      }
      p.options.emplace(item.key(), item.value().get<std::string>());
    }
  }
  auto vlan = vlan_from_json(j);
  if (!vlan) return vlan.error();
  p.vlan = std::move(*vlan);
  if (Status st = validate_port(p); !st) return st.error();
  return p;
}

Result<BridgeModel> bridge_from_json(const json& j) {
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "a bridge must be an object");
  if (Status st = check_keys(j, {"name", "aging_s", "max_macs", "memif_dynamic", "ports", "mirrors"});
      !st) {
    return st.error();
  }
  BridgeModel b;
  auto name = get_string(j, "name");
  if (!name) return name.error();
  b.name = std::move(*name);
  if (Status st = validate_name("bridge name", b.name); !st) return st.error();
  auto aging = get_u32(j, "aging_s", kDefaultAgingS);
  if (!aging) return aging.error();
  auto max_macs = get_u32(j, "max_macs", kDefaultMaxMacs);
  if (!max_macs) return max_macs.error();
  b.settings = BridgeSettings{*aging, *max_macs, {}};
  if (const auto dyn = j.find("memif_dynamic"); dyn != j.end()) {
    if (!dyn->is_string()) {
      return make_error(Errc::InvalidArgument, "'memif_dynamic' must be a string (a socket path)");
    }
    b.settings.memif_dynamic = dyn->get<std::string>();
  }
  if (Status st = validate_settings(b.settings); !st) return st.error();
  if (const auto ports = j.find("ports"); ports != j.end()) {
    if (!ports->is_array()) return make_error(Errc::InvalidArgument, "'ports' must be an array");
    for (size_t i = 0; i < ports->size(); ++i) {
      auto p = port_from_json((*ports)[i]);
      if (!p) return at(fmt::format("ports[{}]", i), p.error());
      b.ports.push_back(std::move(*p));
    }
  }
  if (const auto mirrors = j.find("mirrors"); mirrors != j.end()) {
    if (!mirrors->is_array()) return make_error(Errc::InvalidArgument, "'mirrors' must be an array");
    for (size_t i = 0; i < mirrors->size(); ++i) {
      auto m = mirror_from_json((*mirrors)[i]);
      if (!m) return at(fmt::format("mirrors[{}]", i), m.error());
      b.mirrors.push_back(std::move(*m));
    }
  }
  return b;
}

}  // namespace

const BridgeModel* ConfigModel::find_bridge(std::string_view name) const {
  for (const BridgeModel& b : bridges) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

BridgeModel* ConfigModel::find_bridge(std::string_view name) {
  for (BridgeModel& b : bridges) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

const PortModel* ConfigModel::find_port(std::string_view name, const BridgeModel** bridge) const {
  for (const BridgeModel& b : bridges) {
    for (const PortModel& p : b.ports) {
      if (p.name == name) {
        if (bridge != nullptr) *bridge = &b;
        return &p;
      }
    }
  }
  return nullptr;
}

const MirrorConfig* BridgeModel::find_mirror(std::string_view mirror_name) const {
  for (const MirrorConfig& m : mirrors) {
    if (m.name == mirror_name) return &m;
  }
  return nullptr;
}

size_t ConfigModel::port_count() const {
  size_t n = 0;
  for (const BridgeModel& b : bridges) n += b.ports.size();
  return n;
}

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

Status validate_name(std::string_view what, std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLen) {
    return make_error(Errc::InvalidArgument, "{} '{}' must be 1..{} characters long", what, name,
                      kMaxNameLen);
  }
  for (char c : name) {
    if (!is_name_char(c)) {
      return make_error(Errc::InvalidArgument,
                        "{} '{}' has invalid characters (allowed: A-Z a-z 0-9 _ . -)", what, name);
    }
  }
  return ok();
}

Status validate_settings(const BridgeSettings& s) {
  if (s.aging_s < kMinAgingS || s.aging_s > kMaxAgingS) {
    return make_error(Errc::InvalidArgument, "aging_s={} is out of range {}..{}", s.aging_s,
                      kMinAgingS, kMaxAgingS);
  }
  if (s.max_macs < kMinMaxMacs || s.max_macs > kMaxMaxMacs) {
    return make_error(Errc::InvalidArgument, "max_macs={} is out of range {}..{}", s.max_macs,
                      kMinMaxMacs, kMaxMaxMacs);
  }
  // sockaddr_un.sun_path holds 108 bytes including the terminating NUL (unix(7)).
  if (!s.memif_dynamic.empty() && (s.memif_dynamic[0] != '/' || s.memif_dynamic.size() > 107)) {
    return make_error(Errc::InvalidArgument,
                      "memif_dynamic='{}' must be an absolute socket path of at most 107 bytes",
                      s.memif_dynamic);
  }
  return ok();
}

Status validate_port(const PortModel& p) {
  if (Status st = validate_name("port name", p.name); !st) return st;
  if (Status st = validate_vlan_config(p.vlan); !st) {
    return make_error(Errc::InvalidArgument, "port '{}': {}", p.name, st.error().message);
  }
  if (Status st = validate_name("port type", p.type); !st) return st;
  for (const auto& [key, value] : p.options) {
    if (key.empty() || key.size() > kMaxOptionKeyLen) {
      return make_error(Errc::InvalidArgument, "port '{}': option names must be 1..{} characters",
                        p.name, kMaxOptionKeyLen);
    }
    if (value.size() > kMaxOptionValueLen) {
      return make_error(Errc::InvalidArgument, "port '{}': option '{}' is longer than {} bytes",
                        p.name, key, kMaxOptionValueLen);
    }
  }
  return ok();
}

Status validate_mirror(const BridgeModel& b, const MirrorConfig& m) {
  if (Status st = validate_name("mirror name", m.name); !st) return st;
  auto fail = [&](const std::string& what) {
    return make_error(Errc::InvalidArgument, "mirror '{}': {}", m.name, what);
  };
  if (m.src_ports.empty() && m.dst_ports.empty() && m.vlans.empty()) {
    return fail("selects nothing: give source ports, destination ports or VLANs");
  }
  auto on_bridge = [&](const std::string& p) {
    return std::any_of(b.ports.begin(), b.ports.end(),
                       [&](const PortModel& pm) { return pm.name == p; });
  };
  if (!on_bridge(m.output_port)) {
    return make_error(Errc::NotFound, "mirror '{}': output port '{}' is not on bridge '{}'",
                      m.name, m.output_port, b.name);
  }
  for (const auto* list : {&m.src_ports, &m.dst_ports}) {
    for (const std::string& p : *list) {
      if (!on_bridge(p)) {
        return make_error(Errc::NotFound, "mirror '{}': port '{}' is not on bridge '{}'", m.name,
                          p, b.name);
      }
      if (p == m.output_port) {
        return fail(fmt::format("output port '{}' cannot also be selected", p));
      }
      for (const MirrorConfig& o : b.mirrors) {
        if (o.name != m.name && o.output_port == p) {
          return fail(fmt::format("port '{}' is the output port of mirror '{}'", p, o.name));
        }
      }
    }
  }
  for (const MirrorConfig& o : b.mirrors) {
    if (o.name == m.name) continue;
    for (const auto* list : {&o.src_ports, &o.dst_ports}) {
      if (std::find(list->begin(), list->end(), m.output_port) != list->end()) {
        return fail(
            fmt::format("output port '{}' is selected by mirror '{}'", m.output_port, o.name));
      }
    }
  }
  for (uint16_t v : m.vlans) {
    if (v < kMinVid || v > kMaxVid) {
      return fail(fmt::format("VLAN {} is outside {}..{}", v, kMinVid, kMaxVid));
    }
  }
  return ok();
}

Status validate_config(const ConfigModel& cfg) {
  std::set<std::string_view> names;
  for (const BridgeModel& b : cfg.bridges) {
    if (Status st = validate_name("bridge name", b.name); !st) return st;
    if (Status st = validate_settings(b.settings); !st) {
      return make_error(Errc::InvalidArgument, "bridge '{}': {}", b.name, st.error().message);
    }
    if (!names.insert(b.name).second) {
      return make_error(Errc::InvalidArgument, "name '{}' is used more than once", b.name);
    }
    for (const PortModel& p : b.ports) {
      if (Status st = validate_port(p); !st) return st;
      if (!names.insert(p.name).second) {
        return make_error(Errc::InvalidArgument, "name '{}' is used more than once", p.name);
      }
    }
    std::set<std::string_view> mirror_names;
    for (const MirrorConfig& m : b.mirrors) {
      if (!mirror_names.insert(m.name).second) {
        return make_error(Errc::InvalidArgument, "bridge '{}': mirror '{}' is defined twice",
                          b.name, m.name);
      }
      if (Status st = validate_mirror(b, m); !st) {
        return make_error(st.error().code, "bridge '{}': {}", b.name, st.error().message);
      }
    }
  }
  if (cfg.port_count() > kMaxPortsTotal) {
    return make_error(Errc::InvalidArgument, "{} ports configured; at most {} are supported",
                      cfg.port_count(), kMaxPortsTotal);
  }
  return ok();
}

Result<ConfigModel> config_from_json(const json& j) {
  try {
    if (!j.is_object()) return make_error(Errc::InvalidArgument, "the topology must be an object");
    if (Status st = check_keys(j, {"bridges"}); !st) return st.error();
    ConfigModel cfg;
    if (const auto bridges = j.find("bridges"); bridges != j.end()) {
      if (!bridges->is_array()) {
        return make_error(Errc::InvalidArgument, "'bridges' must be an array");
      }
      for (size_t i = 0; i < bridges->size(); ++i) {
        auto b = bridge_from_json((*bridges)[i]);
        if (!b) return at(fmt::format("bridges[{}]", i), b.error());
        cfg.bridges.push_back(std::move(*b));
      }
    }
    if (Status st = validate_config(cfg); !st) return st.error();
    return cfg;
  } catch (const std::exception& e) {  // nlohmann boundary: should not happen after type checks
    return make_error(Errc::InvalidArgument, "invalid topology: {}", e.what());
  }
}

json port_options_to_json(const std::map<std::string, std::string>& options) {
  json o = json::object();
  for (const auto& [k, v] : options) o[k] = v;
  return o;
}

void vlan_to_json(const VlanConfig& v, json& port) {
  if (!v.configured()) return;
  port["vlan_mode"] = std::string(vlan_mode_name(v.mode));
  if (v.tag != 0) port["tag"] = v.tag;
  if (v.mode != VlanMode::Access) port["trunks"] = v.trunks;
}

json mirror_to_json(const MirrorConfig& m) {
  return json{{"name", m.name},
              {"select_src_port", m.src_ports},
              {"select_dst_port", m.dst_ports},
              {"select_vlan", m.vlans},
              {"output_port", m.output_port}};
}

json config_to_json(const ConfigModel& cfg) {
  json bridges = json::array();
  for (const BridgeModel& b : cfg.bridges) {
    json ports = json::array();
    for (const PortModel& p : b.ports) {
      json port = {{"name", p.name}, {"type", p.type}, {"options", port_options_to_json(p.options)}};
      vlan_to_json(p.vlan, port);
      ports.push_back(std::move(port));
    }
    json bridge = {{"name", b.name},
                   {"aging_s", b.settings.aging_s},
                   {"max_macs", b.settings.max_macs},
                   {"ports", std::move(ports)}};
    if (!b.settings.memif_dynamic.empty()) bridge["memif_dynamic"] = b.settings.memif_dynamic;
    if (!b.mirrors.empty()) {
      json mirrors = json::array();
      for (const MirrorConfig& m : b.mirrors) mirrors.push_back(mirror_to_json(m));
      bridge["mirrors"] = std::move(mirrors);
    }
    bridges.push_back(std::move(bridge));
  }
  return json{{"bridges", std::move(bridges)}};
}

}  // namespace vsw::control
