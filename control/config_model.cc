// control/config_model.cc — strict topology parsing, validation and serialisation.
#include "control/config_model.h"

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

Result<PortModel> port_from_json(const json& j) {
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "a port must be an object");
  if (Status st = check_keys(j, {"name", "type", "options"}); !st) return st.error();
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
  if (Status st = validate_port(p); !st) return st.error();
  return p;
}

Result<BridgeModel> bridge_from_json(const json& j) {
  if (!j.is_object()) return make_error(Errc::InvalidArgument, "a bridge must be an object");
  if (Status st = check_keys(j, {"name", "aging_s", "max_macs", "memif_dynamic", "ports"}); !st) {
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

json config_to_json(const ConfigModel& cfg) {
  json bridges = json::array();
  for (const BridgeModel& b : cfg.bridges) {
    json ports = json::array();
    for (const PortModel& p : b.ports) {
      ports.push_back(
          {{"name", p.name}, {"type", p.type}, {"options", port_options_to_json(p.options)}});
    }
    json bridge = {{"name", b.name},
                   {"aging_s", b.settings.aging_s},
                   {"max_macs", b.settings.max_macs},
                   {"ports", std::move(ports)}};
    if (!b.settings.memif_dynamic.empty()) bridge["memif_dynamic"] = b.settings.memif_dynamic;
    bridges.push_back(std::move(bridge));
  }
  return json{{"bridges", std::move(bridges)}};
}

}  // namespace vsw::control
