// cli/commands/bridge.cc — add-br, del-br, list-br, set-br (bridge.* methods).
#include <cstdint>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"

namespace vsw::cli {

namespace {

using json = nlohmann::json;

struct BridgeArgs {
  std::string name;
  uint32_t aging_s = 0;
  uint32_t max_macs = 0;
  bool may_exist = false;
  bool if_exists = false;
  CLI::Option* aging = nullptr;
  CLI::Option* max = nullptr;
  std::string memif_dynamic;
  CLI::Option* dynamic = nullptr;
};

void add_settings(CLI::App* sub, BridgeArgs& a) {
  a.aging = sub->add_option("--aging", a.aging_s, "MAC aging time in seconds (daemon default 300)");
  a.max = sub->add_option("--max-macs", a.max_macs,
                          "MAC table capacity in entries (daemon default 8192)");
  a.dynamic = sub->add_option("--memif-dynamic", a.memif_dynamic,
                              "socket PATH where memif clients with unknown ids get ports on the "
                              "fly (\"\" turns it off; default off)");
}

void put_settings(json& params, const BridgeArgs& a) {
  if (a.aging->count() > 0) params["aging_s"] = a.aging_s;
  if (a.max->count() > 0) params["max_macs"] = a.max_macs;
  if (a.dynamic->count() > 0) params["memif_dynamic"] = a.memif_dynamic;
}

}  // namespace

void add_bridge_verbs(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<BridgeArgs>();
    CLI::App* sub = app.add_subcommand("add-br", "Create bridge BR");
    sub->add_option("BR", a->name, "bridge name")->required();
    add_settings(sub, *a);
    sub->add_flag("--may-exist", a->may_exist,
                  "succeed if BR already exists with the same settings");
    ctx.add_verb(sub, [a](Context& c) {
      json params = {{"name", a->name}};
      put_settings(params, *a);
      if (a->may_exist) params["may_exist"] = true;
      return c.call_and_print("bridge.add", params);
    });
  }
  {
    auto a = std::make_shared<BridgeArgs>();
    CLI::App* sub = app.add_subcommand("del-br", "Delete bridge BR and all of its ports");
    sub->add_option("BR", a->name, "bridge name")->required();
    sub->add_flag("--if-exists", a->if_exists, "succeed if BR does not exist");
    ctx.add_verb(sub, [a](Context& c) {
      json params = {{"name", a->name}};
      if (a->if_exists) params["if_exists"] = true;
      return c.call_and_print("bridge.del", params);
    });
  }
  {
    CLI::App* sub = app.add_subcommand("list-br", "List bridge names, one per line");
    ctx.add_verb(sub, [](Context& c) {
      return c.call_and_print("bridge.list", json::object(),
                              [](const json& r) { return render_names(r); });
    });
  }
  {
    auto a = std::make_shared<BridgeArgs>();
    CLI::App* sub = app.add_subcommand("set-br", "Change the settings of bridge BR in place");
    sub->add_option("BR", a->name, "bridge name")->required();
    add_settings(sub, *a);
    ctx.add_verb(sub, [a](Context& c) {
      json params = {{"name", a->name}};
      put_settings(params, *a);
      if (params.size() == 1) return c.fail_local("set-br: give --aging and/or --max-macs");
      return c.call_and_print("bridge.set", params);
    });
  }
}

}  // namespace vsw::cli
