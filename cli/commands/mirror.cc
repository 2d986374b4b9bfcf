// cli/commands/mirror.cc — add-mirror, del-mirror, list-mirrors (mirror.* methods).
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

struct MirrorArgs {
  std::string bridge;
  std::string name;
  std::vector<std::string> src, dst, vlans;
  std::string output;
};

}  // namespace

void add_mirror_verbs(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<MirrorArgs>();
    CLI::App* sub = app.add_subcommand(
        "add-mirror", "Mirror frames received on / sent to ports of BR to an output port");
    sub->add_option("BR", a->bridge, "bridge name")->required();
    sub->add_option("NAME", a->name, "mirror name, unique on the bridge")->required();
    sub->add_option("--select-src-port", a->src, "mirror frames received on these ports")
        ->expected(1, -1);
    sub->add_option("--select-dst-port", a->dst, "mirror frames sent to these ports")
        ->expected(1, -1);
    sub->add_option("--select-vlan", a->vlans, "only frames of these VLANs (default: all)")
        ->expected(1, -1);
    sub->add_option("--output-port", a->output, "the port that receives the mirrored frames")
        ->required();
    ctx.add_verb(sub, [a](Context& c) {
      json vlans = json::array();
      for (const std::string& v : a->vlans) {
        Result<json> ids = parse_id_list(v);  // "10,20" as well as "10 20"
        if (!ids) return c.fail_local("--select-vlan: " + ids.error().message);
        for (const json& id : *ids) vlans.push_back(id);
      }
      json params = {{"bridge", a->bridge}, {"name", a->name}, {"output_port", a->output}};
      if (!a->src.empty()) params["select_src_port"] = a->src;
      if (!a->dst.empty()) params["select_dst_port"] = a->dst;
      if (!vlans.empty()) params["select_vlan"] = std::move(vlans);
      return c.call_and_print("mirror.add", params);
    });
  }
  {
    auto a = std::make_shared<MirrorArgs>();
    CLI::App* sub = app.add_subcommand("del-mirror", "Delete mirror NAME of bridge BR");
    sub->add_option("BR", a->bridge, "bridge name")->required();
    sub->add_option("NAME", a->name, "mirror name")->required();
    ctx.add_verb(sub, [a](Context& c) {
      return c.call_and_print("mirror.del", {{"bridge", a->bridge}, {"name", a->name}});
    });
  }
  {
    auto a = std::make_shared<MirrorArgs>();
    CLI::App* sub = app.add_subcommand("list-mirrors", "List the mirrors (of bridge BR)");
    sub->add_option("BR", a->bridge, "bridge name");
    ctx.add_verb(sub, [a](Context& c) {
      json params = json::object();
      if (!a->bridge.empty()) params["bridge"] = a->bridge;
      return c.call_and_print("mirror.list", params, render_mirrors);
    });
  }
}

}  // namespace vsw::cli
