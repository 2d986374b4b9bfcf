// cli/commands/port.cc — add-port, del-port, list-ports, port-show (port.* methods).
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/kv_options.h"
#include "cli/render.h"

namespace vsw::cli {

namespace {

using json = nlohmann::json;

struct PortArgs {
  std::string bridge;
  std::string name;
  std::string type;
  std::vector<std::string> options;
  bool may_exist = false;
  bool if_exists = false;
  std::string tag, trunks, vlan_mode;
};

// --tag N|none, --trunks N,M,...|'' and --vlan-mode M into port.set / port.add params (the
// daemon checks the values: ranges and consistency). A usage error message, or "" when fine.
std::string vlan_params(const PortArgs& a, const CLI::Option* tag, const CLI::Option* trunks,
                        const CLI::Option* mode, json& params) {
  if (tag->count() > 0) {
    if (a.tag == "none") {
      params["tag"] = 0;
    } else {
      Result<json> ids = parse_id_list(a.tag);
      if (!ids || ids->size() != 1) {
        return "--tag: '" + a.tag + "' is not a VLAN id (1..4094) or 'none'";
      }
      params["tag"] = (*ids)[0];
    }
  }
  if (trunks->count() > 0) {
    Result<json> ids = parse_id_list(a.trunks);
    if (!ids) return "--trunks: " + ids.error().message;
    params["trunks"] = std::move(*ids);
  }
  if (mode->count() > 0) params["vlan_mode"] = a.vlan_mode;
  return "";
}

struct VlanOptions {
  CLI::Option* tag;
  CLI::Option* trunks;
  CLI::Option* mode;
};

VlanOptions add_vlan_options(CLI::App* sub, PortArgs& a) {
  return VlanOptions{
      sub->add_option("--tag", a.tag, "802.1Q VLAN id 1..4094 (access VLAN, or native VLAN); "
                                      "'none' clears it"),
      sub->add_option("--trunks", a.trunks,
                      "VLAN ids the port carries tagged, comma separated; '' = every VLAN"),
      sub->add_option("--vlan-mode", a.vlan_mode,
                      "access, trunk, native-untagged, native-tagged, or none")};
}

}  // namespace

void add_port_verbs(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<PortArgs>();
    CLI::App* sub = app.add_subcommand("add-port", "Add port PORT of type T to bridge BR");
    sub->add_option("BR", a->bridge, "bridge name")->required();
    sub->add_option("PORT", a->name, "port name, unique across all bridges")->required();
    sub->add_option("-t,--type", a->type, "port type: tap, afpacket, memif, ... (required)")
        ->required();
    sub->add_option("-o,--option", a->options, "a port option as key=value; repeatable")
        ->allow_extra_args(false);
    sub->add_flag("--may-exist", a->may_exist,
                  "succeed if PORT already exists on BR with the same type and options");
    const VlanOptions v = add_vlan_options(sub, *a);
    ctx.add_verb(sub, [a, v](Context& c) {
      Result<json> options = parse_key_values(a->options);
      if (!options) return c.fail_local(options.error().message);
      json params = {{"bridge", a->bridge}, {"name", a->name}, {"type", a->type}};
      if (std::string e = vlan_params(*a, v.tag, v.trunks, v.mode, params); !e.empty()) {
        return c.fail_local(e);
      }
      if (!options->empty()) params["options"] = std::move(*options);
      if (a->may_exist) params["may_exist"] = true;
      return c.call_and_print("port.add", params);
    });
  }
  {
    auto a = std::make_shared<PortArgs>();
    CLI::App* sub = app.add_subcommand("set-port", "Change the VLAN settings of port PORT");
    sub->add_option("PORT", a->name, "port name")->required();
    const VlanOptions v = add_vlan_options(sub, *a);
    ctx.add_verb(sub, [a, v](Context& c) {
      json params = {{"name", a->name}};
      if (std::string e = vlan_params(*a, v.tag, v.trunks, v.mode, params); !e.empty()) {
        return c.fail_local(e);
      }
      if (params.size() == 1) return c.fail_local("set-port: give --tag, --trunks or --vlan-mode");
      return c.call_and_print("port.set", params);
    });
  }
  {
    auto a = std::make_shared<PortArgs>();
    CLI::App* sub = app.add_subcommand("del-port", "Delete port PORT (from whichever bridge)");
    sub->add_option("PORT", a->name, "port name")->required();
    sub->add_flag("--if-exists", a->if_exists, "succeed if PORT does not exist");
    ctx.add_verb(sub, [a](Context& c) {
      json params = {{"name", a->name}};
      if (a->if_exists) params["if_exists"] = true;
      return c.call_and_print("port.del", params);
    });
  }
  {
    auto a = std::make_shared<PortArgs>();
    CLI::App* sub = app.add_subcommand("list-ports", "List the ports of bridge BR, one per line");
    sub->add_option("BR", a->bridge, "bridge name")->required();
    ctx.add_verb(sub, [a](Context& c) {
      return c.call_and_print("port.list", {{"bridge", a->bridge}},
                              [](const json& r) { return render_names(r); });
    });
  }
  {
    auto a = std::make_shared<PortArgs>();
    CLI::App* sub = app.add_subcommand("port-show", "Show everything about port PORT");
    sub->add_option("PORT", a->name, "port name")->required();
    ctx.add_verb(sub, [a](Context& c) {
      return c.call_and_print("port.show", {{"name", a->name}}, render_port);
    });
  }
}

}  // namespace vsw::cli
