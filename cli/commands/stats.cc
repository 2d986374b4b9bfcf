// cli/commands/stats.cc — stats [PORT] (stats.show).
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"

namespace vsw::cli {

void add_stats_verbs(CLI::App& app, Context& ctx) {
  auto port = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand("stats", "Show packet, byte and drop counters per port");
  CLI::Option* opt = sub->add_option("PORT", *port, "only this port");
  ctx.add_verb(sub, [port, opt](Context& c) {
    nlohmann::json params = nlohmann::json::object();
    if (opt->count() > 0) params["port"] = *port;
    return c.call_and_print("stats.show", params, render_stats);
  });
}

}  // namespace vsw::cli
