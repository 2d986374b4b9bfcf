// cli/render.cc — tree and list outputs of vswctl (see render.h): show, port-show, list-br,
// list-ports, apply. Tables live in render_tables.cc.
#include "cli/render.h"

#include <algorithm>
#include <set>
#include <vector>

namespace vsw::cli {

namespace {

using json = nlohmann::json;

const json& field(const json& obj, std::string_view key) {
  static const json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string string_field(const json& obj, std::string_view key) {
  const json& v = field(obj, key);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

bool is_plain(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_.:/@+-").find(c) != std::string_view::npos;
  });
}

void line(std::string& out, int indent, std::string_view text) {
  out.append(static_cast<size_t>(indent) * 4, ' ');
  out += text;
  out += '\n';
}

// "key: value" for scalars and short scalar arrays; a nested block for objects.
void key_value(std::string& out, int indent, const std::string& key, const json& v) {
  if (v.is_object()) {
    if (v.empty()) {
      line(out, indent, key + ": {}");
      return;
    }
    line(out, indent, key + ":");
    for (const auto& [k, child] : v.items()) key_value(out, indent + 1, k, child);
    return;
  }
  if (v.is_array()) {
    std::string joined;
    for (const json& e : v) {
      if (!joined.empty()) joined += ", ";
      joined += scalar_text(e);
    }
    line(out, indent, key + ": " + (joined.empty() ? std::string("-") : joined));
    return;
  }
  line(out, indent, key + ": " + scalar_text(v));
}

const json* find_named(const json& list, const std::string& name, std::string_view key = "name") {
  if (!list.is_array()) return nullptr;
  for (const json& e : list) {
    if (string_field(e, key) == name) return &e;
  }
  return nullptr;
}

json show_port(const json& cfg_port, const json& port_list) {
  std::string name = string_field(cfg_port, "name");
  const json* live = find_named(port_list, name);
  json node = {{"name", name}};
  const json& type = field(cfg_port, "type");
  node["type"] = type.is_null() && live ? field(*live, "type") : type;
  const json& options = field(cfg_port, "options");
  node["options"] = options.is_object() ? options : json::object();
  node["link"] = live ? field(*live, "link") : json(nullptr);
  if (std::string v = vlan_text(live ? *live : cfg_port); !v.empty()) node["vlan"] = v;
  if (live && field(*live, "state").is_string()) node["state"] = field(*live, "state");
  if (live && field(*live, "dynamic") == json(true)) node["dynamic"] = true;
  return node;
}

json show_bridge(const json& cfg_bridge, const json* live, const json& port_list) {
  std::string name = string_field(cfg_bridge, "name");
  json node = {{"name", name}};
  for (const char* key : {"aging_s", "max_macs", "memif_dynamic"}) {
    const json& v = field(cfg_bridge, key);
    node[key] = v.is_null() && live ? field(*live, key) : v;
  }
  node["fdb_entries"] = live ? field(field(*live, "fdb"), "entries") : json(nullptr);
  json ports = json::array();
  std::set<std::string> seen;
  const json& cfg_ports = field(cfg_bridge, "ports");
  if (cfg_ports.is_array()) {
    for (const json& p : cfg_ports) {
      ports.push_back(show_port(p, port_list));
      seen.insert(string_field(p, "name"));
    }
  }
  if (port_list.is_array()) {
    for (const json& p : port_list) {
      std::string pname = string_field(p, "name");
      if (string_field(p, "bridge") != name || seen.count(pname)) continue;
      ports.push_back(show_port(p, port_list));
      seen.insert(pname);
    }
  }
  node["ports"] = std::move(ports);
  return node;
}

}  // namespace

std::string scalar_text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string options_text(const json& options) {
  std::string out = "{";
  if (options.is_object()) {
    bool first = true;
    for (const auto& [k, v] : options.items()) {
      if (!first) out += ", ";
      first = false;
      out += is_plain(k) ? k : json(k).dump(-1, ' ', false, json::error_handler_t::replace);
      out += '=';
      std::string text = scalar_text(v);
      if (v.is_string() && !is_plain(text)) {
        text = v.dump(-1, ' ', false, json::error_handler_t::replace);
      }
      out += text;
    }
  }
  out += '}';
  return out;
}

std::string json_text(const json& v) {
  return v.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

json build_show_tree(const json& config_show, const json& bridge_list, const json& port_list) {
  json bridges = json::array();
  std::set<std::string> seen;
  const json& cfg_bridges = field(config_show, "bridges");
  if (cfg_bridges.is_array()) {
    for (const json& b : cfg_bridges) {
      std::string name = string_field(b, "name");
      bridges.push_back(show_bridge(b, find_named(bridge_list, name), port_list));
      seen.insert(name);
    }
  }
  if (bridge_list.is_array()) {
    for (const json& b : bridge_list) {
      std::string name = string_field(b, "name");
      if (seen.count(name)) continue;
      // Only in the live list: no options known, so ports come from port.list alone.
      json cfg = {{"name", name}};
      bridges.push_back(show_bridge(cfg, &b, port_list));
      seen.insert(name);
    }
  }
  return json{{"bridges", std::move(bridges)}};
}

std::string render_show(const json& tree) {
  std::string out;
  const json& bridges = field(tree, "bridges");
  if (!bridges.is_array() || bridges.empty()) return "no bridges\n";
  for (const json& b : bridges) {
    line(out, 0, "Bridge " + string_field(b, "name"));
    for (const char* key : {"aging_s", "max_macs", "memif_dynamic", "fdb_entries"}) {
      const json& v = field(b, key);
      if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) continue;
      line(out, 1, std::string(key) + ": " + scalar_text(v));
    }
    const json& ports = field(b, "ports");
    if (!ports.is_array()) continue;
    for (const json& p : ports) {
      line(out, 1, "Port " + string_field(p, "name"));
      line(out, 2, "type: " + scalar_text(field(p, "type")));
      if (field(p, "dynamic") == json(true)) line(out, 2, "dynamic: true");
      const json& options = field(p, "options");
      if (options.is_object() && !options.empty()) {
        line(out, 2, "options: " + options_text(options));
      }
      line(out, 2, "link: " + scalar_text(field(p, "link")));
      if (field(p, "vlan").is_string()) line(out, 2, "vlan: " + scalar_text(field(p, "vlan")));
      const json& state = field(p, "state");
      if (state.is_string() && state != "ok") line(out, 2, "state: " + scalar_text(state));
    }
  }
  return out;
}

std::string render_port(const json& port_show) {
  std::string out;
  line(out, 0, "Port " + string_field(port_show, "name"));
  static const char* const kOrder[] = {"type",  "bridge", "id",        "link",
                                       "state", "mtu",    "rx_queues", "tx_queues"};
  std::set<std::string> done = {"name", "options", "details", "stats", "vlan_mode", "tag", "trunks"};
  for (const char* key : kOrder) {
    if (port_show.is_object() && port_show.contains(key)) {
      key_value(out, 1, key, port_show[key]);
    }
    done.insert(key);
  }
  if (port_show.is_object()) {
    for (const auto& [k, v] : port_show.items()) {
      if (!done.count(k)) key_value(out, 1, k, v);
    }
  }
  const json& options = field(port_show, "options");
  line(out, 1, "options: " + options_text(options));
  if (port_show.is_object() && port_show.contains("vlan_mode")) {
    const std::string vlan = vlan_text(port_show);
    line(out, 1, "vlan: " + (vlan.empty() ? std::string("none") : vlan));
  }
  for (const char* key : {"details", "stats"}) {
    const json& v = field(port_show, key);
    if (!v.is_null()) key_value(out, 1, key, v);
  }
  return out;
}

std::string vlan_text(const json& port) {
  const std::string mode = string_field(port, "vlan_mode");
  if (mode.empty() || mode == "none") return "";
  std::string out = mode;
  const json& tag = field(port, "tag");
  if (tag.is_number()) out += " tag=" + scalar_text(tag);
  if (mode != "access") {
    std::string list;
    const json& trunks = field(port, "trunks");
    if (trunks.is_array()) {
      for (const json& t : trunks) list += (list.empty() ? "" : ",") + scalar_text(t);
    }
    out += " trunks=" + (list.empty() ? std::string("all") : list);
  }
  return out;
}

std::string render_mirrors(const json& mirrors) {
  if (!mirrors.is_array() || mirrors.empty()) return "no mirrors\n";
  std::string out;
  auto names = [](const json& list) {
    std::string s;
    if (list.is_array()) {
      for (const json& v : list) s += (s.empty() ? "" : ",") + scalar_text(v);
    }
    return s.empty() ? std::string("-") : s;
  };
  for (const json& m : mirrors) {
    line(out, 0, "Mirror " + string_field(m, "name") + " (bridge " + string_field(m, "bridge") + ")");
    line(out, 1, "select_src_port: " + names(field(m, "select_src_port")));
    line(out, 1, "select_dst_port: " + names(field(m, "select_dst_port")));
    const std::string vlans = names(field(m, "select_vlan"));
    line(out, 1, "select_vlan: " + (vlans == "-" ? std::string("all") : vlans));
    line(out, 1, "output_port: " + scalar_text(field(m, "output_port")));
    line(out, 1, "packets: " + scalar_text(field(m, "packets")) +
                     " bytes: " + scalar_text(field(m, "bytes")));
  }
  return out;
}

std::string render_names(const json& list, std::string_view key) {
  std::vector<std::string> names;
  if (list.is_array()) {
    for (const json& e : list) {
      if (e.is_string()) {
        names.push_back(e.get<std::string>());
      } else {
        names.push_back(string_field(e, key));
      }
    }
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) line(out, 0, n);
  return out;
}

std::string render_actions(const json& apply_result, bool dry_run) {
  const json& actions = field(apply_result, "actions");
  if (!actions.is_array() || actions.empty()) return "no changes\n";
  std::string out;
  for (const json& a : actions) line(out, 0, (dry_run ? "would " : "") + scalar_text(a));
  return out;
}

}  // namespace vsw::cli
