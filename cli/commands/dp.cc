// cli/commands/dp.cc — dp-show (dp.show): workers, their rx queues and the mempool.
#include <CLI/CLI.hpp>

#include "cli/commands/commands.h"
#include "cli/context.h"
#include "cli/render.h"

namespace vsw::cli {

void add_dp_verbs(CLI::App& app, Context& ctx) {
  CLI::App* sub = app.add_subcommand("dp-show", "Show the dataplane: workers, rx queues, mempool");
  ctx.add_verb(sub, [](Context& c) {
    return c.call_and_print("dp.show", nlohmann::json::object(), render_dp);
  });
}

}  // namespace vsw::cli
