// cli/commands/misc.cc — show, version, log-level, list-methods.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"

namespace vsw::cli {

namespace {

using json = nlohmann::json;

// show: one tree from three calls (config.show for options, bridge.list for FDB fill,
// port.list for link state), all on one connection.
int run_show(Context& c) {
  Result<json> config = c.call("config.show");
  if (!config) return c.fail_call(config.error());
  Result<json> bridges = c.call("bridge.list");
  if (!bridges) return c.fail_call(bridges.error());
  Result<json> ports = c.call("port.list");
  if (!ports) return c.fail_call(ports.error());
  json tree = build_show_tree(*config, *bridges, *ports);
  c.out() << (c.options().json ? json_text(tree) : render_show(tree));
  return to_int(ExitCode::Ok);
}

int run_version(Context& c) {
  std::string mine = VSW_VERSION;
  if (!c.options().json) c.out() << "vswctl " << mine << '\n';
  Result<json> r = c.call("daemon.version");
  if (!r) return c.fail_call(r.error());
  json daemon = r->is_object() && r->contains("version") ? (*r)["version"] : *r;
  if (c.options().json) {
    c.out() << json_text({{"vswctl", mine}, {"vswitchd", daemon}});
  } else {
    c.out() << "vswitchd " << scalar_text(daemon) << '\n';
  }
  return to_int(ExitCode::Ok);
}

}  // namespace

void add_misc_verbs(CLI::App& app, Context& ctx) {
  {
    CLI::App* sub = app.add_subcommand("show", "Show bridges and their ports as a tree");
    ctx.add_verb(sub, run_show);
  }
  {
    CLI::App* sub = app.add_subcommand("version", "Print the versions of vswctl and vswitchd");
    ctx.add_verb(sub, run_version);
  }
  {
    auto spec = std::make_shared<std::string>();
    CLI::App* sub = app.add_subcommand("log-level", "Set vswitchd's log levels at run time");
    sub->add_option("SPEC", *spec, "a level, or a default and per-logger levels: info,dp=debug")
        ->required();
    ctx.add_verb(sub, [spec](Context& c) {
      return c.call_and_print("log.set_level", {{"spec", *spec}});
    });
  }
  {
    CLI::App* sub = app.add_subcommand("list-methods", "List the daemon's RPC methods");
    ctx.add_verb(sub, [](Context& c) {
      return c.call_and_print("daemon.methods", json::object(), render_methods);
    });
  }
}

}  // namespace vsw::cli
