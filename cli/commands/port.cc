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
};

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
    ctx.add_verb(sub, [a](Context& c) {
      Result<json> options = parse_key_values(a->options);
      if (!options) return c.fail_local(options.error().message);
      json params = {{"bridge", a->bridge}, {"name", a->name}, {"type", a->type}};
      if (!options->empty()) params["options"] = std::move(*options);
      if (a->may_exist) params["may_exist"] = true;
      return c.call_and_print("port.add", params);
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
