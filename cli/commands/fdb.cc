// cli/commands/fdb.cc — fdb-show, fdb-flush (fdb.* methods).
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"

namespace vsw::cli {

namespace {

struct FdbArgs {
  std::string bridge;
  std::string port;
};

}  // namespace

void add_fdb_verbs(CLI::App& app, Context& ctx) {
  {
    auto a = std::make_shared<FdbArgs>();
    CLI::App* sub = app.add_subcommand("fdb-show", "Show the MAC table of bridge BR");
    sub->add_option("BR", a->bridge, "bridge name")->required();
    ctx.add_verb(sub, [a](Context& c) {
      return c.call_and_print("fdb.show", {{"bridge", a->bridge}}, render_fdb);
    });
  }
  {
    auto a = std::make_shared<FdbArgs>();
    CLI::App* sub = app.add_subcommand("fdb-flush", "Forget the learned MACs of bridge BR");
    sub->add_option("BR", a->bridge, "bridge name")->required();
    CLI::Option* port = sub->add_option("--port", a->port, "only the MACs learned on port P");
    ctx.add_verb(sub, [a, port](Context& c) {
      nlohmann::json params = {{"bridge", a->bridge}};
      if (port->count() > 0) params["port"] = a->port;
      return c.call_and_print("fdb.flush", params);
    });
  }
}

}  // namespace vsw::cli
